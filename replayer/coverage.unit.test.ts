import { describe, expect, it } from 'vitest';
import { findingKinds } from '../model/index.js';
import { analyze } from './analyze.js';
import { Cluster, fooSpec, SessionBuilder } from './testing/builder.js';

describe('coverage: what a session could show', () => {
  it('a watch-only session evaluates the watch kinds and says which it could not', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'foo-controller' }));
    const { coverage } = analyze(s.records).stats;
    expect(Object.keys(coverage).sort()).toEqual([...findingKinds].sort());
    expect(coverage['duplicate-event']).toEqual({ status: 'evaluated', missing: [] });
    expect(coverage['stuck-finalizer']?.status).toBe('evaluated');
    expect(coverage['stale-read']).toEqual({ status: 'not-evaluated', missing: ['needs reconcile records with the resourceVersion they read'] });
    expect(coverage['notfound-retry']?.status).toBe('not-evaluated');
    expect(coverage['hot-loop']).toEqual({ status: 'partly', missing: ['hot-reconcile needs reconcile records'] });
    expect(coverage['lost-event']?.missing).toEqual(['missed-write needs audit or API answers to compare the watch with']);
  });

  it("a proxy session names its streams as the controller's own view, and says where its reconciles would come from", () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).marker('recorder-started', undefined, { origin: 'proxy' }).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'foo-controller' }));
    const { coverage } = analyze(s.records).stats;
    expect(coverage['dfsu-gap']?.status).toBe('partly');
    expect(coverage['dfsu-gap']?.missing[0]).toMatch(/^tombstone-not-reconciled needs reconcile records \(the controller's own view, from kreplay proxy, .*kreplay proxy --ingest/);
    // A recording's streams are an observer's: nothing is said about a proxy.
    const other = new Cluster();
    const plain = new SessionBuilder(other).listAndWatch('Foo');
    plain.deliver(other.create('Foo', 'a', { spec: fooSpec() }, { manager: 'foo-controller' }));
    expect(analyze(plain.records).stats.coverage['dfsu-gap']?.missing).toEqual(['tombstone-not-reconciled needs reconcile records']);
  });

  it('an audit-only session has no watcher view: the watch kinds are not evaluated', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    s.api({ verb: 'create', kind: 'Foo', name: 'a', event: c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'manager' }), withResponse: true });
    const { coverage } = analyze(s.records).stats;
    for (const kind of ['duplicate-event', 'lost-event', 'dfsu-gap'] as const) expect(coverage[kind]?.status).toBe('not-evaluated');
    expect(coverage['notfound-retry']).toEqual({ status: 'partly', missing: ['reconcile-notfound needs reconcile records'] });
    expect(coverage['stuck-finalizer']?.status).toBe('evaluated');
  });

  it('a session with SDK reports and a watch evaluates everything but the audit comparisons', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const added = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }, { manager: 'foo-controller' }));
    s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: added.object.metadata!.resourceVersion!, observedGeneration: 1 });
    s.api({ verb: 'get', kind: 'Foo', name: 'b', code: 404 });
    const { coverage } = analyze(s.records).stats;
    const notFull = Object.entries(coverage).filter(([, c]) => c?.status !== 'evaluated').map(([kind]) => kind);
    expect(notFull).toEqual(['lost-event', 'hung-reconcile', 'cluster-wide-watch']);
  });
});
