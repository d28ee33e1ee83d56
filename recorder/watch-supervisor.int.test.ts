import { afterEach, describe, expect, it } from 'vitest';
import { FakeApiServer, configMaps, namespacesResource, secrets, widgets } from './fake-apiserver.js';
import { KubeClient, connectionFromConfig } from './kube-client.js';
import { MemorySink, fastBackoff, kubeConfigFor, waitFor } from './test-helpers.js';
import { WatchSupervisor, type SupervisorOptions } from './watch-supervisor.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { resources?: Parameters<FakeApiServer['addResource']>[0][]; namespace?: string | null; supervisor?: Partial<SupervisorOptions> } = {}) {
  const fake = new FakeApiServer(options.resources ?? [configMaps]);
  const url = await fake.start();
  const client = new KubeClient(await connectionFromConfig(kubeConfigFor(url)));
  const sink = new MemorySink();
  cleanups.push(() => fake.close(), () => client.close());
  const make = (extra: Partial<SupervisorOptions> = {}) => {
    const supervisor = new WatchSupervisor({
      client,
      spec: { group: '', version: 'v1', resource: 'configmaps', namespace: options.namespace === undefined ? 'ns1' : options.namespace },
      sink,
      settings: { pageSize: 2, backoff: fastBackoff, inactivityTimeoutMs: 5_000, watchTimeoutSeconds: 60 },
      random: () => 0,
      ...options.supervisor,
      ...extra,
    });
    cleanups.push(() => supervisor.stop());
    return supervisor;
  };
  return { fake, client, sink, make };
}

const watchRequests = (fake: FakeApiServer) => fake.requests.filter((r) => r.query['watch'] === '1');
const listRequests = (fake: FakeApiServer) => fake.requests.filter((r) => r.query['watch'] === undefined && r.path.endsWith('/configmaps'));

describe('WatchSupervisor against a fake API server', () => {
  it('lists in pages, then watches from the list RV with bookmarks, recording every event in order', async () => {
    const { fake, sink, make } = await setup();
    for (const name of ['a', 'b', 'c', 'd', 'e']) fake.create('', 'configmaps', 'ns1', name, { data: { k: name } });
    fake.create('', 'configmaps', 'other', 'elsewhere');
    const listRV = fake.currentRevision;
    const supervisor = make();
    supervisor.start();
    await waitFor(() => supervisor.synced && fake.openWatches === 1, 5_000, 'sync');

    expect(listRequests(fake).map((r) => r.query['limit'])).toEqual(['2', '2', '2']);
    const watch = watchRequests(fake)[0]!;
    expect(watch.query).toMatchObject({ resourceVersion: listRV, allowWatchBookmarks: 'true' });
    expect(Number(watch.query['timeoutSeconds'])).toBeGreaterThanOrEqual(60);

    fake.update('', 'configmaps', 'ns1', 'a', { data: { k: 'a2' } });
    fake.delete('', 'configmaps', 'ns1', 'b');
    fake.create('', 'configmaps', 'ns1', 'f');
    fake.bookmark();
    await waitFor(() => sink.watches().some((w) => w.type === 'BOOKMARK'), 5_000, 'bookmark');

    expect(sink.trace()).toEqual([
      'list-started',
      'ADDED/relist a@101',
      'ADDED/relist b@102',
      'ADDED/relist c@103',
      'ADDED/relist d@104',
      'ADDED/relist e@105',
      'list-finished',
      'watch-started',
      'MODIFIED/watch a@107',
      'DELETED/watch b@108',
      'ADDED/watch f@109',
      'BOOKMARK@109',
    ]);
    const finished = sink.markers('list-finished')[0]!;
    expect(finished).toMatchObject({ resourceVersion: listRV, count: 5, namespace: 'ns1', kind: 'ConfigMap', origin: 'relist' });
    expect(sink.markers('watch-started')[0]).toMatchObject({ resourceVersion: listRV });
    // Listed items arrive without apiVersion/kind; the recorder fills them in.
    const listed = sink.watches()[0]!;
    expect(listed.object).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
  });

  it('resumes from the last RV seen (a bookmark included) after a disconnect, without relisting or duplicates', async () => {
    const { fake, sink, make } = await setup();
    fake.create('', 'configmaps', 'ns1', 'a');
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.update('', 'configmaps', 'ns1', 'a', { data: { v: '1' } });
    fake.create('', 'configmaps', 'other', 'x'); // moves the revision on without an event for ns1
    fake.bookmark();
    const bookmarkRV = fake.currentRevision;
    await waitFor(() => sink.watches().some((w) => w.type === 'BOOKMARK'), 5_000, 'bookmark');
    fake.dropWatches();
    await waitFor(() => watchRequests(fake).length === 2 && fake.openWatches === 1, 5_000, 'resumed watch');
    expect(watchRequests(fake)[1]!.query['resourceVersion']).toBe(bookmarkRV);
    fake.update('', 'configmaps', 'ns1', 'a', { data: { v: '2' } });
    await waitFor(() => sink.watches().filter((w) => w.type === 'MODIFIED').length === 2, 5_000, 'second update');

    expect(listRequests(fake)).toHaveLength(1);
    const rvs = sink.watches().filter((w) => w.origin === 'watch' && w.type !== 'BOOKMARK').map((w) => w.resourceVersion);
    expect(new Set(rvs).size).toBe(rvs.length);
    const closed = sink.markers('watch-closed')[0]!;
    expect(closed.message).toMatch(/connection closed|stream/);
    expect(sink.markers('watch-started').map((m) => m.resourceVersion)).toEqual(['101', bookmarkRV]);
  });

  it('on an in-stream 410 records gone, relists, and resumes from the new list RV', async () => {
    const { fake, sink, make } = await setup();
    fake.create('', 'configmaps', 'ns1', 'a');
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.update('', 'configmaps', 'ns1', 'a', { data: { v: '1' } });
    await waitFor(() => sink.watches().length === 2, 5_000, 'update');
    fake.expireWatches();
    await waitFor(() => sink.markers('list-finished').length === 2 && fake.openWatches === 1, 5_000, 'relist');

    const trace = sink.trace();
    expect(trace.slice(0, 8)).toEqual(['list-started', 'ADDED/relist a@101', 'list-finished', 'watch-started', 'MODIFIED/watch a@102', 'gone', 'watch-closed', 'list-started']);
    const gone = sink.markers('gone')[0]!;
    expect(gone).toMatchObject({ code: 410, resourceVersion: '102' });
    expect(sink.markers('list-started')[1]!.message).toBe('relist');
    expect(watchRequests(fake)[1]!.query['resourceVersion']).toBe(fake.currentRevision);
  });

  it('records objects deleted while the watch was down as tombstones: DELETED, origin relist, last known body', async () => {
    const { fake, sink, make } = await setup();
    fake.create('', 'configmaps', 'ns1', 'keep');
    fake.create('', 'configmaps', 'ns1', 'doomed', { data: { last: 'state' } });
    fake.create('', 'configmaps', 'ns1', 'recreated');
    const supervisor = make({
      // The daemon reads the last body from the session; here, from what the sink holds.
      lastKnownObject: async (entry) => [...sink.watches()].reverse().find((w) => w.uid === entry.uid)?.object ?? null,
    });
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.dropWatches();
    fake.delete('', 'configmaps', 'ns1', 'doomed', { silently: true });
    fake.delete('', 'configmaps', 'ns1', 'recreated', { silently: true });
    fake.create('', 'configmaps', 'ns1', 'recreated');
    fake.compact();
    await waitFor(() => sink.markers('list-finished').length === 2, 5_000, 'relist');

    const relist = sink.records.slice(sink.records.indexOf(sink.markers('list-started')[1]!));
    const tombstones = sink.watches().filter((w) => w.type === 'DELETED' && w.origin === 'relist');
    expect(tombstones.map((t) => t.name)).toEqual(['doomed', 'recreated']);
    const listFinished = sink.markers('list-finished')[1]!;
    for (const tombstone of tombstones) {
      expect(tombstone.resourceVersion).toBe(listFinished.resourceVersion);
      expect(relist.indexOf(tombstone)).toBeLessThan(relist.indexOf(listFinished));
    }
    expect(tombstones[0]!.object).toMatchObject({ data: { last: 'state' }, metadata: { resourceVersion: '102' } });
    const recreated = sink.watches().filter((w) => w.name === 'recreated' && w.type === 'ADDED').at(-1)!;
    expect(recreated.origin).toBe('relist');
    expect(tombstones[1]!.uid).not.toBe(recreated.uid);
    expect(listFinished.message).toMatch(/2 known object\(s\) missing/);
    expect(sink.markers('gone')).toHaveLength(1);
  });

  it('restarts a list whose continue token expired, and falls back to one unpaginated list the second time', async () => {
    const { fake, sink, make } = await setup();
    for (const name of ['a', 'b', 'c', 'd', 'e']) fake.create('', 'configmaps', 'ns1', name);
    const isContinue = (r: { query: Record<string, string> }) => r.query['continue'] !== undefined;
    fake.failNext(isContinue, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue too old' }, 2);
    const supervisor = make();
    supervisor.start();
    await waitFor(() => supervisor.synced, 5_000, 'sync');
    const limits = listRequests(fake).map((r) => `${r.query['limit'] ?? 'none'}${r.query['continue'] ? '+c' : ''}`);
    expect(limits).toEqual(['2', '2+c', '2', '2+c', 'none']);
    expect(sink.markers('gone').map((m) => m.code)).toEqual([410, 410]);
    expect(sink.markers('gone')[1]!.message).toMatch(/without pagination/);
    expect(sink.watches().filter((w) => w.origin === 'relist')).toHaveLength(5);
  });

  it('turns a malformed line into an error marker and keeps reading the stream', async () => {
    const { fake, sink, make } = await setup();
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.injectRaw('{"type":"ADDED","object":{"metadata":{"name":"x"\n');
    fake.injectRaw('{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"noUid","resourceVersion":"1"}}}\n');
    fake.create('', 'configmaps', 'ns1', 'after');
    await waitFor(() => sink.watches().some((w) => w.name === 'after'), 5_000, 'event after the bad lines');
    const errors = sink.markers('error');
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^malformed JSON line/), expect.stringMatching(/without name, uid or resourceVersion/)]);
    expect(watchRequests(fake)).toHaveLength(1);
  });

  it('reassembles a line the server wrote in pieces, split inside a multi-byte UTF-8 character', async () => {
    const { fake, sink, make } = await setup();
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    const note = `zürich ✓ 日本 ${'x'.repeat(200_000)} ✓`;
    const object = { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'split', namespace: 'ns1', uid: 'uid-split', resourceVersion: '990' }, data: { note } };
    const line = Buffer.from(`${JSON.stringify({ type: 'ADDED', object })}\n`);
    const check = line.indexOf('✓');
    // Cut in the middle of the first ✓ (3 bytes), in the long run of x, and just before the newline.
    const cuts = [check + 1, check + 2, 100_000, line.length - 1];
    let from = 0;
    for (const cut of cuts) {
      fake.injectRaw(line.subarray(from, cut));
      from = cut;
      await new Promise((resolve) => setTimeout(resolve, 30)); // separate reads on the recorder's side
    }
    fake.injectRaw(line.subarray(from));
    await waitFor(() => sink.watches().some((w) => w.name === 'split'), 5_000, 'the split line');
    const recorded = sink.watches().find((w) => w.name === 'split')!;
    expect((recorded.object as { data: { note: string } }).data.note).toBe(note);
    expect(sink.markers('error')).toEqual([]);
  });

  it('re-opens a watch that stays silent past the inactivity timeout', async () => {
    const { fake, sink, make } = await setup();
    const supervisor = make({ settings: { pageSize: 10, backoff: fastBackoff, inactivityTimeoutMs: 300, watchTimeoutSeconds: 60 } });
    supervisor.start();
    await waitFor(() => watchRequests(fake).length >= 2, 5_000, 'second watch');
    const closed = sink.markers('watch-closed')[0]!;
    expect(closed.message).toMatch(/no data for/);
    expect(watchRequests(fake)[1]!.query['resourceVersion']).toBe(watchRequests(fake)[0]!.query['resourceVersion']);
  });

  it('waits for a resource that is not served yet (a CRD created later), then records it', async () => {
    const { fake, sink, make } = await setup({ resources: [] });
    const supervisor = make({ spec: { group: widgets.group, version: widgets.version, resource: widgets.resource, namespace: 'ns1' } });
    supervisor.start();
    await waitFor(() => fake.requests.filter((r) => r.path === '/apis/example.kreplay.dev/v1').length >= 3, 5_000, 'discovery retries');
    expect(supervisor.synced).toBe(false);
    expect(sink.markers('error')).toHaveLength(1);
    expect(sink.markers('error')[0]).toMatchObject({ code: 404, message: expect.stringMatching(/not served/) });
    fake.addResource(widgets);
    fake.create(widgets.group, 'widgets', 'ns1', 'w1', { spec: { size: 1 } });
    await waitFor(() => supervisor.synced, 5_000, 'sync after the CRD appears');
    expect(sink.watches()[0]).toMatchObject({ kind: 'Widget', group: 'example.kreplay.dev', name: 'w1', origin: 'relist' });
  });

  it('backs off on HTTP errors of the watch request, honouring Retry-After, and records them', async () => {
    const { fake, sink, make } = await setup();
    fake.failNext((r) => r.query['watch'] === '1', 500, { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd unavailable' });
    fake.failNext((r) => r.query['watch'] === '1', 429, { kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'watch cache not ready' });
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch after errors');
    expect(sink.markers('error').map((e) => e.code)).toEqual([500, 429]);
    expect(sink.markers('error')[0]!.message).toMatch(/etcd unavailable/);
    expect(listRequests(fake)).toHaveLength(1);
  });

  it('redacts Secret data, including listed Secrets that arrive without a kind', async () => {
    const { fake, sink, make } = await setup({ resources: [secrets] });
    fake.create('', 'secrets', 'ns1', 'listed', { type: 'Opaque', data: { password: 'c2VjcmV0' } });
    const supervisor = make({ spec: { group: '', version: 'v1', resource: 'secrets', namespace: 'ns1' } });
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.create('', 'secrets', 'ns1', 'watched', { type: 'Opaque', stringData: { token: 'hunter2' } });
    await waitFor(() => sink.watches().length === 2, 5_000, 'watched secret');
    const text = JSON.stringify(sink.records);
    expect(text).not.toContain('c2VjcmV0');
    expect(text).not.toContain('hunter2');
    expect(sink.watches()[0]!.object).toMatchObject({ kind: 'Secret', data: { password: expect.stringMatching(/^<redacted>/) } });
  });

  it('does not redact a Secret tombstone twice (its body comes back from the session already redacted)', async () => {
    const { fake, sink, make } = await setup({ resources: [secrets] });
    fake.create('', 'secrets', 'ns1', 'gone', { data: { password: 'c2VjcmV0' } });
    const supervisor = make({
      spec: { group: '', version: 'v1', resource: 'secrets', namespace: 'ns1' },
      lastKnownObject: async (entry) => [...sink.watches()].reverse().find((w) => w.uid === entry.uid)?.object ?? null,
    });
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    fake.dropWatches();
    fake.delete('', 'secrets', 'ns1', 'gone', { silently: true });
    await waitFor(() => sink.markers('list-finished').length === 2, 5_000, 'relist');
    const [listed, tombstone] = sink.watches().filter((w) => w.name === 'gone');
    expect(tombstone).toMatchObject({ type: 'DELETED', origin: 'relist' });
    expect(tombstone!.object).toEqual(listed!.object);
  });

  it('stops reading under back-pressure and resumes without losing events', async () => {
    const { fake, sink, make } = await setup();
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    sink.pressure = true;
    for (let i = 0; i < 50; i += 1) fake.create('', 'configmaps', 'ns1', `o${i}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const whilePaused = sink.watches().length;
    expect(whilePaused).toBeLessThan(50);
    sink.release();
    await waitFor(() => sink.watches().length === 50, 5_000, 'all events after release');
    expect(sink.watches().map((w) => w.name)).toEqual(Array.from({ length: 50 }, (_, i) => `o${i}`));
  });

  it('reads a busy watch in beats (readIntervalMs) through the HTTP client, and every segment as it lands at 0', async () => {
    /** Trickles 60 updates, one every 5 ms, and returns the times the supervisor handed records to the sink. */
    const trickle = async (readIntervalMs: number) => {
      const { fake, sink, make } = await setup();
      for (let i = 0; i < 60; i += 1) fake.create('', 'configmaps', 'ns1', `o${i}`);
      const pushedAt: number[] = [];
      const push = sink.push.bind(sink);
      sink.push = (records) => (pushedAt.push(performance.now()), push(records));
      const supervisor = make({ settings: { pageSize: 500, backoff: fastBackoff, inactivityTimeoutMs: 5_000, watchTimeoutSeconds: 60, readIntervalMs } });
      supervisor.start();
      await waitFor(() => supervisor.synced && fake.openWatches === 1, 5_000, 'sync');
      pushedAt.length = 0;
      for (let i = 0; i < 60; i += 1) {
        fake.update('', 'configmaps', 'ns1', `o${i}`, { data: { round: '2' } });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await waitFor(() => sink.watches().filter((w) => w.type === 'MODIFIED').length === 60, 5_000, 'all updates');
      expect(sink.watches().filter((w) => w.type === 'MODIFIED').map((w) => w.name)).toEqual(Array.from({ length: 60 }, (_, i) => `o${i}`));
      // A burst is what one socket read delivered: its HTTP chunks reach the sink within a millisecond or two.
      const bursts = pushedAt.filter((t, i) => i === 0 || t - pushedAt[i - 1]! > 3).length;
      await supervisor.stop();
      return bursts;
    };
    // ~300 ms of updates read in 100 ms beats: a handful of reads, where reading each segment as it lands is dozens.
    expect(await trickle(100)).toBeLessThanOrEqual(8);
    expect(await trickle(0)).toBeGreaterThanOrEqual(20);
  });

  it('watches a cluster-scoped resource configured per namespace once, cluster-wide', async () => {
    const { fake, sink, make } = await setup({ resources: [namespacesResource] });
    fake.create('', 'namespaces', null, 'ns1');
    const spec = { group: '', version: 'v1', resource: 'namespaces' };
    const owner = make({ spec: { ...spec, namespace: 'ns1' }, clusterScopedOwner: true });
    const other = make({ spec: { ...spec, namespace: 'ns2' }, clusterScopedOwner: false });
    owner.start();
    other.start();
    await waitFor(() => owner.synced && other.synced && fake.openWatches === 1, 5_000, 'sync');
    expect(other.phase).toBe('idle');
    expect(watchRequests(fake)[0]!.path).toBe('/api/v1/namespaces');
    expect(sink.watches()[0]).toMatchObject({ name: 'ns1', namespace: null });
  });

  it('stops cleanly: the last marker is watch-closed "recorder stopping"', async () => {
    const { fake, sink, make } = await setup();
    const supervisor = make();
    supervisor.start();
    await waitFor(() => fake.openWatches === 1, 5_000, 'watch');
    await supervisor.stop();
    expect(sink.records.at(-1)).toMatchObject({ record: 'marker', marker: 'watch-closed', message: 'recorder stopping' });
    await waitFor(() => fake.openWatches === 0, 2_000, 'connection closed');
  });

  describe('after a recorder restart (resume)', () => {
    it('watches from the committed RV without listing, and marks resumed once the server accepts it', async () => {
      const { fake, sink, make } = await setup();
      fake.create('', 'configmaps', 'ns1', 'a');
      const committed = fake.currentRevision;
      fake.update('', 'configmaps', 'ns1', 'a', { data: { v: '2' } });
      fake.delete('', 'configmaps', 'ns1', 'a');
      // A refused request first (not a 410): the resume is retried, not given up.
      fake.failNext((r) => r.query['watch'] === '1', 500, { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd unavailable' });
      const supervisor = make({ resume: { resourceVersion: committed }, seed: [{ uid: 'uid-000001', name: 'a', namespace: 'ns1', resourceVersion: '', generation: null }] });
      supervisor.start();
      await waitFor(() => sink.watches().some((w) => w.type === 'DELETED'), 5_000, 'the deletion');
      expect(listRequests(fake)).toHaveLength(0);
      expect(watchRequests(fake).map((r) => r.query['resourceVersion'])).toEqual([committed, committed]);
      expect(sink.trace()).toEqual(['error', 'watch-started', `MODIFIED/watch a@${Number(committed) + 1}`, `DELETED/watch a@${Number(committed) + 2}`]);
      expect(sink.markers('watch-started')[0]).toMatchObject({ resume: 'resumed', resourceVersion: committed });
      expect(supervisor.synced).toBe(true);
    });

    it('relists on an in-stream 410 for the committed RV, said by the list-started (no gone, no watch-started for it), tombstoning what vanished', async () => {
      const { fake, sink, make } = await setup();
      fake.create('', 'configmaps', 'ns1', 'stays');
      const committed = fake.currentRevision;
      fake.create('', 'configmaps', 'ns1', 'goes');
      fake.delete('', 'configmaps', 'ns1', 'goes', { silently: true });
      fake.compact();
      const supervisor = make({
        resume: { resourceVersion: committed },
        seed: [
          { uid: 'uid-000001', name: 'stays', namespace: 'ns1', resourceVersion: '', generation: null },
          { uid: 'uid-000002', name: 'goes', namespace: 'ns1', resourceVersion: '', generation: null },
        ],
      });
      supervisor.start();
      await waitFor(() => supervisor.synced && fake.openWatches === 1, 5_000, 'relisted and watching');
      const trace = sink.trace();
      expect(trace[0]).toBe('list-started');
      expect(trace).toContain('DELETED/relist goes@' + sink.markers('list-finished')[0]!.resourceVersion);
      // The recorder's own gap, not one of the watch the controller shares: no gone marker (replayer: relist-gap).
      expect(sink.markers('gone')).toHaveLength(0);
      expect(sink.markers('list-started')[0]).toMatchObject({
        resume: 'relisted',
        code: 410,
        resourceVersion: committed,
        message: expect.stringContaining(`resourceVersion ${committed}, the last committed for this watch, is too old (410: too old resource version`),
      });
      expect(supervisor.status().gone).toBe(1);
      expect(sink.markers('watch-started')).toHaveLength(1);
      expect(sink.markers('watch-started')[0]!.resume).toBeUndefined();
      expect(sink.markers('watch-closed')).toHaveLength(0);
    });

    it('a watch without a committed RV lists and says so (resume: listed); a quiet resumed one is marked after a second', async () => {
      const { sink, make, fake } = await setup();
      const fresh = make({ resume: { resourceVersion: undefined } });
      fresh.start();
      await waitFor(() => fresh.synced, 5_000, 'listed');
      expect(sink.markers('list-started')[0]).toMatchObject({ resume: 'listed' });
      await fresh.stop();
      const quiet = make({ resume: { resourceVersion: fake.currentRevision } });
      quiet.start();
      await waitFor(() => quiet.synced, 5_000, 'resumed with nothing to deliver');
      expect(sink.markers('watch-started').at(-1)).toMatchObject({ resume: 'resumed' });
      expect(sink.markers('list-started')).toHaveLength(1);
    });
  });
});
