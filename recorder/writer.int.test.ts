import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../model/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { RecorderMetrics } from './metrics.js';
import { waitFor } from './test-helpers.js';
import { Writer, type WriterOptions } from './writer.js';

const tempDir = useTempDir();
const stores: SessionStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

function marker(n: number): SessionRecord {
  return { record: 'marker', observedAt: '2026-11-25T10:00:00.000Z', origin: 'watch', marker: 'resync', count: n };
}

function watchEvent(resource: 'configmaps' | 'secrets', rv: number, origin: 'watch' | 'relist' = 'watch'): SessionRecord {
  const name = `${resource}-${rv % 3}`;
  return {
    record: 'watch',
    observedAt: '2026-11-25T10:00:00.000Z',
    origin,
    group: '',
    version: 'v1',
    resource,
    kind: resource === 'configmaps' ? 'ConfigMap' : 'Secret',
    type: origin === 'relist' ? 'ADDED' : 'MODIFIED',
    namespace: 'ns',
    name,
    uid: `u-${name}`,
    resourceVersion: String(rv),
    generation: null,
    object: { metadata: { name, namespace: 'ns', uid: `u-${name}`, resourceVersion: String(rv) } },
  };
}

function reconcile(n: number): SessionRecord {
  return {
    record: 'reconcile',
    observedAt: '2026-11-25T10:00:00.000Z',
    origin: 'ingest',
    controller: 'c',
    object: { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'ns', name: `o${n}` },
    startedAt: '2026-11-25T10:00:00Z',
    finishedAt: '2026-11-25T10:00:00Z',
    result: 'success',
  };
}

/** A real store whose append can be made to fail, counting transactions. */
function setup(options: Partial<WriterOptions> = {}, failure?: (records: readonly SessionRecord[], call: number) => Error | undefined) {
  const store = openStore(join(tempDir(), 'kreplay.db'));
  stores.push(store);
  const session = store.createSession({ name: 's', source: 'recorder', cluster: null, context: null, toolVersion: 't', config: {} });
  const appends: number[] = [];
  const append = store.append.bind(store);
  store.append = (sessionId, records, checkpoints) => {
    const error = failure?.(records, appends.length);
    appends.push(records.length);
    if (error) throw error;
    return append(sessionId, records, checkpoints);
  };
  const writer = new Writer({ store, sessionId: session.id, flushIntervalMs: 30, batchSize: 10, queueSize: 100, metrics: new RecorderMetrics({ processMetrics: false }), ...options });
  return { store, writer, session, appends };
}

const sqliteError = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

describe('Writer', () => {
  it('commits within the flush interval and in batches of at most batchSize, in order', async () => {
    const { store, writer, session, appends } = setup();
    writer.push([marker(1), marker(2), marker(3)]);
    expect(store.recordCount(session.id)).toBe(0);
    await waitFor(() => store.recordCount(session.id) === 3, 1_000, 'first commit');
    writer.push(Array.from({ length: 25 }, (_, i) => marker(i + 4)));
    await writer.flush();
    expect(appends).toEqual([3, 10, 10, 5]);
    expect([...store.records(session.id)].map((r) => (r.record === 'marker' ? r.count : 0))).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect(writer.stats).toMatchObject({ committed: 28, lastSeq: 28, depth: 0 });
  });

  it('drops ingest batches that do not fit, whole, under one dropped marker placed where the loss began', async () => {
    const { store, writer, session } = setup({ flushIntervalMs: 10_000, batchSize: 1_000 });
    expect(writer.offer(Array.from({ length: 95 }, (_, i) => reconcile(i)), 'ingest')).toBe(true);
    expect(writer.offer(Array.from({ length: 10 }, (_, i) => reconcile(100 + i)), 'ingest')).toBe(false);
    expect(writer.offer(Array.from({ length: 5 }, (_, i) => reconcile(200 + i)), 'audit')).toBe(false);
    expect(writer.offer([reconcile(300)], 'ingest')).toBe(true);
    await writer.flush();
    const records = [...store.records(session.id)];
    expect(records).toHaveLength(97);
    const dropped = records[95]!;
    expect(dropped).toMatchObject({ record: 'marker', marker: 'dropped', count: 15, origin: 'ingest', message: expect.stringMatching(/^15 record\(s\) dropped \(10 ingest, 5 audit\)/) });
    expect(records.at(-1)).toMatchObject({ record: 'reconcile', object: { name: 'o300' } });
    expect(store.findSession('s')!).toMatchObject({ partial: true, problems: [expect.stringMatching(/15 record\(s\) dropped/)] });
    expect(writer.stats.dropped).toEqual({ ingest: 10, audit: 5 });
  });

  it('reports back-pressure past capacity and wakes waiters once half empty', async () => {
    const { writer } = setup({ flushIntervalMs: 20, batchSize: 50 });
    expect(writer.push(Array.from({ length: 99 }, (_, i) => marker(i)))).toBe(false);
    expect(writer.push([marker(100), marker(101)])).toBe(true);
    let woke = false;
    void writer.whenRoom().then(() => (woke = true));
    await waitFor(() => woke, 2_000, 'room');
    expect(writer.depth).toBeLessThanOrEqual(50);
  });

  it('keeps the batch and retries when the disk fails (SQLITE_BUSY, SQLITE_FULL), losing nothing', async () => {
    const { store, writer, session, appends } = setup({}, (_records, call) => (call < 2 ? sqliteError(call === 0 ? 'SQLITE_BUSY' : 'SQLITE_FULL') : undefined));
    writer.push([marker(1), marker(2)]);
    await waitFor(() => store.recordCount(session.id) === 2, 5_000, 'commit after retries');
    expect(appends).toEqual([2, 2, 2]);
    expect(writer.health().ok).toBe(true);
  });

  it('replaces a record the store rejects with an error marker and commits the rest', async () => {
    const { store, writer, session } = setup({}, (records) =>
      records.some((r) => r.record === 'marker' && r.count === 2) ? new Error('CHECK constraint failed: simulated') : undefined,
    );
    writer.push([marker(1), marker(2), marker(3)]);
    await writer.flush();
    const records = [...store.records(session.id)];
    expect(records.map((r) => (r.record === 'marker' ? `${r.marker}:${r.count ?? ''}` : r.record))).toEqual(['resync:1', 'error:', 'resync:3']);
    expect(records[1]).toMatchObject({ message: expect.stringMatching(/store rejected a resync marker: CHECK constraint failed/) });
    expect(store.findSession('s')!.partial).toBe(true);
  });

  it("moves each watch's resume point with the batch that commits its records: never ahead, never behind", async () => {
    // After every commit: each watch's checkpoint is the RV of its last committed event or list-finished.
    const violations: string[] = [];
    let commits = 0;
    const { store, writer, session } = setup({ batchSize: 4, flushIntervalMs: 5 });
    const append = store.append.bind(store);
    store.append = (sessionId, records, checkpoints) => {
      const result = append(sessionId, records, checkpoints);
      commits += 1;
      const committed = [...store.records(sessionId, { withObjects: false })];
      for (const [watch, resource] of [['v1/configmaps@ns', 'configmaps'], ['v1/secrets@ns', 'secrets']] as const) {
        const expected = committed.filter((r) => (r.record === 'watch' && r.origin === 'watch' && r.resource === resource) || (r.record === 'marker' && r.marker === 'list-finished' && r.resource === resource)).at(-1);
        const checkpoint = store.watchCheckpoints(sessionId).find((c) => c.watch === watch);
        const expectedRV = expected?.record === 'watch' || expected?.record === 'marker' ? expected.resourceVersion : undefined;
        if (checkpoint?.resourceVersion !== expectedRV || (checkpoint && checkpoint.throughSeq !== expected!.seq)) {
          violations.push(`after commit ${commits}: ${watch} at ${checkpoint?.resourceVersion}@${checkpoint?.throughSeq}, last committed ${expectedRV}@${expected?.seq}`);
        }
      }
      return result;
    };
    const cm = 'v1/configmaps@ns';
    const sec = 'v1/secrets@ns';
    // A list of secrets split over batches (items do not move the point, list-finished does), configmap events, an
    // SDK record and markers that carry no RV, interleaved.
    writer.push([{ record: 'marker', observedAt: null, origin: 'relist', marker: 'list-started', resource: 'secrets' }, watchEvent('secrets', 3, 'relist'), watchEvent('secrets', 4, 'relist')], undefined, sec);
    writer.push([watchEvent('configmaps', 10), watchEvent('configmaps', 11)], undefined, cm);
    writer.push([reconcile(1)]);
    writer.push([{ record: 'marker', observedAt: null, origin: 'relist', marker: 'list-finished', resource: 'secrets', resourceVersion: '12' }], undefined, sec);
    writer.push([{ record: 'marker', observedAt: null, origin: 'watch', marker: 'watch-started', resource: 'configmaps', resourceVersion: '11' }], undefined, cm);
    for (let rv = 13; rv < 30; rv += 1) writer.push([watchEvent(rv % 2 ? 'configmaps' : 'secrets', rv)], undefined, rv % 2 ? cm : sec);
    await writer.flush();
    expect(commits).toBeGreaterThan(5);
    expect(violations).toEqual([]);
    expect(store.watchCheckpoints(session.id).map((c) => [c.watch, c.resourceVersion])).toEqual([
      [cm, '29'],
      [sec, '28'],
    ]);
  });

  it('a record the store rejects still moves its watch past it (with the error marker that replaces it)', async () => {
    const { store, writer, session } = setup({}, (records) => (records.some((r) => r.record === 'watch' && r.resourceVersion === '6') ? new Error('CHECK constraint failed: simulated') : undefined));
    writer.push([watchEvent('configmaps', 5), watchEvent('configmaps', 6)], undefined, 'v1/configmaps@ns');
    await writer.flush();
    expect([...store.records(session.id)].map((r) => r.record)).toEqual(['watch', 'marker']);
    expect(store.watchCheckpoints(session.id)).toMatchObject([{ watch: 'v1/configmaps@ns', resourceVersion: '6', throughSeq: 2 }]);
  });

  it('close() commits everything and refuses further records', async () => {
    const { store, writer, session } = setup({ flushIntervalMs: 10_000 });
    writer.push([marker(1)]);
    await writer.close();
    expect(store.recordCount(session.id)).toBe(1);
    expect(() => writer.push([marker(2)])).toThrow(/closed/);
  });
});
