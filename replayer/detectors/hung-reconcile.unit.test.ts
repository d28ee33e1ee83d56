import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

describe('hung-reconcile', () => {
  it('flags a reconcile that started and was still running when the session ended, long after', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    c.tick('1s');
    s.reconcileStart({ kind: 'Foo', name: 'a' });
    for (let i = 0; i < 3; i++) {
      c.tick('30s');
      s.reconcile({ kind: 'Foo', name: 'b' });
    }
    c.tick('2m');
    s.bookmark('Foo');
    const found = findings(s.records, 'hung-reconcile');
    expect(summary(found)).toEqual([{ rule: 'never-finished', name: 'a', count: 1 }]);
    expect(found[0]!.severity).toBe('error');
    expect(found[0]!.blame).toEqual({ actor: 'foo-controller', via: 'sdk', role: 'controller' });
    expect(found[0]!.message).toMatch(/still running 3m30s later.*finished 3 reconcile\(s\) of other objects/);
  });

  it('says when no other reconcile finished after the hung one started', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcile({ kind: 'Foo', name: 'a' });
    c.tick('1s');
    s.reconcileStart({ kind: 'Foo', name: 'a' });
    s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2), { after: '5m' }));
    expect(findings(s.records, 'hung-reconcile')[0]!.message).toMatch(/workers were probably all taken/);
  });

  it('flags a reconcile that finished far past the threshold, as a warning, without a start record', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcile({ kind: 'Foo', name: 'a', duration: '2m30s' });
    const found = findings(s.records, 'hung-reconcile');
    expect(summary(found)).toEqual([{ rule: 'slow', name: 'a', count: 1 }]);
    expect(found[0]!.severity).toBe('warning');
    expect(found[0]!.message).toMatch(/took 2m30s/);
  });

  it('pairs a start with its finish and stays silent on reconciles within the threshold', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const started = c.now;
    s.reconcileStart({ kind: 'Foo', name: 'a', startedAt: started });
    c.tick('40s');
    s.reconcile({ kind: 'Foo', name: 'a', startedAt: started, duration: '40s' });
    c.tick('10m');
    s.bookmark('Foo');
    expect(findings(s.records, 'hung-reconcile')).toEqual([]);
  });

  it('does not flag a start still running when the session ends sooner than the threshold', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcileStart({ kind: 'Foo', name: 'a' });
    c.tick('20s');
    s.bookmark('Foo');
    expect(findings(s.records, 'hung-reconcile')).toEqual([]);
    expect(summary(findings(s.records, 'hung-reconcile', { thresholds: { hungReconcileAfter: '10s' } }))).toEqual([{ rule: 'never-finished', name: 'a', count: 1 }]);
  });

  it('drops a start that a later reconcile of the same key proves over (a restarted process), and a start reported after its finish', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcileStart({ kind: 'Foo', name: 'a' });
    c.tick('5s');
    s.reconcile({ kind: 'Foo', name: 'a' }); // the controller restarted: a new reconcile of the key
    const started = c.now;
    c.tick('1s');
    s.reconcile({ kind: 'Foo', name: 'a', startedAt: started, duration: '50ms' });
    s.reconcileStart({ kind: 'Foo', name: 'a', startedAt: started }); // its start, sent late
    c.tick('10m');
    s.bookmark('Foo');
    expect(findings(s.records, 'hung-reconcile')).toEqual([]);
  });

  it('is about the controller that reports: blame stays with it', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcile({ kind: 'Foo', name: 'a', duration: '3m', controller: 'web-operator' });
    const a = analyze(s.records, { config: { only: ['hung-reconcile'] }, controller: ['web-operator'] });
    expect(a.findings.map((f) => [f.severity, f.blame?.role])).toEqual([['warning', 'controller']]);
  });
});
