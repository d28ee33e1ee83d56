import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };

function statusLoop(writes: number, every: string, stamp = true) {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
  for (let i = 0; i < writes; i++) {
    s.deliver(
      c.update('Foo', 'a', (o) => (o.status = { availableReplicas: 1, observedGeneration: 1, ...(stamp ? { lastSyncTime: c.iso() } : { n: i }) }), {
        subresource: 'status',
        manager: 'foo-controller',
        after: every,
      }),
    );
  }
  return { c, s };
}

describe('hot-loop', () => {
  it('flags a manager writing one object again and again, and shows what keeps changing', () => {
    const { s } = statusLoop(30, '1s');
    const found = findings(s.records, 'hot-loop');
    // the first writes of a burst are the baseline the later ones are compared with
    expect(summary(found)).toEqual([{ rule: 'hot-write', name: 'a', count: 25 }]);
    expect(found[0]!.message).toMatch(/foo-controller wrote Foo default\/a 25 times without changing anything but timestamps/);
    expect(found[0]!.message).toMatch(/\.status\.lastSyncTime/);
    expect(found[0]!.message).toMatch(/generation stayed 1/);
  });

  it('does not flag writes spread over time, nor below the count', () => {
    expect(findings(statusLoop(30, '10s').s.records, 'hot-loop')).toEqual([]);
    expect(findings(statusLoop(9, '1s').s.records, 'hot-loop')).toEqual([]);
  });

  it('does not flag progress: a rollout writing new replica counts many times a minute', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Deployment');
    s.deliver(c.create('Deployment', 'web', { spec: { replicas: 20 } }));
    for (let ready = 1; ready <= 20; ready++) {
      s.deliver(
        c.update('Deployment', 'web', (o) => (o.status = { observedGeneration: 1, replicas: 20, readyReplicas: ready, conditions: [{ type: 'Progressing', lastUpdateTime: c.iso() }] }), {
          subresource: 'status',
          manager: 'kube-controller-manager',
          after: '2s',
        }),
      );
    }
    expect(findings(s.records, 'hot-loop')).toEqual([]);
  });

  it('flags flapping between the same states', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    for (let i = 0; i < 24; i++) {
      s.deliver(c.update('Foo', 'a', (o) => (o.status = { phase: i % 2 ? 'Ready' : 'Reconciling' }), { subresource: 'status', manager: 'foo-controller', after: '2s' }));
    }
    expect(summary(findings(s.records, 'hot-loop'))).toEqual([{ rule: 'hot-write', name: 'a', count: 18 }]);
  });

  it('does not flag writes that follow spec changes (new input every time)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    for (let i = 0; i < 12; i++) {
      s.deliver(c.update('Foo', 'a', (o) => ((o.spec as Spec).replicas = i + 2), { manager: 'kubectl-edit', after: '1s' }));
      s.deliver(c.update('Foo', 'a', (o) => (o.status = { observedGeneration: i + 2 }), { subresource: 'status', manager: 'foo-controller', after: '100ms' }));
    }
    expect(findings(s.records, 'hot-loop')).toEqual([]);
  });

  it('does not flag leader-election lease renewals (heartbeats by design)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Lease');
    s.deliver(c.create('Lease', 'kube-system/foo-controller', { spec: { holderIdentity: 'pod-1', renewTime: c.iso() } }, { manager: 'foo-controller' }));
    for (let i = 0; i < 40; i++) s.deliver(c.update('Lease', 'kube-system/foo-controller', (o) => ((o.spec as Record<string, unknown>).renewTime = c.iso()), { manager: 'foo-controller', after: '2s' }));
    expect(findings(s.records, 'hot-loop')).toEqual([]);
  });

  it('honours configured thresholds', () => {
    const { s } = statusLoop(8, '1s');
    expect(findings(s.records, 'hot-loop', { thresholds: { hotLoopWrites: 5, hotLoopWindow: '10s' } })).toHaveLength(1);
    expect(findings(s.records, 'hot-loop', { thresholds: { hotLoopWrites: 5, hotLoopWindow: '3s' } })).toHaveLength(0);
  });

  it('flags reconciles that requeue without backoff, but not error retries', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    for (let i = 0; i < 20; i++) {
      c.tick('500ms');
      s.reconcile({ kind: 'Foo', name: 'a', result: 'requeue' });
    }
    const found = findings(s.records, 'hot-loop');
    expect(summary(found)).toEqual([{ rule: 'hot-reconcile', name: 'a', count: 20 }]);
    const e = new SessionBuilder(c);
    for (let i = 0; i < 20; i++) {
      c.tick('500ms');
      e.reconcile({ kind: 'Foo', name: 'a', result: 'error', errorReason: 'other' });
    }
    expect(findings(e.records, 'hot-loop')).toEqual([]);
  });
});
