import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckConfig } from '../../model/check-config.js';
import type { SessionRecord, StoredRecord } from '../../model/index.js';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { WriterCensus } from '../controller-identity.js';
import { Fold } from '../fold.js';
import { Cluster, SessionBuilder } from '../testing/builder.js';
import { hotLoop } from './hot-loop.js';

/** The detector alone over records, with a budget of distinct values; counts the bodies it had decoded. */
function hotLoopOver(records: Iterable<StoredRecord>, valuesBudget: number): { messages: string[]; decoded: number } {
  const fold = new Fold({ annotate: false });
  const detector = hotLoop(undefined, { valuesBudget });
  const census = new WriterCensus();
  const context = { thresholds: CheckConfig.parse({}).thresholds, state: fold.state, resolve: fold.resolve.bind(fold), controller: () => census.identify([]) };
  let decoded = 0;
  for (const record of records) {
    const load = record.loadObject;
    const counted = load ? { ...record, loadObject: () => (decoded++, load()) } : record;
    for (const fact of fold.evolve(counted)) {
      if (fact.type === 'version') census.observe(fact);
      if (detector.facts.includes(fact.type)) detector.observe(fact, context);
    }
  }
  fold.finish();
  return { messages: detector.finish(context).map((f) => `${f.object.name}: ${f.message}`), decoded };
}

describe('hot-loop over a stored session', () => {
  const tempDir = useTempDir();

  function stored(records: readonly StoredRecord[]) {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 's', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    store.append(session.id, records.map(({ seq: _seq, ...record }) => record as SessionRecord));
    return { store, session };
  }

  it('stops decoding a loop once its writes can add nothing to the finding, and words it as a read of every body does', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('ConfigMap');
    s.deliver(c.create('ConfigMap', 'a', { data: { revision: '0' } }, { manager: 'cm-operator' }));
    // 200 writes a second apart, each a new revision: past the budget of 30 distinct values and the 50 sampled diffs,
    // nothing more can be learnt from them; the status is never touched (no progress to judge).
    for (let i = 1; i <= 200; i++) s.deliver(c.update('ConfigMap', 'a', (o) => (o.data = { revision: String(i) }), { manager: 'cm-operator', after: '1s' }));
    const { store, session } = stored(s.records);
    try {
      const lazy = hotLoopOver(store.records(session.id, { withObjects: 'lazy', parallel: false }), 30);
      const full = hotLoopOver(store.records(session.id, { withObjects: true }), 30);
      expect(lazy.messages).toHaveLength(1);
      expect([...store.records(session.id, { withObjects: 'lazy', parallel: false })].find((r) => r.record === 'watch')?.facts?.leaderRecord).toBe(false);
      expect(lazy.messages[0]).toMatch(/cm-operator wrote ConfigMap default\/a 200 times/);
      expect(lazy.messages[0]).toContain('(50 sampled): .data.revision, 30+ distinct values.');
      // Without facts (every body read, statusChanged unknown) the finding says the same.
      expect(full.messages).toEqual(lazy.messages);
      // Bodies were read for the 50 sampled writes (and a few around them), not for the other ~150.
      expect(lazy.decoded).toBeGreaterThanOrEqual(50);
      expect(lazy.decoded).toBeLessThanOrEqual(60);
    } finally {
      store.close();
    }
  });

  it('decodes no body of an object written often that never loops, and words a loop alike whether or not it did', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('ConfigMap');
    s.deliver(c.create('ConfigMap', 'busy', { data: { revision: '0' } }, { manager: 'cm-operator' }));
    s.deliver(c.create('ConfigMap', 'loop', { data: { revision: '0' } }, { manager: 'cm-operator' }));
    // 'busy': 8 writes 7 s apart, past half the threshold of 10 within the 60 s window (where bodies used to be read)
    // but never 10 within it. 'loop': 12 writes a second apart.
    for (let i = 1; i <= 8; i++) s.deliver(c.update('ConfigMap', 'busy', (o) => (o.data = { revision: String(i) }), { manager: 'cm-operator', after: '7s' }));
    for (let i = 1; i <= 12; i++) s.deliver(c.update('ConfigMap', 'loop', (o) => (o.data = { revision: String(i) }), { manager: 'cm-operator', after: '1s' }));
    const { store, session } = stored(s.records);
    try {
      const busyOnly = hotLoopOver(
        [...store.records(session.id, { withObjects: 'lazy', parallel: false })].filter((r) => r.record !== 'watch' || r.name !== 'loop'),
        200_000,
      );
      expect(busyOnly).toEqual({ messages: [], decoded: 0 });
      const lazy = hotLoopOver(store.records(session.id, { withObjects: 'lazy', parallel: false }), 200_000);
      const full = hotLoopOver(store.records(session.id, { withObjects: true }), 200_000);
      expect(lazy.messages).toHaveLength(1);
      expect(lazy.messages[0]).toMatch(/^loop: .*What changes from one write to the next \(3 sampled\): \.data\.revision/);
      expect(full.messages).toEqual(lazy.messages);
    } finally {
      store.close();
    }
  });

  it('knows a ConfigMap lock by its stored fact, without decoding a body', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('ConfigMap');
    const record = (renewTime: string) => JSON.stringify({ holderIdentity: 'web-operator-5d9f-abc', leaseDurationSeconds: 15, acquireTime: '2026-11-25T10:00:00Z', renewTime, leaderTransitions: 0 });
    s.deliver(c.create('ConfigMap', 'web-operator-lock', { annotations: { 'control-plane.alpha.kubernetes.io/leader': record(c.iso()) } }, { manager: 'web-operator' }));
    for (let i = 0; i < 60; i++) {
      s.deliver(c.update('ConfigMap', 'web-operator-lock', (o) => ((o.metadata as { annotations: Record<string, string> }).annotations['control-plane.alpha.kubernetes.io/leader'] = record(c.iso())), { manager: 'web-operator', after: '2s' }));
    }
    const { store, session } = stored(s.records);
    try {
      const read = [...store.records(session.id, { withObjects: 'lazy', parallel: false })];
      expect(read.filter((r) => r.record === 'watch').every((r) => r.facts?.leaderRecord === true)).toBe(true);
      expect(hotLoopOver(read, 200_000)).toEqual({ messages: [], decoded: 0 });
    } finally {
      store.close();
    }
    // Rows an older recorder wrote have no such bits: the detector reads the body instead and still knows the lock.
    const db = new Database(store.path);
    db.prepare('UPDATE records SET facts_flags = facts_flags & ~48').run();
    db.close();
    const older = openStore(store.path);
    try {
      const read = [...older.records(session.id, { withObjects: 'lazy', parallel: false })];
      expect(read.filter((r) => r.record === 'watch').every((r) => r.facts !== undefined && r.facts.leaderRecord === undefined)).toBe(true);
      const judged = hotLoopOver(read, 200_000);
      expect(judged.messages).toEqual([]);
      expect(judged.decoded).toBeGreaterThan(0);
    } finally {
      older.close();
    }
  });
});
