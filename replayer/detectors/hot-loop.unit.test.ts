import { describe, expect, it } from 'vitest';
import { CheckConfig } from '../../model/check-config.js';
import type { StoredRecord } from '../../model/index.js';
import { WriterCensus } from '../controller-identity.js';
import { Fold } from '../fold.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';
import { hotLoop } from './hot-loop.js';

/** The detector alone over a session, with a budget of distinct values other than the default. */
function hotLoopMessages(records: readonly StoredRecord[], valuesBudget: number): string[] {
  const fold = new Fold({ annotate: false });
  const detector = hotLoop(undefined, { valuesBudget });
  const census = new WriterCensus();
  const context = { thresholds: CheckConfig.parse({}).thresholds, state: fold.state, resolve: fold.resolve.bind(fold), controller: () => census.identify([]) };
  for (const record of records) {
    for (const fact of fold.evolve(record)) {
      if (fact.type === 'version') census.observe(fact);
      if (detector.facts.includes(fact.type)) detector.observe(fact, context);
    }
  }
  fold.finish();
  return detector.finish(context).map((f) => `${f.object.name}: ${f.message}`);
}

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
    // Every write of the loop counts: the first one already triggered the second.
    expect(summary(found)).toEqual([{ rule: 'hot-write', name: 'a', count: 30 }]);
    expect(found[0]!.message).toMatch(/foo-controller wrote Foo default\/a 30 times \(up to \d+ within 1m\), each write followed by its next with no change by anyone else/);
    expect(found[0]!.message).toMatch(/\.status\.lastSyncTime/);
    expect(found[0]!.severity).toBe('warning');
    expect(found[0]!.blame).toEqual({ actor: 'foo-controller', via: 'managedFields', role: 'controller' });
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
    expect(summary(findings(s.records, 'hot-loop'))).toEqual([{ rule: 'hot-write', name: 'a', count: 24 }]);
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

  it('does not count event-driven reconciles of an object the API answered 404 for (a stale cache after a gap), but a requeue loop still counts', () => {
    const session = (result: 'success' | 'requeue') => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      // Deleted while the watch was away; the controller's own live GET says so, its cache does not yet.
      c.delete('Foo', 'a');
      s.api({ verb: 'get', kind: 'Foo', name: 'a', code: 404 });
      for (let i = 0; i < 20; i++) {
        c.tick('80ms');
        s.reconcile({ kind: 'Foo', name: 'a', result });
      }
      return s.records;
    };
    expect(findings(session('success'), 'hot-loop')).toEqual([]);
    expect(summary(findings(session('requeue'), 'hot-loop'))).toEqual([{ rule: 'hot-reconcile', name: 'a', count: 20 }]);
  });

  it('flags loops whose every write changes something: a counter, and a nodePort the server re-allocates', () => {
    const counter = new Cluster();
    const s = new SessionBuilder(counter).listAndWatch('Foo');
    s.deliver(counter.create('Foo', 'a', { spec: fooSpec() }));
    for (let i = 1; i <= 15; i++) {
      s.deliver(counter.update('Foo', 'a', (o) => (o.status = { observedGeneration: 1, reconcileCount: i }), { subresource: 'status', manager: 'foo-controller', after: '2s' }));
    }
    expect(summary(findings(s.records, 'hot-loop'))).toEqual([{ rule: 'hot-write', name: 'a', count: 15 }]);

    // The controller's desired Service omits nodePort; each update makes the API server allocate a new one.
    const c = new Cluster();
    const svc = new SessionBuilder(c).listAndWatch('Service');
    svc.deliver(c.create('Service', 'web', { spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30000 }] } }, { manager: 'foo-controller' }));
    for (let i = 1; i <= 40; i++) {
      const nodePort = 30000 + ((i * 7919) % 2767);
      svc.deliver(c.update('Service', 'web', (o) => ((o.spec as { ports: unknown[] }).ports = [{ port: 80, nodePort }]), { manager: 'foo-controller', after: '150ms' }));
    }
    const found = findings(svc.records, 'hot-loop');
    expect(summary(found)).toEqual([{ rule: 'hot-write', name: 'web', count: 40 }]);
    expect(found[0]!.message).toMatch(/\.spec\.ports\[0\]\.nodePort, \d+ distinct values/);
  });

  it('does not flag writes that answer someone else: another writer of the object, of its owner or of its children', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo').listAndWatch('Deployment');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const foo = c.get('Foo', 'a')!;
    const owner = { apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', name: 'a', uid: foo.metadata!.uid, controller: true };
    s.deliver(c.create('Deployment', 'a', { ownerReferences: [owner], spec: { replicas: 1 } }, { manager: 'foo-controller' }));
    for (let i = 0; i < 20; i++) {
      // kube-controller-manager changes the child; the controller mirrors it into the Foo's status.
      s.deliver(c.update('Deployment', 'a', (o) => (o.status = { observedGeneration: 1, conditions: [{ type: 'Progressing', reason: `step-${i}` }] }), { subresource: 'status', manager: 'kube-controller-manager', after: '1s' }));
      s.deliver(c.update('Foo', 'a', (o) => (o.status = { observedGeneration: 1, message: `step-${i}` }), { subresource: 'status', manager: 'foo-controller', after: '100ms' }));
    }
    expect(findings(s.records, 'hot-loop')).toEqual([]);
  });

  it('recognises leader election by content, on ConfigMaps and Endpoints of any name', () => {
    for (const kind of ['ConfigMap', 'Endpoints']) {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch(kind);
      const record = (renewTime: string) => JSON.stringify({ holderIdentity: 'web-operator-5d9f-abc', leaseDurationSeconds: 15, acquireTime: '2026-11-25T10:00:00Z', renewTime, leaderTransitions: 0 });
      s.deliver(c.create(kind, 'ops/web-operator-state', { annotations: { 'control-plane.alpha.kubernetes.io/leader': record(c.iso()) } }, { manager: 'web-operator' }));
      for (let i = 0; i < 60; i++) {
        s.deliver(c.update(kind, 'ops/web-operator-state', (o) => ((o.metadata as { annotations: Record<string, string> }).annotations['control-plane.alpha.kubernetes.io/leader'] = record(c.iso())), { manager: 'web-operator', after: '2s' }));
      }
      expect(findings(s.records, 'hot-loop')).toEqual([]);
    }
  });

  it('keeps a loop by a Kubernetes component or another actor as context, not an alarm', () => {
    const { s } = statusLoop(20, '1s');
    const byOther = findings(s.records, 'hot-loop', { controller: 'bar-controller' });
    expect(byOther.map((f) => [f.severity, f.blame?.role])).toEqual([['info', 'other']]);
    expect(byOther[0]!.message).toMatch(/not the controller under debug \(bar-controller\)/);
    const c = new Cluster();
    const k = new SessionBuilder(c).listAndWatch('Foo');
    k.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    for (let i = 0; i < 20; i++) k.deliver(c.update('Foo', 'a', (o) => (o.status = { lastSyncTime: c.iso() }), { subresource: 'status', manager: 'kube-controller-manager', after: '1s' }));
    expect(findings(k.records, 'hot-loop').map((f) => [f.severity, f.blame?.role])).toEqual([['info', 'system']]);
  });

  it('counts distinct values within a budget over every loop, and says "n+" where the budget cut the count short', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    for (const name of ['a', 'b']) s.deliver(c.create('Foo', name, { spec: fooSpec() }));
    // Two loops stamping a new sync time on every write, 40 writes each, one after the other.
    for (const name of ['a', 'b']) {
      for (let i = 0; i < 40; i++) {
        s.deliver(c.update('Foo', name, (o) => (o.status = { observedGeneration: 1, lastSyncTime: c.iso() }), { subresource: 'status', manager: 'foo-controller', after: '1s' }));
      }
    }
    const exact = hotLoopMessages(s.records, 200_000);
    expect(exact).toHaveLength(2);
    // Every write the detector looked into (it reads bodies once a writer is half-way to the threshold) had its own time.
    const n = Number(/\((\d+) sampled\): \.status\.lastSyncTime, (\d+) distinct values\./.exec(exact[0]!)?.[2]);
    expect(n).toBeGreaterThan(25);
    for (const message of exact) expect(message).toContain(`.status.lastSyncTime, ${n} distinct values.`);
    // A budget of n + 5: the first loop keeps its n, the second stops at 5 and says so.
    const cut = hotLoopMessages(s.records, n + 5);
    expect(cut.find((m) => m.startsWith('a:'))).toContain(`.status.lastSyncTime, ${n} distinct values.`);
    expect(cut.find((m) => m.startsWith('b:'))).toContain('.status.lastSyncTime, 5+ distinct values.');
    // What the detector finds through analyze() is the default budget's.
    expect(findings(s.records, 'hot-loop').map((f) => f.message)).toEqual(exact.map((m) => m.slice(3)));
  });
});
