import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiRequestRecord, type StoredRecord } from '../model/index.js';
import { analyze } from '../replayer/index.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { convertAuditBody } from './audit-receiver.js';
import { parseConfig } from './config.js';
import { FakeApiServer, configMaps, widgets } from './fake-apiserver.js';
import { silentLogger } from './log.js';
import { Recorder } from './recorder.js';
import { kubeConfigFor, waitFor } from './test-helpers.js';

const tempDir = useTempDir();
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const token = 'sekret-token-0123456789';
const operator = 'system:serviceaccount:ops:widget-operator';

/** A PATCH of widget ns1/<name> at `ms` past 10:00:00, as kube-apiserver's webhook sends it (Metadata level: no bodies). */
function auditEvent(id: string, name: string, ms: number, code: number) {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: id,
    stage: 'ResponseComplete',
    requestURI: `/apis/example.kreplay.dev/v1/namespaces/ns1/widgets/${name}`,
    verb: 'patch',
    user: { username: operator },
    userAgent: 'widget-operator/v0.3.1 (linux/amd64) kubernetes/abcdef',
    objectRef: { resource: 'widgets', namespace: 'ns1', name, apiGroup: 'example.kreplay.dev', apiVersion: 'v1' },
    responseStatus: code === 404 ? { metadata: {}, code, status: 'Failure', reason: 'NotFound', message: `widgets.example.kreplay.dev "${name}" not found` } : { metadata: {}, code },
    requestReceivedTimestamp: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, ms - 8)).toISOString(),
    stageTimestamp: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, ms)).toISOString(),
  };
}

/** The same request as the Go SDK's WrapClient reports it, stamped when the call returned (a few ms later). */
function sdkReport(name: string, ms: number, code: number) {
  return {
    record: 'api',
    observedAt: new Date(Date.UTC(2026, 10, 25, 10, 0, 0, ms + 3)).toISOString(),
    origin: 'ingest',
    actor: 'widget-operator',
    byController: true,
    verb: 'patch',
    object: { group: 'example.kreplay.dev', version: 'v1', kind: 'Widget', namespace: 'ns1', name },
    code,
    ...(code === 404 ? { reason: 'NotFound', message: `widgets.example.kreplay.dev "${name}" not found` } : {}),
  };
}

async function post(url: string, body: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', body, headers: { Authorization: `Bearer ${token}` } });
  await response.text();
  return response.status;
}

describe('Recorder: one write, one record (real SQLite, real HTTP)', () => {
  it('stores a request the audit webhook and the SDK both report once, with both sources, and notfound-retry counts it once', async () => {
    const fake = new FakeApiServer([configMaps, widgets]);
    const url = await fake.start();
    cleanups.push(() => fake.close());
    const dbPath = join(tempDir(), 'kreplay.db');
    const store = openStore(dbPath);
    const config = parseConfig({
      resources: ['example.kreplay.dev/v1/widgets'],
      server: { listen: '127.0.0.1:0' },
      writer: { flushInterval: '20ms' },
      controller: { username: operator },
    });
    const recorder = await Recorder.start({ config, kube: kubeConfigFor(url), store, dbPath, sessionName: 'rec', toolVersion: 'test', token, log: silentLogger });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await recorder.stop();
      store.close();
    });
    await waitFor(() => recorder.readiness().ready, 5_000, 'ready');

    // The controller PATCHes a widget nobody created, five times 50 ms apart (a NotFound retry loop), then one that
    // exists; the SDK's batch comes first, the webhook's batch (batch mode) later.
    const requests = [0, 50, 100, 150, 200].map((ms) => ({ name: 'gone', ms, code: 404 })).concat([{ name: 'w1', ms: 400, code: 200 }]);
    // A client cannot claim sources: the last report says it was already paired, and the recorder ignores that.
    const sdkBody = requests.map((r, i) => JSON.stringify({ ...sdkReport(r.name, r.ms, r.code), ...(i === requests.length - 1 ? { sources: ['audit', 'ingest'] } : {}) })).join('\n');
    const auditBody = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: requests.map((r, i) => auditEvent(`a${i}`, r.name, r.ms, r.code)) });
    expect(await post(`${recorder.url}/v1/records`, sdkBody)).toBe(202);
    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['api'] }) === requests.length, 5_000, 'the SDK reports');
    expect(await post(`${recorder.url}/v1/audit`, auditBody)).toBe(200);
    await waitFor(() => store.recordCount(recorder.sessionId, { kinds: ['api'], origins: ['audit'] }) === requests.length, 5_000, 'the audit events merged');
    const metrics = await (await fetch(`${recorder.url}/metrics`)).text();
    stopped = true;
    await recorder.stop();

    const apis = [...store.records(recorder.sessionId)].filter((r): r is StoredRecord & ApiRequestRecord => r.record === 'api');
    expect(apis).toHaveLength(requests.length);
    expect(apis.map((a) => [a.object.name, a.code, a.origin, a.sources, a.auditId, a.actor, a.controller, a.byController])).toEqual(
      requests.map((r, i) => [r.name, r.code, 'audit', ['audit', 'ingest'], `a${i}`, operator, 'widget-operator', true]),
    );
    expect(metrics).toMatch(/kreplay_recorder_paired_requests_total 6/);

    // What the session held before pairing: both sources' records, each on its own.
    const unpaired: StoredRecord[] = [
      ...sdkBody.split('\n').map((line) => ({ ...ApiRequestRecord.parse(JSON.parse(line)), sources: undefined })),
      ...convertAuditBody(auditBody, { scope: 'watched', resources: config.resources, controllerUsernames: [operator] }).records,
    ].map((record, i) => ({ ...record, seq: i + 1 }));
    const retriesOf = (records: Iterable<StoredRecord>) =>
      analyze(records, { controller: [operator] })
        .findings.filter((f) => f.kind === 'notfound-retry')
        .reduce((n, f) => n + f.count, 0);
    expect(retriesOf(unpaired)).toBe(10);
    expect(retriesOf(store.records(recorder.sessionId, { withObjects: 'lazy' }))).toBe(5);
  });
});
