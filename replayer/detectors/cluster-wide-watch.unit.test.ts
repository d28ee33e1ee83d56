import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

const sa = 'system:serviceaccount:foo-system:foo-controller';

/** The controller lists and watches Foos in all namespaces and writes status of those in team-a. */
function story(options: { alsoIn?: string } = {}): { c: Cluster; s: SessionBuilder } {
  const c = new Cluster();
  const s = new SessionBuilder(c);
  s.api({ verb: 'list', kind: 'Foo', name: '*', namespace: null, actor: sa });
  s.api({ verb: 'watch', kind: 'Foo', name: '*', namespace: null, actor: sa });
  for (const name of ['team-a/web', 'team-a/db']) {
    const created = c.create('Foo', name, { spec: fooSpec() });
    s.api({ verb: 'create', kind: 'Foo', name, actor: 'kubernetes-admin', byController: false, event: created });
    s.api({ verb: 'update', kind: 'Foo', name, actor: sa, subresource: 'status', event: c.update('Foo', name, (o) => (o.status = { ready: true }), { subresource: 'status', manager: 'foo-controller', after: '1s' }) });
  }
  // Leader election in its own namespace is not a namespace it manages.
  s.api({ verb: 'update', kind: 'Lease', name: 'foo-system/foo-controller-leader', actor: sa });
  if (options.alsoIn) s.api({ verb: 'update', kind: 'Foo', name: `${options.alsoIn}/x`, actor: sa, subresource: 'status' });
  c.tick('5m');
  s.api({ verb: 'watch', kind: 'Foo', name: '*', namespace: null, actor: sa });
  return { c, s };
}

describe('cluster-wide-watch', () => {
  it('flags the controller watching a resource in all namespaces while it only touches one, as info', () => {
    const { s } = story();
    const found = findings(s.records, 'cluster-wide-watch', { controller: sa });
    expect(summary(found)).toEqual([{ rule: 'all-namespaces', name: '*', count: 3 }]);
    expect(found[0]!.severity).toBe('info');
    expect(found[0]!.object).toMatchObject({ kind: 'Foo', namespace: null, name: '*' });
    expect(found[0]!.blame).toEqual({ actor: sa, via: 'audit-user', role: 'controller' });
    expect(found[0]!.message).toMatch(/lists and watches Foo in all namespaces \(LIST×1, WATCH×2\), yet all its \d+ writes and reconciles were in namespace team-a/);
    expect(found[0]!.evidence.map((e) => e.seq)).toEqual(expect.arrayContaining([1, 2]));
  });

  it('is a warning when the session shows a ClusterRoleBinding granting the list or watch cluster-wide', () => {
    const { c, s } = story();
    const role = c.create('ClusterRole', 'foo-controller', { fields: { rules: [{ apiGroups: ['samplecontroller.k8s.io'], resources: ['foos', 'foos/status'], verbs: ['get', 'list', 'watch', 'update'] }] } });
    s.deliver(role, 'relist');
    const binding = c.create('ClusterRoleBinding', 'foo-controller', {
      fields: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'foo-controller' }, subjects: [{ kind: 'ServiceAccount', name: 'foo-controller', namespace: 'foo-system' }] },
    });
    s.deliver(binding, 'relist');
    const found = findings(s.records, 'cluster-wide-watch', { controller: sa });
    expect(found.map((f) => f.severity)).toEqual(['warning']);
    expect(found[0]!.message).toMatch(/ClusterRoleBinding foo-controller binds it to ClusterRole foo-controller, which allows that for every namespace/);
  });

  it('stays info when the bound ClusterRole is not in the session, and says so', () => {
    const { c, s } = story();
    s.deliver(c.create('ClusterRoleBinding', 'foo-view', { fields: { roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'foo-controller', namespace: 'foo-system' }] } }), 'relist');
    const found = findings(s.records, 'cluster-wide-watch', { controller: sa });
    expect(found.map((f) => f.severity)).toEqual(['info']);
    expect(found[0]!.message).toMatch(/whose rules the session does not hold/);
  });

  it('does not flag a controller that writes in two namespaces, nor someone else listing cluster-wide', () => {
    expect(findings(story({ alsoIn: 'team-b' }).s.records, 'cluster-wide-watch', { controller: sa })).toEqual([]);
    expect(findings(story().s.records, 'cluster-wide-watch', { controller: 'system:serviceaccount:ops:other' })).toEqual([]);
  });

  it('does not flag namespaced watches, nor cluster-scoped resources', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    s.api({ verb: 'watch', kind: 'Foo', name: '*', namespace: 'team-a', actor: sa });
    s.api({ verb: 'watch', kind: 'Node', name: '*', namespace: null, actor: sa });
    s.api({ verb: 'update', kind: 'Foo', name: 'team-a/web', actor: sa, subresource: 'status' });
    expect(findings(s.records, 'cluster-wide-watch', { controller: sa })).toEqual([]);
  });

  it('counts reconciles reported by the SDK as where the controller works', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    s.api({ verb: 'watch', kind: 'Foo', name: '*', namespace: null, actor: sa });
    c.create('Foo', 'team-a/web', { spec: fooSpec() });
    s.reconcile({ kind: 'Foo', name: 'team-a/web', controller: 'foo-controller' });
    const a = analyze(s.records, { config: { only: ['cluster-wide-watch'] }, controller: [sa] });
    expect(summary(a.findings)).toEqual([{ rule: 'all-namespaces', name: '*', count: 1 }]);
  });
});
