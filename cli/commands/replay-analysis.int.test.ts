import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { asNewRecord } from '../../model/index.js';
import { analyze } from '../../replayer/index.js';
import { openStore, type SessionStore } from '../../store/index.js';
import { importScenario, labelledScenarios } from '../../test/scenarios/labelled.js';
import { useTempDir } from '../../test/temp.js';
import { analysisInWorker } from './replay.js';

/**
 * The TUI's detectors run in a worker thread on their own read-only connection. With `--follow` one worker serves
 * every refresh and goes on from what it read; each run's findings and annotations must be what a fresh analysis
 * of the session says at that moment, while a recorder (here a store in this process) keeps appending.
 */

const tempDir = useTempDir();
const opened: SessionStore[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

// A scenario with findings (a hot loop found by the audit log): the runs have something to agree on.
const scenario = labelledScenarios().find((s) => s.name === 'audit-hot-loop')!;

describe('replay --follow: the analysis worker', () => {
  for (const follow of [true, false]) {
    it(`answers each run with a fresh analysis's findings and annotations as the session grows (${follow ? 'one kept worker' : 'a worker per run'})`, async () => {
      const path = join(tempDir(), 'replay.db');
      const writer = openStore(path);
      opened.push(writer);
      const source = await importScenario(writer, scenario.name, scenario.expected.import, { strict: true });
      const records = [...writer.records(source.id, { withObjects: true })].map(asNewRecord);
      const session = writer.createSession({ name: 'followed', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
      const controller = scenario.expected.import.controller ? [scenario.expected.import.controller] : [];
      const load = analysisInWorker(path, session.id, controller, follow);
      const third = Math.ceil(records.length / 3);
      let withFindings = 0;
      for (let i = 0; i < records.length; i += third) {
        writer.append(session.id, records.slice(i, i + third));
        const result = await load({ signal: new AbortController().signal, onProgress: () => {} });
        const expected = analyze(writer.records(session.id, { withObjects: 'lazy' }), { annotate: true, controller });
        expect(result.findings).toEqual(expected.findings);
        expect(result.annotations).toEqual(expected.annotations);
        if (expected.findings.length) withFindings++;
      }
      // Asked again with nothing new: the same answer.
      const again = await load({ signal: new AbortController().signal, onProgress: () => {} });
      expect(again.findings).toEqual(analyze(writer.records(session.id, { withObjects: 'lazy' }), { controller }).findings);
      expect(withFindings).toBeGreaterThan(0);
    });
  }

  it('starts a new worker after a run was aborted, and still answers right', async () => {
    const path = join(tempDir(), 'aborted.db');
    const writer = openStore(path);
    opened.push(writer);
    const source = await importScenario(writer, scenario.name, scenario.expected.import, { strict: true });
    const controller = scenario.expected.import.controller ? [scenario.expected.import.controller] : [];
    const load = analysisInWorker(path, source.id, controller, true);
    const aborted = new AbortController();
    const first = load({ signal: aborted.signal, onProgress: () => {} });
    aborted.abort();
    // Terminated mid-run: it neither resolves nor rejects; the next run is a new worker's.
    const settled = await Promise.race([first.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('pending'), 200))]);
    expect(settled).toBe('pending');
    const result = await load({ signal: new AbortController().signal, onProgress: () => {} });
    expect(result.findings).toEqual(analyze(writer.records(source.id, { withObjects: 'lazy' }), { controller }).findings);
  });
});
