import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiException } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../model/index.js';
import { IngestServer } from '../../recorder/ingest-server.js';
import { Writer } from '../../recorder/writer.js';
import { openStore, type SessionStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { createReporter } from './index.js';

// The SDKs against the REAL recorder: its ingest server (recorder/ingest-server.ts) and writer, committing into a
// real SQLite file through store/. What the controller reports must come back out of the store.

const tempDir = useTempDir();
const token = 'sdk-test-token-0123456789';
const goDir = fileURLToPath(new URL('../go/', import.meta.url));

interface Recorder {
  url: string;
  store: SessionStore;
  sessionId: number;
  /** Waits for the writer to commit, then reads the session back. */
  records(): Promise<StoredRecord[]>;
  stop(): Promise<void>;
}

const running: Recorder[] = [];
afterEach(async () => {
  for (const recorder of running.splice(0)) await recorder.stop();
});

async function startRecorder(): Promise<Recorder> {
  const store = openStore(join(tempDir(), 'kreplay.db'));
  const session = store.createSession({ name: 'sdk', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
  const writer = new Writer({ store, sessionId: session.id, flushIntervalMs: 20, batchSize: 500, queueSize: 10_000 });
  const server = new IngestServer({
    host: '127.0.0.1',
    port: 0,
    token,
    maxBodyBytes: 4 * 1024 * 1024,
    recordsPerSecond: 5_000,
    burst: 20_000,
    sink: writer,
  });
  const { url } = await server.start();
  const recorder: Recorder = {
    url,
    store,
    sessionId: session.id,
    records: async () => {
      await writer.flush();
      return [...store.records(session.id)];
    },
    stop: async () => {
      await server.close();
      await writer.close();
      store.close();
    },
  };
  running.push(recorder);
  return recorder;
}

const web = { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web' } as const;

describe('the SDKs against the real ingest server and store', () => {
  it('TypeScript: reconciles, deliveries and API requests land in the session', async () => {
    const recorder = await startRecorder();
    const reporter = createReporter({ url: recorder.url, token, log: () => undefined });
    const reconcile = reporter.wrapReconcile({ controller: 'ts-live', group: 'apps', version: 'v1', kind: 'Deployment' }, async (request, context) => {
      context.observe({ metadata: { resourceVersion: '41', generation: 2, uid: 'uid-web' } });
      if (request.name === 'gone') {
        throw new ApiException(404, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'deployments.apps "gone" not found' }), {});
      }
      return { requeueAfterMs: 10_000 };
    });
    await reconcile({ namespace: 'shop', name: 'web' });
    await expect(reconcile({ namespace: 'shop', name: 'gone' })).rejects.toBeInstanceOf(ApiException);
    reporter.reportDelivery({ controller: 'ts-live', handler: 'update', object: web, resourceVersion: '41', oldResourceVersion: '41' });
    reporter.reportDelivery({ controller: 'ts-live', handler: 'delete', tombstone: true, object: web, resourceVersion: '41' });
    reporter.reportApiRequest({
      actor: 'ts-live',
      verb: 'update',
      object: web,
      resourceVersionBefore: '40',
      error: new ApiException(409, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }), {}),
    });
    const stats = await reporter.close();
    expect(stats).toEqual({ sent: 7, dropped: 0, rejected: 0 });

    const all = await recorder.records();
    expect(all.map((r) => r.record)).toEqual(['reconcile-start', 'reconcile', 'reconcile-start', 'reconcile', 'delivery', 'delivery', 'api']);
    expect(all[0]).toMatchObject({ controller: 'ts-live', object: { name: 'web' }, startedAt: (all[1] as { startedAt: string }).startedAt });
    const records = all.filter((r) => r.record !== 'reconcile-start');
    expect(records.every((r) => r.origin === 'ingest' && r.seq > 0)).toBe(true);
    expect(records[0]).toMatchObject({ controller: 'ts-live', result: 'requeue-after', requeueAfterMs: 10_000, observedResourceVersion: '41', observedGeneration: 2 });
    expect(records[1]).toMatchObject({ result: 'error', errorReason: 'NotFound', errorMessage: 'deployments.apps "gone" not found', object: { name: 'gone' } });
    expect(records[3]).toMatchObject({ handler: 'delete', tombstone: true, resourceVersion: '41' });
    expect(records[4]).toMatchObject({ verb: 'update', code: 409, reason: 'Conflict', byController: true, resourceVersionBefore: '40' });
  });

  it('a wrong token is refused (401) and counted, once logged', async () => {
    const recorder = await startRecorder();
    const messages: string[] = [];
    const reporter = createReporter({ url: recorder.url, token: 'wrong-token-0123456789', log: (message, fields) => messages.push(`${message} ${JSON.stringify(fields)}`) });
    for (let i = 0; i < 3; i += 1) {
      reporter.reportDelivery({ controller: 'ts-live', handler: 'add', object: web, resourceVersion: String(i + 1) });
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(await reporter.close()).toEqual({ sent: 0, dropped: 0, rejected: 3 });
    // One line says reporting is on at start; the refusal is logged once, not once per batch.
    expect(messages.filter((m) => m.startsWith('reporting is on'))).toHaveLength(1);
    const refusals = messages.filter((m) => !m.startsWith('reporting is on'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('KREPLAY_INGEST_TOKEN');
    expect(await recorder.records()).toEqual([]);
  });

  it("Go: the golden lines of the Go SDK are accepted, except the dropped marker, which ingest refuses", async () => {
    const recorder = await startRecorder();
    const lines = readFileSync(join(goDir, 'testdata', 'golden.ndjson'), 'utf8').split('\n').filter((line) => line !== '');
    const post = (body: string) =>
      fetch(`${recorder.url}/v1/records`, { method: 'POST', headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${token}` }, body });
    const records = lines.filter((line) => !line.includes('"record":"marker"'));
    const accepted = await post(`${records.join('\n')}\n`);
    expect(accepted.status).toBe(202);
    expect(await accepted.json()).toEqual({ accepted: records.length });
    const marker = await post(lines.find((line) => line.includes('"record":"marker"'))!);
    expect(marker.status).toBe(400); // the Go SDK then stops sending markers (reporter.go markDrops)
    expect((await marker.json()) as unknown).toMatchObject({ line: 1 });
    const stored = await recorder.records();
    expect(stored).toHaveLength(records.length);
    expect(stored.map((r) => r.record)).toEqual(records.map((line) => (JSON.parse(line) as { record: string }).record));
  });

  // Needs Go 1.23 or later (sdk/go/test.sh builds the same test binary, so the second build is cached); KREPLAY_SKIP_GO=1 skips.
  const go = process.env.KREPLAY_SKIP_GO === '1' ? { status: 1 } : spawnSync('go', ['version'], { encoding: 'utf8' });
  it.skipIf(go.status !== 0)('Go: the real Go SDK reports into the store (go test -run TestLiveRecorder)', { timeout: 600_000 }, async () => {
    const recorder = await startRecorder();
    // The recorder runs in this process: the go test must not block the event loop, so run it asynchronously.
    const { spawn } = await import('node:child_process');
    const child = spawn('go', ['test', '-count=1', '-run', '^TestLiveRecorder$', '.'], {
      cwd: goDir,
      env: { ...process.env, KREPLAY_LIVE_INGEST_URL: recorder.url, KREPLAY_LIVE_INGEST_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output).not.toContain('no tests to run');

    const all = await recorder.records();
    expect(all.map((r) => r.record)).toEqual(['reconcile-start', 'reconcile', 'reconcile-start', 'reconcile', 'reconcile-start', 'reconcile', 'delivery', 'delivery', 'delivery', 'api']);
    const records = all.filter((r) => r.record !== 'reconcile-start');
    expect(records.slice(0, 3).map((r) => (r.record === 'reconcile' ? [r.result, r.errorReason ?? null] : null))).toEqual([
      ['requeue-after', null],
      ['error', 'NotFound'],
      ['error', 'other'],
    ]);
    expect(records[1]).toMatchObject({ errorMessage: expect.stringContaining('terminal error') });
    expect(records.slice(3, 6).map((r) => (r.record === 'delivery' ? [r.handler, r.tombstone, r.resourceVersion, r.oldResourceVersion ?? null] : null))).toEqual([
      ['add', false, '7', null],
      ['update', false, '7', '7'],
      ['delete', true, '7', null],
    ]);
    expect(records[6]).toMatchObject({ record: 'api', verb: 'create', code: 201, actor: 'go-live', byController: true, object: { kind: 'Deployment', name: 'web' } });
  });
});
