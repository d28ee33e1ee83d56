import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';
import { guessKind } from '../../importers/kinds.js';

describe('notfound-retry', () => {
  it('flags the controller getting 404 again and again after the object was deleted', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    for (const verb of ['update', 'get', 'update', 'get'] as const) {
      c.tick('200ms');
      s.api({ verb, kind: 'Foo', name: 'a', code: 404, subresource: verb === 'update' ? 'status' : null });
    }
    const found = findings(s.records, 'notfound-retry');
    expect(summary(found)).toEqual([{ rule: 'api-404', name: 'a', count: 4 }]);
    expect(found[0]!.message).toMatch(/After Foo default\/a was deleted/);
  });

  it('joins a Metadata-level audit record to its object when the kind was guessed from the plural (Webapp for WebApp)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('WebApp');
    s.deliver(c.create('WebApp', 'a', { spec: { replicas: 1 } }));
    s.deliver(c.delete('WebApp', 'a'));
    for (let i = 0; i < 4; i++) {
      c.tick('200ms');
      const record = s.api({ verb: 'get', kind: 'WebApp', name: 'a', code: 404 });
      // What `kreplay import` of an audit log at level Metadata can know of a custom resource: its plural.
      if (record.record === 'api') record.object = { ...record.object, kind: guessKind('webapps') };
    }
    const found = findings(s.records, 'notfound-retry');
    expect(summary(found)).toEqual([{ rule: 'api-404', name: 'a', count: 4 }]);
    expect(found[0]!.object.kind).toBe('WebApp');
    expect(found[0]!.message).toMatch(/After WebApp default\/a was deleted/);
  });

  it("in the controller's own view, counts only the 404s after its informer had the object gone", () => {
    const run = (deliverDelete: 'before' | 'after') => {
      const c = new Cluster();
      const s = new SessionBuilder(c).marker('recorder-started', undefined, { origin: 'proxy' }).listAndWatch('Foo');
      s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
      const deleted = c.delete('Foo', 'a');
      if (deliverDelete === 'before') s.deliver(deleted);
      // Status writes from the cache: while the watch is behind they are what a correct controller sends.
      for (let i = 0; i < 5; i++) s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404, subresource: 'status', origin: 'proxy' });
      if (deliverDelete === 'after') s.deliver(deleted);
      return summary(findings(s.records, 'notfound-retry'));
    };
    expect(run('after')).toEqual([]);
    expect(run('before')).toEqual([{ rule: 'api-404', name: 'a', count: 5 }]);
  });

  it('does not count 404 GETs of an object that never existed (probe before create), nor others’ requests', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    for (let i = 0; i < 5; i++) s.api({ verb: 'get', kind: 'Foo', name: 'child', code: 404 });
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    for (let i = 0; i < 5; i++) s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404, byController: false, actor: 'alice' });
    expect(findings(s.records, 'notfound-retry')).toEqual([]);
  });

  it('does not flag a single 404 on a write racing the deletion', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404, subresource: 'status' });
    s.reconcile({ kind: 'Foo', name: 'a', result: 'success' });
    expect(findings(s.records, 'notfound-retry')).toEqual([]);
  });

  it('flags reconciles that end in NotFound and are requeued (IsNotFound treated as failure)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    for (let i = 0; i < 6; i++) {
      c.tick('1s');
      s.reconcile({ kind: 'Foo', name: 'gone', result: 'error', errorReason: 'NotFound', observedGeneration: null, observedResourceVersion: null });
    }
    expect(summary(findings(s.records, 'notfound-retry'))).toEqual([{ rule: 'reconcile-notfound', name: 'gone', count: 6 }]);
  });

  it('resets when the object is created again', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404 });
    s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404 });
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.api({ verb: 'update', kind: 'Foo', name: 'a', code: 404 });
    expect(findings(s.records, 'notfound-retry')).toEqual([]);
  });
});
