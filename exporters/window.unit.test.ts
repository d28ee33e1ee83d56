import { describe, expect, it } from 'vitest';
import { findingsInWindow, parseBound, parseObjectSelector, selectorMatches, SummaryBuilder, WindowFilter } from './window.js';
import { fixtureFindings, fixtureRecords, XSS_NAME } from './testing/fixture.js';

function kept(filter: WindowFilter): number[] {
  return fixtureRecords().filter((r) => filter.includes(r)).map((r) => r.seq);
}

describe('window bounds and selectors', () => {
  it('parses seqs and RFC 3339 times, and says what is wrong otherwise', () => {
    expect(parseBound('42')).toEqual({ seq: 42 });
    expect(parseBound('2026-11-25T10:01:00Z')).toEqual({ ms: Date.parse('2026-11-25T10:01:00Z'), text: '2026-11-25T10:01:00Z' });
    expect(parseBound('2026-11-25T12:01:00.5+02:00')).toMatchObject({ ms: Date.parse('2026-11-25T10:01:00.5Z') });
    expect(parseBound('0')).toHaveProperty('error');
    expect(parseBound('yesterday')).toHaveProperty('error');
    expect(parseBound('2026-11-25')).toHaveProperty('error');
  });

  it('parses KIND/NAMESPACE/NAME, KIND/NAME and NAME', () => {
    expect(parseObjectSelector('Deployment/default/web')).toEqual({ kind: 'Deployment', namespace: 'default', name: 'web' });
    expect(parseObjectSelector('Node/worker-1')).toEqual({ kind: 'Node', namespace: null, name: 'worker-1' });
    expect(parseObjectSelector('web')).toEqual({ kind: null, namespace: null, name: 'web' });
    expect(parseObjectSelector('a/b/c/d')).toHaveProperty('error');
    expect(parseObjectSelector('a//c')).toHaveProperty('error');
  });

  it('matches kinds the way people type them after kubectl get', () => {
    const web = { group: 'apps', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' };
    for (const kind of ['Deployment', 'deployment', 'deployments', 'deployments.apps', 'deployment.apps']) {
      expect(selectorMatches({ kind, namespace: 'default', name: 'web' }, web)).toBe(true);
    }
    expect(selectorMatches({ kind: 'Pod', namespace: null, name: 'web' }, web)).toBe(false);
    expect(selectorMatches({ kind: null, namespace: 'other', name: 'web' }, web)).toBe(false);
  });
});

describe('WindowFilter', () => {
  it('keeps everything without options', () => {
    const filter = new WindowFilter({});
    expect(filter.cut).toBe(false);
    expect(kept(filter)).toHaveLength(fixtureRecords().length);
  });

  it('cuts by seq and by time (inclusive)', () => {
    expect(kept(new WindowFilter({ from: { seq: 3 }, to: { seq: 5 } }))).toEqual([3, 4, 5]);
    const from = Date.parse('2026-11-25T10:01:30Z');
    const to = Date.parse('2026-11-25T10:02:10Z');
    expect(kept(new WindowFilter({ from: { ms: from, text: '' }, to: { ms: to, text: '' } }))).toEqual([8, 9, 10, 11, 12, 13, 14]);
  });

  it('keeps an object, plus the markers and bookmarks of its resource', () => {
    const seqs = kept(new WindowFilter({ objects: [{ kind: 'Deployment', namespace: 'default', name: 'web' }] }));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 17]);
  });

  it('keeps the findings that touch the window and its objects', () => {
    const filter = new WindowFilter({ objects: [{ kind: null, namespace: null, name: XSS_NAME }] });
    const summary = new SummaryBuilder();
    for (const r of fixtureRecords()) if (filter.includes(r)) summary.add(r);
    expect(findingsInWindow(fixtureFindings, filter, summary.seqRange).map((f) => f.kind)).toEqual(['unreconciled']);
    const late = new WindowFilter({ from: { seq: 13 } });
    expect(findingsInWindow(fixtureFindings, late, { first: 13, last: 17 })).toEqual([]);
    expect(findingsInWindow(fixtureFindings, late, null)).toEqual([]);
  });
});
