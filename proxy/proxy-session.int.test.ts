import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { FaultPlan, type FaultPlanInput, type MarkerRecord, type StoredRecord } from '../model/index.js';
import { FakeApiServer, configMaps } from '../recorder/fake-apiserver.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { ProxySession } from './proxy-session.js';

/**
 * The proxy in-process in front of the recorder's faithful fake of list/watch (recorder/fake-apiserver.ts), recording
 * into a real SQLite file: the fault actions the e2e tests do not drive (delay, close, fail) and paginated LISTs.
 */

const tempDir = useTempDir();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(plan: FaultPlanInput = {}, extra: { ingest?: boolean; upstream?: string; requestTimeoutMs?: number; tls?: boolean } = {}) {
  const fake = new FakeApiServer([configMaps]);
  const server = extra.upstream ?? (await fake.start());
  for (let i = 0; i < 5; i++) fake.create('', 'configmaps', 'ns', `cm-${i}`, { data: { i: String(i) } });
  const dir = tempDir();
  const store = openStore(join(dir, 'k.db'));
  const session = new ProxySession({
    store,
    sessionName: 'test',
    upstream: { contextName: 'fake', cluster: { server, insecureSkipTlsVerify: false }, user: { token: 'fake-token' }, source: 'test' },
    listen: { host: '127.0.0.1', port: 0 },
    kubeconfigOut: join(dir, 'kubeconfig'),
    faults: FaultPlan.parse(plan),
    controller: 'ctrl',
    ...(extra.ingest ? { ingest: { host: '127.0.0.1', port: 0 } } : {}),
    ...(extra.requestTimeoutMs !== undefined ? { requestTimeoutMs: extra.requestTimeoutMs } : {}),
    ...(extra.tls ? { tls: true } : {}),
    toolVersion: 'test',
    config: {},
  });
  await session.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await session.stop('test done');
  };
  cleanups.push(async () => {
    await stop();
    store.close();
    await fake.close();
  });
  const records = (): StoredRecord[] => [...store.records(session.session.id)];
  return { fake, proxy: session.url, stop, records, session, kubeconfig: join(dir, 'kubeconfig') };
}

function request(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'Content-Type': 'application/json', Accept: 'application/vnd.kubernetes.protobuf, */*' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** A watch through the proxy: the names of the events as they arrive, and whether the stream ended. */
function watchNames(url: string): { names: string[]; ended: Promise<void>; close(): void } {
  const names: string[] = [];
  let resolveEnded!: () => void;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const req = http.get(url, (res) => {
    let carried = '';
    res.on('data', (chunk: Buffer) => {
      const lines = (carried + chunk.toString()).split('\n');
      carried = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) names.push(`${(JSON.parse(line) as { type: string }).type} ${(JSON.parse(line) as { object: { metadata: { name: string } } }).object.metadata.name}`);
    });
    res.on('end', resolveEnded);
    res.on('close', resolveEnded);
  });
  req.on('error', resolveEnded);
  return { names, ended, close: () => req.destroy() };
}

const until = async (condition: () => boolean, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
};
const markersOf = (records: StoredRecord[], kind: MarkerRecord['marker']) => records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === kind);

describe('kreplay proxy against the fake API server', () => {
  it('passes a paginated LIST through page by page and records it once, with every item and the list RV', async () => {
    const { proxy, stop, records } = await setup();
    const first = JSON.parse((await request(`${proxy}/api/v1/namespaces/ns/configmaps?limit=2`)).body) as { metadata: { continue: string; resourceVersion: string }; items: unknown[] };
    expect(first.items).toHaveLength(2);
    expect(records().filter((r) => r.record === 'watch')).toHaveLength(0); // nothing until the last page
    let token: string | undefined = first.metadata.continue;
    let pages = 1;
    while (token) {
      const page = JSON.parse((await request(`${proxy}/api/v1/namespaces/ns/configmaps?limit=2&continue=${token}`)).body) as { metadata: { continue?: string } };
      token = page.metadata.continue;
      pages += 1;
    }
    expect(pages).toBe(3);
    await stop();
    const all = records();
    expect(markersOf(all, 'list-started')).toHaveLength(1);
    expect(markersOf(all, 'list-finished')).toEqual([expect.objectContaining({ resourceVersion: first.metadata.resourceVersion, count: 5, kind: 'ConfigMap', origin: 'proxy' })]);
    expect(all.filter((r) => r.record === 'watch' && r.origin === 'relist').map((r) => (r as { name: string }).name)).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
  });

  it('delay holds an event and everything behind it (order kept); close ends the watch after its event', async () => {
    const { proxy, fake, stop, records } = await setup({
      rules: [
        { name: 'slow', match: { name: 'cm-1', event: 'MODIFIED' }, action: 'delay', delay: '300ms' },
        { name: 'cut', match: { name: 'cm-2', event: 'MODIFIED' }, action: 'close' },
      ],
    });
    const rv = fake.currentRevision;
    const watch = watchNames(`${proxy}/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=${rv}`);
    await until(() => markersOf(records(), 'watch-started').length === 1, 'the watch to start');
    fake.update('', 'configmaps', 'ns', 'cm-1', { data: { i: 'a' } });
    fake.update('', 'configmaps', 'ns', 'cm-3', { data: { i: 'b' } });
    fake.update('', 'configmaps', 'ns', 'cm-2', { data: { i: 'c' } });
    await watch.ended;
    fake.update('', 'configmaps', 'ns', 'cm-4', { data: { i: 'd' } });
    expect(watch.names).toEqual(['MODIFIED cm-1', 'MODIFIED cm-3', 'MODIFIED cm-2']);
    await stop();
    const all = records();
    expect(markersOf(all, 'fault').map((m) => m.message?.split(':')[0])).toEqual(['fault "slow"', 'fault "cut"']);
    expect(all.filter((r) => r.record === 'watch').map((r) => (r as { name: string }).name)).toEqual(['cm-1', 'cm-3', 'cm-2']);
    expect(markersOf(all, 'watch-closed')[0]).toMatchObject({ message: 'closed by fault "cut"', count: 3 });
  });

  it('fail answers a write with a real Status, never sends it upstream, and records both the fault and the request', async () => {
    const { proxy, fake, stop, records } = await setup({ rules: [{ name: 'conflict', match: { resource: 'configmaps', verb: 'update' }, action: 'fail', code: 409 }] });
    const answer = await request(`${proxy}/api/v1/namespaces/ns/configmaps/cm-1`, 'PUT', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-1', namespace: 'ns', resourceVersion: '101' }, data: {} });
    expect(answer.status).toBe(409);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409, details: { name: 'cm-1' } });
    expect(fake.requests.some((r) => r.method === 'PUT')).toBe(false);
    await stop();
    const all = records();
    expect(markersOf(all, 'fault')).toEqual([expect.objectContaining({ code: 409, resource: 'configmaps' })]);
    expect(all.find((r) => r.record === 'api')).toMatchObject({ verb: 'update', code: 409, reason: 'Conflict', resourceVersionBefore: '101', actor: 'ctrl', byController: true });
  });

  it('stale-list serves a relist the previous list, and the watch from its old resourceVersion catches up', async () => {
    const { proxy, fake, stop, records } = await setup({ rules: [{ name: 'lagging', match: { resource: 'configmaps' }, when: { count: 2 }, action: 'stale-list' }] });
    const list = async (query = 'resourceVersion=0') => JSON.parse((await request(`${proxy}/api/v1/namespaces/ns/configmaps?${query}`)).body) as { metadata: { resourceVersion: string }; items: { metadata: { name: string } }[] };
    const first = await list('');
    fake.delete('', 'configmaps', 'ns', 'cm-0');
    fake.create('', 'configmaps', 'ns', 'cm-9', {});
    // resourceVersion=0 takes any state the server holds: a lagging cache may answer with an old one.
    const stale = await list();
    expect(stale.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    expect(stale.items.map((i) => i.metadata.name)).toEqual(['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
    // The initial events of a watch-list are stale the same way, and the stream ends at the old bookmark.
    const initial = watchNames(`${proxy}/api/v1/namespaces/ns/configmaps?watch=true&sendInitialEvents=true&resourceVersion=${first.metadata.resourceVersion}&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`);
    await initial.ended;
    expect(initial.names).toContain('ADDED cm-0');
    expect(initial.names).not.toContain('ADDED cm-9');
    // The resume from the old resourceVersion goes to the real server, which replays what changed since.
    const resumed = watchNames(`${proxy}/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=${stale.metadata.resourceVersion}`);
    await until(() => resumed.names.length >= 2, 'the changes since the stale list');
    expect(resumed.names).toEqual(['DELETED cm-0', 'ADDED cm-9']);
    resumed.close();
    // Count reached: the next list is the real one.
    expect((await list()).items.map((i) => i.metadata.name)).toContain('cm-9');
    await stop();
    const faults = markersOf(records(), 'fault');
    expect(faults).toHaveLength(2);
    expect(faults[0]!.message).toContain(`previous list (resourceVersion ${first.metadata.resourceVersion}`);
    expect(markersOf(records(), 'list-finished').map((m) => m.resourceVersion)).toEqual([first.metadata.resourceVersion, first.metadata.resourceVersion, first.metadata.resourceVersion, expect.any(String)]);
  });

  it('stale-list never answers what a real server answers fresh: a consistent read, or a state older than asked for', async () => {
    const { proxy, fake, stop, records } = await setup({ rules: [{ name: 'lagging', match: { resource: 'configmaps' }, when: { count: 1 }, action: 'stale-list' }] });
    const names = async (query: string) => (JSON.parse((await request(`${proxy}/api/v1/namespaces/ns/configmaps?${query}`)).body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name);
    await names('');
    fake.create('', 'configmaps', 'ns', 'cm-7', {});
    expect(await names('')).toContain('cm-7');
    fake.create('', 'configmaps', 'ns', 'cm-8', {});
    expect(await names(`resourceVersion=${fake.currentRevision}&resourceVersionMatch=NotOlderThan`)).toContain('cm-8');
    expect(markersOf(records(), 'fault')).toEqual([]);
    // The rule was not spent on them: the first list that may be stale is.
    fake.create('', 'configmaps', 'ns', 'cm-9', {});
    const stale = await names('resourceVersion=0');
    expect(stale).toContain('cm-8');
    expect(stale).not.toContain('cm-9');
    await stop();
    expect(markersOf(records(), 'fault')).toHaveLength(1);
  });

  it('timeout: the write goes to the API server, and the controller is answered 504 Timeout after the delay', async () => {
    const { proxy, fake, stop, records, session } = await setup({ rules: [{ name: 'slow-write', match: { resource: 'configmaps', verb: 'update' }, when: { count: 2 }, action: 'timeout', delay: '300ms' }] });
    // What the API server answers the update (the fake serves reads only): it was applied.
    fake.failNext((r) => r.method === 'PUT', 200, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-1', namespace: 'ns', resourceVersion: '200' } });
    const started = performance.now();
    const answer = await request(`${proxy}/api/v1/namespaces/ns/configmaps/cm-1`, 'PUT', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-1', namespace: 'ns', resourceVersion: '101' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Timeout', code: 504 });
    expect(fake.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    // The faults stop while the second write's answer is held: the controller gets the server's own answer.
    fake.failNext((r) => r.method === 'PUT', 200, { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-2', namespace: 'ns', resourceVersion: '201' } });
    const second = request(`${proxy}/api/v1/namespaces/ns/configmaps/cm-2`, 'PUT', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'cm-2', namespace: 'ns', resourceVersion: '102' } });
    await until(() => fake.requests.filter((r) => r.method === 'PUT').length === 2, 'the second write upstream');
    expect(session.stopFaults('test')).toBe(true);
    expect((await second).status).toBe(200);
    await stop();
    const all = records();
    expect(markersOf(all, 'fault')).toHaveLength(2); // the first timeout, and the stop
    expect(all.filter((r) => r.record === 'api').map((r) => (r as { code: number }).code)).toEqual([504, 200]);
    const [fault] = markersOf(all, 'fault');
    expect(fault).toMatchObject({ code: 504, resourceVersion: '200' });
    expect(fault!.message).toContain('(answered 200, resourceVersion 200) and answered the controller 504 Timeout after 300 ms');
    expect(all.find((r) => r.record === 'api')).toMatchObject({ verb: 'update', code: 504, reason: 'Timeout', resourceVersionBefore: '101' });
  });

  it("the proxy's own request timeout answers 504 for a request the API server never answers, and never cuts a watch", async () => {
    const hanging = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/api/v1') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list', 'watch'] }] }));
      } else if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
      }
      // Anything else: never answered.
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    });
    const { proxy, stop, records } = await setup({}, { upstream: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`, requestTimeoutMs: 300 });
    const watch = watchNames(`${proxy}/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=5`);
    let watchEnded = false;
    void watch.ended.then(() => (watchEnded = true));
    const answer = await request(`${proxy}/api/v1/namespaces/ns/configmaps/slow`);
    expect(answer.status).toBe(504);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'Timeout', message: expect.stringContaining('did not answer within 0.3 s') });
    // Well past the limit, the watch is still open.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(watchEnded).toBe(false);
    watch.close();
    await stop();
    expect(markersOf(records(), 'error').map((m) => m.message)).toEqual([expect.stringContaining('get ns/slow: kreplay proxy: the API server did not answer within 0.3 s')]);
  });

  it('TLS: the written kubeconfig carries the run\'s CA and the client certificate the proxy asks for; without it no client gets in', async () => {
    const { proxy, stop, records, kubeconfig } = await setup({}, { tls: true });
    expect(proxy).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const config = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: Record<string, string> }[] };
    expect(config.clusters[0]!.cluster.server).toBe(proxy);
    const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
    const ca = pem(config.clusters[0]!.cluster['certificate-authority-data']);
    const cert = pem(config.users[0]!.user['client-certificate-data']!);
    const key = pem(config.users[0]!.user['client-key-data']!);
    const get = (options: https.RequestOptions) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.get(`${proxy}/api/v1/namespaces/ns/configmaps`, options, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
      });
    // A real TLS client (OpenSSL under node:https) that verifies the server against the kubeconfig's CA.
    const answer = await get({ ca, cert, key });
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as { items: unknown[] }).items).toHaveLength(5);
    // No client certificate: the proxy refuses the handshake (it would otherwise lend its credentials to anyone).
    await expect(get({ ca })).rejects.toThrow();
    // A server certificate the client cannot trust without the run's CA.
    await expect(get({ cert, key })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    await stop();
    expect(records().filter((r) => r.record === 'marker' && r.marker === 'list-finished')).toHaveLength(1);
  });

  it("--ingest: the SDK's reconciles and handler calls join the session; its api records do not (the proxy saw the requests)", async () => {
    const { stop, records, session } = await setup({}, { ingest: true });
    const object = { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm-1' };
    const at = new Date().toISOString();
    const body = [
      { record: 'reconcile', observedAt: at, origin: 'ingest', controller: 'ctrl', object, startedAt: at, finishedAt: at, result: 'success' },
      { record: 'delivery', observedAt: at, origin: 'ingest', controller: 'ctrl', handler: 'delete', tombstone: true, object, resourceVersion: '3' },
      { record: 'api', observedAt: at, origin: 'ingest', actor: 'ctrl', byController: true, verb: 'update', object, code: 200 },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const answer = await fetch(`${session.ingestUrl}/v1/records`, { method: 'POST', body });
    expect(answer.status, await answer.text()).toBe(202);
    await stop();
    expect(records().map((r) => r.record).filter((k) => k !== 'marker')).toEqual(['reconcile', 'delivery']);
  });

  it('coalesce hides the intermediate versions of an object inside its window: only the last arrives, in order', async () => {
    const { proxy, fake, stop, records } = await setup({ rules: [{ name: 'unobserved', match: { name: 'cm-1', event: 'MODIFIED' }, when: { count: 1 }, action: 'coalesce', delay: '400ms' }] });
    const watch = watchNames(`${proxy}/api/v1/namespaces/ns/configmaps?watch=true&resourceVersion=${fake.currentRevision}`);
    await until(() => markersOf(records(), 'watch-started').length === 1, 'the watch to start');
    fake.update('', 'configmaps', 'ns', 'cm-1', { data: { i: 'a' } });
    fake.update('', 'configmaps', 'ns', 'cm-2', { data: { i: 'b' } });
    const last = fake.update('', 'configmaps', 'ns', 'cm-1', { data: { i: 'c' } });
    fake.update('', 'configmaps', 'ns', 'cm-3', { data: { i: 'd' } });
    await until(() => watch.names.length >= 3, 'the held events');
    watch.close();
    expect(watch.names).toEqual(['MODIFIED cm-2', 'MODIFIED cm-1', 'MODIFIED cm-3']);
    await stop();
    const all = records();
    const delivered = all.filter((r) => r.record === 'watch' && (r as { name: string }).name === 'cm-1');
    expect(delivered.map((r) => r.resourceVersion)).toEqual([last.metadata!.resourceVersion]);
    const [fault] = markersOf(all, 'fault');
    expect(fault!.message).toContain('hid resourceVersion(s)');
    expect(fault!.seq).toBeLessThan(delivered[0]!.seq);
  });
});
