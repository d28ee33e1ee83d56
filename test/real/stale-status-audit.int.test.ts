import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importFile } from '../../importers/import-file.js';
import { analyze } from '../../replayer/index.js';
import { openStore } from '../../store/index.js';

/**
 * A real kube-apiserver's audit log (test/fixtures/real/README.md) of a status written with observedGeneration 1 and
 * Ready=True after the spec moved to generation 2. The policy omits managedFields, so the audit user is all there is
 * to name the writer; every write is kubectl's, so no controller can be inferred and the writer is the best guess.
 */
const log = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/real/audit-stale-status.log');
const dir = mkdtempSync(join(tmpdir(), 'kreplay-stale-status-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a stale status as a real API server logs it', () => {
  it('is a status-spec-race alarm naming the audit user who wrote it', async () => {
    const store = openStore(join(dir, 'kreplay.db'));
    try {
      const outcome = await importFile(store, { format: 'audit', session: 'race', input: { path: log }, strict: true, toolVersion: 'test' });
      if (!outcome.ok) throw new Error(outcome.message);
      const { findings, stats } = analyze(store.records(outcome.summary.session.id, { withObjects: 'lazy' }));
      expect(stats.controller.basis).toBe('unknown');
      const races = findings.filter((f) => f.kind === 'status-spec-race');
      expect(races.map((f) => [f.object.name, f.rule, f.severity])).toEqual([['shop', 'stale-status', 'error']]);
      expect(races[0]!.blame).toMatchObject({ actor: 'kreplay-admin' });
      expect(races[0]!.message).toContain('observedGeneration 1 while the spec was already at generation 2');
      // Told which controller it is, the same write is still its alarm.
      const told = analyze(store.records(outcome.summary.session.id, { withObjects: 'lazy' }), { controller: ['kreplay-admin'] });
      expect(told.findings.filter((f) => f.kind === 'status-spec-race' && f.severity !== 'info')).toHaveLength(1);
    } finally {
      store.close();
    }
  });
});
