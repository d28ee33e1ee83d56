import { describe, expect, it } from 'vitest';
import { deployment } from '../test/builders.js';
import { changeAuthor, deleterOf, diffObjects } from './diff.js';
import { evaluateFieldPath, parseFieldPath } from './watchpoint.js';

const v1 = deployment({ name: 'web', resourceVersion: '100', readyReplicas: 1, at: '2026-11-25T10:00:00Z' });
const v2 = deployment({ name: 'web', resourceVersion: '101', readyReplicas: 3, at: '2026-11-25T10:00:07Z' });

describe('diffObjects', () => {
  it('separates spec, status and metadata, and hides managedFields unless asked', () => {
    const diff = diffObjects(v1, v2);
    expect(diff.sections.spec).toEqual([]);
    expect(diff.sections.metadata).toEqual([{ path: '.metadata.resourceVersion', kind: 'changed', before: '100', after: '101' }]);
    expect(diff.sections.status).toEqual([
      { path: '.status.readyReplicas', kind: 'changed', before: 1, after: 3 },
      { path: '.status.conditions[?type=Available].lastUpdateTime', kind: 'changed', before: '2026-11-25T10:00:00Z', after: '2026-11-25T10:00:07Z' },
      { path: '.status.conditions[?type=Progressing].lastUpdateTime', kind: 'changed', before: '2026-11-25T10:00:00Z', after: '2026-11-25T10:00:07Z' },
    ]);
    expect(diff.hiddenManagedFields).toBe(1);
    expect(diff.count).toBe(4);

    const withManaged = diffObjects(v1, v2, { includeManagedFields: true });
    expect(withManaged.sections.metadata.map((e) => e.path)).toContain('.metadata.managedFields[1].time');
    expect(withManaged.hiddenManagedFields).toBe(0);
  });

  it('matches list elements by merge key so a reordered condition is not a change', () => {
    const reordered = structuredClone(v1) as typeof v1 & { status: { conditions: unknown[] } };
    reordered.status.conditions.reverse();
    expect(diffObjects(v1, reordered).count).toBe(0);
  });

  it('reports added and removed subtrees once, with paths a watchpoint can evaluate', () => {
    const before = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { 'app.kubernetes.io/name': 'a' } }, data: { 'a.yaml': 'x' } };
    const after = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['example.com/cleanup'] }, data: { 'a.yaml': 'y', 'b.yaml': 'z' } };
    const diff = diffObjects(before, after);
    expect(diff.sections.metadata).toEqual([
      { path: '.metadata.finalizers', kind: 'added', after: ['example.com/cleanup'] },
      { path: '.metadata.labels', kind: 'removed', before: { 'app.kubernetes.io/name': 'a' } },
    ]);
    expect(diff.sections.other).toEqual([
      { path: '.data["a.yaml"]', kind: 'changed', before: 'x', after: 'y' },
      { path: '.data["b.yaml"]', kind: 'added', after: 'z' },
    ]);
    for (const entry of diff.sections.other) {
      const path = parseFieldPath(entry.path);
      expect(path.ok && evaluateFieldPath(path.path, after)).toEqual({ found: true, value: entry.after });
    }
  });

  it('diffs lists without a merge key by index', () => {
    const a = { spec: { args: ['--a', '--b'] } };
    const b = { spec: { args: ['--a', '--c', '--d'] } };
    expect(diffObjects(a, b).sections.spec).toEqual([
      { path: '.spec.args[1]', kind: 'changed', before: '--b', after: '--c' },
      { path: '.spec.args[2]', kind: 'added', after: '--d' },
    ]);
  });

  it('treats a missing version as created or deleted', () => {
    const created = diffObjects(undefined, v1);
    expect(created.created).toBe(true);
    expect(created.sections.spec).toEqual([{ path: '.spec', kind: 'added', after: v1.spec }]);
    expect(diffObjects(v1, null).deleted).toBe(true);
  });
});

describe('changeAuthor', () => {
  it('names the manager whose managedFields entry changed since the previous version', () => {
    expect(changeAuthor(v2, v1)).toEqual({ manager: 'kube-controller-manager', operation: 'Update', subresource: 'status', time: '2026-11-25T10:00:07Z', basis: 'changed-entry' });
  });

  it('falls back to the newest entry without a previous version, and is undefined without managedFields', () => {
    expect(changeAuthor(v1)?.manager).toBe('kube-controller-manager');
    expect(changeAuthor(v1)?.basis).toBe('newest-time');
    expect(changeAuthor({ metadata: { name: 'x' } })).toBeUndefined();
  });
});

describe('deleterOf', () => {
  const del = (at: string | null, actor: string, seq: number, code = 200) => ({
    record: 'api' as const, seq, observedAt: at, origin: 'audit' as const, actor, byController: false, verb: 'delete' as const, code,
    object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'default', name: 'web' },
  });

  it('is the user of the newest successful DELETE at or before the event, allowing 2 s of clock skew', () => {
    const event = { seq: 10, observedAt: '2026-11-25T10:00:05.000Z' };
    expect(deleterOf(event, [del('2026-11-25T10:00:01Z', 'alice', 3), del('2026-11-25T10:00:04Z', 'bob', 12), del('2026-11-25T10:00:06.500Z', 'carol', 13)])?.actor).toBe('carol');
    expect(deleterOf(event, [del('2026-11-25T10:00:01Z', 'alice', 3), del('2026-11-25T10:00:08Z', 'later', 14)])?.actor).toBe('alice');
    expect(deleterOf(event, [del('2026-11-25T10:00:04Z', 'denied', 3, 403)])).toBeNull();
    // Without times, order alone.
    expect(deleterOf({ seq: 10, observedAt: null }, [del(null, 'alice', 3), del(null, 'after', 11)])?.actor).toBe('alice');
  });
});
