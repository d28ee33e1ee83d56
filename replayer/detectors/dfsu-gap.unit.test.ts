import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

function vanishDuringGap(withReconciles: boolean) {
  const c = new Cluster();
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
  s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
  if (withReconciles) s.reconcile({ kind: 'Foo', name: 'a' });
  s.marker('watch-closed', 'Foo');
  c.delete('Foo', 'a'); // deleted while disconnected: no DELETED event
  s.marker('gone', 'Foo', { code: 410 });
  s.listAndWatch('Foo');
  return { c, s };
}

describe('dfsu-gap', () => {
  it('flags a tombstone the controller never reconciled afterwards', () => {
    const { s } = vanishDuringGap(true);
    s.reconcile({ kind: 'Foo', name: 'b' });
    const found = findings(s.records, 'dfsu-gap');
    expect(summary(found)).toEqual([{ rule: 'tombstone-not-reconciled', name: 'a', count: 1 }]);
    expect(found[0]!.message).toMatch(/DeletedFinalStateUnknown/);
  });

  it('does not flag a tombstone followed by a reconcile of the key', () => {
    const { s } = vanishDuringGap(true);
    s.cluster.tick('100ms');
    s.reconcile({ kind: 'Foo', name: 'a', result: 'success', observedGeneration: null, observedResourceVersion: null });
    expect(findings(s.records, 'dfsu-gap')).toEqual([]);
  });

  it("does not flag a deletion the controller reconciled before the recorder's own relist found it gone", () => {
    // The controller's informer relisted first (its own 410), got the tombstone and reconciled the key.
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcile({ kind: 'Foo', name: 'a' });
    s.marker('gone', 'Foo', { code: 410 });
    c.delete('Foo', 'a');
    s.reconcile({ kind: 'Foo', name: 'a', observedGeneration: null, observedResourceVersion: null });
    s.listAndWatch('Foo');
    expect(findings(s.records, 'dfsu-gap')).toEqual([]);
  });

  it('accepts a reconcile of the controller owner as handling a deleted child', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Deployment');
    const owner = c.create('Foo', 'a', { spec: fooSpec() });
    s.deliver(
      c.create('Deployment', 'a-dep', {
        spec: { replicas: 1 },
        ownerReferences: [{ apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', name: 'a', uid: owner.object.metadata!.uid, controller: true, blockOwnerDeletion: true }],
      }),
    );
    s.reconcile({ kind: 'Foo', name: 'a' });
    s.marker('watch-closed', 'Deployment');
    c.delete('Deployment', 'a-dep');
    s.marker('gone', 'Deployment', { code: 410 });
    s.listAndWatch('Deployment');
    c.tick('50ms');
    s.reconcile({ kind: 'Foo', name: 'a' });
    expect(findings(s.records, 'dfsu-gap')).toEqual([]);
  });

  it('reports the tombstone itself as a warning when the session has no reconcile records', () => {
    const { s } = vanishDuringGap(false);
    const analysis = analyze(s.records, { annotate: true, config: { only: ['dfsu-gap'] } });
    expect(summary(analysis.findings)).toEqual([{ rule: 'tombstone', name: 'a', count: 1 }]);
    expect(analysis.findings[0]!.severity).toBe('warning');
    const listFinished = s.records.filter((r) => r.record === 'marker' && r.marker === 'list-finished').at(-1)!;
    expect(analysis.annotations.get(listFinished.seq)?.map((a) => a.tag)).toEqual(['tombstone']);
  });

  it("in the controller's own view (kreplay proxy) without reconciles, the tombstone is context: info, not an alarm", () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).marker('recorder-started', undefined, { origin: 'proxy' }).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.marker('watch-closed', 'Foo');
    c.delete('Foo', 'a');
    s.marker('gone', 'Foo', { code: 410 });
    s.listAndWatch('Foo');
    const found = findings(s.records, 'dfsu-gap');
    expect(summary(found)).toEqual([{ rule: 'tombstone', name: 'a', count: 1 }]);
    expect(found[0]!.severity).toBe('info');
    expect(found[0]!.message).toContain("controller's own informer was handed it");
  });

  it("in the controller's own view with its reconciles, a tombstone never reconciled is still the warning", () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).marker('recorder-started', undefined, { origin: 'proxy' }).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.reconcile({ kind: 'Foo', name: 'a' });
    s.marker('watch-closed', 'Foo');
    c.delete('Foo', 'a');
    s.marker('gone', 'Foo', { code: 410 });
    s.listAndWatch('Foo');
    const found = findings(s.records, 'dfsu-gap');
    expect(summary(found)).toEqual([{ rule: 'tombstone-not-reconciled', name: 'a', count: 1 }]);
    expect(found[0]!.severity).toBe('warning');
  });

  it('reports a DeletedFinalStateUnknown delivered to the handler and never reconciled', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const a = c.create('Foo', 'a', { spec: fooSpec() });
    s.reconcile({ kind: 'Foo', name: 'a' });
    s.handler({ kind: 'Foo', name: 'a', handler: 'delete', tombstone: true, uid: a.object.metadata!.uid!, resourceVersion: a.object.metadata!.resourceVersion! });
    expect(summary(findings(s.records, 'dfsu-gap'))).toEqual([{ rule: 'tombstone-not-reconciled', name: 'a', count: 1 }]);
  });

  it('does not flag objects deleted with a DELETED event, nor deletions hidden by a recorder restart', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    s.marker('recorder-started');
    c.delete('Foo', 'b');
    s.listAndWatch('Foo');
    expect(findings(s.records, 'dfsu-gap')).toEqual([]);
  });
});
