import { describe, expect, it } from 'vitest';
import { Cluster, fooSpec } from './builder.js';

type Json = Record<string, unknown>;
const meta = (o: unknown) => (o as { metadata: Json }).metadata;
const nodePorts = (o: unknown) => ((o as { spec: { ports: Array<{ nodePort?: number }> } }).spec.ports ?? []).map((p) => p.nodePort);

describe('the fake API server answers as kube-apiserver does', () => {
  it('removing the last finalizer of a deleting object: answered as written at the previous RV, watchers get the last stored state at a new RV', () => {
    const c = new Cluster();
    c.create('Foo', 'a', { spec: fooSpec(), finalizers: ['example.com/cleanup'] });
    const deleting = c.delete('Foo', 'a', { after: '1s' });
    const rv = meta(deleting.object).resourceVersion;
    const watched = c.removeFinalizer('Foo', 'a', 'example.com/cleanup', { after: '3s' });
    expect(meta(c.lastResponse).resourceVersion).toBe(rv);
    expect(meta(c.lastResponse).finalizers).toBeUndefined();
    expect(watched.type).toBe('DELETED');
    expect(meta(watched.object).finalizers).toEqual(['example.com/cleanup']);
    expect(Number(meta(watched.object).resourceVersion)).toBe(Number(rv) + 1);
    expect(c.get('Foo', 'a')).toBeUndefined();
  });

  it('a DELETE that removes the object at once is answered with a Status naming its uid; a Pod answers with itself', () => {
    const c = new Cluster();
    const cm = c.create('ConfigMap', 'plain', { data: { a: 'b' } });
    c.delete('ConfigMap', 'plain');
    expect(c.lastResponse).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'plain', kind: 'configmaps', uid: meta(cm.object).uid } });
    c.create('Pod', 'p', { spec: { containers: [] } });
    const terminating = c.delete('Pod', 'p', { gracePeriodSeconds: 30, after: '1s' });
    expect(terminating.type).toBe('MODIFIED');
    expect(meta(terminating.object).deletionGracePeriodSeconds).toBe(30);
    expect(meta(terminating.object).deletionTimestamp).toBe('2025-03-01T10:00:31Z');
    expect(c.delete('Pod', 'p', { gracePeriodSeconds: 0 }).type).toBe('DELETED');
    expect(c.lastResponse?.kind).toBe('Pod');
  });

  it('a Namespace waits for its spec finalizer, emptied through finalize', () => {
    const c = new Cluster();
    c.create('Namespace', 'shop', { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    const terminating = c.delete('Namespace', 'shop');
    expect((terminating.object as unknown as { status: Json }).status.phase).toBe('Terminating');
    expect(meta(terminating.object).namespace).toBeUndefined();
    c.finalizeNamespace('shop');
    expect(c.delete('Namespace', 'shop').type).toBe('DELETED');
  });

  it('allocates nodePorts when omitted; on update v1.20+ patches them back, older servers allocate new ones', () => {
    const body = { spec: { type: 'NodePort', ports: [{ name: 'http', port: 80 }] } };
    const desired = (o: Json) => ((o.spec as Json).ports = [{ name: 'http', port: 80 }]);
    const modern = new Cluster();
    const first = nodePorts(modern.create('Service', 'web', body).object);
    expect(first[0]).toBeGreaterThanOrEqual(30000);
    expect(() => modern.update('Service', 'web', desired)).toThrow(/no-op write/);
    const old = new Cluster({ nodePortsOnUpdate: 'reallocate' });
    const before = nodePorts(old.create('Service', 'web', body).object);
    const after = nodePorts(old.update('Service', 'web', desired).object);
    expect(after[0]).not.toBe(before[0]);
    expect((old.get('Service', 'web') as unknown as { spec: Json }).spec.clusterIP).toMatch(/^10\.96\./);
  });

  it('refuses a write that changes nothing (the server would store nothing and send no event)', () => {
    const c = new Cluster();
    c.create('Foo', 'a', { spec: fooSpec() });
    expect(() => c.update('Foo', 'a', () => undefined)).toThrow(/no-op write/);
    expect(c.wouldChange('Foo', 'a', (o) => ((o.spec as Json).replicas = 2))).toBe(true);
  });

  it('writes metadata times to the second and sets no generation on kinds without one', () => {
    const c = new Cluster({ start: '2025-03-01T10:00:00.750Z' });
    const lease = c.create('Lease', 'l', { spec: { holderIdentity: 'x' } });
    expect(meta(lease.object).creationTimestamp).toBe('2025-03-01T10:00:00Z');
    expect(meta(lease.object).generation).toBeUndefined();
    expect(meta(c.create('Foo', 'f', { spec: fooSpec() }).object).generation).toBe(1);
  });
});
