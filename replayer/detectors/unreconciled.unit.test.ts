import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };
const scale = (n: number) => (o: Record<string, unknown>) => ((o.spec as Spec).replicas = n);

function twoFoos() {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
  s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
  s.deliver(c.update('Foo', 'a', (o) => (o.status = { observedGeneration: 1 }), { subresource: 'status', manager: 'foo-controller' }));
  s.deliver(c.update('Foo', 'b', (o) => (o.status = { observedGeneration: 1 }), { subresource: 'status', manager: 'foo-controller' }));
  return { c, s };
}

describe('unreconciled', () => {
  it('flags a generation nobody observed for longer than the threshold', () => {
    const { c, s } = twoFoos();
    s.deliver(c.update('Foo', 'a', scale(3), { after: '10s' }));
    c.tick('3m');
    s.bookmark('Foo');
    const found = findings(s.records, 'unreconciled');
    expect(summary(found)).toEqual([{ rule: 'generation-not-observed', name: 'a', count: 1 }]);
    expect(found[0]!.message).toMatch(/Generation 2 .* status.observedGeneration is 1/);
  });

  it('does not flag a generation observed by status, or a young one', () => {
    const { c, s } = twoFoos();
    s.deliver(c.update('Foo', 'a', scale(3), { after: '10s' }));
    s.deliver(c.update('Foo', 'a', (o) => (o.status = { observedGeneration: 2 }), { subresource: 'status', manager: 'foo-controller', after: '1s' }));
    s.deliver(c.update('Foo', 'b', scale(3), { after: '3m' }));
    c.tick('30s');
    s.bookmark('Foo');
    expect(findings(s.records, 'unreconciled')).toEqual([]);
  });

  it('accepts a successful reconcile that observed the generation', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Database');
    s.deliver(c.create('Database', 'db', { spec: { size: '1Gi' } }));
    s.deliver(c.update('Database', 'db', (o) => ((o.spec as { size: string }).size = '2Gi'), { after: '1s' }));
    s.reconcile({ kind: 'Database', name: 'db', result: 'success' });
    c.tick('10m');
    s.bookmark('Database');
    expect(findings(s.records, 'unreconciled')).toEqual([]);
    // ...but not a failing one
    const f = new SessionBuilder(c).listAndWatch('Database');
    f.deliver(c.update('Database', 'db', (o) => ((o.spec as { size: string }).size = '3Gi'), { after: '1s' }));
    f.reconcile({ kind: 'Database', name: 'db', result: 'error', errorReason: 'other' });
    c.tick('10m');
    f.bookmark('Database');
    expect(summary(findings(f.records, 'unreconciled'))).toEqual([{ rule: 'generation-not-observed', name: 'db', count: 1 }]);
  });

  it('ignores kinds without observedGeneration or reconciles, and objects being deleted', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Deployment');
    s.deliver(c.create('Deployment', 'web', { spec: { replicas: 1 } }));
    s.deliver(c.update('Deployment', 'web', (o) => ((o.spec as Spec).replicas = 2), { after: '1s' }));
    c.tick('10m');
    s.bookmark('Deployment');
    expect(findings(s.records, 'unreconciled')).toEqual([]);
    const { c: c2, s: s2 } = twoFoos();
    s2.deliver(c2.update('Foo', 'a', (o) => ((o.metadata as { finalizers: string[] }).finalizers = ['x']), { after: '1s' }));
    s2.deliver(c2.delete('Foo', 'a'));
    c2.tick('10m');
    s2.bookmark('Foo');
    expect(findings(s2.records, 'unreconciled')).toEqual([]);
  });
});
