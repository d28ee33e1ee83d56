import { appendFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CheckConfig } from '../../model/check-config.js';
import { analyze } from '../../replayer/index.js';
import { useFileStore } from '../temp.js';
import { importScenario, labelledScenarios } from './labelled.js';
import { sentenceViolations } from './sentence-claims.js';

/**
 * Over the labelled scenario suite: every finding's sentence says only what its session's records show (gone or
 * still there, which fields changed, how many times, at which seq). sentence-claims.ts recognises the claims.
 */

const scenarios = labelledScenarios();
const store = useFileStore();

describe('finding sentences agree with their evidence', () => {
  it('over every scenario', async () => {
    const violations: string[] = [];
    let checked = 0;
    for (const { name, expected } of scenarios) {
      const session = await importScenario(store(), name, expected.import);
      const records = [...store().records(session.id, { withObjects: true })];
      const { findings } = analyze(records, { parsedConfig: CheckConfig.parse(expected.config ?? {}) });
      for (const finding of findings) {
        checked++;
        if (process.env.SHOW_SENTENCES) appendFileSync(process.env.SHOW_SENTENCES, `${name} ${finding.kind} ${finding.rule}: ${finding.message}\n`);
        for (const v of sentenceViolations(finding, records)) violations.push(`${name}: ${finding.kind} ${finding.object.name}: ${v}\n    ${finding.message}`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(violations).toEqual([]);
  }, 120_000);
});
