import { describe, expect, it } from 'vitest';
import type { StoredRecord } from '../model/index.js';
import { importScenario, labelledScenarios } from '../test/scenarios/labelled.js';
import { useFileStore } from '../test/temp.js';
import { analyze, createAnalyzer, type AnalyzeOptions } from './analyze.js';

/**
 * An analyzer that reports without ending (what the recorder's online detection keeps alive) says exactly what
 * analyze() says of the records pushed so far, however often it reported before: every labelled scenario, reported
 * after every few records, compared with a fresh analysis of the same prefix at cut points, and at the end with the
 * whole session's. A detector whose finish() leaves anything behind (a closed run, a settled deletion, a blame) makes
 * a later report differ from the fresh one.
 */

const scenarios = labelledScenarios();
const store = useFileStore();

describe('report() of a live analyzer equals analyze() of the same records', () => {
  for (const { name, expected } of scenarios) {
    it(name, async () => {
      const session = await importScenario(store(), name, expected.import, { strict: true });
      const records: StoredRecord[] = [...store().records(session.id, { withObjects: 'lazy' })];
      const options: AnalyzeOptions = { ...(expected.config ? { config: expected.config as AnalyzeOptions['config'] } : {}), ...(expected.import.controller ? { controller: [expected.import.controller] } : {}) };
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
