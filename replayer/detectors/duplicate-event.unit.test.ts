import { describe, expect, it } from 'vitest';
import { analyze } from '../analyze.js';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

describe('duplicate-event', () => {
  it('flags a watch resumed from a stale resourceVersion that re-sends history', () => {
    // given a watched Foo modified twice
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const added = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const m1 = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)));
    const m2 = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 3)));
    // when the watch restarts from the RV of the ADDED event and the server replays the two MODIFIEDs
    s.marker('watch-closed', 'Foo');
    s.watchStarted('Foo', added.object.metadata!.resourceVersion!);
    s.deliver(m1);
    s.deliver(m2);
    // then one finding groups both duplicates and names the stale resume
    const found = findings(s.records, 'duplicate-event');
    expect(summary(found)).toEqual([{ rule: 'stale-resume', name: 'a', count: 2 }]);
    expect(found[0]!.resourceVersions).toContain(m1.object.metadata!.resourceVersion);
    expect(found[0]!.message).toMatch(/resumed/);
    expect(found[0]!.evidence.map((e) => e.seq)).toContain(s.records.length);
  });

  it('flags the same event delivered twice with no explanation', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    const m = s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)));
    s.deliver(m);
    expect(summary(findings(s.records, 'duplicate-event'))).toEqual([{ rule: 'redelivered', name: 'a', count: 1 }]);
  });

  it('does not flag a relist that re-delivers the current versions, and marks them as re-deliveries', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.create('Foo', 'b', { spec: fooSpec() }));
    s.marker('gone', 'Foo', { code: 410, resourceVersion: '1001' });
    s.listAndWatch('Foo');
    const analysis = analyze(s.records, { annotate: true, config: { only: ['duplicate-event'] } });
    expect(analysis.findings).toEqual([]);
    const relistItems = s.records.filter((r) => r.record === 'watch' && r.origin === 'relist').map((r) => r.seq);
    expect(relistItems.length).toBe(2);
    for (const seq of relistItems) expect(analysis.annotations.get(seq)?.map((a) => a.tag)).toContain('redelivery');
  });

  it('does not flag an informer resync', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.marker('resync', 'Foo');
    s.deliver({ type: 'MODIFIED', object: a.object });
    s.handler({ kind: 'Foo', name: 'a', handler: 'update', resourceVersion: a.object.metadata!.resourceVersion!, oldResourceVersion: a.object.metadata!.resourceVersion! });
    const analysis = analyze(s.records, { annotate: true, config: { only: ['duplicate-event'] } });
    expect(analysis.findings).toEqual([]);
    expect(analysis.annotations.get(s.records.length)?.map((a) => a.tag)).toEqual(['resync']);
  });

  it('does not flag a re-created object with the same name', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    s.deliver(c.delete('Foo', 'a'));
    s.deliver(c.create('Foo', 'a', { spec: fooSpec() }));
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });

  it('does not flag a kubectl watch dump that restarted (new listing of the current versions)', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c);
    const a = s.deliver(c.create('Foo', 'a', { spec: fooSpec() }), 'import', { observedAt: null });
    s.deliver(c.update('Foo', 'a', (o) => ((o.spec as { replicas: number }).replicas = 2)), 'import', { observedAt: null });
    s.deliver({ type: 'ADDED', object: c.get('Foo', 'a')! }, 'import', { observedAt: null });
    void a;
    expect(findings(s.records, 'duplicate-event')).toEqual([]);
  });
});
