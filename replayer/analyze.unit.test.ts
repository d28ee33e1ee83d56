import { describe, expect, it } from 'vitest';
import { analyze, createAnalyzer } from './analyze.js';
import { Cluster, fooSpec, SessionBuilder } from './testing/builder.js';
import { findingsBySeq, objectTimeline } from './timeline.js';

type Spec = { replicas: number };

/** Two hot-looping Foos: one annotated to suppress hot-loop, one not. */
function twoLoops(annotation?: string) {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'noisy', { spec: fooSpec() }));
  s.deliver(c.create('Foo', 'quiet', { spec: fooSpec(), ...(annotation ? { annotations: { 'kreplay.dev/suppress': annotation } } : {}) }));
  for (let i = 0; i < 16; i++) {
    for (const name of ['noisy', 'quiet']) {
      s.deliver(c.update('Foo', name, (o) => (o.status = { lastSyncTime: c.iso() }), { subresource: 'status', manager: 'foo-controller', after: '1s' }));
    }
  }
  return s;
}

describe('analyze', () => {
  it('is deterministic and gives findings stable, unique ids', () => {
    const s = twoLoops();
    const a = analyze(s.records);
    const b = analyze(s.records);
    expect(a.findings).toEqual(b.findings);
    expect(a.findings.map((f) => f.id)).toEqual(['hot-loop:' + a.findings[0]!.object.uid + ':' + a.findings[0]!.firstSeq, 'hot-loop:' + a.findings[1]!.object.uid + ':' + a.findings[1]!.firstSeq]);
    expect(new Set(a.findings.map((f) => f.id)).size).toBe(a.findings.length);
  });

  it('marks findings suppressed by config (glob on name) and keeps them in the report', () => {
    const a = analyze(twoLoops().records, { config: { suppress: [{ finding: 'hot-loop', name: 'no*', reason: 'known, fixed in v2' }] } });
    expect(a.findings.map((f) => [f.object.name, f.suppressed?.reason])).toEqual([
      ['noisy', 'known, fixed in v2'],
      ['quiet', undefined],
    ]);
    expect(a.stats.suppressed).toBe(1);
  });

  it('honours the kreplay.dev/suppress annotation and reports a malformed one', () => {
    const ok = analyze(twoLoops('hot-loop, stale-read: status heartbeat by design').records);
    expect(ok.findings.find((f) => f.object.name === 'quiet')?.suppressed?.reason).toMatch(/heartbeat by design/);
    const bad = analyze(twoLoops('hot-loop').records);
    expect(bad.findings.find((f) => f.object.name === 'quiet')?.suppressed).toBeUndefined();
    expect(bad.stats.problems[0]).toMatch(/Foo default\/quiet: annotation kreplay.dev\/suppress ignored/);
  });

  it('runs only the kinds asked for', () => {
    expect(analyze(twoLoops().records, { config: { skip: ['hot-loop'] } }).findings).toEqual([]);
    expect(analyze(twoLoops().records, { config: { only: ['stale-read'] } }).stats.kinds).toEqual(['stale-read']);
  });

  it('refuses records out of seq order (a broken invariant, not a user error)', () => {
    const s = twoLoops();
    const analyzer = createAnalyzer();
    analyzer.push(s.records[1]!);
    expect(() => analyzer.push(s.records[0]!)).toThrow(/increasing seq order/);
  });

  it('counts what it folded', () => {
    const a = analyze(twoLoops().records);
    expect(a.stats.records).toBe(a.stats.byRecord.watch + a.stats.byRecord.marker);
    expect(a.stats.objects).toBe(2);
    expect(a.stats.firstTime).toMatch(/^2025-03-01T10:00/);
  });
});

describe('objectTimeline', () => {
  it("lists one object's records with annotations and the findings that cite them", () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    const m = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as Spec).replicas = 2)));
    s.deliver(m);
    s.reconcile({ kind: 'Foo', name: 'a' });
    s.marker('watch-closed', 'Foo');
    c.delete('Foo', 'a');
    s.marker('gone', 'Foo', { code: 410 });
    s.listAndWatch('Foo');
    const analysis = analyze(s.records, { annotate: true });
    const timeline = objectTimeline(s.records, a.object.metadata!.uid!, analysis);
    expect(timeline.map((e) => e.label)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'reconcile success', 'list-finished']);
    expect(timeline[2]!.annotations.map((x) => x.tag)).toEqual(['duplicate']);
    expect(timeline[2]!.findings).toEqual([analysis.findings.find((f) => f.kind === 'duplicate-event')!.id]);
    expect(timeline[4]!.annotations.map((x) => x.tag)).toEqual(['tombstone']);
    expect(findingsBySeq(analysis.findings).get(timeline[4]!.seq)?.map((f) => f.kind)).toEqual(['dfsu-gap']);
  });
});
