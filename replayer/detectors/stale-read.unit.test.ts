import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };
const scale = (n: number) => (o: Record<string, unknown>) => ((o.spec as Spec).replicas = n);

describe('stale-read', () => {
  it('flags a reconcile that read a version older than one delivered well before it started', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const v1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.update('Foo', 'a', scale(2), { after: '1s' }));
    c.tick('5s');
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: v1.object.metadata!.resourceVersion!, observedGeneration: 1 });
    const found = findings(s.records, 'stale-read');
    expect(summary(found)).toEqual([{ rule: 'stale-cache', name: 'a', count: 1 }]);
    expect(found[0]!.message).toMatch(/delivered earlier/);
  });

  it('does not flag a reconcile that started within the grace period of the newer event', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const v1 = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.update('Foo', 'a', scale(2), { after: '1s' }));
    c.tick('100ms');
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: v1.object.metadata!.resourceVersion! });
    expect(findings(s.records, 'stale-read')).toEqual([]);
  });

  it('does not flag a reconcile that read the newest version, or a newer one than the recorder saw', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const v2 = s.deliver(c.update('Foo', 'a', scale(2), { after: '1s' }));
    c.tick('5s');
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: v2.object.metadata!.resourceVersion! });
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: String(c.revision + 5) });
    expect(findings(s.records, 'stale-read')).toEqual([]);
  });

  it('falls back to comparing RVs as integers when the version read was never delivered', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    c.update('Foo', 'a', scale(2), { after: '1s' }); // never delivered to the recorder
    s.deliver(c.update('Foo', 'a', scale(3), { after: '1s' }));
    c.tick('5s');
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: String(c.revision - 1) });
    const found = findings(s.records, 'stale-read');
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toMatch(/numerically older/);
  });

  it('finds the newest delivery once the delivery ring has wrapped, past ones too recent to count', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    // more deliveries than the ring remembers (32): the newest sits somewhere in its middle
    let last = s.deliver(c.update('Foo', 'a', scale(2), { after: '1s' }));
    for (let i = 3; i < 45; i++) last = s.deliver(c.update('Foo', 'a', scale(i), { after: '1s' }));
    const previous = String(Number(last.object.metadata!.resourceVersion!) - 1);
    c.tick('5s');
    // one more, too recent to count (inside the grace period) when the reconcile starts
    s.deliver(c.update('Foo', 'a', scale(99)));
    c.tick('10ms');
    // a reconcile of the newest version that counts is fine; of the one before it, stale
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: last.object.metadata!.resourceVersion! });
    expect(findings(s.records, 'stale-read')).toEqual([]);
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: previous });
    const found = findings(s.records, 'stale-read');
    expect(summary(found)).toEqual([{ rule: 'stale-cache', name: 'a', count: 1 }]);
    expect(found[0]!.message).toContain(`although the watch had delivered resourceVersion ${last.object.metadata!.resourceVersion!}`);
  });
});
