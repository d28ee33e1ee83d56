import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFile } from '../importers/import-file.js';
import type { StoredRecord } from '../model/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import { analyze, createAnalyzer, type AnalyzeOptions } from './analyze.js';

/**
 * An analyzer that reports without ending (what the recorder's online detection keeps alive) says exactly what
 * analyze() says of the records pushed so far, however often it reported before: every labelled scenario, reported
 * after every few records, compared with a fresh analysis of the same prefix at cut points, and at the end with the
 * whole session's. A detector whose finish() leaves anything behind (a closed run, a settled deletion, a blame) makes
 * a later report differ from the fresh one.
 */

const scenarioRoot = join(import.meta.dirname, '..', 'test', 'scenarios');
const scenarios = readdirSync(scenarioRoot)
  .filter((name) => statSync(join(scenarioRoot, name)).isDirectory())
  .sort()
  .map((name) => ({ name, expected: JSON.parse(readFileSync(join(scenarioRoot, name, 'expected.json'), 'utf8')) as { import: { format: 'ndjson' | 'kubectl-watch' | 'audit'; file: string; controller?: string }; config?: AnalyzeOptions['config'] } }));

let dir: string;
let store: SessionStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-report-'));
  store = openStore(join(dir, 'scenarios.db'));
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report() of a live analyzer equals analyze() of the same records', () => {
  for (const { name, expected } of scenarios) {
    it(name, async () => {
      const imported = await importFile(store, {
        format: expected.import.format,
        session: name,
        input: { path: join(scenarioRoot, name, expected.import.file) },
        ...(expected.import.controller ? { controller: expected.import.controller } : {}),
        strict: true,
        toolVersion: 'test',
      });
      if (!imported.ok) throw new Error(`import of ${name} failed: ${imported.message}`);
      const records: StoredRecord[] = [...store.records(imported.summary.session.id, { withObjects: 'lazy' })];
      const options: AnalyzeOptions = { ...(expected.config ? { config: expected.config } : {}), ...(expected.import.controller ? { controller: [expected.import.controller] } : {}) };
      const cuts = new Set([1, 2, Math.floor(records.length / 4), Math.floor(records.length / 2), Math.floor((records.length * 3) / 4), records.length - 1].filter((n) => n > 0 && n < records.length));
      const every = Math.max(1, Math.floor(records.length / 200));
      const live = createAnalyzer(options);
      let compared = 0;
      let withFindings = 0;
      for (let i = 0; i < records.length; i++) {
        live.push(records[i]!);
        const pushed = i + 1;
        if (cuts.has(pushed)) {
          const now = live.report();
          const fresh = analyze(records.slice(0, pushed), options);
          expect(now.findings, `after ${pushed} of ${records.length} records`).toEqual(fresh.findings);
          expect(now.stats).toEqual(fresh.stats);
          compared++;
          if (fresh.findings.length) withFindings++;
        } else if (pushed % every === 0) live.report();
      }
      const end = live.finish();
      const whole = analyze(records, options);
      expect(end.findings).toEqual(whole.findings);
      expect(end.stats).toEqual(whole.stats);
      expect(() => live.push({ ...records[0]!, seq: records.length + 1 })).toThrow(/finished/);
      if (records.length > 10) expect(compared).toBeGreaterThan(2);
      expect(withFindings).toBeLessThanOrEqual(compared);
    });
  }
});
