// The fault controls do what they say, checked against what the real server sends.
// Every test leaves the control plane at its baseline (restart without options).
import { afterAll, describe, expect, it } from 'vitest';
import {
  compact,
  eventually,
  restartApiServer,
  restoreBaseline,
  rv,
  startEtcd,
  stopEtcd,
  useE2e,
  waitForReady,
  withoutRootCa,
  type WatchEvent,
} from './harness.js';

const e2e = useE2e('faults');

function configMapsPath(): string {
  return `/api/v1/namespaces/${e2e.namespace}/configmaps`;
}

async function createConfigMap(name: string): Promise<number> {
  const cm = await e2e.cluster.core.createNamespacedConfigMap({ namespace: e2e.namespace, body: { metadata: { name } } });
  return rv(cm.metadata?.resourceVersion);
}

async function watchFrom(resourceVersion: number): Promise<readonly WatchEvent[]> {
  const result = await e2e.cluster.http.watch(
    configMapsPath(),
    { resourceVersion: String(resourceVersion), allowWatchBookmarks: 'true', timeoutSeconds: '5' },
    { timeoutMs: 15_000, until: (events) => events.length > 0 },
  );
  return result.events;
}

function expectExpired(events: readonly WatchEvent[]): void {
  // Not an HTTP 410: a 200 stream whose first event is an ERROR carrying a 410 Status
  // (apiserver pkg/storage/cacher/cacher.go newErrWatcher, etcd3/watcher.go for storage).
  expect(events[0]).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
}

// If a test failed half-way, do not leave etcd stopped or the API server on odd flags.
afterAll(() => restoreBaseline());

describe('compaction', () => {
  it('compact(): a watch from an older resourceVersion gets the in-stream ERROR 410; a LIST at it gets HTTP 410', async () => {
    const old = await createConfigMap('before-compaction');
    await createConfigMap('after-old-rv');
    const compactedAt = await compact();
    expect(compactedAt).toBeGreaterThan(old);

    const events = await watchFrom(old);
    expectExpired(events);
    expect(events[0]?.object.message).toMatch(/too old resource version/);

    // A LIST pinned to the old revision goes to etcd, which no longer has it.
    const list = await e2e.cluster.http.request(
      'GET',
      `${configMapsPath()}?resourceVersion=${old}&resourceVersionMatch=Exact`,
    );
    expect(list.status).toBe(410);

    // From the current revision on, watching works again.
    const fresh = await e2e.cluster.http.json('GET', configMapsPath());
    const freshRv = (fresh as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const after = await e2e.cluster.http.watch(
      configMapsPath(),
      { resourceVersion: freshRv, timeoutSeconds: '10' },
      {
        timeoutMs: 15_000,
        onOpen: async () => void (await createConfigMap('after-compaction')),
        until: (ev) => ev.length > 0,
      },
    );
    expect(after.events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'after-compaction' } } });
  });

  it('compact without restart: the watch cache still serves old resourceVersions; with --watch-cache=false etcd answers 410', async () => {
    const old = await createConfigMap('cached-old');
    await createConfigMap('cached-new');
    await compact({ restartApiServer: false });
    // Served from the cache's memory: the next event after `old` is the second create.
    const cached = await watchFrom(old);
    expect(cached[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'cached-new' } } });

    await restartApiServer({ watchCache: false });
    const old2 = await createConfigMap('uncached-old');
    await createConfigMap('uncached-new');
    await compact({ restartApiServer: false });
    const uncached = await watchFrom(old2);
    expectExpired(uncached);
    await restartApiServer();
  });
});

describe('API server restarts and timeouts', () => {
  it('restartApiServer() ends open watches, and afterwards older resourceVersions are expired', async () => {
    const old = await createConfigMap('before-restart');
    const from = await createConfigMap('watched-from');
    const result = await e2e.cluster.http.watch(
      configMapsPath(),
      { resourceVersion: String(from), allowWatchBookmarks: 'true', timeoutSeconds: '120' },
      { timeoutMs: 90_000, onOpen: () => restartApiServer() },
    );
    expect(result.endedBy).toBe('server');
    expect(withoutRootCa(result.events).filter((e) => e.type !== 'BOOKMARK')).toEqual([]);
    expectExpired(await watchFrom(old));
  });

  it('minRequestTimeoutSeconds: the server ends a watch without timeoutSeconds after [n, 2n) s, with a bookmark first', async () => {
    await restartApiServer({ minRequestTimeoutSeconds: 4 });
    try {
      const list = (await e2e.cluster.http.json('GET', configMapsPath())) as { metadata: { resourceVersion: string } };
      // The pre-deadline bookmark is only sent if the watch cache has moved past the
      // watcher's resourceVersion (cache_watcher.go process: event.ResourceVersion >
      // resourceVersion), hence one write while the watch is open.
      const result = await e2e.cluster.http.watch(
        configMapsPath(),
        { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: 'true' },
        { timeoutMs: 30_000, onOpen: async () => void (await createConfigMap('during-short-watch')) },
      );
      expect(result.endedBy).toBe('server');
      expect(result.elapsedMs).toBeGreaterThanOrEqual(3_500);
      expect(result.elapsedMs).toBeLessThan(10_000);
      const types = withoutRootCa(result.events).map((e) => e.type);
      expect(types[0]).toBe('ADDED');
      // One bookmark 2 s before the deadline; the 1 s timer buckets can make it two.
      expect(types.length).toBeGreaterThan(1);
      expect(types.slice(1).every((t) => t === 'BOOKMARK')).toBe(true);
    } finally {
      await restartApiServer();
    }
  });
});

describe('etcd outage', () => {
  it('stopEtcd() makes /readyz fail; startEtcd() brings the server back with its data', async () => {
    const before = await createConfigMap('before-outage');
    await stopEtcd();
    await eventually(async () => {
      const res = await e2e.cluster.http.request('GET', '/readyz?verbose');
      if (res.status === 200) throw new Error('still ready');
      expect(res.body).toMatch(/\[-\]etcd/);
    }, 30_000);
    await startEtcd();
    await waitForReady(e2e.cluster);
    const cm = await eventually(() =>
      e2e.cluster.core.readNamespacedConfigMap({ name: 'before-outage', namespace: e2e.namespace }),
    );
    expect(rv(cm.metadata?.resourceVersion)).toBe(before);
    expect(await createConfigMap('after-outage')).toBeGreaterThan(before);
  });
});
