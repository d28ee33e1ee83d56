import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckConfig } from '../../model/check-config.js';
import type { ImportFormat } from '../../importers/import-file.js';
import { importFile } from '../../importers/import-file.js';
import { analyze } from '../../replayer/index.js';
import { openStore, type SessionStore } from '../../store/index.js';
import { sentenceViolations } from './sentence-claims.js';

/**
 * Over the labelled scenario suite: every finding's sentence says only what its session's records show (gone or
 * still there, which fields changed, how many times, at which seq). sentence-claims.ts recognises the claims.
 */

const root = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(root)
  .filter((name) => statSync(join(root, name)).isDirectory())
  .sort()
  .map((name) => ({ name, expected: JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as { import: { format: ImportFormat; file: string; controller?: string }; config?: unknown } }));

let dir: string;
let store: SessionStore;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-sentences-'));
  store = openStore(join(dir, 'sentences.db'));
});
afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('finding sentences agree with their evidence', () => {
  it('over every scenario', async () => {
    const violations: string[] = [];
    let checked = 0;
    for (const { name, expected } of scenarios) {
      const outcome = await importFile(store, {
        format: expected.import.format,
        session: name,
        input: { path: join(root, name, expected.import.file) },
        ...(expected.import.controller ? { controller: expected.import.controller } : {}),
        toolVersion: 'test',
      });
      if (!outcome.ok) throw new Error(`import of ${name} failed: ${outcome.message}`);
      const records = [...store.records(outcome.summary.session.id, { withObjects: true })];
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
