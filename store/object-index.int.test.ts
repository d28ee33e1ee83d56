import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject, SessionRecord } from '../model/index.js';
import { deployment, watchEvent } from '../test/builders.js';
import { writeOldDatabase } from '../test/old-database.js';
import { useTempDir } from '../test/temp.js';
import { loadMigrations, openStore } from './index.js';
import { BUCKET_BITS, tailStart } from './object-index.js';

const newSession = { name: 'run-1', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;
const BUCKET = 2 ** BUCKET_BITS;
const names = ['web', 'api', 'db', 'cache', 'queue'];

/**
 * A session of several buckets: five objects changing at different rates, markers in between, appended in batches
 * that straddle bucket boundaries. Returns every object's versions in order, and every record's seq by object.
 */
function fill(path: string, total: number) {
  const store = openStore(path);
  const session = store.createSession(newSession);
  const versions = new Map<string, KubeObject[]>(names.map((name) => [name, []]));
  const seqsByName = new Map<string, number[]>(names.map((name) => [name, []]));
  let rv = 1000;
  const all: SessionRecord[] = [];
  for (let i = 0; all.length < total; i += 1) {
    // 'web' changes every record, 'queue' once in a while: an object absent from whole buckets.
    const name = i % 97 === 0 ? 'queue' : names[i % 4]!;
    if (i % 50 === 7) {
      all.push({ record: 'marker', observedAt: null, origin: 'watch', marker: 'watch-started', resourceVersion: String(rv) });
      continue;
    }
    rv += 1;
    const list = versions.get(name)!;
    const object = deployment({ name, uid: `uid-${name}`, resourceVersion: String(rv), readyReplicas: rv % 4, at: `2026-11-25T10:00:${String(rv % 60).padStart(2, '0')}Z` });
    all.push(watchEvent(object, list.length === 0 ? 'ADDED' : 'MODIFIED'));
    list.push(object);
    seqsByName.get(name)!.push(all.length);
  }
  for (let at = 0; at < all.length; at += 333) store.append(session.id, all.slice(at, at + 333));
  store.close();
  return { sessionId: session.id, versions, seqsByName, total: all.length };
}

describe('object index (schema 7): per-object lookups written a bucket at a time', () => {
  const tempDir = useTempDir();

  it('indexes exactly the completed buckets, and reads every object the same across the index and the open bucket', () => {
    const path = join(tempDir(), 'kreplay.db');
    const { sessionId, versions, seqsByName, total } = fill(path, 3 * BUCKET + 500);

    const raw = new Database(path, { readonly: true });
    const boundary = tailStart(total + 1);
    expect(boundary).toBe(3 * BUCKET);
    const indexed = raw.prepare('SELECT count(*) AS n, max(seq) AS last FROM object_index WHERE session_id = ?').get(sessionId) as { n: number; last: number };
    const expected = raw.prepare('SELECT count(*) AS n FROM records WHERE session_id = ? AND object_id IS NOT NULL AND seq < ?').get(sessionId, boundary) as { n: number };
    expect(indexed.n).toBe(expected.n);
    expect(indexed.last).toBeLessThan(boundary);
    // records_object is gone: that index was the write amplification.
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'records_object'").get()).toBeUndefined();
    raw.close();

    const store = openStore(path);
    for (const name of names) {
      const history = store.objectHistory(sessionId, `uid-${name}`);
      expect(history.map((r) => r.seq)).toEqual(seqsByName.get(name));
      expect(history.map((r) => (r.record === 'watch' ? r.object : undefined))).toEqual(versions.get(name));
      const filter = { uid: `uid-${name}` };
      expect(store.recordCount(sessionId, filter)).toBe(seqsByName.get(name)!.length);
      // A page on either side of the boundary, forwards and backwards, as the TUI's object filter reads it.
      const seqs = seqsByName.get(name)!;
      const middle = seqs.findIndex((seq) => seq >= boundary - 3) - 2;
      expect(store.page(sessionId, { afterSeq: seqs[middle]!, limit: 4, filter }).map((r) => r.seq)).toEqual(seqs.slice(middle + 1, middle + 5));
      expect(store.page(sessionId, { beforeSeq: seqs[middle + 3]!, limit: 4, filter }).map((r) => r.seq)).toEqual(seqs.slice(Math.max(0, middle - 1), middle + 3));
      expect(store.indexOfSeq(sessionId, seqs[middle]!, filter)).toBe(middle);
    }
    // Random access from the nearest keyframe, in the index and in the open bucket; page() rebuilding each body.
    const web = seqsByName.get('web')!;
    for (const k of [0, 31, 32, 600, web.length - 1]) expect(store.objectAt(sessionId, web[k]!)).toEqual(versions.get('web')![k]);
    const queue = seqsByName.get('queue')!;
    expect(store.page(sessionId, { afterSeq: queue[3]! - 1, limit: 1, withObjects: true })[0]).toMatchObject({ object: versions.get('queue')![3] });
    // The per-object summary is one pass over the session.
    const summaries = store.objects(sessionId);
    expect(summaries.map((o) => [o.name, o.versionCount, o.firstSeq, o.lastSeq, o.lastEventType])).toEqual(
      [...names].sort().map((name) => [name, versions.get(name)!.length, seqsByName.get(name)![0], seqsByName.get(name)!.at(-1), 'MODIFIED']),
    );
    store.close();
  });

  it('a reopened appender rebuilds each object tip from the index, and deleting a session leaves no entries behind', () => {
    const path = join(tempDir(), 'kreplay.db');
    const { sessionId, versions, total } = fill(path, 2 * BUCKET + 10);
    const store = openStore(path);
    // No tip in memory: the next version of each object is a delta against what the index finds on disk.
    const next = names.map((name, i) => deployment({ name, uid: `uid-${name}`, resourceVersion: String(900_000 + i), readyReplicas: 3 }));
    store.append(sessionId, next.map((object) => watchEvent(object)));
    const other = store.createSession({ ...newSession, name: 'run-2' });
    store.append(other.id, [watchEvent(deployment({ name: 'web', uid: 'uid-web-2', resourceVersion: '5' }), 'ADDED')]);
    store.close();

    const reader = openStore(path);
    names.forEach((name, i) => {
      const history = reader.objectHistory(sessionId, `uid-${name}`);
      expect(history.length).toBe(versions.get(name)!.length + 1);
      expect(history.at(-1)).toMatchObject({ seq: total + 1 + i, object: next[i] });
    });
    reader.deleteSession(sessionId);
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT count(*) AS n FROM object_index WHERE session_id = ?').get(sessionId)).toEqual({ n: 0 });
    expect(raw.prepare('SELECT count(*) AS n FROM records WHERE session_id = ?').get(sessionId)).toEqual({ n: 0 });
    expect(raw.pragma('foreign_key_check')).toEqual([]);
    raw.close();
    expect(reader.objectHistory(other.id, 'uid-web-2').map((r) => r.seq)).toEqual([1]);
    reader.close();
  });

  it('upgrades a populated version-6 database: its completed buckets are indexed, read-only opens still read it', () => {
    const path = join(tempDir(), 'v6.db');
    // Written as schema 6 left records: one keyframe per version in its own raw chunk, an index on (object_id, seq).
    const count = BUCKET + 700;
    writeOldDatabase(path, 6, (old) => {
      old.exec(`INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, 'v6-run', 'recorder', '0.1.0', '2026-11-01T00:00:00Z', ${count + 1})`);
      old.exec("INSERT INTO objects (id, session_id, api_group, version, resource, kind, namespace, name, uid) VALUES (1, 1, '', 'v1', 'configmaps', 'ConfigMap', 'ns', 'a', 'u-a'), (2, 1, '', 'v1', 'configmaps', 'ConfigMap', 'ns', 'b', 'u-b')");
      const chunk = old.prepare('INSERT INTO chunks (id, session_id, encoding, data) VALUES (?, 1, 0, ?)');
      const record = old.prepare(
        `INSERT INTO records (session_id, seq, kind, origin, observed_at, object_id, type, resource_version, generation, payload, body_kind, chunk_id, body_offset, body_length)
         VALUES (1, ?, ?, 'watch', '2026-11-01T00:00:01Z', ?, ?, ?, NULL, ?, ?, ?, 0, ?)`,
      );
      old.transaction(() => {
        for (let seq = 1; seq <= count; seq += 1) {
          if (seq % 10 === 0) {
            record.run(seq, 'marker', null, 'gap', null, '{"record":"marker","observedAt":null,"origin":"watch","marker":"gap"}', 0, null, null);
            continue;
          }
          const object = seq % 3 === 0 ? 2 : 1;
          const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: object === 1 ? 'a' : 'b', namespace: 'ns', uid: object === 1 ? 'u-a' : 'u-b', resourceVersion: String(seq) } });
          chunk.run(seq, Buffer.from(body));
          record.run(seq, 'watch', object, seq < 3 ? 'ADDED' : 'MODIFIED', String(seq), null, 1, seq, body.length);
        }
      })();
    });
    const expectedSeqs = (object: number) => Array.from({ length: count }, (_, i) => i + 1).filter((seq) => seq % 10 !== 0 && (seq % 3 === 0 ? 2 : 1) === object);

    const readOnly = openStore(path, { readonly: true });
    expect(readOnly.objectHistory(1, 'u-b').map((r) => r.seq)).toEqual(expectedSeqs(2));
    expect(readOnly.recordCount(1, { uid: 'u-a' })).toBe(expectedSeqs(1).length);
    readOnly.close();

    const store = openStore(path);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    expect(raw.prepare('SELECT count(*) AS n FROM object_index').get()).toEqual({ n: expectedSeqs(1).concat(expectedSeqs(2)).filter((seq) => seq < BUCKET).length });
    raw.close();
    for (const [uid, object] of [['u-a', 1], ['u-b', 2]] as const) {
      const history = store.objectHistory(1, uid);
      expect(history.map((r) => r.seq)).toEqual(expectedSeqs(object));
      expect(history.map((r) => (r.record === 'watch' ? r.object?.metadata?.resourceVersion : null))).toEqual(expectedSeqs(object).map(String));
    }
    store.close();
  });
});
