import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder, type WatchEvent } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };
const scale = (n: number) => (o: Record<string, unknown>) => ((o.spec as Spec).replicas = n);
const status = (observedGeneration: number, availableReplicas = 1) => (o: Record<string, unknown>) => (o.status = { availableReplicas, observedGeneration });
const asController = { subresource: 'status' as const, manager: 'foo-controller' };

describe('status-spec-race', () => {
  describe('stale-status', () => {
    it('flags a status write whose observedGeneration is older than the spec already written', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.deliver(c.update('Foo', 'a', status(1), asController));
      // the controller read generation 1, the user changes the spec, then the controller writes status for 1
      s.deliver(c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '1s' }));
      s.deliver(c.update('Foo', 'a', status(1, 2), { ...asController, after: '200ms' }));
      const found = findings(s.records, 'status-spec-race');
      expect(summary(found)).toEqual([{ rule: 'stale-status', name: 'a', count: 1 }]);
      expect(found[0]!.message).toMatch(/observedGeneration 1 while the spec was already at generation 2/);
    });

    it('names the audit user as the writer when the audit policy omits managedFields', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      const operator = 'system:serviceaccount:ops:foo-operator';
      // What the audit importer emits per write: the request, then the version its answer carried (no managedFields).
      const audited = (event: WatchEvent, actor: string, verb: 'create' | 'update', subresource: string | null = null) => {
        delete event.object.metadata!.managedFields;
        s.api({ verb, kind: 'Foo', name: 'a', actor, byController: actor === operator, subresource, event });
        s.deliver(event, 'audit');
      };
      audited(c.create('Foo', 'a', { spec: fooSpec() }), 'alice', 'create');
      audited(c.update('Foo', 'a', status(1), asController), operator, 'update', 'status');
      audited(c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '1s' }), 'alice', 'update');
      audited(c.update('Foo', 'a', status(1, 2), { ...asController, after: '200ms' }), operator, 'update', 'status');
      const found = findings(s.records, 'status-spec-race');
      expect(summary(found)).toEqual([{ rule: 'stale-status', name: 'a', count: 1 }]);
      expect(found[0]!.blame).toMatchObject({ actor: operator, via: 'audit-user' });
    });

    it('does not flag a status written before the spec change', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      s.deliver(c.update('Foo', 'a', status(1), asController));
      s.deliver(c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '1s' }));
      s.deliver(c.update('Foo', 'a', status(2, 3), { ...asController, after: '1s' }));
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });

    it('does not count the generation bump of a deletionTimestamp as a newer spec', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec(), finalizers: ['foo.example.com/cleanup'] }));
      s.deliver(c.update('Foo', 'a', status(1), asController));
      s.deliver(c.delete('Foo', 'a', { after: '1s' }));
      s.deliver(c.update('Foo', 'a', (o) => (o.status = { availableReplicas: 0, observedGeneration: 1, phase: 'Terminating' }), asController));
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });
  });

  describe('stale-reconcile', () => {
    it('flags a reconcile of an old generation that wrote after the spec moved on', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const start = c.now;
      s.deliver(c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '10ms' }));
      const write = c.update('Foo', 'a', (o) => (o.status = { availableReplicas: 1 }), { ...asController, after: '10ms' });
      s.deliver(write);
      s.api({ verb: 'update', kind: 'Foo', name: 'a', subresource: 'status', event: write });
      s.reconcile({ kind: 'Foo', name: 'a', startedAt: start, duration: '30ms', observedGeneration: 1, observedResourceVersion: '1001' });
      expect(summary(findings(s.records, 'status-spec-race'))).toEqual([{ rule: 'stale-reconcile', name: 'a', count: 1 }]);
    });

    it('does not flag a reconcile whose writes happened before the spec change', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const start = c.now;
      const write = c.update('Foo', 'a', (o) => (o.status = { availableReplicas: 1 }), { ...asController, after: '10ms' });
      s.deliver(write);
      s.api({ verb: 'update', kind: 'Foo', name: 'a', subresource: 'status', event: write });
      s.reconcile({ kind: 'Foo', name: 'a', startedAt: start, duration: '20ms', observedGeneration: 1 });
      s.deliver(c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '1s' }));
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });
  });

  describe('lost-update', () => {
    it('flags the controller writing back the spec it read before a concurrent user change', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec(1) }));
      s.deliver(c.update('Foo', 'a', status(1), asController));
      s.deliver(c.update('Foo', 'a', scale(5), { manager: 'kubectl-edit', after: '1s' }));
      // a full-object Update from the controller's stale copy (replicas 1) plus a label it adds
      s.deliver(c.update('Foo', 'a', scale(1), { manager: 'foo-controller', after: '100ms' }));
      const found = findings(s.records, 'status-spec-race');
      expect(summary(found)).toEqual([{ rule: 'lost-update', name: 'a', count: 1 }]);
      expect(found[0]!.message).toMatch(/foo-controller wrote back an older spec .* kubectl-edit/);
    });

    it('does not flag a user undoing their own change, nor a controller that does not own status', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec(1) }));
      s.deliver(c.update('Foo', 'a', scale(5), { manager: 'kubectl-edit', after: '1s' }));
      s.deliver(c.update('Foo', 'a', scale(1), { manager: 'kubectl-edit', after: '1s' }));
      s.deliver(c.update('Foo', 'a', scale(5), { manager: 'helm', after: '1s' }));
      s.deliver(c.update('Foo', 'a', scale(1), { manager: 'argocd-controller', after: '1s' }));
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });
  });

  describe('conflict-retry', () => {
    it('flags repeated 409 Conflicts on one object by one client', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      c.create('Foo', 'a', { spec: fooSpec() });
      for (let i = 0; i < 5; i++) s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 409, resourceVersionBefore: '1001' });
      const found = findings(s.records, 'status-spec-race');
      expect(summary(found)).toEqual([{ rule: 'conflict-retry', name: 'a', count: 5 }]);
    });

    it('does not count a create refused AlreadyExists (no copy of the object was sent)', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      c.create('Foo', 'a', { spec: fooSpec() });
      for (let i = 0; i < 5; i++) s.api({ verb: 'create', kind: 'Foo', name: 'a', code: 409, reason: 'AlreadyExists' });
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });

    it("in the controller's own view, does not count writes sent with the newest version its cache held, and does count older ones", () => {
      const run = (sentStale: boolean) => {
        const c = new Cluster();
        const s = new SessionBuilder(c).marker('recorder-started', undefined, { origin: 'proxy' }).listAndWatch('Foo');
        const held = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
        const newer = c.update('Foo', 'a', scale(2));
        // Stale-copy bug: the cache has the newer version, the controller keeps sending the old one.
        if (sentStale) s.deliver(newer);
        for (let i = 0; i < 5; i++) s.api({ verb: 'update', kind: 'Foo', name: 'a', subresource: 'status', code: 409, resourceVersionBefore: held.object.metadata!.resourceVersion!, origin: 'proxy' });
        return summary(findings(s.records, 'status-spec-race'));
      };
      // The watch is behind (relisting): the cache still holds the version sent, a re-read would send it again.
      expect(run(false)).toEqual([]);
      expect(run(true)).toEqual([{ rule: 'conflict-retry', name: 'a', count: 5 }]);
    });

    it('does not flag conflicts retried from a fresh read each time (a new resourceVersion sent every attempt)', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      c.create('Foo', 'a', { spec: fooSpec() });
      for (let i = 0; i < 5; i++) s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 409, resourceVersionBefore: String(1001 + i) });
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });

    it('does not flag a conflict that a re-read resolves', () => {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      c.create('Foo', 'a', { spec: fooSpec() });
      for (let i = 0; i < 3; i++) {
        s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 409 });
        s.api({ verb: 'update', kind: 'Foo', name: 'a', event: c.update('Foo', 'a', scale(i + 2)) });
      }
      expect(findings(s.records, 'status-spec-race')).toEqual([]);
    });
  });
});
