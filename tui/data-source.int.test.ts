import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiRequestRecord, KubeObject } from '../model/index.js';
import { diffObjects } from '../replayer/diff.js';
import { deployment, watchEvent } from '../test/builders.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { StoreDataSource } from './data-source.js';
import { FindingsIndex } from './findings-index.js';
import { toRow } from './rows.js';
import { fixtureFindings, fixtureRecords } from './testing/fixture.js';
import { TimelineWindow } from './timeline-window.js';

/** The data source on a real SQLite file: the same answers the in-memory reader gives, through the store's SQL. */
describe('StoreDataSource on SQLite', () => {
  const tempDir = useTempDir();

  function open() {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 'fixture', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    store.append(session.id, fixtureRecords());
    const source = new StoreDataSource(store, store.findSession('fixture')!, new FindingsIndex(fixtureFindings()));
    return { store, source };
  }

  it('pages rows around a seq, with and without filters, without reading object bodies', () => {
    const { store, source } = open();
    try {
      expect(source.bounds()).toMatchObject({ firstSeq: 1, lastSeq: 18, count: 18 });
      source.verifyContiguous();
      expect(source.isCheap({})).toBe(true);
      expect(source.rowsAfter(8, 3, {}).map((r) => r.seq)).toEqual([9, 10, 11]);
      expect(source.rowsBefore(9, 2, {}).map((r) => r.seq)).toEqual([7, 8]);
      const web = { objectKind: 'Deployment', namespace: 'default', name: 'web' };
      expect(source.rowsAfter(0, 100, web).map((r) => r.seq)).toEqual([3, 7, 8, 9, 10, 11, 12, 13, 16]);
      expect(source.count({ types: ['DELETED'] })).toBe(1);
      expect(source.indexOf(16, web)).toBe(8);
      expect(source.rowsAfter(0, 10, { findings: ['dfsu-gap'] }).map((r) => r.seq)).toEqual([17, 18]);
      // Watch rows come without bodies; the writer is resolved from the body on demand and cached.
      const row = source.rowsAfter(8, 1, {})[0]!;
      expect(row.writer).toBeNull();
      expect(source.cachedWriter(9)).toBeUndefined();
      expect(source.writerOf(row)).toBe('kube-controller-manager/status');
      expect(source.cachedWriter(9)).toBe('kube-controller-manager/status');
    } finally {
      store.close();
    }
  });

  it('reads object versions rebuilt from deltas, and diffs them', () => {
    const { store, source } = open();
    try {
      const web = toRow(store.record(1, 9)!).object!;
      const version = source.versionAt(web, 12)!;
      expect(version.seq).toBe(11);
      const previous = source.adjacentVersion(web, version.seq, -1)!;
      expect(previous.seq).toBe(9);
      const diff = diffObjects(previous.object, version.object);
      expect(diff.sections.spec).toEqual([{ path: '.spec.replicas', kind: 'changed', before: 3, after: 5 }]);
      expect(source.versions(web, 0, 1, 10).map((v) => v.seq)).toEqual([3, 9, 11, 16]);
      expect(source.seqAtTime(Date.parse('2026-11-25T10:00:14Z'))).toBe(14);
      expect(source.seqAtTime(Date.parse('2030-01-01T00:00:00Z'))).toBe(18);
    } finally {
      store.close();
    }
  });

  it('moves a window through a filtered timeline the way the UI does', () => {
    const { store, source } = open();
    try {
      const window = new TimelineWindow(source, { records: ['watch'] }, 2);
      expect(window.snap(1)).toBe(3);
      expect(window.move(3, 1)).toBe(4);
      expect(window.move(4, 3)).toBe(15);
      expect(window.last()).toBe(17);
      const view = window.view(17, undefined, 3);
      expect(view.rows.map((r) => r.seq)).toEqual([15, 16, 17]);
    } finally {
      store.close();
    }
  });
});

describe('StoreDataSource: who wrote a version, who deleted an object', () => {
  const tempDir = useTempDir();

  /** The builder's Deployment with web-operator's managedFields entry stamped at `operatorAt`. */
  function version(name: string, rv: string, operatorAt: string, extra: { deletionTimestamp?: string; finalizers?: string[] } = {}): KubeObject {
    const object = deployment({ name, resourceVersion: rv, at: '2026-11-25T10:00:05Z' });
    const metadata = object.metadata as Record<string, unknown> & { managedFields: { manager: string; time: string }[] };
    metadata.managedFields.find((e) => e.manager === 'web-operator')!.time = operatorAt;
    Object.assign(metadata, extra);
    return object;
  }

  const api = (at: string, name: string, actor: string, verb: ApiRequestRecord['verb'], code = 200): ApiRequestRecord => ({
    record: 'api', observedAt: at, origin: 'audit', actor, byController: false, verb, code,
    object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name },
  });

  it('names the writer by the detectors\' rule (the entry that moved), and the deleter of a DELETED row when a DELETE was recorded', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    try {
      const session = store.createSession({ name: 's', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
      const at = (s: number) => `2026-11-25T10:01:${String(s).padStart(2, '0')}.000Z`;
      store.append(session.id, [
        watchEvent(version('web', '10', '2026-11-25T10:00:00Z'), 'ADDED', { observedAt: at(0) }),
        // web-operator wrote (its entry moved to 10:00:03), though kube-controller-manager's entry is newer (10:00:05).
        watchEvent(version('web', '11', '2026-11-25T10:00:03Z'), 'MODIFIED', { observedAt: at(1) }),
        // kubectl delete, held by a finalizer; the controller removes it; the object goes.
        api(at(2), 'web', 'kubernetes-admin', 'delete'),
        watchEvent(version('web', '12', '2026-11-25T10:00:03Z', { deletionTimestamp: at(2), finalizers: ['example.com/cleanup'] }), 'MODIFIED', { observedAt: at(2) }),
        api(at(3), 'web', 'system:serviceaccount:default:web-operator', 'patch'),
        watchEvent(version('web', '13', '2026-11-25T10:01:03Z', { deletionTimestamp: at(2) }), 'DELETED', { observedAt: at(3) }),
        // Another object deleted with no DELETE request on record (no audit): only its last writer is known. A
        // failed DELETE of it does not count.
        watchEvent(version('db', '20', '2026-11-25T10:00:00Z'), 'ADDED', { observedAt: at(4) }),
        api(at(5), 'db', 'kubernetes-admin', 'delete', 403),
        watchEvent(version('db', '21', '2026-11-25T10:00:00Z'), 'DELETED', { observedAt: at(6) }),
      ]);
      const source = new StoreDataSource(store, store.findSession('s')!);
      const writers = source.rowsAfter(0, 100, { records: ['watch'] }).map((row) => [row.seq, row.type, source.writerOf(row)]);
      expect(writers).toEqual([
        [1, 'ADDED', 'kube-controller-manager/status'],
        [2, 'MODIFIED', 'web-operator'],
        // The API server set the deletionTimestamp: no managedFields entry moved, so the newest one is the guess.
        [4, 'MODIFIED', 'kube-controller-manager/status'],
        [6, 'DELETED', 'kubernetes-admin'],
        [7, 'ADDED', 'kube-controller-manager/status'],
        [9, 'DELETED', 'last writer: kube-controller-manager/status'],
      ]);
    } finally {
      store.close();
    }
  });
});
