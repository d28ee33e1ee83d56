import { describe, expect, it } from 'vitest';
import type { KubeObject, StoredRecord } from '../model/index.js';
import { diffSessions, maskObject } from './session-diff.js';

let seq = 0;
function event(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject & { metadata: { name: string; uid: string; namespace?: string } }, kind = 'ConfigMap'): StoredRecord {
  return {
    seq: ++seq, record: 'watch', observedAt: '2026-01-01T00:00:00.000Z', origin: 'watch', group: '', version: 'v1', resource: 'configmaps', kind, type,
    namespace: object.metadata.namespace ?? 'ns', name: object.metadata.name, uid: object.metadata.uid, resourceVersion: String(seq), generation: null, object,
  };
}
const cm = (name: string, uid: string, data: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid, resourceVersion: String(seq + 1), creationTimestamp: `2026-01-01T00:00:0${uid.length % 10}Z`, ...extra }, data,
});

describe('diffSessions', () => {
  it('two runs that end the same are the same, whatever their uids, RVs, timestamps and generated names', () => {
    const a = [event('ADDED', cm('a', 'u1', { k: '1' })), event('MODIFIED', cm('a', 'u1', { k: '2' })), event('ADDED', cm('job-x7k2p', 'u2', { k: '1' }, { generateName: 'job-' })), event('ADDED', cm('gone', 'u3', {})), event('DELETED', cm('gone', 'u3', {}))];
    const b = [event('ADDED', cm('a', 'v1-other', { k: '2' })), event('ADDED', cm('job-q9zzt', 'v2-other', { k: '1' }, { generateName: 'job-' }))];
    const diff = diffSessions(a, b);
    expect(diff).toMatchObject({ same: true, onlyInA: [], onlyInB: [], changed: [], equal: 2 });
  });

  it('names the objects only one run ends with and the fields that differ', () => {
    const a = [event('ADDED', cm('kept', 'u1', { size: '3' })), event('ADDED', cm('leaked', 'u2', {}))];
    const b = [event('ADDED', cm('kept', 'w1', { size: '4' })), event('ADDED', cm('new', 'w3', {}))];
    const diff = diffSessions(a, b);
    expect(diff.same).toBe(false);
    expect(diff.onlyInA.map((r) => r.name)).toEqual(['leaked']);
    expect(diff.onlyInB.map((r) => r.name)).toEqual(['new']);
    expect(diff.changed).toEqual([{ object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'kept' }, entries: [{ path: '.data.size', kind: 'changed', before: '3', after: '4' }] }]);
  });

  it('masks given paths, maps namespaces, and compares only kinds both sessions watched', () => {
    const a = [event('ADDED', cm('a', 'u1', { size: '1', note: 'x' }, { namespace: 'run-a' })), event('ADDED', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', uid: 'u9', namespace: 'run-a' } }, 'Secret')];
    const b = [event('ADDED', cm('a', 'w1', { size: '1', note: 'y' }))];
    expect(diffSessions(a, b, { namespaceMap: { 'run-a': 'ns' } }).changed).toHaveLength(1);
    const masked = diffSessions(a, b, { namespaceMap: { 'run-a': 'ns' }, masks: ['data.note'] });
    expect(masked.same).toBe(true);
    expect(masked.notCompared).toEqual({ a: ['/Secret'], b: [] });
    expect(diffSessions(a, b, { masks: ['data.note'] }).same).toBe(false);
  });

  it('without the default masks, what always differs is a difference', () => {
    const a = [event('ADDED', cm('a', 'u1', { k: '1' }))];
    const b = [event('ADDED', cm('a', 'u22', { k: '1' }))];
    expect(diffSessions(a, b).same).toBe(true);
    expect(diffSessions(a, b, { noDefaultMasks: true }).changed[0]!.entries.map((e) => e.path)).toEqual(expect.arrayContaining(['.metadata.uid', '.metadata.resourceVersion']));
  });

  it('masks every RFC 3339 timestamp and owner uids, not other strings', () => {
    const masked = maskObject({ metadata: { name: 'x', ownerReferences: [{ name: 'o', uid: 'abc' }] }, status: { conditions: [{ type: 'Ready', lastTransitionTime: '2026-01-01T10:00:00Z', message: 'ok at 10:00' }] } });
    expect(masked).toEqual({ metadata: { name: 'x', ownerReferences: [{ name: 'o' }] }, status: { conditions: [{ type: 'Ready', lastTransitionTime: '<masked>', message: 'ok at 10:00' }] } });
  });
});

describe('diffSessions and relists', () => {
  it('an object a later list no longer holds is gone, as it is for the informer that listed', () => {
    const marker = (m: 'list-started' | 'list-finished'): StoredRecord =>
      ({ seq: ++seq, record: 'marker', observedAt: null, origin: 'proxy', marker: m, group: '', version: 'v1', resource: 'configmaps', namespace: 'ns' }) as StoredRecord;
    const relisted = [event('ADDED', cm('kept', 'u1', {})), event('ADDED', cm('vanished', 'u2', {})), marker('list-started'), event('ADDED', cm('kept', 'u1', {})), marker('list-finished')];
    const plain = [event('ADDED', cm('kept', 'w1', {}))];
    expect(diffSessions(relisted, plain).same).toBe(true);
    expect(diffSessions(relisted.slice(0, 2), plain).onlyInA.map((r) => r.name)).toEqual(['vanished']);
  });
});
