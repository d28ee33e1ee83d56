import { describe, expect, it } from 'vitest';
import { useTempDir } from '../temp.js';
import { fuzzImports } from './import-fuzz.js';
import { fuzzIngest } from './ingest-fuzz.js';
import { memoryFigures } from '../memory-sampler.js';
import { fuzzSettings } from './settings.js';

// Hostile input against every boundary, in CI with a small count (KREPLAY_FUZZ_COUNT; `npm run fuzz` runs 10,000+
// and prints the figures, from a random seed). Loopback only; the seed is printed, and KREPLAY_FUZZ_SEED replays a run.

const tempDir = useTempDir();
const settings = fuzzSettings(process.env, { count: 2_000, seed: 1420341404 });

describe(`fuzz (seed ${settings.seed})`, () => {
  it(`${settings.count} bad requests to /v1/records and /v1/audit: the right status, nothing refused written, every good record kept, memory bounded`, async () => {
    const result = await fuzzIngest({ count: settings.count, seed: settings.seed, runtime: settings.runtime, dir: tempDir() });
    console.log(JSON.stringify({ fuzz: 'ingest', seed: settings.seed, requests: result.requests, byStatus: result.byStatus, goodDeliveries: result.goodDeliveries, goodAuditEvents: result.goodAuditEvents, runtime: settings.runtime, maxRssMiB: Math.round(result.maxRssKiB / 1024), atPeak: memoryFigures(result.memory.atPeak), seconds: result.seconds }));
    expect(result.exit).toEqual({ code: 0, signal: null });
    expect(result.wrong).toEqual([]);
    expect(result.missing).toEqual([]);
    expect(result.unexpectedRows).toBe(0);
    expect(result.goodDeliveries).toBeGreaterThan(0);
    // Every kind of refusal was exercised (a small KREPLAY_FUZZ_COUNT may draw too few to see each).
    if (settings.count >= 1_000) for (const status of ['400', '401', '405', '413', '415']) expect(result.byStatus[status], `status ${status}`).toBeGreaterThan(0);
    expect(result.maxRssKiB / 1024).toBeLessThan(settings.maxRssMiB);
  });

  it(`${settings.importFiles} hostile files in every import format: good records kept, every bad value a FILE:LINE problem, nothing thrown`, async () => {
    const result = await fuzzImports({ count: settings.importFiles, seed: settings.seed, dir: tempDir() });
    console.log(JSON.stringify({ fuzz: 'import', seed: settings.seed, files: result.files, problems: result.problems }));
    expect(result.wrong).toEqual([]);
    expect(result.problems).toBeGreaterThan(result.files / 2);
  });
});
