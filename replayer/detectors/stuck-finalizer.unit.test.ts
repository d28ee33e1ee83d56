import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../model/index.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

const finalizer = 'foo.example.com/cleanup';

function deleting() {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'kubectl-client-side-apply' }));
  s.deliver(c.update('Foo', 'a', (o) => ((o.metadata as { finalizers?: string[] }).finalizers = [finalizer]), { manager: 'foo-controller' }));
  s.deliver(c.delete('Foo', 'a', { after: '5s' }));
  return { c, s };
}

describe('stuck-finalizer', () => {
  it('flags finalizers still there at the end of the session, naming the manager that added them', () => {
    const { c, s } = deleting();
    c.tick('6m');
    s.bookmark('Foo');
    const found = findings(s.records, 'stuck-finalizer');
    expect(summary(found)).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
    expect(found[0]!.message).toContain(`${finalizer} (added by foo-controller) for 6m`);
    expect(found[0]!.message).toMatch(/still there when the session ended/);
  });

  it('flags a finalizer removed only after the threshold', () => {
    const { c, s } = deleting();
    s.deliver(c.removeFinalizer('Foo', 'a', finalizer, { after: '7m', manager: 'foo-controller' }));
    const found = findings(s.records, 'stuck-finalizer');
    expect(summary(found)).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
    // Watchers never see the finalizer gone: the DELETED event carries the last stored state, finalizers listed.
    expect(found[0]!.message).toMatch(/finally deleted/);
  });

  it('does not flag a finalizer removed after 60 s, nor one under a configured threshold', () => {
    const { c, s } = deleting();
    s.deliver(c.removeFinalizer('Foo', 'a', finalizer, { after: '60s', manager: 'foo-controller' }));
    expect(findings(s.records, 'stuck-finalizer')).toEqual([]);
    const late = deleting();
    late.c.tick('3m');
    late.s.bookmark('Foo');
    expect(findings(late.s.records, 'stuck-finalizer')).toEqual([]);
    expect(findings(late.s.records, 'stuck-finalizer', { thresholds: { finalizerTimeout: '2m' } })).toHaveLength(1);
  });

  it('measures from deletionTimestamp even when the dump has no observation times', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    s.deliver(c.create('Foo', 'a', { spec: fooSpec(), finalizers: [finalizer] }, { manager: 'foo-controller' }), 'import', { observedAt: null });
    s.deliver(c.delete('Foo', 'a', { after: '1s' }), 'import', { observedAt: null });
    // another object written 10 minutes later moves the session clock through its managedFields time
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }, { after: '10m' }), 'import', { observedAt: null });
    const found = findings(s.records, 'stuck-finalizer');
    expect(summary(found)).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
    // A dump has no event times: the finding says its duration is an estimate, and how it was made.
    expect(found[0]!.message).toMatch(/estimated from managedFields times and deletionTimestamp, to the second/);
  });

  describe('on the audit and SDK path (no watch): what proves a deleting object is gone', () => {
    /** A Foo with a finalizer, deleted: every step known only from the API server's answers. */
    function deletingWithoutWatch() {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      s.api({ verb: 'create', kind: 'Foo', name: 'a', event: c.create('Foo', 'a', { spec: fooSpec(), finalizers: [finalizer] }, { manager: 'foo-controller' }), withResponse: true });
      s.api({ verb: 'delete', kind: 'Foo', name: 'a', actor: 'kubectl', byController: false, event: c.delete('Foo', 'a', { after: '5s' }), withResponse: true });
      return { c, s, deleting: c.get('Foo', 'a')! };
    }

    it('a write that removes the last finalizer, answered at the previous resourceVersion, releases it', () => {
      const { c, s, deleting } = deletingWithoutWatch();
      c.tick('30s');
      // kube-apiserver deletes the object during the update and answers with it as written: finalizers gone,
      // resourceVersion unchanged (registry/store.go deleteWithoutFinalizers).
      const answer = structuredClone(deleting) as KubeObject & { metadata: { finalizers?: string[] } };
      delete answer.metadata.finalizers;
      s.api({ verb: 'patch', kind: 'Foo', name: 'a', event: { type: 'MODIFIED', object: answer }, withResponse: true });
      c.tick('10m');
      s.api({ verb: 'get', kind: 'Foo', name: 'other', code: 404, byController: false });
      expect(findings(s.records, 'stuck-finalizer')).toEqual([]);
      // The same story with the removal never made is stuck.
      const never = deletingWithoutWatch();
      never.c.tick('10m');
      never.s.api({ verb: 'get', kind: 'Foo', name: 'other', code: 404, byController: false });
      expect(summary(findings(never.s.records, 'stuck-finalizer'))).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
    });

    it('a later 404 for the object proves it is gone, at that time', () => {
      const { c, s } = deletingWithoutWatch();
      c.tick('40s');
      s.api({ verb: 'get', kind: 'Foo', name: 'a', code: 404 });
      c.tick('10m');
      s.api({ verb: 'get', kind: 'Foo', name: 'other', code: 404, byController: false });
      expect(findings(s.records, 'stuck-finalizer')).toEqual([]);
      const slow = deletingWithoutWatch();
      slow.c.tick('8m');
      slow.s.api({ verb: 'get', kind: 'Foo', name: 'a', code: 404 });
      const found = findings(slow.s.records, 'stuck-finalizer');
      expect(summary(found)).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
      expect(found[0]!.message).toMatch(/finally deleted/);
    });

    it('a DELETE answered with the object and no finalizers left is its final state', () => {
      const { c, s, deleting } = deletingWithoutWatch();
      c.tick('20s');
      const answer = structuredClone(deleting) as KubeObject & { metadata: { finalizers?: string[] } };
      answer.metadata.finalizers = [];
      s.api({ verb: 'delete', kind: 'Foo', name: 'a', event: { type: 'DELETED', object: answer }, withResponse: true });
      c.tick('10m');
      s.api({ verb: 'get', kind: 'Foo', name: 'other', code: 404, byController: false });
      expect(findings(s.records, 'stuck-finalizer')).toEqual([]);
    });
  });

  it("keeps Kubernetes' own finalizers as context, saying what they wait for, and blames the controller for its own", () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('PersistentVolumeClaim').listAndWatch('Foo');
    s.deliver(c.create('PersistentVolumeClaim', 'data-db-0', { spec: { resources: { requests: { storage: '1Gi' } } }, finalizers: ['kubernetes.io/pvc-protection'] }, { manager: 'kube-controller-manager' }));
    s.deliver(c.create('Foo', 'a', { spec: fooSpec(), finalizers: [finalizer] }, { manager: 'foo-controller' }));
    s.deliver(c.update('Foo', 'a', (o) => (o.status = { observedGeneration: 1 }), { subresource: 'status', manager: 'foo-controller', after: '1s' }));
    s.deliver(c.delete('PersistentVolumeClaim', 'data-db-0', { after: '5s' }));
    s.deliver(c.delete('Foo', 'a', { after: '1s' }));
    c.tick('40m');
    s.bookmark('Foo');
    const found = findings(s.records, 'stuck-finalizer');
    const pvc = found.find((f) => f.object.name === 'data-db-0')!;
    expect([pvc.severity, pvc.blame]).toEqual(['info', { actor: 'kube-controller-manager (pvc-protection controller)', via: 'finalizer', role: 'system' }]);
    expect(pvc.message).toMatch(/waiting for no Pod using the claim any more/);
    const foo = found.find((f) => f.object.name === 'a')!;
    expect([foo.severity, foo.blame]).toEqual(['error', { actor: 'foo-controller', via: 'finalizer', role: 'controller' }]);
  });
});
