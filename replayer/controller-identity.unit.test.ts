import { describe, expect, it } from 'vitest';
import { systemComponentOf, systemFinalizerOf } from '../model/index.js';
import { analyze } from './analyze.js';
import { roleOf } from './controller-identity.js';
import { Cluster, fooSpec, SessionBuilder } from './testing/builder.js';

describe('the controller under debug', () => {
  function busySession() {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo').listAndWatch('Deployment');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'kubectl-client-side-apply' }));
    s.deliver(c.create('Deployment', 'a', { spec: { replicas: 1 } }, { manager: 'foo-controller' }));
    for (let i = 0; i < 5; i++) s.deliver(c.update('Deployment', 'a', (o) => (o.status = { replicas: i }), { subresource: 'status', manager: 'kube-controller-manager', after: '1s' }));
    for (let i = 0; i < 3; i++) s.deliver(c.update('Foo', 'a', (o) => (o.status = { n: i }), { subresource: 'status', manager: 'foo-controller', after: '1s' }));
    s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 3), { manager: 'kubectl-edit', after: '1s' }));
    return s;
  }

  it('is inferred as the busiest writer that is neither Kubernetes nor a tool', () => {
    const { stats } = analyze(busySession().records);
    expect(stats.controller).toEqual({ names: ['foo-controller'], basis: 'inferred' });
  });

  it('is what the user says when told', () => {
    const { stats } = analyze(busySession().records, { controller: ['system:serviceaccount:ops:foo-controller'] });
    expect(stats.controller.basis).toBe('given');
    expect(roleOf(stats.controller, 'foo-controller')).toBe('controller');
    expect(roleOf(stats.controller, 'kube-controller-manager')).toBe('system');
    expect(roleOf(stats.controller, 'bar-operator')).toBe('other');
  });

  it('learns the field manager an audit user writes as', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const user = 'system:serviceaccount:ops:foo-controller';
    s.api({ verb: 'create', kind: 'Foo', name: 'a', actor: user, event: c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'manager' }), withResponse: true });
    s.api({ verb: 'patch', kind: 'Foo', name: 'a', actor: user, event: c.update('Foo', 'a', (o) => (o.status = { n: 1 }), { subresource: 'status', manager: 'manager', after: '1s' }), withResponse: true });
    const { stats } = analyze(s.records);
    expect(stats.controller.basis).toBe('inferred');
    expect([...stats.controller.names].sort()).toEqual(['manager', user]);
  });

  it('names the field manager a kubectl user wrote as, not the user', () => {
    // A harness driving a controller's writes through kubectl --field-manager: the writes are the manager's, and the
    // admin's own kubectl writes stay a tool's.
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const kubectl = 'kubectl/v1.36.3 (linux/amd64) kubernetes/0d9c2ec';
    s.api({ verb: 'create', kind: 'Foo', name: 'a', actor: 'kubernetes-admin', userAgent: kubectl, event: c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'kubectl-client-side-apply' }), withResponse: true });
    s.api({ verb: 'patch', kind: 'Foo', name: 'a', actor: 'kubernetes-admin', userAgent: kubectl, subresource: 'status', event: c.update('Foo', 'a', (o) => (o.status = { n: 1 }), { subresource: 'status', manager: 'widget-controller', after: '1s' }), withResponse: true });
    s.api({ verb: 'patch', kind: 'Foo', name: 'a', actor: 'kubernetes-admin', userAgent: kubectl, event: c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 3), { manager: 'kubectl-patch', after: '1s' }), withResponse: true });
    const { stats } = analyze(s.records);
    expect(stats.controller).toEqual({ names: ['widget-controller'], basis: 'inferred' });
    expect(roleOf(stats.controller, 'kubernetes-admin')).toBe('other');
  });

  it('takes a Helm install for a tool, whichever way Helm spells its User-Agent', () => {
    // Helm 3.14+ sends `Helm/3.16.1`; older releases sent client-go's default `helm/v0.0.0 ...`. Either way the
    // admin who ran it is not a controller, and the busiest real writer is.
    for (const helm of ['Helm/3.16.1', 'helm/v0.0.0 (linux/amd64) kubernetes/$Format']) {
      const c = new Cluster();
      const s = new SessionBuilder(c);
      for (let i = 0; i < 3; i++) {
        s.api({ verb: 'create', kind: 'Foo', name: `h${i}`, actor: 'kubernetes-admin', userAgent: helm, event: c.create('Foo', `h${i}`, { spec: fooSpec() }, { manager: 'helm' }), withResponse: true });
      }
      s.api({ verb: 'patch', kind: 'Foo', name: 'h0', actor: 'foo-operator', subresource: 'status', event: c.update('Foo', 'h0', (o) => (o.status = { n: 1 }), { subresource: 'status', manager: 'foo-operator', after: '1s' }), withResponse: true });
      const { stats } = analyze(s.records);
      expect(stats.controller, helm).toEqual({ names: ['foo-operator'], basis: 'inferred' });
      expect(roleOf(stats.controller, 'kubernetes-admin'), helm).toBe('other');
    }
  });

  it('learns nothing of a deleter from the version its DELETE answered (a DELETE adds no managedFields entry)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const user = 'system:serviceaccount:ops:foo-controller';
    s.api({ verb: 'create', kind: 'Foo', name: 'a', actor: 'kreplay-admin', event: c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'workload' }), withResponse: true });
    s.api({ verb: 'update', kind: 'Foo', name: 'a', actor: user, event: c.update('Foo', 'a', (o) => ((o.metadata as { finalizers: string[] }).finalizers = ['example.com/x']), { manager: 'foo-controller', after: '1s' }), withResponse: true });
    // The deletion's version still names foo-controller, the last manager: the deleter is not foo-controller.
    s.api({ verb: 'delete', kind: 'Foo', name: 'a', actor: 'kreplay-admin', event: c.update('Foo', 'a', (o) => ((o.metadata as { deletionTimestamp: string }).deletionTimestamp = '2025-01-01T00:00:02Z'), { manager: 'foo-controller', after: '1s' }), withResponse: true });
    const { stats } = analyze(s.records, { controller: [user] });
    expect(roleOf(stats.controller, 'kreplay-admin')).toBe('other');
  });

  it("knows Kubernetes' own writers and finalizers", () => {
    expect(systemComponentOf('system:serviceaccount:kube-system:deployment-controller')).toBe('kube-controller-manager (deployment-controller)');
    expect(systemComponentOf('system:node:worker-1')).toBe('kubelet');
    expect(systemComponentOf('system:serviceaccount:ops:foo-controller')).toBeNull();
    expect(systemFinalizerOf('kubernetes.io/pvc-protection')?.waitsFor).toBe('no Pod using the claim any more');
    expect(systemFinalizerOf('external-provisioner.volume.kubernetes.io/finalizer')).not.toBeNull();
    // A k8s.io domain is a guess that managedFields overrule: sample-controller's own finalizer is its own.
    expect(systemFinalizerOf('samplecontroller.k8s.io/deployment-cleanup', ['sample-controller'])).toBeNull();
    expect(systemFinalizerOf('samplecontroller.k8s.io/deployment-cleanup', ['kube-controller-manager'])).not.toBeNull();
    expect(systemFinalizerOf('kubernetes.io/pvc-protection', ['kubectl-client-side-apply'])?.owner).toMatch(/pvc-protection/);
    expect(systemFinalizerOf('example.com/cleanup')).toBeNull();
    expect(systemFinalizerOf('delete-pxc-pods-in-order')).toBeNull();
  });
});
