import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckConfig } from '../../model/check-config.js';
import { importFile } from '../../importers/import-file.js';
import { analyze } from '../../replayer/index.js';
import { openStore } from '../../store/index.js';

/**
 * A real kube-apiserver's audit log of three deletions (test/fixtures/real/README.md): a finalizer removed after 3 s,
 * one never removed, and an object without finalizers. Only the one never removed is stuck.
 */
const log = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/real/audit-finalizer-removal.log');
const dir = mkdtempSync(join(tmpdir(), 'kreplay-finalizer-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('finalizer removal as a real API server logs it', () => {
  it('reports only the finalizer never removed, and files the DELETE answered with a Status under its object', async () => {
    const store = openStore(join(dir, 'kreplay.db'));
    const outcome = await importFile(store, { format: 'audit', session: 'fin', input: { path: log }, strict: true, toolVersion: 'test' });
    if (!outcome.ok) throw new Error(outcome.message);
    const session = outcome.summary.session;
    const parsedConfig = CheckConfig.parse({ thresholds: { finalizerTimeout: '10s' } });
    const { findings } = analyze(store.records(session.id, { withObjects: 'lazy' }), { parsedConfig });
    const stuck = findings.filter((f) => f.kind === 'stuck-finalizer');
    expect(stuck.map((f) => [f.object.name, f.severity])).toEqual([['never', 'error']]);
    expect(stuck[0]!.message).toMatch(/still there when the session ended/);
    // `plain`'s DELETE names no uid in its objectRef; its Status answer does: one object row, not two.
    const plain = store.objects(session.id).filter((o) => o.name === 'plain');
    expect(plain.map((o) => o.uid === null)).toEqual([false]);
    expect(plain[0]!.recordCount).toBeGreaterThanOrEqual(3);
    store.close();
  });
});
