import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder, type WatchEvent } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };
const scale = (n: number) => (o: Record<string, unknown>) => ((o.spec as Spec).replicas = n);

describe('lost-event', () => {
  describe('generation-jump', () => {
    it('flags a generation that grows by more than one inside one continuous watch', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      c.update('Foo', 'a', scale(2)); // given a MODIFIED the watch never delivers
      s.deliver(c.update('Foo', 'a', scale(3)));
      const found = findings(s.records, 'lost-event');
      expect(summary(found)).toEqual([{ rule: 'generation-jump', name: 'a', count: 1 }]);
      expect(found[0]!.message).toMatch(/generation 1 .* to 3/);
    });

    it('does not flag +1 steps, nor the bump from a deletionTimestamp', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec(), finalizers: ['foo.example.com/cleanup'] }));
      s.deliver(c.update('Foo', 'a', scale(2)));
      s.deliver(c.delete('Foo', 'a'));
      s.deliver(c.removeFinalizer('Foo', 'a', 'foo.example.com/cleanup'));
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });

    it('does not flag a jump across a relist (that is a relist-gap, reported as such)', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.marker('gone', 'Foo', { code: 410, resourceVersion: '1001' });
      c.update('Foo', 'a', scale(2));
      c.update('Foo', 'a', scale(3));
      s.listAndWatch('Foo');
      expect(summary(findings(s.records, 'lost-event'))).toEqual([{ rule: 'relist-gap', name: 'a', count: 1 }]);
    });
  });

  describe('unseen-object', () => {
    it('flags a MODIFIED for an object the watch never added or listed', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      c.create('Foo', 'a', { spec: fooSpec() });
      s.deliver(c.update('Foo', 'a', scale(2)));
      // generation 2 after a never-seen generation 1 is the same loss, said once
      expect(summary(findings(s.records, 'lost-event'))).toEqual([{ rule: 'unseen-object', name: 'a', count: 1 }]);
    });

    it('does not flag a dump that starts mid-stream without a listing (kubectl get -w --watch-only)', () => {
      const c = new Cluster();
      c.create('Foo', 'a', { spec: fooSpec() });
      const s = new SessionBuilder(c);
      s.deliver(c.update('Foo', 'a', scale(2)), 'import', { observedAt: null });
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });

    it('does not flag objects after a recorder gap (dropped records) until the next list', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.marker('dropped', undefined, { count: 3 });
      c.create('Foo', 'a', { spec: fooSpec() });
      s.deliver(c.update('Foo', 'a', scale(2)));
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });
  });

  describe('missed-write', () => {
    it('flags an API write whose resourceVersion the same watch passed without delivering', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const lost = c.update('Foo', 'a', (o) => (o.status = { availableReplicas: 1, observedGeneration: 1 }), { subresource: 'status', manager: 'foo-controller' });
      s.api({ verb: 'update', kind: 'Foo', name: 'a', subresource: 'status', event: lost });
      s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
      const found = findings(s.records, 'lost-event');
      expect(summary(found)).toEqual([{ rule: 'missed-write', name: 'a', count: 1 }]);
      expect(found[0]!.resourceVersions).toContain(lost.object.metadata!.resourceVersion);
    });

    it('does not flag writes the watch delivered, before or after the audit record', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const w1 = c.update('Foo', 'a', scale(2), { manager: 'foo-controller' });
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: w1 });
      s.deliver(w1);
      const w2 = s.deliver(c.update('Foo', 'a', scale(3), { manager: 'foo-controller' }));
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: w2 });
      s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });

    it('does not flag a late report of a version older than what a dead object last delivered', () => {
      // The SDK posts in batches: its record of a write can land after the watch's DELETED of the object.
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const early = s.deliver(c.update('Foo', 'a', scale(2), { manager: 'foo-controller' }));
      for (let i = 3; i < 9; i++) s.deliver(c.update('Foo', 'a', scale(i), { manager: 'foo-controller' }));
      s.deliver(c.delete('Foo', 'a'));
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: early, origin: 'ingest' });
      s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });

    it('does not flag a write the session has no watch for', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      c.create('Foo', 'a', { spec: fooSpec() });
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: c.update('Foo', 'a', scale(2)) });
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: c.update('Foo', 'a', scale(3)) });
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });
  });

  describe('relist-gap', () => {
    it('reports what changed across a 410 Gone, with the writes that fell into the gap', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
      s.marker('watch-closed', 'Foo');
      const gapWrite: WatchEvent = c.update('Foo', 'a', scale(5));
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: gapWrite, byController: false, actor: 'alice' });
      // the relist shows the second write; the first one is the transition nobody saw
      s.api({ verb: 'update', kind: 'Foo', name: 'a', event: c.update('Foo', 'a', scale(6)), byController: false, actor: 'alice' });
      s.marker('gone', 'Foo', { code: 410, resourceVersion: '1002' });
      s.listAndWatch('Foo');
      const found = findings(s.records, 'lost-event');
      expect(summary(found)).toEqual([{ rule: 'relist-gap', name: 'a', count: 1 }]);
      expect(found[0]!.severity).toBe('warning');
      expect(found[0]!.message).toMatch(/410 Gone/);
      expect(found[0]!.message).toMatch(/1 write/);
    });

    it("leaves a gap in the recorder's watch alone when the controller's handlers were handed what it missed", () => {
      // The recorder reconnected after the controller's informer: the controller's own handler calls (SDK) show it
      // was given the write the recorder's watch missed, and the one after. Without them, the same gap is reported.
      const session = (reported: boolean) => {
        const c = new Cluster();
        const s = new SessionBuilder(c).listAndWatch('Foo');
        const created = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
        const uid = created.object.metadata!.uid!;
        s.marker('watch-closed', 'Foo');
        const gapWrite = c.update('Foo', 'a', scale(5));
        s.api({ verb: 'update', kind: 'Foo', name: 'a', event: gapWrite, byController: false, actor: 'alice' });
        const last = c.update('Foo', 'a', scale(6));
        s.api({ verb: 'update', kind: 'Foo', name: 'a', event: last, byController: false, actor: 'alice' });
        if (reported) {
          for (const [event, before] of [[gapWrite, created], [last, gapWrite]] as const) {
            s.handler({ kind: 'Foo', name: 'a', handler: 'update', resourceVersion: event.object.metadata!.resourceVersion!, oldResourceVersion: before.object.metadata!.resourceVersion!, uid });
          }
        }
        s.marker('gone', 'Foo', { code: 410, resourceVersion: created.object.metadata!.resourceVersion! });
        s.listAndWatch('Foo');
        return s.records;
      };
      expect(summary(findings(session(false), 'lost-event')).map((f) => f.rule)).toEqual(['relist-gap']);
      expect(findings(session(true), 'lost-event')).toEqual([]);
    });

    it('says so when the relist is older than what the watch had delivered (a list from a cache that lags)', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      const old = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.deliver(c.update('Foo', 'a', scale(2)));
      s.marker('watch-closed', 'Foo');
      // The list at an older resourceVersion, holding a's first version.
      s.marker('list-started', 'Foo');
      s.deliver({ type: 'ADDED', object: old.object }, 'relist');
      s.marker('list-finished', 'Foo', { resourceVersion: old.object.metadata!.resourceVersion!, count: 1 });
      const found = findings(s.records, 'lost-event');
      expect(summary(found)).toEqual([{ rule: 'relist-gap', name: 'a', count: 1 }]);
      expect(found[0]!.message).toMatch(/went back from resourceVersion \d+ to \d+/);
      expect(found[0]!.message).not.toMatch(/never saw the transitions/);
    });

    it("leaves an object the relist no longer holds to dfsu-gap: the recorder's tombstone is not a change", () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const b = s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
      s.marker('gone', 'Foo', { code: 410, resourceVersion: '1002' });
      c.delete('Foo', 'b');
      s.marker('list-started', 'Foo');
      for (const object of c.list('Foo')) s.deliver({ type: 'ADDED', object }, 'relist');
      const listRV = String(c.revision);
      // What the recorder writes for b: a DELETED at the list's resourceVersion carrying the last state it knew.
      s.deliver({ type: 'DELETED', object: { ...b.object, metadata: { ...b.object.metadata, resourceVersion: listRV } } }, 'relist');
      s.marker('list-finished', 'Foo', { resourceVersion: listRV, count: 1 });
      s.marker('watch-started', 'Foo', { resourceVersion: listRV });
      expect(findings(s.records, 'lost-event')).toEqual([]);
      expect(summary(findings(s.records, 'dfsu-gap')).map((f) => f.name)).toEqual(['b']);
    });

    it('judges a watch the restarted recorder resumed where it stopped as one history, and only that one', () => {
      // While the recorder was down, b was created and changed; the resumed watch must replay b's ADDED. Here it
      // hands only the MODIFIED: lost, when the watch resumed at the last committed resourceVersion; unknowable when
      // it resumed elsewhere or the recorder relisted instead.
      const session = (resumeAt: 'committed' | 'elsewhere') => {
        const c = new Cluster();
        const s = new SessionBuilder(c).listAndWatch('Foo');
        const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
        s.marker('recorder-started');
        c.create('Foo', 'b', { spec: fooSpec() });
        const committed = a.object.metadata!.resourceVersion!;
        s.marker('watch-started', 'Foo', { resourceVersion: resumeAt === 'committed' ? committed : String(Number(committed) - 1), resume: 'resumed' });
        s.deliver(c.update('Foo', 'b', scale(2)));
        return s.records;
      };
      expect(summary(findings(session('committed'), 'lost-event')).map((f) => [f.rule, f.name])).toEqual([['unseen-object', 'b']]);
      expect(findings(session('elsewhere'), 'lost-event')).toEqual([]);
    });

    it('says nothing when nothing changed across the gap, or when the gap was the recorder restarting', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.marker('gone', 'Foo', { code: 410 });
      s.listAndWatch('Foo');
      s.marker('recorder-started');
      c.update('Foo', 'a', scale(4));
      s.listAndWatch('Foo');
      expect(findings(s.records, 'lost-event')).toEqual([]);
    });
  });
});

/** The controller's own handler calls, as the SDK reports them (sdk/go handler.go). */
function handed(s: SessionBuilder, name: string, handler: 'add' | 'update' | 'delete', rv: string, oldRV?: string | null, extra: { tombstone?: boolean; uid?: string } = {}) {
  const uid = extra.uid ?? s.cluster.get('Foo', name)?.metadata?.uid ?? null;
  return s.handler({ kind: 'Foo', name, handler, resourceVersion: rv, oldResourceVersion: oldRV ?? null, uid, tombstone: extra.tombstone ?? false });
}
const rvOf = (e: { object: { metadata?: { resourceVersion?: string } } }) => e.object.metadata!.resourceVersion!;
const setReplicas = (n: number) => (o: Record<string, unknown>) => ((o.spec as { replicas: number }).replicas = n);

/**
 * A hand-rolled list/watch loop resumed from "now" after a disconnect: kept and doomed were handed before; while it
 * was away newcomer was created and doomed deleted; afterwards kept and newcomer change.
 */
function resumedFromNow(options: { tombstone?: boolean; restart?: boolean; endAfter?: string } = {}) {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  const kept1 = s.deliver(c.create('Foo', 'kept', { spec: fooSpec() }));
  handed(s, 'kept', 'add', rvOf(kept1));
  const doomed = s.deliver(c.create('Foo', 'doomed', { spec: fooSpec() }));
  handed(s, 'doomed', 'add', rvOf(doomed));
  const doomedUid = c.get('Foo', 'doomed')!.metadata!.uid!;
  c.tick('5s');
  s.deliver(c.create('Foo', 'newcomer', { spec: fooSpec() }));
  c.tick('1s');
  s.deliver(c.delete('Foo', 'doomed'));
  c.tick('5s');
  if (options.tombstone) handed(s, 'doomed', 'delete', rvOf(doomed), null, { tombstone: true, uid: doomedUid });
  const newcomerRV = c.get('Foo', 'newcomer')!.metadata!.resourceVersion!;
  if (options.restart) {
    // a new process: its initial list adds what exists
    handed(s, 'kept', 'add', rvOf(kept1));
    handed(s, 'newcomer', 'add', newcomerRV);
  }
  const kept2 = s.deliver(c.update('Foo', 'kept', setReplicas(2)));
  handed(s, 'kept', 'update', rvOf(kept2), rvOf(kept1));
  c.tick(options.endAfter ?? '3s');
  const newcomer2 = s.deliver(c.update('Foo', 'newcomer', setReplicas(2)));
  // A hand-rolled loop's own cache has no old object for newcomer; a restarted informer's has the listed one.
  handed(s, 'newcomer', 'update', rvOf(newcomer2), options.restart ? newcomerRV : null);
  return s;
}

describe('lost-event from the controller\'s handlers', () => {
  it('flags a watch resumed from "now": a creation and a deletion made while it was away never reach the handlers', () => {
    const found = findings(resumedFromNow().records, 'lost-event');
    expect(summary(found).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { rule: 'handler-missed-delete', name: 'doomed', count: 1 },
      { rule: 'handler-unseen-object', name: 'newcomer', count: 1 },
    ]);
    const byName = new Map(found.map((f) => [f.object.name, f]));
    expect(byName.get('newcomer')!.message).toMatch(/first through UpdateFunc .* never through AddFunc/);
    expect(byName.get('doomed')!.message).toMatch(/never handed the deletion, although their cache lived on past it \(they were then given kept at resourceVersion/);
    for (const f of found) expect(f.blame).toEqual({ actor: 'foo-controller', via: 'sdk', role: 'controller' });
  });

  it('judges the same with duplicate-event on: one HandlerHistory serves both', () => {
    const records = resumedFromNow().records;
    const both = analyze(records, { config: { only: ['lost-event', 'duplicate-event'] } }).findings;
    expect(both.filter((f) => f.kind === 'lost-event')).toEqual(findings(records, 'lost-event'));
    expect(both.filter((f) => f.kind === 'duplicate-event')).toEqual(findings(records, 'duplicate-event'));
  });

  it('does not flag a deletion the handlers got as a tombstone after a relist', () => {
    const found = findings(resumedFromNow({ tombstone: true }).records, 'lost-event');
    expect(summary(found).map((f) => f.name)).toEqual(['newcomer']);
  });

  it('does not flag a restarted controller: its new process never knew of the deletion, and added what exists', () => {
    expect(findings(resumedFromNow({ restart: true }).records, 'lost-event')).toEqual([]);
  });

  it('does not claim a deletion when the session ends before a relist\'s tombstone could come', () => {
    const found = findings(resumedFromNow({ endAfter: '0s' }).records, 'lost-event');
    expect(summary(found).map((f) => f.rule)).toEqual(['handler-unseen-object']);
  });

  it('does not flag an update of an object that existed before the handlers were seen running (recording began mid-run)', () => {
    const c = new Cluster();
    c.create('Foo', 'old', { spec: fooSpec() });
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const m = s.deliver(c.update('Foo', 'old', setReplicas(2)));
    handed(s, 'old', 'update', rvOf(m), String(Number(rvOf(m)) - 1));
    const fresh = s.deliver(c.create('Foo', 'fresh', { spec: fooSpec() }));
    handed(s, 'fresh', 'add', rvOf(fresh));
    expect(findings(s.records, 'lost-event')).toEqual([]);
  });

  it('does not claim skipped intermediate versions: a relist jumps over them', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    handed(s, 'a', 'add', rvOf(a1));
    s.deliver(c.update('Foo', 'a', setReplicas(2)));
    const a3 = s.deliver(c.update('Foo', 'a', setReplicas(3)));
    c.tick('5s');
    handed(s, 'a', 'update', rvOf(a3), rvOf(a1));
    expect(findings(s.records, 'lost-event')).toEqual([]);
  });
});
