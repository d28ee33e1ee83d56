import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionRecord, StoredRecord } from '../model/index.js';
import { deployment, watchEvent } from '../test/builders.js';
import { useTempDir } from '../test/temp.js';
import { openStore } from './index.js';
import { parallelRows } from './parallel-read.js';

const newSession = { name: 'parallel', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;

/** A session with every kind of record: watch events of three objects, a bookmark, markers, reconciles, API writes. */
function sessionRecords(): SessionRecord[] {
  const records: SessionRecord[] = [{ record: 'marker', observedAt: '2026-11-25T10:00:00Z', origin: 'watch', marker: 'list-started', group: 'apps', version: 'v1', resource: 'deployments' }];
  for (let i = 0; i < 300; i++) {
    const name = ['web', 'api', 'db'][i % 3]!;
    const at = `2026-11-25T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
    records.push({ ...watchEvent(deployment({ name, resourceVersion: String(1000 + i), readyReplicas: i % 4, at }), i < 3 ? 'ADDED' : 'MODIFIED'), observedAt: at });
    if (i % 50 === 0) {
      records.push({ record: 'watch', observedAt: at, origin: 'watch', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', type: 'BOOKMARK', namespace: null, name: null, uid: null, resourceVersion: String(1000 + i), generation: null, object: null });
    }
    if (i % 7 === 0) {
      const object = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name, uid: `uid-${name}` };
      records.push({ record: 'reconcile', observedAt: at, origin: 'ingest', controller: 'web-operator', object, startedAt: at, finishedAt: at, observedResourceVersion: String(1000 + i), observedGeneration: 1, result: 'success' });
      records.push({ record: 'api', observedAt: at, origin: 'audit', actor: 'system:serviceaccount:ops:web-operator', byController: true, verb: 'patch', object, subresource: 'status', code: 200, resourceVersionAfter: String(1000 + i) });
    }
  }
  records.push({ record: 'marker', observedAt: '2026-11-25T10:05:00Z', origin: 'watch', marker: 'watch-closed', group: 'apps', version: 'v1', resource: 'deployments', count: 300 });
  return records;
}

/** A record with its facts and its body (loaded), as plain data to compare. */
function comparable(record: StoredRecord): unknown {
  return { ...record, loadObject: undefined, facts: record.facts, loaded: record.loadObject?.() };
}

describe('parallel lazy reads', () => {
  const tempDir = useTempDir();

  it('give the same records, facts and bodies as a read on the calling thread, whole or cut and filtered', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    // Several appends: several chunks, keyframes and deltas.
    const records = sessionRecords();
    for (let i = 0; i < records.length; i += 97) store.append(session.id, records.slice(i, i + 97));

    for (const options of [{}, { fromSeq: 40, toSeq: 260 }, { filter: { name: 'api' } }, { filter: { kinds: ['watch' as const] } }]) {
      const sequential = [...store.records(session.id, { ...options, withObjects: 'lazy', parallel: false })].map(comparable);
      const parallel = [...store.records(session.id, { ...options, withObjects: 'lazy', parallel: true })].map(comparable);
      expect(parallel.length).toBeGreaterThan(0);
      expect(parallel).toEqual(sequential);
    }
    // And both equal the eager read's bodies.
    const eager = [...store.records(session.id)].map((r) => (r.record === 'watch' ? r.object : null));
    const lazy = [...store.records(session.id, { withObjects: 'lazy', parallel: true })].map((r) => r.loadObject?.() ?? null);
    expect(lazy).toEqual(eager);
    store.close();
  });

  it('stops the worker when the reader stops early, and the store keeps working', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    store.append(session.id, sessionRecords());
    let n = 0;
    // A small batch size: the worker is still producing when the loop breaks.
    for (const row of parallelRows({ path, sql: 'SELECT seq, kind, origin, observed_at, object_id, type, resource_version, generation, payload, body_kind, NULL, NULL, NULL FROM records r WHERE r.session_id = ? ORDER BY r.seq', params: [session.id], batchSize: 8 })) {
      expect(row[0]).toBe(++n);
      if (n === 20) break;
    }
    expect(n).toBe(20);
    expect([...store.records(session.id, { withObjects: 'lazy', parallel: true })]).toHaveLength(store.recordCount(session.id));
    store.close();
  });

  it('reports a failing read with the database error', () => {
    const path = join(tempDir(), 'kreplay.db');
    openStore(path).close();
    expect(() => [...parallelRows({ path, sql: 'SELECT * FROM no_such_table', params: [] })]).toThrow(/reading the session failed: no such table: no_such_table/);
    expect(() => [...parallelRows({ path: join(tempDir(), 'missing.db'), sql: 'SELECT 1', params: [] })]).toThrow(/reading the session failed/);
  });
});
