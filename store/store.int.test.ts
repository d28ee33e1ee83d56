import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { deployment, watchEvent } from '../test/builders.js';
import { useTempDir } from '../test/temp.js';
import { DatabaseTooNewError, openStore } from './index.js';
import { KEYFRAME_INTERVAL } from './codec.js';

const newSession = { name: 'run-1', source: 'import:ndjson', cluster: null, context: null, toolVersion: 'test', config: {} } as const;

describe('SQLite session store', () => {
  const tempDir = useTempDir();

  it('creates a database with the page size asked for, and leaves an existing one at its own', () => {
    const path = join(tempDir(), 'small-pages.db');
    const store = openStore(path, { pageSize: 512 });
    store.append(store.createSession(newSession).id, [{ record: 'marker', observedAt: null, origin: 'import', marker: 'gap' }]);
    store.close();
    const reopened = openStore(path, { pageSize: 4096 });
    reopened.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('page_size', { simple: true })).toBe(512);
    raw.close();
    const defaultPath = join(tempDir(), 'default.db');
    const fresh = openStore(defaultPath);
    fresh.close();
    const rawDefault = new Database(defaultPath, { readonly: true });
    expect(rawDefault.pragma('page_size', { simple: true })).toBe(4096);
    rawDefault.close();
  });

  it('appends records in one transaction and reads them back in seq order with their objects', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    const versions = Array.from({ length: KEYFRAME_INTERVAL * 2 + 5 }, (_, i) =>
      deployment({ name: 'web', resourceVersion: String(1000 + i), readyReplicas: i % 4, at: `2026-11-25T10:00:${String(i % 60).padStart(2, '0')}Z` }),
    );
    const records: SessionRecord[] = [
      { record: 'marker', observedAt: '2026-11-25T10:00:00Z', origin: 'watch', marker: 'watch-started', group: 'apps', version: 'v1', resource: 'deployments', resourceVersion: '999' },
      ...versions.map((object, i) => watchEvent(object, i === 0 ? 'ADDED' : 'MODIFIED')),
      { record: 'watch', observedAt: '2026-11-25T10:01:00Z', origin: 'watch', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', type: 'BOOKMARK', namespace: null, name: null, uid: null, resourceVersion: '2000', generation: null, object: null },
    ];
    const result = store.append(session.id, records.slice(0, 50));
    expect(result).toEqual({ firstSeq: 1, lastSeq: 50, count: 50, merged: 0, changedFromSeq: null });
    store.append(session.id, records.slice(50));
    store.close();

    // Reopen: everything comes from disk, nothing from the appender's memory.
    const reopened = openStore(path);
    const back = [...reopened.records(session.id)];
    expect(back.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
    expect(back[0]).toMatchObject({ record: 'marker', marker: 'watch-started', resourceVersion: '999' });
    versions.forEach((object, i) => {
      const record = back[i + 1]!;
      expect(record.record).toBe('watch');
      if (record.record === 'watch') {
        expect(record.resourceVersion).toBe(String(1000 + i));
        expect(record.object).toEqual(object);
      }
    });
    expect(back.at(-1)).toMatchObject({ type: 'BOOKMARK', resourceVersion: '2000', object: null });

    // Random access rebuilds from the nearest keyframe.
    expect(reopened.objectAt(session.id, KEYFRAME_INTERVAL * 2 - 1)).toEqual(versions[KEYFRAME_INTERVAL * 2 - 3]);
    expect(reopened.record(session.id, KEYFRAME_INTERVAL + 3)).toMatchObject({ resourceVersion: String(1000 + KEYFRAME_INTERVAL + 1) });
    // Filtered reads skip rows and still rebuild the right bodies.
    const from = KEYFRAME_INTERVAL + 10;
    const window = [...reopened.records(session.id, { fromSeq: from, toSeq: from + 10 })];
    expect(window.map((r) => (r.record === 'watch' ? r.object : undefined))).toEqual(versions.slice(from - 2, from + 9));
    reopened.close();
  });

  it('reads lazily: facts computed at append, bodies decoded only when loaded, equal to an eager read', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    // web: status writes by kube-controller-manager, one spec change (generation 2) by web-operator, then a
    // deletion held by a finalizer. Every version shares the same writer/owner facts except around those changes.
    const at = (i: number) => `2026-11-25T10:00:${String(i).padStart(2, '0')}Z`;
    const versions = Array.from({ length: KEYFRAME_INTERVAL + 8 }, (_, i) =>
      deployment({ name: 'web', resourceVersion: String(100 + i), readyReplicas: i % 3, generation: i < 20 ? 1 : 2, replicas: i < 20 ? 3 : 5, observedGeneration: i < 22 ? 1 : 2, at: at(i) }),
    );
    // The spec change is web-operator's write: its managedFields entry moves, and it is not a status write.
    const specWrite = versions[20]!.metadata!.managedFields as Array<Record<string, unknown>>;
    specWrite[0]!.time = at(20);
    specWrite[1]!.time = at(19);
    const deleting = structuredClone(versions.at(-1)!);
    deleting.metadata!.resourceVersion = '200';
    deleting.metadata!.deletionTimestamp = '2026-11-25T10:01:00Z';
    deleting.metadata!.finalizers = ['example.com/cleanup'];
    (deleting.metadata!.annotations as Record<string, string>)['kreplay.dev/suppress'] = 'hot-loop: known';
    store.append(session.id, [...versions, deleting].map((object, i) => watchEvent(object, i === 0 ? 'ADDED' : 'MODIFIED')));
    store.close();

    const reopened = openStore(path);
    const lazy = [...reopened.records(session.id, { withObjects: 'lazy' })];
    const eager = [...reopened.records(session.id)];
    expect(lazy.every((r) => r.record === 'watch' && r.object === null && r.facts !== undefined && r.loadObject !== undefined)).toBe(true);
    const facts = lazy.map((r) => r.facts!);
    expect(facts[0]).toMatchObject({ writer: 'kube-controller-manager', statusWrite: true, observedGeneration: 1, statusChanged: null, deletionTimestamp: null, finalizers: [] });
    expect(facts[1]).toMatchObject({ writer: 'kube-controller-manager', statusWrite: true, statusChanged: true });
    expect(facts[20]).toMatchObject({ writer: 'web-operator', statusWrite: false });
    // The spec fingerprint moves with the spec change only.
    expect(new Set(facts.slice(0, 20).map((f) => f.specHash)).size).toBe(1);
    expect(facts[20]!.specHash).not.toBe(facts[19]!.specHash);
    expect(facts[21]!.specHash).toBe(facts[20]!.specHash);
    expect(facts.at(-1)).toMatchObject({ deletionTimestamp: '2026-11-25T10:01:00Z', finalizers: ['example.com/cleanup'], suppress: 'hot-loop: known', statusChanged: false });
    // Facts are kept once per distinct value, not once per version.
    const raw = new Database(path, { readonly: true });
    expect((raw.prepare('SELECT count(*) AS n FROM version_facts').get() as { n: number }).n).toBeLessThan(6);
    raw.close();
    // Bodies load in any order (back to front here: each rebuilds from its keyframe) and equal the eager read.
    const eagerObjects = eager.map((r) => (r.record === 'watch' ? r.object : undefined));
    for (let i = lazy.length - 1; i >= 0; i -= 7) expect(lazy[i]!.loadObject!()).toEqual(eagerObjects[i]);
    expect(lazy[5]!.loadObject!()).toEqual(versions[5]);
    expect(lazy[6]!.loadObject!()).toEqual(versions[6]);
    // Facts are not part of the record: exports and the TUI's JSON do not show them.
    expect(Object.keys(eager[0]!)).not.toContain('facts');
    reopened.close();
  });

  it('says a lazily read body is gone with its session when the session was deleted after the row was read', () => {
    const path = join(tempDir(), 'kreplay.db');
    const writer = openStore(path);
    const session = writer.createSession(newSession);
    writer.append(session.id, [watchEvent(deployment({ name: 'web', resourceVersion: '100' }), 'ADDED')]);
    const reader = openStore(path, { readonly: true });
    const [record] = [...reader.records(session.id, { withObjects: 'lazy' })];
    // Retention in the recorder deletes whole sessions while a reader may hold their rows.
    writer.deleteSession(session.id);
    expect(() => record!.loadObject!()).toThrow(`record 1 of session ${session.id} is missing: the session was deleted while being read`);
    reader.close();
    writer.close();
  });

  it('keeps appending deltas after reopening (the appender rebuilds its tip from disk)', () => {
    const path = join(tempDir(), 'kreplay.db');
    let store = openStore(path);
    const session = store.createSession(newSession);
    store.append(session.id, [watchEvent(deployment({ name: 'a', resourceVersion: '1' }), 'ADDED')]);
    store.close();
    store = openStore(path);
    store.append(session.id, [watchEvent(deployment({ name: 'a', resourceVersion: '2', replicas: 5 }))]);
    const history = store.objectHistory(session.id, 'uid-a');
    expect(history.map((r) => (r.record === 'watch' ? (r.object as any).spec.replicas : null))).toEqual([3, 5]);
    store.close();
  });

  it('honours a small page cache (the recorder bounds it): pages spill and are re-read, nothing changes', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path, { cacheKiB: 64 });
    expect((store as unknown as { db: Database.Database }).db.pragma('cache_size', { simple: true })).toBe(-64);
    const session = store.createSession(newSession);
    // 200 objects × 15 versions in batches of 300: every batch touches more index pages than 64 KiB holds.
    const batch: SessionRecord[] = [];
    for (let version = 1; version <= 15; version += 1) {
      for (let i = 0; i < 200; i += 1) {
        batch.push(watchEvent(deployment({ name: `d${i}`, resourceVersion: String(version * 1000 + i), replicas: version }), version === 1 ? 'ADDED' : 'MODIFIED'));
        if (batch.length === 300) store.append(session.id, batch.splice(0));
      }
    }
    store.append(session.id, batch.splice(0));
    store.close();
    const reader = openStore(path, { readonly: true });
    const history = reader.objectHistory(session.id, 'uid-d137');
    expect(history.map((r) => (r.record === 'watch' ? [r.resourceVersion, (r.object as any).spec.replicas] : null))).toEqual(
      Array.from({ length: 15 }, (_, v) => [String((v + 1) * 1000 + 137), v + 1]),
    );
    reader.close();
  });

  it('rolls back a failed batch completely and keeps earlier batches', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    store.append(session.id, [watchEvent(deployment({ name: 'a', resourceVersion: '1' }), 'ADDED')]);
    const broken = { record: 'reconcile', observedAt: null, origin: 'ingest' } as unknown as SessionRecord;
    expect(() => store.append(session.id, [watchEvent(deployment({ name: 'b', resourceVersion: '2' }), 'ADDED'), broken])).toThrow();
    expect(store.recordCount(session.id)).toBe(1);
    const next = store.append(session.id, [watchEvent(deployment({ name: 'a', resourceVersion: '3', replicas: 1 }))]);
    expect(next.firstSeq).toBe(2);
    expect(store.objectAt(session.id, 2)).toMatchObject({ spec: { replicas: 1 } });
    store.close();
  });

  it('filters and pages records by object, kind and type', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession(newSession);
    const records: SessionRecord[] = [];
    for (let i = 0; i < 30; i += 1) {
      records.push(watchEvent(deployment({ name: i % 2 ? 'odd' : 'even', resourceVersion: String(i + 1) }), i < 2 ? 'ADDED' : 'MODIFIED'));
    }
    records.push({
      record: 'reconcile', observedAt: '2026-11-25T10:00:01Z', origin: 'ingest', controller: 'web-operator',
      object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'default', name: 'odd' },
      startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:00:01Z', result: 'error', errorReason: 'Conflict',
    });
    store.append(session.id, records);
    expect(store.recordCount(session.id, { name: 'odd' })).toBe(16);
    expect(store.recordCount(session.id, { name: 'odd', kinds: ['watch'] })).toBe(15);
    expect(store.recordCount(session.id, { types: ['ADDED'] })).toBe(2);
    const page = store.page(session.id, { afterSeq: 10, limit: 5, filter: { name: 'even' } });
    expect(page.map((r) => r.seq)).toEqual([11, 13, 15, 17, 19]);
    const back = store.page(session.id, { beforeSeq: 11, limit: 3, filter: { name: 'even' } });
    expect(back.map((r) => r.seq)).toEqual([5, 7, 9]);
    expect(store.indexOfSeq(session.id, 13, { name: 'even' })).toBe(6);
    const objects = store.objects(session.id);
    // The reconcile names no uid: it is about the object of that name, not a second, uid-less one.
    expect(objects.map((o) => [o.name, o.uid, o.recordCount])).toEqual([
      ['even', 'uid-even', 15],
      ['odd', 'uid-odd', 16],
    ]);
    store.close();
  });

  it('files a record without uid under the newest object of its name, and under its own row before any exists', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession(newSession);
    const ref = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name: 'web' };
    const probe = (observedAt: string): SessionRecord => ({
      record: 'api', observedAt, origin: 'audit', actor: 'system:serviceaccount:ops:web-operator', byController: true,
      verb: 'delete', object: { ...ref, uid: null }, code: 200,
    });
    store.append(session.id, [probe('2026-11-25T10:00:00Z')]);
    store.append(session.id, [watchEvent(deployment({ name: 'web', uid: 'uid-1', resourceVersion: '1' }), 'ADDED'), probe('2026-11-25T10:00:02Z')]);
    store.append(session.id, [watchEvent(deployment({ name: 'web', uid: 'uid-2', resourceVersion: '5' }), 'ADDED'), probe('2026-11-25T10:00:04Z')]);
    expect(store.objects(session.id).map((o) => [o.uid, o.recordCount])).toEqual([
      [null, 1],
      ['uid-1', 2],
      ['uid-2', 2],
    ]);
    store.close();
  });

  it('lists, marks partial and deletes sessions', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const one = store.createSession(newSession);
    const two = store.createSession({ ...newSession, name: 'run-2' });
    store.append(two.id, [watchEvent(deployment({ name: 'a', resourceVersion: '1' }), 'ADDED')]);
    store.markPartial(two.id, ['input.ndjson:3: not JSON']);
    const listed = store.listSessions();
    expect(listed.map((s) => [s.name, s.recordCount, s.partial])).toEqual([
      ['run-1', 0, false],
      ['run-2', 1, true],
    ]);
    expect(listed[1]!.problems).toEqual(['input.ndjson:3: not JSON']);
    expect(listed[1]!.bytesOnDisk).toBeGreaterThan(0);
    store.deleteSession(one.id);
    expect(store.findSession('run-1')).toBeUndefined();
    expect(store.findSession(String(two.id))?.name).toBe('run-2');
    store.close();
  });

  it('refuses a database written by a newer kreplay and leaves it untouched', () => {
    const path = join(tempDir(), 'kreplay.db');
    openStore(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 999');
    raw.close();
    expect(() => openStore(path)).toThrow(DatabaseTooNewError);
    expect(() => openStore(path)).toThrow(/schema version 999.*upgrade kreplay/);
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(999);
    check.close();
  });
});
