import { ApiException } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionRecord } from '../../model/index.js';
import { createReporter, type Reporter } from './index.js';
import { startTestServer, waitUntil, type TestServer } from './testing/server.js';
import { freePort } from '../../test/free-port.js';

const web = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'default', name: 'web' } as const;
const deployment = { controller: 'web', group: 'apps', version: 'v1', kind: 'Deployment' } as const;
const quiet = (): void => undefined;

const servers: TestServer[] = [];
const reporters: Reporter[] = [];
afterEach(async () => {
  for (const reporter of reporters.splice(0)) await reporter.close({ timeoutMs: 100 });
  for (const server of servers.splice(0)) await server.close();
});

async function server(respond?: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(respond);
  servers.push(s);
  return s;
}

function reporter(options: Parameters<typeof createReporter>[0]): Reporter {
  const r = createReporter({ log: quiet, ...options });
  reporters.push(r);
  return r;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

/** A real client-node 1.x ApiException, as its generated API classes throw it for a non-2xx answer. */
function apiException(code: number, reason: string, message: string): ApiException<string> {
  return new ApiException(code, 'Unknown API Status Code!', statusBody(code, reason, message), { 'content-type': 'application/json' });
}


describe('TypeScript reporting SDK against a loopback HTTP server', () => {
  it('posts NDJSON batches that parse with the model schemas, with the token and the default path', async () => {
    const s = await server();
    const r = reporter({ url: s.url, token: 'a-token-of-sixteen+' });
    const t = Date.now();
    r.reportReconcile({ controller: 'web', object: web, startedAt: t, finishedAt: t + 3, outcome: { requeueAfterMs: 1500 } });
    r.reportDelivery({ controller: 'web', handler: 'update', object: web, resourceVersion: '12', oldResourceVersion: '12' });
    r.reportDelivery({ controller: 'web', handler: 'delete', tombstone: true, object: { ...web, namespace: undefined }, resourceVersion: null });
    r.reportApiRequest({ actor: 'web', verb: 'update', object: web, error: apiException(409, 'Conflict', 'the object has been modified'), resourceVersionBefore: '11' });
    const stats = await r.close();

    expect(s.requests).toHaveLength(1);
    const [request] = s.requests;
    expect(request!.path).toBe('/v1/records');
    expect(request!.headers['content-type']).toBe('application/x-ndjson');
    expect(request!.headers.authorization).toBe('Bearer a-token-of-sixteen+');
    const records = s.accepted().map((line) => SessionRecord.parse(line));
    expect(records.map((x) => x.record)).toEqual(['reconcile', 'delivery', 'delivery', 'api']);
    expect(records[0]).toMatchObject({ origin: 'ingest', result: 'requeue-after', requeueAfterMs: 1500 });
    expect(records[1]).toMatchObject({ handler: 'update', resourceVersion: '12', oldResourceVersion: '12', tombstone: false });
    expect(records[2]).toMatchObject({ tombstone: true, resourceVersion: null, object: { namespace: null } });
    expect(records[3]).toMatchObject({ code: 409, reason: 'Conflict', message: 'the object has been modified', byController: true });
    expect(stats).toEqual({ sent: 4, dropped: 0, rejected: 0 });
  });

  it('is a no-op without a URL', async () => {
    const saved = process.env.KREPLAY_INGEST_URL;
    delete process.env.KREPLAY_INGEST_URL;
    try {
      const lines: string[] = [];
      const r = createReporter({ log: (message) => lines.push(message) });
      expect(r.enabled).toBe(false);
      // A sidecar wired with the wrong variable must say so in the controller's first lines.
      expect(lines).toEqual([expect.stringContaining('reporting is off: no ingest URL (set KREPLAY_INGEST_URL')]);
      r.reportReconcile({ controller: 'web', object: web, startedAt: 0, finishedAt: 0 });
      const wrapped = r.wrapReconcile(deployment, async () => ({ requeue: true }));
      await expect(wrapped({ namespace: 'default', name: 'web' })).resolves.toEqual({ requeue: true });
      await expect(r.close()).resolves.toEqual({ sent: 0, dropped: 0, rejected: 0 });
    } finally {
      if (saved !== undefined) process.env.KREPLAY_INGEST_URL = saved;
    }
  });

  it('reads the environment', async () => {
    const s = await server();
    process.env.KREPLAY_INGEST_URL = s.url;
    process.env.KREPLAY_INGEST_TOKEN = 'from-the-environment';
    try {
      const r = reporter({});
      r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '1' });
      await r.close();
      expect(s.requests[0]!.headers.authorization).toBe('Bearer from-the-environment');
    } finally {
      delete process.env.KREPLAY_INGEST_URL;
      delete process.env.KREPLAY_INGEST_TOKEN;
    }
  });

  it('wrapReconcile times the call, classifies ApiException codes and passes outcomes and errors through', async () => {
    const s = await server();
    const r = reporter({ url: s.url });
    const cases: { thrown?: unknown; outcome?: { requeue?: boolean; requeueAfterMs?: number }; result: string; reason?: string; message?: string }[] = [
      { result: 'success' },
      { outcome: { requeue: true }, result: 'requeue' },
      { outcome: { requeueAfterMs: 30_000 }, result: 'requeue-after' },
      { thrown: apiException(404, 'NotFound', 'deployments.apps "web" not found'), result: 'error', reason: 'NotFound', message: 'deployments.apps "web" not found' },
      { thrown: apiException(409, 'Conflict', 'modified'), result: 'error', reason: 'Conflict' },
      { thrown: apiException(409, 'AlreadyExists', 'exists'), result: 'error', reason: 'AlreadyExists' },
      { thrown: apiException(403, 'Forbidden', 'rbac'), result: 'error', reason: 'Forbidden' },
      { thrown: apiException(422, 'Invalid', 'spec.selector: Required value'), result: 'error', reason: 'Invalid' },
      { thrown: apiException(504, 'Timeout', 'slow'), result: 'error', reason: 'Timeout' },
      { thrown: apiException(500, 'ServerTimeout', 'slow'), result: 'error', reason: 'Timeout' },
      { thrown: new ApiException(404, 'Unknown', undefined, {}), result: 'error', reason: 'NotFound' },
      { thrown: apiException(400, 'BadRequest', 'nope'), result: 'error', reason: 'other' },
      { thrown: Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), result: 'error', reason: 'Timeout' },
      { thrown: new Error('boom'), result: 'error', reason: 'other', message: 'boom' },
      { thrown: 'a string', result: 'error', reason: 'other', message: 'a string' },
    ];
    for (const c of cases) {
      const wrapped = r.wrapReconcile(deployment, async (_request, context) => {
        context.observe({ metadata: { resourceVersion: '4711', generation: 3, uid: 'uid-1' } });
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (c.thrown !== undefined) throw c.thrown;
        return c.outcome;
      });
      const call = wrapped({ namespace: 'default', name: 'web' });
      if (c.thrown !== undefined) await expect(call).rejects.toBe(c.thrown);
      else await expect(call).resolves.toBe(c.outcome);
    }
    await r.close();
    const all = s.accepted().map((line) => SessionRecord.parse(line));
    // Each call is a start, then its finish with the same startedAt.
    expect(all.map((r) => r.record)).toEqual(cases.flatMap(() => ['reconcile-start', 'reconcile']));
    const records = all.filter((r) => r.record === 'reconcile');
    all.forEach((start, i) => {
      if (start.record !== 'reconcile-start') return;
      const done = all[i + 1]!;
      expect(done.record === 'reconcile' && done.startedAt === start.startedAt && done.controller === start.controller).toBe(true);
    });
    records.forEach((record, i) => {
      const c = cases[i]!;
      if (record.record !== 'reconcile') throw new Error('not a reconcile');
      expect({ result: record.result, reason: record.errorReason ?? undefined }, `case ${i}`).toEqual({ result: c.result, reason: c.reason });
      if (c.message) expect(record.errorMessage).toBe(c.message);
      expect(record).toMatchObject({ observedResourceVersion: '4711', observedGeneration: 3, object: { uid: 'uid-1', kind: 'Deployment', namespace: 'default' } });
      expect(Date.parse(record.finishedAt) - Date.parse(record.startedAt)).toBeGreaterThanOrEqual(1);
    });
  });

  it('never slows the caller while the recorder hangs, and close() gives up at its timeout', async () => {
    const s = await server(() => 'hang');
    const r = reporter({ url: s.url, bufferSize: 16, batchSize: 4, flushIntervalMs: 1 });
    const wrapped = r.wrapReconcile(deployment, async () => undefined);
    const t0 = performance.now();
    for (let i = 0; i < 5000; i += 1) await wrapped({ namespace: 'default', name: `web-${i}` });
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    const c0 = performance.now();
    const stats = await r.close({ timeoutMs: 100 });
    expect(performance.now() - c0).toBeLessThan(1000);
    expect(stats).toEqual({ sent: 0, dropped: 10_000, rejected: 0 }); // a start and a finish per call
  });

  it('stops sending reconcile starts to a recorder that refuses them, and still sends the reconciles', async () => {
    const s = await server((request) => {
      const start = request.lines.findIndex((line) => line.startsWith('{"record":"reconcile-start"'));
      return start === -1 ? { status: 202 } : { status: 400, body: { error: `line ${start + 1}: a "reconcile-start" record cannot be ingested`, line: start + 1 } };
    });
    const r = reporter({ url: s.url, flushIntervalMs: 1 });
    const wrapped = r.wrapReconcile(deployment, async () => undefined);
    for (let i = 0; i < 20; i += 1) await wrapped({ namespace: 'default', name: 'web' });
    const stats = await r.close();
    expect(s.accepted().map((line) => (line as { record: string }).record)).toEqual(Array.from({ length: 20 }, () => 'reconcile'));
    expect(stats.sent).toBe(20);
    expect(stats.rejected).toBeGreaterThanOrEqual(1);
  });

  it('reports no starts with reconcileStarts: false', async () => {
    const s = await server();
    const r = reporter({ url: s.url, reconcileStarts: false });
    await r.wrapReconcile(deployment, async () => undefined)({ namespace: 'default', name: 'web' });
    await r.close();
    expect(s.accepted().map((line) => (line as { record: string }).record)).toEqual(['reconcile']);
  });

  it('retries 5xx, resends a batch without the line a 400 names, does not resend a queue-full 503, halves on 413', async () => {
    const s = await server((request, n) => {
      if (n <= 2) return { status: 500 };
      if (n === 3) return { status: 400, body: { error: 'line 2: reconcile.errorReason: ...', line: 2 } };
      if (n === 4) return { status: 202 };
      if (n === 5) return { status: 503, body: { error: "the recorder's queue is full", dropped: request.lines.length } };
      if (request.lines.length > 2) return { status: 413 };
      return { status: 202 };
    });
    const r = reporter({ url: s.url, flushIntervalMs: 1 });
    const t = Date.now();
    for (let i = 0; i < 3; i += 1) r.reportReconcile({ controller: 'web', object: web, startedAt: t, finishedAt: t });
    await waitUntil(() => r.stats().sent === 2, 'the first batch');
    for (let i = 0; i < 2; i += 1) r.reportReconcile({ controller: 'web', object: web, startedAt: t, finishedAt: t });
    await waitUntil(() => r.stats().rejected === 3, 'the queue-full batch');
    for (let i = 0; i < 6; i += 1) r.reportReconcile({ controller: 'web', object: web, startedAt: t, finishedAt: t });
    await r.close();
    expect(r.stats()).toEqual({ sent: 8, dropped: 0, rejected: 3 });
    expect(s.requests.map((q) => q.status).slice(0, 5)).toEqual([500, 500, 400, 202, 503]);
  });

  it('waits for Retry-After on 429', async () => {
    const s = await server((_request, n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 202 }));
    const r = reporter({ url: s.url });
    r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '1' });
    const t0 = Date.now();
    await waitUntil(() => r.stats().sent === 1, 'the retry');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('close() does not wait out a long Retry-After', async () => {
    const s = await server(() => ({ status: 429, headers: { 'Retry-After': '30' } }));
    const r = reporter({ url: s.url, flushIntervalMs: 1 });
    r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '1' });
    await waitUntil(() => s.requests.length === 1, 'the first attempt');
    const t0 = Date.now();
    expect(await r.close({ timeoutMs: 60_000 })).toEqual({ sent: 0, dropped: 1, rejected: 0 });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.requests).toHaveLength(3);
  });

  it('drains everything on close()', async () => {
    const s = await server();
    const r = reporter({ url: s.url, bufferSize: 5000, flushIntervalMs: 250 });
    for (let i = 0; i < 2000; i += 1) r.reportDelivery({ controller: 'web', handler: 'add', object: { ...web, name: `web-${i}` }, resourceVersion: String(i + 1) });
    const stats = await r.close();
    expect(s.accepted()).toHaveLength(2000);
    expect(stats).toEqual({ sent: 2000, dropped: 0, rejected: 0 });
    expect(Math.max(...s.requests.map((q) => q.lines.length))).toBeLessThanOrEqual(500);
    r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '1' });
    expect(r.stats().dropped).toBe(1);
  });

  it('keeps records while the recorder is down and sends them when it comes up', async () => {
    const port = await freePort();
    const r = reporter({ url: `http://127.0.0.1:${port}`, bufferSize: 8, batchSize: 2, flushIntervalMs: 1 });
    for (let i = 0; i < 20; i += 1) r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: String(i + 1) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const s = await startTestServer(undefined, port);
    servers.push(s);
    await waitUntil(() => r.stats().sent + r.stats().dropped === 20, 'every record sent or dropped');
    // The first full batch left the queue at once (the send in flight), then the queue held bufferSize records.
    expect(r.stats()).toEqual({ sent: 10, dropped: 10, rejected: 0 });
    expect(s.accepted()).toHaveLength(10);
  });

  it('close() returns when the recorder is gone for good', async () => {
    const port = await freePort();
    const r = reporter({ url: `http://127.0.0.1:${port}`, batchSize: 10 });
    for (let i = 0; i < 100; i += 1) r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '1' });
    const t0 = Date.now();
    const stats = await r.close({ timeoutMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(stats.dropped).toBe(100);
  });

  it('refuses invalid records locally and never throws', async () => {
    const s = await server();
    const r = reporter({ url: s.url });
    r.reportReconcile({ controller: 'web', object: { ...web, name: '' }, startedAt: 0, finishedAt: 0 });
    r.reportDelivery({ controller: '', handler: 'add', object: web, resourceVersion: '1' });
    r.reportApiRequest({ actor: 'web', verb: 'update', object: null as never });
    r.reportDelivery({ controller: 'web', handler: 'add', object: { ...web, uid: 1n as never }, resourceVersion: '1' }); // does not serialise
    r.reportDelivery({ controller: 'web', handler: 'add', object: web, resourceVersion: '2' });
    await r.close();
    expect(r.stats()).toEqual({ sent: 1, dropped: 0, rejected: 4 });
    expect(s.requests).toHaveLength(1);
  });
});
