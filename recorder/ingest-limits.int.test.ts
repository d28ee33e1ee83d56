import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type SessionStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { IngestServer } from './ingest-server.js';
import { Writer } from './writer.js';

// The ingest server's boundary against a real store: what Kubernetes could not have sent is refused with the line
// and the field, a refused batch writes nothing, a batch is bounded before it is parsed whole, and a record from a
// skewed clock is kept, flagged, and left out of the session's span.

const tempDir = useTempDir();
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const now = Date.parse('2026-12-06T12:00:00.000Z');

async function start(options: { maxBodyBytes?: number; maxBatchRecords?: number } = {}) {
  const store: SessionStore = openStore(join(tempDir(), 'kreplay.db'));
  const session = store.createSession({ name: 'limits', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
  const writer = new Writer({ store, sessionId: session.id, flushIntervalMs: 20, batchSize: 500, queueSize: 50_000 });
  const server = new IngestServer({
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    maxBatchRecords: options.maxBatchRecords,
    recordsPerSecond: 1_000_000,
    burst: 1_000_000,
    sink: writer,
    audit: { scope: 'all', resources: [], controllerUsernames: [] },
    now: () => now,
  });
  const { url } = await server.start();
  stops.push(async () => {
    await server.close();
    await writer.close();
    store.close();
  });
  const committed = async () => {
    await writer.flush();
    return [...store.records(session.id)];
  };
  return { url, store, session, committed };
}

function delivery(name: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    record: 'delivery',
    observedAt: '2026-12-06T11:59:59.000Z',
    controller: 'web-operator',
    handler: 'update',
    object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name },
    resourceVersion: '7',
    ...fields,
  });
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('ingest accepts only what Kubernetes could have sent', () => {
  it('refuses a bad name, kind, namespace or controller with the line and field, and writes none of the batch', async () => {
    const { url, committed } = await start();
    const cases: [string, RegExp][] = [
      [delivery('x'.repeat(100_000)), /^line 2: delivery\.object\.name: a name is at most 253 characters \(got 100000\)/],
      [delivery('web', { object: { group: 'apps', version: 'v1', kind: 'Deplo\u0001yµent%', namespace: 'shop', name: 'web' } }), /^line 2: delivery\.object\.kind: .* is not a kind/],
      [delivery('web', { object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'Shop!', name: 'web' } }), /^line 2: delivery\.object\.namespace: .* is not a namespace/],
      [delivery('web', { controller: 'web\u0000\ud800' }), /^line 2: delivery\.controller: a controller name may not contain a NUL character/],
      [delivery('web', { object: { group: 'Apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' } }), /^line 2: delivery\.object\.group: .* is not an API group/],
      [delivery('web', { object: { group: 'apps', version: '1.0', kind: 'Deployment', namespace: 'shop', name: 'web' } }), /^line 2: delivery\.object\.version: .* is not an API version/],
    ];
    for (const [bad, message] of cases) {
      const response = await post(`${url}/v1/records`, `${delivery('first')}\n${bad}\n${delivery('last')}\n`);
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ line: 2, error: expect.stringMatching(message) });
    }
    expect(await committed()).toEqual([]);
    expect((await post(`${url}/v1/records`, `${delivery('system:controller:web')}\n`)).status).toBe(202);
    expect((await committed()).map((r) => (r.record === 'delivery' ? r.object.name : ''))).toEqual(['system:controller:web']);
  });

  it('bounds a batch: 413 past the records cap, on a 6 MB body and on a 64 MiB gzip bomb; 400 on broken JSON', async () => {
    const { url, committed } = await start({ maxBatchRecords: 100 });
    const many = Array.from({ length: 101 }, (_, i) => delivery(`w${i}`)).join('\n');
    expect(await post(`${url}/v1/records`, many)).toMatchObject({ status: 413, body: { error: expect.stringMatching(/more than 100 records/) } });
    expect((await post(`${url}/v1/records`, 'x'.repeat(6_000_000))).status).toBe(413);
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect((await post(`${url}/v1/records`, bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect((await post(`${url}/v1/audit`, bomb, { 'Content-Encoding': 'gzip' })).status).toBe(413);
    expect((await post(`${url}/v1/records`, `${delivery('a')}\n{"record":`)).status).toBe(400);
    expect((await post(`${url}/v1/audit`, '{"kind":"EventList","items":[{"kind":')).status).toBe(400);
    expect((await post(`${url}/v1/audit`, '{"kind":"Pod","apiVersion":"v1"}')).status).toBe(400);
    expect((await post(`${url}/v1/records`, gzipSync('not gzip at all').subarray(0, 12), { 'Content-Encoding': 'gzip' })).status).toBe(400);
    expect(await committed()).toEqual([]);
  });

  it('keeps a record from a skewed clock, flagged, out of the session span', async () => {
    const { url, store, committed } = await start();
    const onTime = delivery('on-time');
    const tenDaysBefore = delivery('old', { observedAt: '2026-11-26T12:00:00.000Z' });
    const forged = delivery('forged', { clockSkew: { field: 'observedAt', receivedAt: '2026-12-06T12:00:00.000Z', skewMs: 0 } });
    expect((await post(`${url}/v1/records`, [onTime, tenDaysBefore, forged].join('\n'))).status).toBe(202);
    const records = await committed();
    const flag = (name: string) => records.find((r) => r.record === 'delivery' && r.object.name === name)?.clockSkew;
    expect(flag('on-time')).toBeUndefined();
    expect(flag('forged')).toBeUndefined();
    expect(flag('old')).toEqual({ field: 'observedAt', receivedAt: '2026-12-06T12:00:00.000Z', skewMs: -10 * 24 * 3_600_000 });
    const summary = store.listSessions()[0]!;
    expect(summary.firstObservedAt).toBe('2026-12-06T11:59:59.000Z');
    expect(summary.lastObservedAt).toBe('2026-12-06T11:59:59.000Z');
    expect(summary.recordCount).toBe(3);
  });
});
