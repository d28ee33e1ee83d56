import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MarkerRecord, StoredRecord } from '../model/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { parseConfig, type RecorderConfigInput } from './config.js';
import { FakeApiServer, configMaps, secrets, widgets } from './fake-apiserver.js';
import { silentLogger } from './log.js';
import { Recorder, RecorderStartError } from './recorder.js';
import { kubeConfigFor, waitFor } from './test-helpers.js';

const tempDir = useTempDir();
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const token = 'sekret-token-0123456789';

async function setup(config: Partial<RecorderConfigInput> = {}, options: { sessionName?: string; dbPath?: string; fake?: FakeApiServer } = {}) {
  const fake = options.fake ?? new FakeApiServer([configMaps, widgets]);
  const url = options.fake ? fake.url : await fake.start();
  if (!options.fake) cleanups.push(() => fake.close());
  const dbPath = options.dbPath ?? join(tempDir(), 'kreplay.db');
  const store = openStore(dbPath);
  const parsed = parseConfig({
    resources: [{ version: 'v1', resource: 'configmaps', namespaces: ['ns1'] }, 'example.kreplay.dev/v1/widgets'],
    server: { listen: '127.0.0.1:0' },
    writer: { flushInterval: '50ms' },
    controller: { username: 'system:serviceaccount:ops:widget-operator' },
    watch: { initialBackoff: '20ms', maxBackoff: '100ms' },
    ...config,
  });
  const recorder = await Recorder.start({
    config: parsed,
    kube: kubeConfigFor(url),
    store,
    dbPath,
    sessionName: options.sessionName ?? 'rec',
    toolVersion: '0.0.0-test',
    token,
    log: silentLogger,
    random: () => 0,
  });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await recorder.stop();
    store.close();
  });
  const stop = async () => {
    stopped = true;
    return recorder.stop();
  };
  return { fake, store, recorder, dbPath, stop };
}

function all(store: SessionStore, sessionId: number): StoredRecord[] {
  return [...store.records(sessionId, { withObjects: true })];
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', body, headers: { Authorization: `Bearer ${token}`, ...headers } });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: response.headers };
}

const reconcile = (n: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    record: 'reconcile',
    controller: 'widget-operator',
    object: { group: 'example.kreplay.dev', version: 'v1', kind: 'Widget', namespace: 'ns1', name: `w${n}` },
    startedAt: '2026-11-25T10:00:00Z',
    finishedAt: '2026-11-25T10:00:01Z',
    result: 'success',
    ...extra,
  });

describe('Recorder (real SQLite, real HTTP, fake API server)', () => {
  it('fails fast, naming the config entry, for a resource its served group/version does not have', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    const url = await fake.start();
    cleanups.push(() => fake.close());
    const dbPath = join(tempDir(), 'kreplay.db');
    const store = openStore(dbPath);
    cleanups.push(() => store.close());
    const config = parseConfig({
      // A typo'd core resource, a CRD's singular, a CRD not created yet (waited for), a group/version not served.
      resources: ['v1/configmap', 'example.kreplay.dev/v1/widget', 'example.kreplay.dev/v1/gadgets', 'apps/v1/deployments'],
      server: { listen: '127.0.0.1:0' },
    });
    const options = { config, kube: kubeConfigFor(url), store, dbPath, sessionName: 'rec', toolVersion: '0.0.0-test', token, log: silentLogger };
    const error = (await Recorder.start(options).then(
      () => undefined,
      (e: unknown) => e,
    )) as RecorderStartError;
    expect(error).toBeInstanceOf(RecorderStartError);
    const [first, ...entries] = error.message.split('\n');
    expect(first).toMatch(/^3 configured resources are not served by .+:$/);
    expect(entries).toEqual([
      '  resources[0] (v1/configmap): v1 serves no resource "configmap"; did you mean configmaps?',
      '  resources[1] (example.kreplay.dev/v1/widget): example.kreplay.dev/v1 serves no resource "widget"; did you mean widgets?',
      '  resources[3] (apps/v1/deployments): the API server does not serve apps/v1; check the group and version (kubectl api-versions lists them)',
    ]);
    expect(error.hint).toContain('kubectl api-resources');
    // No session was created for a config that cannot run.
    expect(store.listSessions()).toEqual([]);
  });

  it('records watches into a session, becomes ready after the first lists, and drains on stop', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    await fake.start();
    cleanups.push(() => fake.close());
    fake.create('', 'configmaps', 'ns1', 'a', { data: { k: 'v' } });
    const { store, recorder, stop } = await setup({}, { fake });
    await waitFor(() => recorder.readiness().ready, 5_000, 'ready');
    const ready = await fetch(`${recorder.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, session: 'rec' });
    fake.update('', 'configmaps', 'ns1', 'a', { data: { k: 'v2' } });
    fake.create(widgets.group, 'widgets', 'ns1', 'w1');
    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['watch'] }) >= 3, 5_000, 'events committed');
    const summary = await stop();
    expect(summary.committed).toBeGreaterThan(5);
    const records = all(store, recorder.sessionId);
    expect(records[0]).toMatchObject({ record: 'marker', marker: 'recorder-started' });
    expect(records.at(-1)).toMatchObject({ record: 'marker', marker: 'recorder-stopped' });
    const session = store.findSession('rec')!;
    expect(session.endedAt).not.toBeNull();
    expect(session.source).toBe('recorder');
    expect(session.config).toMatchObject({ recording: { base: 'rec', segment: 1 } });
    expect(JSON.stringify(session.config)).not.toContain(token);
    const watches = records.filter((r) => r.record === 'watch');
    expect(watches.map((w) => `${w.type}/${w.origin}/${w.name}`)).toEqual(expect.arrayContaining(['ADDED/relist/a', 'MODIFIED/watch/a', 'ADDED/watch/w1']));
    expect(watches.find((w) => w.type === 'MODIFIED')!.object).toMatchObject({ data: { k: 'v2' } });
  });

  it('ingests NDJSON batches atomically: 202 when valid, 400 naming the line and writing nothing otherwise', async () => {
    const { store, recorder } = await setup();
    const good = await post(`${recorder.url}/v1/records`, `${reconcile(1)}\n\n${reconcile(2, { origin: 'import' })}\n`, { 'Content-Type': 'application/x-ndjson' });
    expect(good).toMatchObject({ status: 202, body: { accepted: 2 } });

    const bad = await post(`${recorder.url}/v1/records`, [reconcile(3), reconcile(4), reconcile(5, { finishedAt: '2026-11-25T09:00:00Z' })].join('\n'));
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ line: 3, error: expect.stringMatching(/^line 3: reconcile\.finishedAt: finishedAt is before startedAt/) });
    const notJson = await post(`${recorder.url}/v1/records`, `${reconcile(6)}\n{oops\n`);
    expect(notJson).toMatchObject({ status: 400, body: { line: 2, error: expect.stringMatching(/^line 2: not valid JSON/) } });
    const watchRecord = await post(`${recorder.url}/v1/records`, '{"record":"watch"}');
    expect(watchRecord.body.error).toMatch(/recorder writes watch events and markers itself/);

    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['reconcile'] }) === 2, 5_000, 'commit');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const reconciles = all(store, recorder.sessionId).filter((r) => r.record === 'reconcile');
    expect(reconciles.map((r) => (r.record === 'reconcile' ? r.object.name : ''))).toEqual(['w1', 'w2']);
    expect(reconciles.every((r) => r.origin === 'ingest')).toBe(true);
  });

  it('enforces the token, the body limit, the rate limit and gzip', async () => {
    const { recorder } = await setup({ server: { listen: '127.0.0.1:0', maxBodySize: '2Ki', recordsPerSecond: 1, burst: 3 } });
    const unauthorized = await post(`${recorder.url}/v1/records`, reconcile(1), { Authorization: 'Bearer wrong-token-000000000' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toMatch(/Bearer/);

    const tooLarge = await post(`${recorder.url}/v1/records`, `${reconcile(1)}\n`.repeat(20));
    expect(tooLarge.status).toBe(413);

    const zipped = await post(`${recorder.url}/v1/records`, gzipSync(`${reconcile(1)}\n${reconcile(2)}\n`), { 'Content-Encoding': 'gzip' });
    expect(zipped).toMatchObject({ status: 202, body: { accepted: 2 } });
    const bomb = await post(`${recorder.url}/v1/records`, gzipSync(' '.repeat(100_000)), { 'Content-Encoding': 'gzip' });
    expect(bomb.status).toBe(413);

    expect((await post(`${recorder.url}/v1/records`, `${reconcile(3)}\n${reconcile(4)}`)).status).toBe(202); // bucket goes negative
    const limited = await post(`${recorder.url}/v1/records`, reconcile(5));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    const metrics = await (await fetch(`${recorder.url}/metrics`)).text();
    for (const name of [
      'kreplay_recorder_watch_events_total',
      'kreplay_recorder_watch_restarts_total',
      'kreplay_recorder_gone_total',
      'kreplay_recorder_queue_depth',
      'kreplay_recorder_commit_duration_seconds_bucket',
      'kreplay_recorder_receive_to_commit_seconds_bucket',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/kreplay_recorder_ingest_errors_total\{endpoint="records",reason="unauthorized"\} 1/);
    expect(metrics).toMatch(/kreplay_recorder_ingest_errors_total\{endpoint="records",reason="rate_limited"\} 1/);
    expect(metrics).toMatch(/kreplay_recorder_ingest_errors_total\{endpoint="records",reason="too_large"\} 2/);
    expect(metrics).toMatch(/kreplay_recorder_ingest_records_total\{kind="reconcile"\} 4/);
  });

  it('records audit webhook writes: ResponseComplete only, watched resources and the controller, with status codes', async () => {
    const { store, recorder } = await setup();
    const event = (id: string, fields: Record<string, unknown>) => ({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: id,
      stage: 'ResponseComplete',
      requestURI: '/apis/example.kreplay.dev/v1/namespaces/ns1/widgets/w1',
      verb: 'update',
      user: { username: 'system:serviceaccount:ops:widget-operator' },
      objectRef: { resource: 'widgets', namespace: 'ns1', name: 'w1', apiGroup: 'example.kreplay.dev', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      stageTimestamp: '2026-11-25T10:00:00.000000Z',
      ...fields,
    });
    const body = JSON.stringify({
      kind: 'EventList',
      apiVersion: 'audit.k8s.io/v1',
      metadata: {},
      items: [
        event('1', { stage: 'RequestReceived' }),
        event('2', { responseStatus: { code: 409, reason: 'Conflict', message: 'the object has been modified' } }),
        event('3', { verb: 'get', responseStatus: { code: 404, reason: 'NotFound' } }),
        event('4', { verb: 'get' }),
        event('5', { user: { username: 'someone-else' }, objectRef: { resource: 'pods', namespace: 'ns1', name: 'p', apiVersion: 'v1' } }),
        event('6', { user: { username: 'kubectl-user' }, verb: 'delete', objectRef: { resource: 'configmaps', namespace: 'ns1', name: 'cm', apiVersion: 'v1' } }),
      ],
    });
    const response = await post(`${recorder.url}/v1/audit`, body, { 'Content-Type': 'application/json' });
    expect(response).toMatchObject({ status: 200, body: { recorded: 3 } });
    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['api'] }) === 3, 5_000, 'api records');
    const apis = all(store, recorder.sessionId).filter((r) => r.record === 'api');
    expect(apis.map((a) => (a.record === 'api' ? [a.auditId, a.verb, a.code, a.byController, a.object.kind, a.origin] : []))).toEqual([
      ['2', 'update', 409, true, 'Widget', 'audit'],
      ['3', 'get', 404, true, 'Widget', 'audit'],
      ['6', 'delete', 200, false, 'ConfigMap', 'audit'],
    ]);
    expect((await post(`${recorder.url}/v1/audit`, '{"kind":"Pod"}')).status).toBe(400);

    // The API server re-sends a batch whose answer it lost: the events are recorded once.
    const again = await post(`${recorder.url}/v1/audit`, body, { 'Content-Type': 'application/json' });
    expect(again).toMatchObject({ status: 200, body: { recorded: 0 } });
    const later = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [event('2', {}), event('7', { verb: 'patch' })] });
    expect(await post(`${recorder.url}/v1/audit`, later, { 'Content-Type': 'application/json' })).toMatchObject({ status: 200, body: { recorded: 1 } });
    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['api'] }) === 4, 5_000, 'the new event');
    expect(all(store, recorder.sessionId).filter((r) => r.record === 'api').map((a) => (a.record === 'api' ? a.auditId : ''))).toEqual(['2', '3', '6', '7']);
  });

  it('resumes an existing session: a gap marker naming the last committed seq, and tombstones for objects deleted meanwhile', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    await fake.start();
    cleanups.push(() => fake.close());
    fake.create('', 'configmaps', 'ns1', 'stays');
    fake.create('', 'configmaps', 'ns1', 'goes', { data: { last: 'known' } });
    const dbPath = join(tempDir(), 'kreplay.db');
    const first = await setup({}, { fake, dbPath });
    await waitFor(() => first.recorder.readiness().ready, 5_000, 'ready');
    const firstSummary = await first.stop();
    first.store.close();

    fake.delete('', 'configmaps', 'ns1', 'goes', { silently: true });
    const second = await setup({}, { fake, dbPath });
    await waitFor(() => second.recorder.readiness().ready, 5_000, 'ready again');
    await second.stop();
    const records = all(second.store, second.recorder.sessionId);
    expect(second.recorder.sessionId).toBe(first.recorder.sessionId);
    const gap = records.find((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'gap')!;
    expect(gap.seq).toBe(firstSummary.lastSeq + 1);
    expect(gap.message).toMatch(new RegExp(`stopped at .* and restarted; last committed record: seq ${firstSummary.lastSeq}`));
    const tombstone = records.find((r) => r.record === 'watch' && r.type === 'DELETED' && r.origin === 'relist');
    expect(tombstone).toMatchObject({ name: 'goes', object: { data: { last: 'known' } } });
    // The deletion was compacted away: the resume from the committed RV is refused (410), and the relist says why.
    const after = records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.seq > gap.seq && r.resource === 'configmaps');
    expect(after.filter((m) => m.marker === 'gone')).toEqual([]);
    expect(after.filter((m) => m.marker === 'list-started')).toMatchObject([
      { resume: 'relisted', code: 410, message: expect.stringMatching(/^relist after the recorder restarted: resourceVersion \d+, the last committed/) },
    ]);
    expect(after.some((m) => m.marker === 'watch-started' && m.resume !== undefined)).toBe(false);
    expect(records.filter((r) => r.record === 'marker' && r.marker === 'recorder-started')).toHaveLength(2);
    expect(second.store.findSession('rec')!.partial).toBe(false);
  });

  it('resumes each watch from its committed resourceVersion: changes made while stopped arrive from the watch, with no list', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    await fake.start();
    cleanups.push(() => fake.close());
    fake.create('', 'configmaps', 'ns1', 'changes');
    fake.create('', 'configmaps', 'ns1', 'goes');
    const dbPath = join(tempDir(), 'kreplay.db');
    const first = await setup({}, { fake, dbPath });
    await waitFor(() => first.recorder.readiness().ready, 5_000, 'ready');
    fake.create(widgets.group, 'widgets', 'ns1', 'w1');
    await waitFor(() => first.store.recordCount(first.recorder.sessionId, { kinds: ['watch'], origins: ['watch'] }) >= 1, 5_000, 'w1 committed');
    await first.stop();
    const committed = first.store.watchCheckpoints(first.recorder.sessionId);
    first.store.close();
    // The resume points: the list RV of configmaps in ns1, the RV of w1's ADDED for widgets.
    expect(committed.map((c) => c.watch)).toEqual(['example.kreplay.dev/v1/widgets@*', 'v1/configmaps@ns1']);

    // While no recorder runs: two versions of one object, a deletion, a creation.
    fake.update('', 'configmaps', 'ns1', 'changes', { data: { v: '1' } });
    fake.update('', 'configmaps', 'ns1', 'changes', { data: { v: '2' } });
    fake.delete('', 'configmaps', 'ns1', 'goes');
    fake.create('', 'configmaps', 'ns1', 'new');
    const second = await setup({}, { fake, dbPath });
    await waitFor(() => second.recorder.readiness().ready, 5_000, 'ready again');
    await waitFor(() => all(second.store, second.recorder.sessionId).some((r) => r.record === 'watch' && r.name === 'new'), 5_000, 'the creation');
    await second.stop();

    const records = all(second.store, second.recorder.sessionId);
    const gap = records.find((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'gap')!;
    expect(gap.message).toMatch(/2 of 2 watch\(es\) resume from the resourceVersion committed with their last records/);
    const after = records.filter((r) => r.seq > gap.seq);
    const started = after.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'watch-started' && r.resume !== undefined);
    expect(started.map((m) => [m.resource, m.resume, m.resourceVersion]).sort()).toEqual(
      committed.map((c) => [c.watch.startsWith('v1/configmaps') ? 'configmaps' : 'widgets', 'resumed', c.resourceVersion]).sort(),
    );
    expect(after.filter((r) => r.record === 'marker' && (r.marker === 'list-started' || r.marker === 'gone'))).toEqual([]);
    // Every version, in order, from the watch itself; the deletion is the server's DELETED, not a tombstone.
    const events = after.filter((r) => r.record === 'watch' && r.type !== 'BOOKMARK');
    expect(events.map((r) => r.record === 'watch' && `${r.type}/${r.origin}/${r.name}`)).toEqual(['MODIFIED/watch/changes', 'MODIFIED/watch/changes', 'DELETED/watch/goes', 'ADDED/watch/new']);
    expect(second.store.findSession('rec')!.partial).toBe(false);
  });

  it('a watch new in the config lists (resume: listed); one no longer in it is named in the gap marker', async () => {
    const fake = new FakeApiServer([configMaps, widgets, secrets]);
    await fake.start();
    cleanups.push(() => fake.close());
    fake.create('', 'secrets', 'ns1', 's1');
    const dbPath = join(tempDir(), 'kreplay.db');
    const first = await setup({}, { fake, dbPath });
    await waitFor(() => first.recorder.readiness().ready, 5_000, 'ready');
    await first.stop();
    first.store.close();
    const second = await setup({ resources: [{ version: 'v1', resource: 'configmaps', namespaces: ['ns1'] }, 'v1/secrets'] }, { fake, dbPath });
    await waitFor(() => second.recorder.readiness().ready, 5_000, 'ready again');
    await second.stop();
    const records = all(second.store, second.recorder.sessionId);
    const gap = records.find((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'gap')!;
    expect(gap.message).toMatch(/1 of 2 watch\(es\) resume .*; 1 watch\(es\) without a committed resourceVersion list; 1 watch\(es\) no longer in the config are not recorded any more: example.kreplay.dev\/v1\/widgets@\*/);
    const resumeMarkers = records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.resume !== undefined);
    expect(resumeMarkers.map((m) => [m.marker, m.resource, m.resume])).toEqual(
      expect.arrayContaining([
        ['watch-started', 'configmaps', 'resumed'],
        ['list-started', 'secrets', 'listed'],
      ]),
    );
    expect(resumeMarkers).toHaveLength(2);
  });

  it('marks an unclean previous run (no recorder-stopped) as a gap and the session partial', async () => {
    const dbPath = join(tempDir(), 'kreplay.db');
    const seed = openStore(dbPath);
    const session = seed.createSession({ name: 'crashed', source: 'recorder', cluster: null, context: null, toolVersion: 'x', config: {} });
    seed.append(session.id, [{ record: 'marker', observedAt: '2026-11-25T10:00:00.000Z', origin: 'watch', marker: 'recorder-started' }]);
    seed.close();
    const { store, recorder, stop } = await setup({}, { dbPath, sessionName: 'crashed' });
    await stop();
    const gap = all(store, recorder.sessionId).find((r) => r.record === 'marker' && r.marker === 'gap');
    expect(gap).toMatchObject({ seq: 2, message: expect.stringMatching(/ended without recorder-stopped .* last committed record: seq 1 at 2026-11-25T10:00:00.000Z/) });
    expect(store.findSession('crashed')!.partial).toBe(true);
  });

  it('refuses to append to a session it did not record', async () => {
    const dbPath = join(tempDir(), 'kreplay.db');
    const seed = openStore(dbPath);
    seed.createSession({ name: 'imported', source: 'import:audit', cluster: null, context: null, toolVersion: 'x', config: {} });
    seed.close();
    await expect(setup({}, { dbPath, sessionName: 'imported' })).rejects.toThrow(/was not recorded/);
  });

  it('rotates segments by age, each starting with its own list, and deletes segments past maxAge', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    await fake.start();
    cleanups.push(() => fake.close());
    fake.create('', 'configmaps', 'ns1', 'a');
    let now = Date.parse('2026-11-25T10:00:00Z');
    const dbPath = join(tempDir(), 'kreplay.db');
    const store = openStore(dbPath);
    const recorder = await Recorder.start({
      config: parseConfig({ resources: ['v1/configmaps'], server: { listen: '127.0.0.1:0' }, writer: { flushInterval: '20ms' }, retention: { maxAge: '4h', checkInterval: '1h' } }),
      kube: kubeConfigFor(fake.url),
      store,
      dbPath,
      sessionName: 'seg',
      toolVersion: 'test',
      now: () => now,
    });
    cleanups.push(async () => {
      await recorder.stop();
      store.close();
    });
    await waitFor(() => recorder.readiness().ready, 5_000, 'ready');
    now += 61 * 60_000; // past maxAge/4
    await recorder.retentionPass();
    expect(recorder.sessionInfo.name).toBe('seg.2');
    await waitFor(() => recorder.readiness().ready && store.recordCount(recorder.sessionId, { kinds: ['watch'] }) === 1, 5_000, 'segment 2 listed');
    const first = all(store, store.findSession('seg')!.id);
    expect(first.at(-1)).toMatchObject({ marker: 'recorder-stopped', message: expect.stringMatching(/continued in seg\.2/) });
    expect(store.findSession('seg')!.endedAt).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = all(store, recorder.sessionId);
    expect(second.map((r) => (r.record === 'marker' ? r.marker : `${r.record}`)).slice(0, 4)).toEqual(['recorder-started', 'list-started', 'watch', 'list-finished']);

    now += 5 * 60 * 60_000; // seg is now older than maxAge
    await recorder.retentionPass();
    expect(store.findSession('seg')).toBeUndefined();
    expect(recorder.sessionInfo.name).toBe('seg.3');
    expect(store.findSession('seg.2')).toBeDefined();
  });
});
