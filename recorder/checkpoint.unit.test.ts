import { describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { resumePointOf, watchKey } from './checkpoint.js';

const base = { observedAt: null, group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'ns', generation: null } as const;

describe('watch checkpoints', () => {
  it('name a watch by what decides the objects it sees: group, version, resource, namespace, selectors', () => {
    expect(watchKey({ group: '', version: 'v1', resource: 'configmaps', namespace: null })).toBe('v1/configmaps@*');
    expect(watchKey({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'prod' })).toBe('apps/v1/deployments@prod');
    const selected = watchKey({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'prod', labelSelector: 'app=web', fieldSelector: 'metadata.name=x' });
    expect(selected).toBe('apps/v1/deployments@prod?labelSelector=app%3Dweb&fieldSelector=metadata.name%3Dx');
    // A changed selector is another watch: it lists rather than resume where the old one stopped.
    expect(watchKey({ group: 'apps', version: 'v1', resource: 'deployments', namespace: 'prod', labelSelector: 'app=api' })).not.toBe(selected);
  });

  it('move with watch events and bookmarks and with list-finished, never with list items, tombstones or other markers', () => {
    const records: [SessionRecord, string | undefined][] = [
      [{ ...base, record: 'watch', origin: 'watch', type: 'MODIFIED', name: 'a', uid: 'u', resourceVersion: '7', object: { metadata: { name: 'a' } } }, '7'],
      [{ ...base, record: 'watch', origin: 'watch', type: 'BOOKMARK', name: null, uid: null, resourceVersion: '9', object: null }, '9'],
      [{ ...base, record: 'watch', origin: 'relist', type: 'ADDED', name: 'a', uid: 'u', resourceVersion: '5', object: { metadata: { name: 'a' } } }, undefined],
      [{ ...base, record: 'watch', origin: 'relist', type: 'DELETED', name: 'b', uid: 'v', resourceVersion: '12', object: { metadata: { name: 'b' } } }, undefined],
      [{ record: 'marker', observedAt: null, origin: 'relist', marker: 'list-finished', resourceVersion: '12' }, '12'],
      [{ record: 'marker', observedAt: null, origin: 'watch', marker: 'watch-started', resourceVersion: '12' }, undefined],
      [{ record: 'marker', observedAt: null, origin: 'watch', marker: 'gone', resourceVersion: '3' }, undefined],
    ];
    for (const [record, expected] of records) expect(resumePointOf(record), JSON.stringify(record)).toBe(expected);
  });
});
