import { describe, expect, it } from 'vitest';
import { StoreDataSource } from './data-source.js';
import { formatFilter, parseFilter } from './filter.js';
import { FindingsIndex } from './findings-index.js';
import { parseGoto } from './goto.js';
import { toRow } from './rows.js';
import { fixtureFindings, fixtureSession, fixtureStored } from './testing/fixture.js';
import { MemoryReader } from './testing/memory-reader.js';
import { colorTheme, monoTheme, themeFor } from './theme.js';
import { TimelineWindow } from './timeline-window.js';

/** The TUI's pure parts: filter and goto parsing, rows, the findings index, paging windows, the data source. */

function source(findings = true) {
  const s = new StoreDataSource(new MemoryReader(fixtureStored()), fixtureSession);
  if (findings) s.setFindings(new FindingsIndex(fixtureFindings()));
  return s;
}

describe('parseFilter', () => {
  it('reads keys, aliases, lists and Kind/ns/name, and prints the canonical form', () => {
    const parsed = parseFilter('kind:Deployment ns:prod name:web type:modified,DELETED origin:relist record:watch,api finding:hot-loop');
    expect(parsed).toEqual({
      ok: true,
      filter: { objectKind: 'Deployment', namespace: 'prod', name: 'web', types: ['MODIFIED', 'DELETED'], origins: ['relist'], records: ['watch', 'api'], findings: ['hot-loop'] },
    });
    expect(parsed.ok && formatFilter(parsed.filter)).toBe('kind:Deployment ns:prod name:web record:watch,api type:MODIFIED,DELETED origin:relist finding:hot-loop');
    expect(parseFilter('Deployment/prod/web')).toEqual({ ok: true, filter: { objectKind: 'Deployment', namespace: 'prod', name: 'web' } });
    expect(parseFilter('')).toEqual({ ok: true, filter: {} });
  });

  it('names the accepted values when a key or value is unknown', () => {
    expect(parseFilter('colour:red')).toMatchObject({ ok: false, error: expect.stringContaining('use kind, ns, name') });
    expect(parseFilter('origin:carrier-pigeon')).toMatchObject({ ok: false, error: expect.stringContaining('watch, relist, ingest, audit, import') });
    expect(parseFilter('finding:bad')).toMatchObject({ ok: false, error: expect.stringContaining('hot-loop') });
    expect(parseFilter('web')).toMatchObject({ ok: false });
  });
});

describe('parseGoto', () => {
  const now = '2026-11-25T10:00:05.000Z';
  it('reads seqs, record offsets, durations, times of day, timestamps and percentages', () => {
    expect(parseGoto('1234', now)).toEqual({ kind: 'seq', seq: 1234 });
    expect(parseGoto('-50', now)).toEqual({ kind: 'rows', delta: -50 });
    expect(parseGoto('+1m30s', now)).toEqual({ kind: 'time', ms: Date.parse(now) + 90_000 });
    expect(parseGoto('-500ms', now)).toEqual({ kind: 'time', ms: Date.parse(now) - 500 });
    expect(parseGoto('10:03', now)).toEqual({ kind: 'time', ms: Date.parse('2026-11-25T10:03:00Z') });
    expect(parseGoto('9:03:22.5', now)).toEqual({ kind: 'time', ms: Date.parse('2026-11-25T09:03:22.5Z') });
    expect(parseGoto('2026-11-26T00:00:00Z', now)).toEqual({ kind: 'time', ms: Date.parse('2026-11-26T00:00:00Z') });
    expect(parseGoto('25%', now)).toEqual({ kind: 'percent', fraction: 0.25 });
    expect(parseGoto('soon', now)).toMatchObject({ kind: 'error' });
    expect(parseGoto('+30s', null)).toMatchObject({ kind: 'error' });
  });
});

describe('toRow', () => {
  it('labels each record kind with its type, RV, writer and tone', () => {
    const rows = fixtureStored().map((record) => toRow(record));
    expect(rows[13]).toMatchObject({ seq: 14, type: 'gone', tone: 'alert', detail: expect.stringContaining('410 Gone') });
    expect(rows[4]).toMatchObject({ type: 'list-finished', tone: 'marker', detail: expect.stringContaining('2 items') });
    expect(rows[8]).toMatchObject({ type: 'MODIFIED', resourceVersion: '102', writer: 'kube-controller-manager/status' });
    expect(rows[10]).toMatchObject({ writer: 'web-operator', detail: 'gen 2' });
    expect(rows[11]).toMatchObject({ type: 'reconcile ✗', rawType: 'error', tone: 'error', detail: expect.stringContaining('Conflict') });
    expect(rows[12]).toMatchObject({ type: 'update', writer: 'sa:shop/web-operator', detail: '409 Conflict: the object has been modified', tone: 'error' });
    expect(rows[17]).toMatchObject({ type: 'onDelete', detail: 'tombstone (DeletedFinalStateUnknown)', tone: 'alert' });
    expect(rows[2]).toMatchObject({ origin: 'relist', tone: 'dim', detail: 'relist' });
  });
});

describe('FindingsIndex', () => {
  it('orders findings worst first and indexes their evidence seqs', () => {
    const index = new FindingsIndex(fixtureFindings());
    expect(index.findings.map((f) => f.kind)).toEqual(['status-spec-race', 'dfsu-gap']);
    expect(index.seqs).toEqual([11, 12, 13, 17, 18]);
    expect(index.next(0, 1)).toBe(11);
    expect(index.next(13, 1)).toBe(17);
    expect(index.next(17, -1)).toBe(13);
    expect(index.next(18, 1)).toBeUndefined();
    expect(index.seqsOf(['dfsu-gap'])).toEqual([17, 18]);
    expect(index.worstAt(12)).toBe('error');
    expect(index.countBySeverity()).toEqual({ info: 0, warning: 1, error: 1 });
  });
});

describe('FindingsIndex badges', () => {
  it('marks DUP on the re-delivery only, not on the first delivery of the same version', () => {
    const object = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web', uid: 'uid-web' };
    const index = new FindingsIndex([
      {
        id: 'duplicate-event:web:9',
        kind: 'duplicate-event',
        severity: 'warning',
        object,
        firstSeq: 9,
        lastSeq: 16,
        resourceVersions: ['102'],
        count: 1,
        message: 'delivered twice',
        rule: 'stale-resume',
        evidence: [
          { seq: 9, resourceVersion: '102', note: 'first delivery of MODIFIED at resourceVersion 102' },
          { seq: 14, resourceVersion: '101', note: 'watch resumed from resourceVersion 101' },
          { seq: 16, resourceVersion: '102', note: 'MODIFIED delivered again at resourceVersion 102' },
        ],
      },
      ...fixtureFindings(),
    ]);
    expect(index.at(9).map((f) => f.kind)).toEqual(['duplicate-event']);
    expect(index.badgedAt(9)).toEqual([]);
    expect(index.worstAt(9)).toBeUndefined();
    expect(index.badgedAt(16).map((f) => f.kind)).toEqual(['duplicate-event']);
    expect(index.badgedAt(14).map((f) => f.kind)).toEqual(['duplicate-event']);
    // Still evidence: the detail pane lists it and "next finding" steps to it.
    expect(index.seqs).toContain(9);
    // Other kinds keep every evidence badge.
    expect(index.badgedAt(11).map((f) => f.kind)).toEqual(['status-spec-race']);
  });
});

describe('TimelineWindow', () => {
  it('steps, pages and snaps within a filter, loading chunks on demand', () => {
    const window = new TimelineWindow(source(), {}, 4);
    expect(window.move(1, 1)).toBe(2);
    expect(window.move(2, 10)).toBe(12);
    expect(window.move(12, 100)).toBe(18);
    expect(window.move(3, -100)).toBe(1);
    expect(window.first()).toBe(1);
    expect(window.last()).toBe(18);
    const watchOnly = new TimelineWindow(source(), { records: ['watch'] }, 3);
    expect(watchOnly.snap(5)).toBe(9);
    expect(watchOnly.move(9, 1)).toBe(11);
    expect(watchOnly.move(10, 1)).toBe(11);
    expect(watchOnly.move(10, -1)).toBe(9);
  });

  it('keeps the cursor inside the view with a scroll margin, and fills the view at the end', () => {
    const window = new TimelineWindow(source(), {}, 4);
    let view = window.view(1, undefined, 5);
    expect(view.rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    view = window.view(5, view.topSeq, 5);
    expect(view.rows[view.cursor]!.seq).toBe(5);
    expect(view.cursor).toBe(2);
    view = window.view(18, view.topSeq, 5);
    expect(view.rows.map((r) => r.seq)).toEqual([14, 15, 16, 17, 18]);
  });

  it('pages the records of a finding filter from its seq set', () => {
    const window = new TimelineWindow(source(), { findings: ['status-spec-race'] }, 2);
    expect(window.snap(1)).toBe(11);
    expect(window.move(11, 1)).toBe(12);
    expect(window.move(12, 5)).toBe(13);
  });
});

describe('StoreDataSource', () => {
  it('answers bounds, positions and counts, arithmetically when unfiltered', () => {
    const s = source();
    expect(s.bounds()).toMatchObject({ firstSeq: 1, lastSeq: 18, count: 18 });
    expect(s.isCheap({})).toBe(true);
    expect(s.indexOf(9, {})).toBe(8);
    expect(s.count({ records: ['marker'] })).toBe(5);
    expect(s.indexOf(14, { records: ['marker'] })).toBe(4);
    expect(s.count({ findings: ['any'], objectKind: 'Deployment', name: 'api' })).toBe(2);
  });

  it('finds object versions around a seq and the record at a time', () => {
    const s = source();
    const web = toRow(fixtureStored()[8]!).object!;
    expect(s.versionAt(web, 10)?.seq).toBe(9);
    expect(s.adjacentVersion(web, 9, 1)?.seq).toBe(11);
    expect(s.adjacentVersion(web, 9, -1)?.seq).toBe(3);
    expect(s.versions(web, 18, -1, 10).map((v) => v.seq)).toEqual([16, 11, 9, 3]);
    expect(s.objectRows(web, 9, 1, 3).map((r) => r.seq)).toEqual([10, 11, 12]);
    expect(s.seqAtTime(Date.parse('2026-11-25T10:00:07.500Z'))).toBe(8);
    expect(s.writerOf(toRow({ ...fixtureStored()[8]!, ...{ object: null } } as never))).toBe('kube-controller-manager/status');
  });
});

describe('themeFor', () => {
  it('turns colours off for NO_COLOR and TERM=dumb', () => {
    expect(themeFor({ NO_COLOR: '1' })).toBe(monoTheme);
    expect(themeFor({ TERM: 'dumb' })).toBe(monoTheme);
    expect(themeFor({ NO_COLOR: '' })).toBe(colorTheme);
    expect(themeFor({})).toBe(colorTheme);
  });
});
