// What a watch really delivers, read straight off the wire (no informer library in between).
import { describe, expect, it } from 'vitest';
import { rv, useE2e, withoutRootCa, type WatchEvent } from './harness.js';

const e2e = useE2e('watch');

function configMapsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/configmaps`;
}

async function listResourceVersion(namespace: string): Promise<string> {
  const list = (await e2e.cluster.http.json('GET', configMapsPath(namespace))) as { metadata: { resourceVersion: string } };
  return list.metadata.resourceVersion;
}


function summary(events: readonly WatchEvent[]): string[] {
  return events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''} ${e.object.metadata?.resourceVersion ?? ''}`);
}

describe('watch', () => {
  it('delivers ADDED, MODIFIED, DELETED and a BOOKMARK, with increasing resourceVersions', async () => {
    const { core, http } = e2e.cluster;
    const namespace = e2e.namespace;
    const from = await listResourceVersion(namespace);
    // The watch cache sends a bookmark 2 s before the watch's deadline (and otherwise only
    // once a minute): apiserver pkg/storage/cacher/cache_watcher.go nextBookmarkTime. A
    // 6 s timeoutSeconds therefore brings one at ~4 s and the server closes the stream at 6 s.
    const result = await http.watch(
      configMapsPath(namespace),
      { resourceVersion: from, allowWatchBookmarks: 'true', timeoutSeconds: '6' },
      {
        timeoutMs: 15_000,
        onOpen: async () => {
          const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'w' }, data: { v: '1' } } });
          await core.replaceNamespacedConfigMap({ name: 'w', namespace, body: { ...cm, data: { v: '2' } } });
          await core.deleteNamespacedConfigMap({ name: 'w', namespace });
        },
      },
    );

    expect(result.endedBy, summary(result.events).join('\n')).toBe('server');
    expect(result.elapsedMs).toBeLessThan(10_000);
    const events = withoutRootCa(result.events);
    const types = events.map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(types.slice(3).every((t) => t === 'BOOKMARK')).toBe(true);
    expect(types).toContain('BOOKMARK');

    const changes = events.slice(0, 3);
    expect(changes.map((e) => e.object.metadata?.name)).toEqual(['w', 'w', 'w']);
    const rvs = events.map((e) => rv(e.object.metadata?.resourceVersion));
    expect(rv(from)).toBeLessThan(rvs[0] ?? 0);
    for (let i = 1; i < 3; i++) expect(rvs[i]).toBeGreaterThan(rvs[i - 1] ?? Infinity);
    for (let i = 3; i < rvs.length; i++) expect(rvs[i]).toBeGreaterThanOrEqual(rvs[i - 1] ?? Infinity);

    // A bookmark is an empty object of the watched kind carrying only the resourceVersion.
    const bookmark = events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object.kind).toBe('ConfigMap');
    expect(bookmark?.object.metadata?.name).toBeUndefined();
  });

  it('streams the initial state and ends it with the initial-events-end bookmark (sendInitialEvents)', async () => {
    const { core, http } = e2e.cluster;
    const namespace = e2e.namespace;
    for (const name of ['init-a', 'init-b']) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name } } });
    }
    // Needs etcd >= 3.4.31 (RequestWatchProgress); Debian's 3.4.23 would fail this.
    const result = await http.watch(
      configMapsPath(namespace),
      {
        sendInitialEvents: 'true',
        resourceVersionMatch: 'NotOlderThan',
        allowWatchBookmarks: 'true',
        timeoutSeconds: '30',
      },
      {
        timeoutMs: 20_000,
        until: (events) => events.some((e) => e.type === 'BOOKMARK' && e.object.metadata?.annotations !== undefined),
      },
    );
    expect(result.endedBy, summary(result.events).join('\n')).toBe('until');
    const added = withoutRootCa(result.events).filter((e) => e.type === 'ADDED').map((e) => e.object.metadata?.name);
    expect(added.sort()).toEqual(['init-a', 'init-b']);
    const last = result.events.at(-1);
    expect(last?.type).toBe('BOOKMARK');
    expect(last?.object.metadata?.annotations?.['k8s.io/initial-events-end']).toBe('true');
    const lastAdded = Math.max(...result.events.filter((e) => e.type === 'ADDED').map((e) => rv(e.object.metadata?.resourceVersion)));
    expect(rv(last?.object.metadata?.resourceVersion)).toBeGreaterThanOrEqual(lastAdded);
  });
});
