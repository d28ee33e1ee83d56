import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec, SessionBuilder } from '../testing/builder.js';
import { findings, summary } from '../testing/expect.js';

type Spec = { replicas: number };
const scale = (n: number) => (o: Record<string, unknown>) => ((o.spec as Spec).replicas = n);
const rvOf = (e: { object: { metadata?: { resourceVersion?: string } } }) => e.object.metadata!.resourceVersion!;

/** The controller is up and has reconciled its objects once. */
function running(names: string[]): { c: Cluster; s: SessionBuilder } {
  const c = new Cluster();
  for (const name of names) c.create('Foo', name, { spec: fooSpec() });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  for (const name of names) s.reconcile({ kind: 'Foo', name });
  return { c, s };
}

describe('reconcile-lag', () => {
  it('flags changes that wait longer and longer for their reconcile (a blocked event handler)', () => {
    const names = ['a', 'b', 'c', 'd'];
    const { c, s } = running(names);
    // A spec change every 5s; the event handler blocks 15s per event before it enqueues the key, so each enqueue
    // comes later than the one before. The single worker is fast and reads the newest version from the cache.
    const changes: { at: number; name: string; rv: string }[] = [];
    for (let k = 0; k < 16; k++) {
      const name = names[k % names.length]!;
      const e = s.deliver(c.update('Foo', name, scale(k + 2), { after: '5s' }));
      changes.push({ at: c.now, name, rv: rvOf(e) });
    }
    let handlerFree = 0;
    const enqueues = changes.map((ch) => (handlerFree = Math.max(ch.at, handlerFree) + 15_000));
    enqueues.forEach((at, k) => {
      const name = changes[k]!.name;
      const newest = changes.filter((ch) => ch.name === name && ch.at <= at).at(-1)!;
      s.reconcile({ kind: 'Foo', name, startedAt: at, observedResourceVersion: newest.rv });
    });
    const found = findings(s.records, 'reconcile-lag');
    expect(found.map((f) => f.rule)).toEqual(['sustained-lag']);
    expect(found[0]!.object.name).toBe(found[0]!.message.match(/for Foo default\/(\w+)/)![1]);
    expect(found[0]!.severity).toBe('warning');
    expect(found[0]!.blame).toEqual({ actor: 'foo-controller', via: 'sdk', role: 'controller' });
    expect(found[0]!.message).toMatch(/change\(s\) of 4 object\(s\) more than 30s after they reached it, growing from/);
  });

  it('does not flag a burst of creations worked off by one worker', () => {
    const { c, s } = running(['seed']);
    const created = [];
    for (let i = 0; i < 300; i++) created.push(s.deliver(c.create('Foo', `w-${i}`, { spec: fooSpec() })));
    const t0 = c.now;
    created.forEach((e, i) => s.reconcile({ kind: 'Foo', name: e.object.metadata!.name!, startedAt: t0 + 200 * i, observedResourceVersion: rvOf(e), duration: '190ms' }));
    expect(findings(s.records, 'reconcile-lag')).toEqual([]);
  });

  it('does not count many changes collapsed into one reconcile, nor waiting for the running reconcile of the key', () => {
    const { c, s } = running(['a']);
    for (let round = 0; round < 10; round++) {
      // A slow reconcile (50s) runs while the object changes ten times; the next one reads them all.
      const started = c.now;
      let last = '';
      for (let i = 0; i < 10; i++) last = rvOf(s.deliver(c.update('Foo', 'a', scale(round * 10 + i + 2), { after: '4s' })));
      c.now = started + 50_000;
      s.reconcile({ kind: 'Foo', name: 'a', startedAt: started, duration: '50s', observedResourceVersion: String(Number(last) - 10) });
      c.tick('10ms');
      s.reconcile({ kind: 'Foo', name: 'a', observedResourceVersion: last });
    }
    expect(findings(s.records, 'reconcile-lag')).toEqual([]);
  });

  it('does not wait for a reconcile after a status-only write (GenerationChangedPredicate drops it)', () => {
    const { c, s } = running(['a', 'b', 'c']);
    for (let k = 0; k < 20; k++) {
      s.deliver(c.update('Foo', ['a', 'b', 'c'][k % 3]!, (o) => (o.status = { n: k }), { subresource: 'status', manager: 'foo-controller', after: '10s' }));
    }
    c.tick('5m');
    for (const name of ['a', 'b', 'c']) s.reconcile({ kind: 'Foo', name });
    expect(findings(s.records, 'reconcile-lag')).toEqual([]);
  });

  it('takes the earlier of the handler report and the watch delivery, and without observedResourceVersion the next reconcile handles it', () => {
    const names = Array.from({ length: 10 }, (_, k) => `o-${k}`);
    const { c, s } = running(names);
    const arrived: { name: string; at: number }[] = [];
    for (const name of names) {
      const e = c.update('Foo', name, scale(2), { after: '6s' });
      s.handler({ kind: 'Foo', name, handler: 'update', resourceVersion: rvOf(e), oldResourceVersion: String(Number(rvOf(e)) - 1) });
      arrived.push({ name, at: c.now + s.latency });
      c.tick('2s');
      s.deliver(e);
    }
    arrived.forEach((p, k) => s.reconcile({ kind: 'Foo', name: p.name, startedAt: p.at + 35_000 + 3_000 * k, observedResourceVersion: null }));
    const found = findings(s.records, 'reconcile-lag');
    expect(summary(found)).toEqual([{ rule: 'sustained-lag', name: 'o-9', count: 10 }]);
    expect(found[0]!.message).toMatch(/growing from 35s to 1m02s.*longest wait was 1m02s.*informer handed the changes over on time/);
  });

  it('ignores kinds the controller does not reconcile and changes before it reported anything', () => {
    const c = new Cluster();
    const s = new SessionBuilder(c).listAndWatch('Foo');
    for (let k = 0; k < 10; k++) s.deliver(c.create('Foo', `x-${k}`, { spec: fooSpec() }, { after: '10s' }));
    c.tick('5m');
    for (let k = 0; k < 10; k++) s.reconcile({ kind: 'Foo', name: `x-${k}` });
    expect(findings(s.records, 'reconcile-lag')).toEqual([]);
  });
});
