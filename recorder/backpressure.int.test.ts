import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MarkerRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { FakeApiServer, configMaps } from './fake-apiserver.js';
import { KubeClient, connectionFromConfig } from './kube-client.js';
import { createLogger } from './log.js';
import { RecorderMetrics } from './metrics.js';
import { fastBackoff, kubeConfigFor, waitFor } from './test-helpers.js';
import { WatchSupervisor } from './watch-supervisor.js';
import { Writer } from './writer.js';

const tempDir = useTempDir();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Blocks the thread for `ms`, as a commit on a disk that cannot keep up does (better-sqlite3 is synchronous). */
function slowDisk(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('back-pressure: a disk that cannot keep up, on a real SQLite file', () => {
  it('stops reading the watch with memory bounded, says so, and when the server expires the watch writes a gap naming what was not recorded', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    cleanups.push(() => store.close());
    const session = store.createSession({ name: 's', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
    const append = store.append.bind(store);
    let commitMs = 0;
    store.append = (sessionId, records, checkpoints) => {
      if (commitMs) slowDisk(commitMs);
      return append(sessionId, records, checkpoints);
    };
    const metrics = new RecorderMetrics({ processMetrics: false });
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (line) => lines.push(line) });
    const queueSize = 20;
    const writer = new Writer({ store, sessionId: session.id, flushIntervalMs: 10, batchSize: 10, queueSize, metrics, log });
    cleanups.push(() => writer.close());

    const fake = new FakeApiServer([configMaps]);
    const url = await fake.start();
    const client = new KubeClient(await connectionFromConfig(kubeConfigFor(url)));
    cleanups.push(() => fake.close(), () => client.close());
    const supervisor = new WatchSupervisor({
      client,
      spec: { group: '', version: 'v1', resource: 'configmaps', namespace: 'ns1' },
      sink: writer,
      settings: { pageSize: 500, backoff: fastBackoff, inactivityTimeoutMs: 5_000, watchTimeoutSeconds: 60, readIntervalMs: 0 },
      metrics,
      log,
      random: () => 0,
    });
    cleanups.push(() => supervisor.stop());
    supervisor.start();
    await waitFor(() => supervisor.synced && fake.openWatches === 1, 5_000, 'sync');

    // The disk slows to 30 ms a commit of at most 10 records (~330 records/s) and 2,000 updates arrive at once.
    commitMs = 30;
    let deepest = 0;
    const sampler = setInterval(() => (deepest = Math.max(deepest, writer.depth)), 1);
    cleanups.push(() => clearInterval(sampler));
    for (let i = 0; i < 2_000; i += 1) fake.create('', 'configmaps', 'ns1', `o${i}`, { data: { i: String(i) } });
    const metricValue = async (name: string) => Number(new RegExp(`^${name}\\{resource="v1/configmaps"\\} (\\S+)$`, 'm').exec(await metrics.registry.metrics())?.[1] ?? 0);
    await waitFor(async () => (await metricValue('kreplay_recorder_backpressure_pauses_total')) > 0, 5_000, 'a back-pressure pause');
    await new Promise((resolve) => setTimeout(resolve, 300));
    clearInterval(sampler);
    // Memory stays bounded: the queue never holds more than its capacity plus what one socket read carried (a relist,
    // below, is written at once: its list is the other bound).
    expect(deepest).toBeGreaterThanOrEqual(queueSize);
    expect(deepest).toBeLessThan(600);
    // Still far behind: the API server gives up on the watch (its history is compacted past our position).
    fake.compact();
    fake.expireWatches();
    commitMs = 0;
    await waitFor(() => store.recordCount(session.id, { kinds: ['marker'], types: ['list-finished'] }) === 2, 10_000, 'the relist');
    await writer.flush();

    // It said so: a metric, a log line, and a gap marker (not `gone`, which the replayer reads as the controller's gap).
    expect(await metricValue('kreplay_recorder_backpressure_pauses_total')).toBeGreaterThan(0);
    expect(await metricValue('kreplay_recorder_backpressure_seconds_total')).toBeGreaterThan(0);
    expect(lines.some((line) => / warn +the disk is not keeping up/.test(line))).toBe(true);
    expect(lines.some((line) => / warn +the disk did not keep up and the API server expired the watch/.test(line))).toBe(true);
    const markers = [...store.records(session.id, { filter: { kinds: ['marker'] } })] as MarkerRecord[];
    expect(markers.filter((m) => m.marker === 'gone')).toEqual([]);
    const gaps = markers.filter((m) => m.marker === 'gap');
    expect(gaps).toHaveLength(1);
    const lastRecordedRV = [...store.records(session.id, { filter: { kinds: ['watch'] }, withObjects: false })]
      .filter((r) => r.record === 'watch' && r.origin === 'watch' && (r.seq ?? 0) < (gaps[0] as { seq?: number }).seq!)
      .at(-1) as { resourceVersion: string } | undefined;
    expect(gaps[0]).toMatchObject({ code: 410, resource: 'configmaps', resourceVersion: lastRecordedRV?.resourceVersion });
    expect(gaps[0]!.message).toMatch(/queue was full \(the disk did not keep up\).*changes after resourceVersion \d+ until the relist that follows were not recorded one by one/);
    // Nothing else is missing: every object is in the session, by its watch event or by the relist that follows the gap.
    const names = new Set([...store.records(session.id, { filter: { kinds: ['watch'] }, withObjects: false })].map((r) => (r.record === 'watch' ? r.name : null)));
    for (let i = 0; i < 2_000; i += 1) expect(names.has(`o${i}`)).toBe(true);
  });
});
