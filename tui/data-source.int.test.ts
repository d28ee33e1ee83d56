import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffObjects } from '../replayer/diff.js';
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
