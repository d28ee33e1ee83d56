import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzImports } from './import-fuzz.js';
import { fuzzIngest } from './ingest-fuzz.js';
import { memoryFigures } from '../memory-sampler.js';
import { fuzzSettings } from './settings.js';

/**
 * `npm run fuzz`: the full run (10,000 bad requests and 1,000 hostile import files by default; KREPLAY_FUZZ_COUNT,
 * KREPLAY_FUZZ_SEED, KREPLAY_FUZZ_RUNTIME), printing one JSON line of figures per part: the ingest line has the
 * recorder process's peak RSS (maxRssMiB) and where its memory was once listening and at its peak. Exits 1 on any
 * wrong answer, lost record or written refusal, or a peak RSS over the bound.
 */
const settings = fuzzSettings(process.env, { count: 10_000 });
const dir = mkdtempSync(join(tmpdir(), 'kreplay-fuzz-'));
let failed = false;
try {
  const ingest = await fuzzIngest({ count: settings.count, seed: settings.seed, runtime: settings.runtime, dir });
  console.log(JSON.stringify({ fuzz: 'ingest', seed: settings.seed, requests: ingest.requests, byStatus: ingest.byStatus, byLabel: ingest.byLabel, goodDeliveries: ingest.goodDeliveries, goodAuditEvents: ingest.goodAuditEvents, missing: ingest.missing.length, unexpectedRows: ingest.unexpectedRows, exit: ingest.exit, runtime: settings.runtime, maxRssMiB: Math.round(ingest.maxRssKiB / 1024), listening: memoryFigures(ingest.memory.started), atPeak: memoryFigures(ingest.memory.atPeak), seconds: ingest.seconds }));
  for (const line of ingest.wrong.slice(0, 20)) console.error(`wrong: ${line}`);
  failed ||= ingest.wrong.length > 0 || ingest.missing.length > 0 || ingest.unexpectedRows > 0 || ingest.exit.code !== 0 || ingest.maxRssKiB / 1024 >= settings.maxRssMiB;
  const imports = await fuzzImports({ count: settings.importFiles, seed: settings.seed, dir });
  console.log(JSON.stringify({ fuzz: 'import', seed: settings.seed, files: imports.files, problems: imports.problems, wrong: imports.wrong.length }));
  for (const line of imports.wrong.slice(0, 20)) console.error(`wrong: ${line}`);
  failed ||= imports.wrong.length > 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
