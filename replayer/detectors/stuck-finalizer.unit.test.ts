import { describe, expect, it } from 'vitest';
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
    expect(found[0]!.message).toMatch(/before it was removed/);
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
    expect(summary(findings(s.records, 'stuck-finalizer'))).toEqual([{ rule: 'finalizer-timeout', name: 'a', count: 1 }]);
  });
});
