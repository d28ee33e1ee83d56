import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

describe('duplicate-event', () => {
  it('flags a watch resumed from a stale resourceVersion that re-sends history', () => {
    // given a watched Foo modified twice
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const added = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const m1 = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)));
    const m2 = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 3)));
    // when the watch restarts from the RV of the ADDED event and the server replays the two MODIFIEDs
    s.marker('watch-closed', 'Foo');
    s.watchStarted('Foo', added.object.metadata!.resourceVersion!);
    s.deliver(m1);
    s.deliver(m2);
    // then one finding groups both duplicates and names the stale resume
    const found = findings(s.records, 'duplicate-event');
    expect(summary(found)).toEqual([{ rule: 'stale-resume', name: 'a', count: 2 }]);
    expect(found[0]!.resourceVersions).toContain(m1.object.metadata!.resourceVersion);
    expect(found[0]!.message).toMatch(/resumed/);
    expect(found[0]!.evidence.map((e) => e.seq)).toContain(s.records.length);
  });

  it('flags the same event delivered twice with no explanation', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const m = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)));
    s.deliver(m);
    expect(summary(findings(s.records, 'duplicate-event'))).toEqual([{ rule: 'redelivered', name: 'a', count: 1 }]);
  });

  it('does not flag a relist that re-delivers the current versions, and marks them as re-deliveries', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    s.marker('gone', 'Foo', { code: 410, resourceVersion: '1001' });
    s.listAndWatch('Foo');
    const analysis = analyze(s.records, { annotate: true, config: { only: ['duplicate-event'] } });
    expect(analysis.findings).toEqual([]);
    const relistItems = s.records.filter((r) => r.record === 'watch' && r.origin === 'relist').map((r) => r.seq);
    expect(relistItems.length).toBe(2);
    for (const seq of relistItems) expect(analysis.annotations.get(seq)?.map((a) => a.tag)).toContain('redelivery');
  });

  it('does not flag an informer resync', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.marker('resync', 'Foo');
    s.deliver({ type: 'MODIFIED', object: a.object });
    s.handler({ kind: 'Foo', name: 'a', handler: 'update', resourceVersion: a.object.metadata!.resourceVersion!, oldResourceVersion: a.object.metadata!.resourceVersion! });
    const analysis = analyze(s.records, { annotate: true, config: { only: ['duplicate-event'] } });
    expect(analysis.findings).toEqual([]);
    expect(analysis.annotations.get(s.records.length)?.map((a) => a.tag)).toEqual(['resync']);
  });

  it('does not flag a re-created object with the same name', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });

  it('does not flag a kubectl watch dump that restarted (new listing of the current versions)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }), 'import', { observedAt: null });
    s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)), 'import', { observedAt: null });
    s.deliver({ type: 'ADDED', object: c.get('Foo', 'a')! }, 'import', { observedAt: null });
    void a;
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });
});

/** The controller's own handler calls, as the SDK reports them (sdk/go handler.go), for a Foo of the cluster. */
function handed(s: SessionBuilder, name: string, handler: 'add' | 'update' | 'delete', rv: string, oldRV?: string, extra: { tombstone?: boolean } = {}) {
  const uid = s.cluster.get('Foo', name)?.metadata?.uid ?? uids.get(name) ?? null;
  if (uid) uids.set(name, uid);
  return s.handler({ kind: 'Foo', name, handler, resourceVersion: rv, oldResourceVersion: oldRV ?? null, uid, ...extra });
}
const uids = new Map<string, string>();
const rvOf = (e: { object: { metadata?: { resourceVersion?: string } } }) => e.object.metadata!.resourceVersion!;
const replicas = (n: number) => (o: Record<string, unknown>) => ((o.spec as { replicas: number }).replicas = n);

describe('duplicate-event from the controller\'s handlers (handler-redelivered)', () => {
  it('flags a hand-rolled watch resumed from its initial list\'s resourceVersion: history handed again, older as new', () => {
    // given a controller whose handlers were given a Foo's creation and two updates
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    handed(s, 'a', 'add', rvOf(a1));
    const a2 = s.deliver(c.update('Foo', 'a', replicas(2)));
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    const a3 = s.deliver(c.update('Foo', 'a', replicas(3)));
    handed(s, 'a', 'update', rvOf(a3), rvOf(a2));
    // when, after a disconnect, its watch resumes from the stale RV and the server re-sends the ADDED and a MODIFIED
    c.tick('5s');
    handed(s, 'a', 'add', rvOf(a1));
    handed(s, 'a', 'update', rvOf(a2), rvOf(a3));
    // then one finding on a, blaming the controller, with the older versions counted
    const found = findings(s.records, 'duplicate-event');
    expect(summary(found)).toEqual([{ rule: 'handler-redelivered', name: 'a', count: 2 }]);
    expect(found[0]!.message).toMatch(/foo-controller's event handlers were given versions of this object they had already been given \(1× add, 1× update\)\. 2 of them older/);
    expect(found[0]!.blame).toEqual({ actor: 'foo-controller', via: 'sdk', role: 'controller' });
    expect(found[0]!.evidence.map((e) => e.seq)).toContain(s.records.length);
  });

  it('flags the history of a deleted object handed again, the delete included', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const b1 = s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    handed(s, 'b', 'add', rvOf(b1));
    const gone = s.deliver(c.delete('Foo', 'b'));
    handed(s, 'b', 'delete', rvOf(gone));
    c.tick('5s');
    handed(s, 'b', 'add', rvOf(b1));
    handed(s, 'b', 'delete', rvOf(gone));
    const found = findings(s.records, 'duplicate-event');
    expect(summary(found)).toEqual([{ rule: 'handler-redelivered', name: 'b', count: 2 }]);
    expect(found[0]!.message).toMatch(/2 came after the object had been handed to OnDelete/);
  });

  it('flags the same update handed twice', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    handed(s, 'a', 'add', rvOf(a1));
    const a2 = s.deliver(c.update('Foo', 'a', replicas(2)));
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    c.tick('2s');
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    expect(summary(findings(s.records, 'duplicate-event'))).toEqual([{ rule: 'handler-redelivered', name: 'a', count: 1 }]);
  });

  it('does not flag what an informer hands: resyncs, a relist jumping forward, a tombstone, a restarted process, a label re-entry', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    handed(s, 'a', 'add', rvOf(a1));
    const b1 = s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    handed(s, 'b', 'add', rvOf(b1));
    // resyncs, twice
    handed(s, 'a', 'update', rvOf(a1), rvOf(a1));
    handed(s, 'a', 'update', rvOf(a1), rvOf(a1));
    // cut off: a changes twice, b is deleted; the relist after the 410 jumps a forward and tombstones b
    c.update('Foo', 'a', replicas(2));
    const a3 = c.update('Foo', 'a', replicas(3));
    const bGone = c.delete('Foo', 'b');
    s.deliver(a3);
    s.deliver(bGone);
    c.tick('10s');
    handed(s, 'a', 'update', rvOf(a3), rvOf(a1));
    handed(s, 'b', 'delete', rvOf(b1), undefined, { tombstone: true });
    // the process restarts: its initial list adds a at its newest version, then at a newer one after a change
    c.tick('10s');
    handed(s, 'a', 'add', rvOf(a3));
    const a4 = s.deliver(c.update('Foo', 'a', replicas(4)));
    c.tick('10s');
    handed(s, 'a', 'add', rvOf(a4));
    // a label-selected watch: DELETED when a leaves the selector, ADDED again (a newer version) when it returns
    const a5 = s.deliver(c.update('Foo', 'a', replicas(5)));
    handed(s, 'a', 'delete', rvOf(a5));
    const a6 = s.deliver(c.update('Foo', 'a', replicas(6)));
    handed(s, 'a', 'add', rvOf(a6));
    handed(s, 'a', 'update', rvOf(a6), rvOf(a6));
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });

  it('keeps controllers apart: two controllers handed the same versions are not duplicates', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const uid = c.get('Foo', 'a')!.metadata!.uid!;
    for (const controller of ['one', 'two']) s.handler({ kind: 'Foo', name: 'a', handler: 'add', resourceVersion: rvOf(a1), uid, controller });
    const a2 = s.deliver(c.update('Foo', 'a', replicas(2)));
    for (const controller of ['one', 'two']) s.handler({ kind: 'Foo', name: 'a', handler: 'update', resourceVersion: rvOf(a2), oldResourceVersion: rvOf(a1), uid, controller });
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });

  it('forgets what the handlers were given when the SDK dropped records', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    handed(s, 'a', 'add', rvOf(a1));
    const a2 = s.deliver(c.update('Foo', 'a', replicas(2)));
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    s.push({ record: 'marker', observedAt: c.iso(), origin: 'ingest', marker: 'dropped', count: 3 });
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });
});

describe('duplicate-event: a record the SDK sent twice', () => {
  it('is one handler call, not a redelivery', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const add = handed(s, 'a', 'add', rvOf(a1));
    const a2 = s.deliver(c.update('Foo', 'a', replicas(2)));
    const update = handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    // the batch is resent after its answer was lost: the same records again, times included
    for (const r of [add, update]) s.push({ ...r, seq: undefined } as Parameters<SessionBuilder['push']>[0]);
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
    // while the same call at another time is a redelivery
    c.tick('1s');
    handed(s, 'a', 'update', rvOf(a2), rvOf(a1));
    expect(summary(findings(s.records, 'duplicate-event'))).toEqual([{ rule: 'handler-redelivered', name: 'a', count: 1 }]);
  });
});
