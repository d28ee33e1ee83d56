// kreplay record against the real kube-apiserver: the recorder runs as a child process (`node --import tsx
// cli/run.ts record`), exactly as a user runs it, and the tests read its database. What is proven:
//   1. every resourceVersion the API server produced for our writes is in the session, watch events in RV order with
//      no duplicates (core kinds, a Secret whose data never reaches the database, and a CRD created after start);
//   2. an API server restart mid-recording loses nothing;
//   3. a 410 Gone (etcd compaction while the recorder is cut off) gives a gone marker, a relist, and tombstones for
//      objects deleted while the watch was down;
//   4. kill -9 of the recorder, then a restart on the same session, records a gap marker after the last committed seq and
//      resumes the watch from its committed resourceVersion (a deletion meanwhile arrives as the server's DELETED;
//      e2e/resume.e2e.test.ts proves it under load);
//   5. the API server's audit webhook pointed at the recorder records the writes with their status codes.
// The recorder reaches the API server through a TCP proxy in this process, so a test can cut it off on demand (the
// only way to delete an object "while the watch is down" deterministically) while the test itself talks directly.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarkerRecord, StoredRecord, WatchEventRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { compact, eventually, isApiStatus, restartApiServer, restoreBaseline, rv, sleep, useE2e } from './harness.js';
import { freePort, startRecorder, stopRecorder, waitSynced, type RunningRecorder } from './recorder-process.js';

const e2e = useE2e('recorder');
const group = `r${randomBytes(3).toString('hex')}.e2e.kreplay.dev`;
const crdName = `widgets.${group}`;
const secretValue = 'correct-horse-battery-staple';

// ---- the recorder as a child process ----------------------------------------------------------------------------

let workDir: string;
let dbPath: string;
let configPath: string;
let kubeconfigPath: string;
let listenPort: number;
let proxy: CuttableProxy;
const sessionName = 'e2e-recording';
let running: RunningRecorder | undefined;

const recorderOptions = () => ({ dbPath, configPath, kubeconfigPath, session: sessionName, listenPort });

function readSession(): { records: StoredRecord[]; partial: boolean; problems: string[]; endedAt: string | null } {
  const store = openStore(dbPath, { readonly: true });
  try {
    const session = store.findSession(sessionName);
    if (!session) return { records: [], partial: false, problems: [], endedAt: null };
    return { records: [...store.records(session.id, { withObjects: true })], partial: session.partial, problems: session.problems, endedAt: session.endedAt };
  } finally {
    store.close();
  }
}

const watchRecords = (records: readonly StoredRecord[], resource: string) =>
  records.filter((r): r is StoredRecord & WatchEventRecord => r.record === 'watch' && r.resource === resource && r.type !== 'BOOKMARK');
const markers = (records: readonly StoredRecord[], kind: MarkerRecord['marker']) =>
  records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === kind);

// ---- what the tests wrote -----------------------------------------------------------------------------------------

interface Write {
  readonly resource: string;
  readonly name: string;
  readonly uid: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The RV the API server answered with (undefined for deletes answered with a Status). */
  readonly rv: string | undefined;
}
const writes: Write[] = [];

function note(resource: string, type: Write['type'], object: { metadata?: { name?: string; uid?: string; resourceVersion?: string } } | undefined, fallback?: { name: string; uid: string }): void {
  const meta = object?.metadata;
  writes.push({ resource, type, name: meta?.name ?? fallback!.name, uid: meta?.uid ?? fallback!.uid, rv: type === 'DELETED' && (object as { kind?: string })?.kind === 'Status' ? undefined : meta?.resourceVersion });
}

/** Every write is in the session (its RV as a watch or relist record; a DELETED for deletes), and watch RVs only grow. */
async function expectEveryWriteRecorded(timeoutMs = 60_000): Promise<StoredRecord[]> {
  let records: StoredRecord[] = [];
  await eventually(async () => {
    records = readSession().records;
    const missing = writes.filter((write) => {
      const own = watchRecords(records, write.resource).filter((r) => r.uid === write.uid);
      if (write.type === 'DELETED') return !own.some((r) => r.type === 'DELETED');
      return !own.some((r) => r.resourceVersion === write.rv);
    });
    if (missing.length) throw new Error(`not recorded yet: ${missing.map((m) => `${m.type} ${m.resource}/${m.name}@${m.rv}`).join(', ')}`);
  }, timeoutMs, 500);
  for (const resource of new Set(writes.map((w) => w.resource))) {
    const rvs = watchRecords(records, resource)
      .filter((r) => r.origin === 'watch')
      .map((r) => rv(r.resourceVersion));
    for (let i = 1; i < rvs.length; i += 1) {
      if (rvs[i]! <= rvs[i - 1]!) throw new Error(`${resource}: watch RVs out of order or duplicated at index ${i}: ${rvs[i - 1]} then ${rvs[i]}`);
    }
  }
  return records;
}

// ---- API helpers ----------------------------------------------------------------------------------------------------

const ns = () => e2e.namespace;

async function createConfigMap(name: string, data: Record<string, string> = {}): Promise<void> {
  const cm = await e2e.cluster.core.createNamespacedConfigMap({ namespace: ns(), body: { metadata: { name }, data } });
  note('configmaps', 'ADDED', cm);
}

async function updateConfigMap(name: string, data: Record<string, string>): Promise<void> {
  const current = await e2e.cluster.core.readNamespacedConfigMap({ name, namespace: ns() });
  const cm = await e2e.cluster.core.replaceNamespacedConfigMap({ name, namespace: ns(), body: { ...current, data } });
  note('configmaps', 'MODIFIED', cm);
}

async function deleteConfigMap(name: string): Promise<void> {
  const current = await e2e.cluster.core.readNamespacedConfigMap({ name, namespace: ns() });
  await e2e.cluster.core.deleteNamespacedConfigMap({ name, namespace: ns() });
  note('configmaps', 'DELETED', undefined, { name, uid: current.metadata!.uid! });
}

async function widgetRequest(method: string, name: string | undefined, body?: unknown): Promise<{ metadata?: { name?: string; uid?: string; resourceVersion?: string }; kind?: string }> {
  const base = `/apis/${group}/v1/namespaces/${ns()}/widgets`;
  return (await e2e.cluster.http.json(method, name ? `${base}/${name}` : base, body)) as { metadata?: { name?: string; uid?: string; resourceVersion?: string } };
}

async function createCrd(): Promise<void> {
  await e2e.cluster.apiextensions.createCustomResourceDefinition({
    body: {
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
      },
    },
  });
  // Established, and served: discovery lists it.
  await eventually(async () => {
    await e2e.cluster.http.json('GET', `/apis/${group}/v1/namespaces/${ns()}/widgets`);
  }, 60_000);
}

// ---- lifecycle --------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'kreplay-e2e-recorder-'));
  dbPath = path.join(workDir, 'kreplay.db');
  configPath = path.join(workDir, 'recorder.yaml');
  kubeconfigPath = path.join(workDir, 'kubeconfig');
  const server = new URL(e2e.cluster.server);
  proxy = new CuttableProxy({ host: server.hostname, port: Number(server.port) });
  const proxyPort = await proxy.start();
  const kubeconfig = readFileSync(e2e.cluster.paths.kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${proxyPort}`);
  writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
  listenPort = await freePort();
  writeFileSync(
    configPath,
    [
      'resources:',
      '  - v1/configmaps',
      '  - v1/secrets',
      '  - apps/v1/deployments',
      `  - ${group}/v1/widgets   # a CRD created after the recorder starts`,
      `namespaces: [${ns()}]`,
      'controller:',
      '  username: kreplay-admin   # the tests write as this user: their audit records are byController',
      'server:',
      `  listen: 127.0.0.1:${listenPort}`,
      'writer:',
      '  flushInterval: 100ms',
      'watch:',
      '  maxBackoff: 2s',
      '  inactivityTimeout: 90s',
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  if (running) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await proxy?.close();
  await e2e.cluster.apiextensions.deleteCustomResourceDefinition({ name: crdName }).catch((error: unknown) => {
    if (!isApiStatus(error, 404)) throw error;
  });
  await restoreBaseline();
  if (process.env['KREPLAY_E2E_KEEP'] !== '1') rmSync(workDir, { recursive: true, force: true });
});

describe('kreplay record on a real API server', () => {
  it('records every resourceVersion the API server produced, in order, without duplicates; Secret data never stored', async () => {
    running = startRecorder(recorderOptions());
    await waitSynced(running, ['v1/configmaps', 'v1/secrets', 'apps/v1/deployments']);

    for (let i = 0; i < 8; i += 1) await createConfigMap(`cm-${i}`, { n: String(i) });
    for (let i = 0; i < 8; i += 2) await updateConfigMap(`cm-${i}`, { n: `${i}-updated` });
    await deleteConfigMap('cm-1');
    await deleteConfigMap('cm-3');

    const secret = await e2e.cluster.core.createNamespacedSecret({ namespace: ns(), body: { metadata: { name: 'creds' }, stringData: { password: secretValue } } });
    note('secrets', 'ADDED', secret);
    const updatedSecret = await e2e.cluster.core.replaceNamespacedSecret({
      name: 'creds',
      namespace: ns(),
      body: { ...secret, data: { password: Buffer.from(`${secretValue}-2`).toString('base64') } },
    });
    note('secrets', 'MODIFIED', updatedSecret);

    const deployment = await e2e.cluster.apps.createNamespacedDeployment({
      namespace: ns(),
      body: {
        metadata: { name: 'web' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
      },
    });
    note('deployments', 'ADDED', deployment);
    // kube-controller-manager's deployment controller writes the new Deployment's status at once: scale from a
    // fresh read, again on a 409.
    const scaled = await eventually(async () => {
      const current = await e2e.cluster.apps.readNamespacedDeployment({ name: 'web', namespace: ns() });
      return e2e.cluster.apps.replaceNamespacedDeployment({ name: 'web', namespace: ns(), body: { ...current, spec: { ...current.spec!, replicas: 2 } } });
    }, 10_000, 100);
    note('deployments', 'MODIFIED', scaled);

    // The CRD appears only now; the recorder has been waiting for it through discovery.
    await createCrd();
    await waitSynced(running, [`${group}/v1/widgets`], 90_000);
    const w1 = await widgetRequest('POST', undefined, { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } });
    note('widgets', 'ADDED', w1);
    const w1b = await widgetRequest('PUT', 'w1', { ...w1, spec: { size: 2 } });
    note('widgets', 'MODIFIED', w1b);
    const w2 = await widgetRequest('POST', undefined, { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' }, spec: { size: 3 } });
    note('widgets', 'ADDED', w2);
    const w2gone = await widgetRequest('DELETE', 'w2');
    note('widgets', 'DELETED', w2gone, { name: 'w2', uid: w2.metadata!.uid! });

    const records = await expectEveryWriteRecorded();
    const text = JSON.stringify(records);
    expect(text).not.toContain(secretValue);
    expect(text).not.toContain(Buffer.from(secretValue).toString('base64'));
    expect(watchRecords(records, 'secrets').find((r) => r.name === 'creds')!.object).toMatchObject({ data: { password: expect.stringMatching(/^<redacted>/) } });
    const waiting = markers(records, 'error').find((m) => m.resource === 'widgets');
    expect(waiting).toMatchObject({ code: 404, message: expect.stringMatching(/not served/) });
    expect(watchRecords(records, 'widgets')[0]).toMatchObject({ kind: 'Widget', group });
    // Every list is bracketed and every watch start names its RV.
    expect(markers(records, 'list-finished').length).toBeGreaterThanOrEqual(4);
    expect(markers(records, 'watch-started').every((m) => /^\d+$/.test(m.resourceVersion ?? ''))).toBe(true);
  });

  it('loses nothing across an API server restart mid-recording', async () => {
    const before = readSession().records;
    await createConfigMap('before-restart');
    await restartApiServer();
    await createConfigMap('after-restart');
    await updateConfigMap('before-restart', { changed: 'after the restart' });
    await deleteConfigMap('cm-5');
    const records = await expectEveryWriteRecorded(90_000);
    const fresh = records.slice(before.length);
    expect(markers(fresh, 'watch-closed').length).toBeGreaterThanOrEqual(1);
    expect(markers(fresh, 'watch-started').length).toBeGreaterThanOrEqual(1);
  });

  it('after a 410 Gone relists and records objects deleted while the watch was down as tombstones', async () => {
    await createConfigMap('doomed', { last: 'known state' });
    await createConfigMap('survivor');
    await expectEveryWriteRecorded();
    const before = readSession().records.length;

    proxy.cutOff();
    await sleep(500);
    const doomed = await e2e.cluster.core.readNamespacedConfigMap({ name: 'doomed', namespace: ns() });
    await e2e.cluster.core.deleteNamespacedConfigMap({ name: 'doomed', namespace: ns() });
    const survivor = await e2e.cluster.core.readNamespacedConfigMap({ name: 'survivor', namespace: ns() });
    const changed = await e2e.cluster.core.replaceNamespacedConfigMap({ name: 'survivor', namespace: ns(), body: { ...survivor, data: { changed: 'while cut off' } } });
    // Compaction plus an API server restart: the recorder's last RV is gone from both etcd and the watch cache.
    await compact();
    proxy.heal();

    let fresh: StoredRecord[] = [];
    await eventually(async () => {
      fresh = readSession().records.slice(before);
      const gone = markers(fresh, 'gone').filter((m) => m.resource === 'configmaps');
      if (!gone.length) throw new Error('no gone marker yet');
      const finished = markers(fresh, 'list-finished').filter((m) => m.resource === 'configmaps' && m.seq > gone[0]!.seq);
      if (!finished.length) throw new Error('no relist yet');
    }, 120_000, 500);

    const gone = markers(fresh, 'gone').find((m) => m.resource === 'configmaps')!;
    expect(gone.code).toBe(410);
    const listStarted = markers(fresh, 'list-started').find((m) => m.resource === 'configmaps' && m.seq > gone.seq)!;
    const listFinished = markers(fresh, 'list-finished').find((m) => m.resource === 'configmaps' && m.seq > gone.seq)!;
    const relist = fresh.filter((r) => r.seq > listStarted.seq && r.seq < listFinished.seq);
    const tombstone = watchRecords(relist, 'configmaps').find((r) => r.type === 'DELETED');
    expect(tombstone).toMatchObject({ origin: 'relist', name: 'doomed', uid: doomed.metadata!.uid, resourceVersion: listFinished.resourceVersion });
    expect(tombstone!.object).toMatchObject({ data: { last: 'known state' } });
    // No watch delivered the deletion: it is known only from the relist.
    expect(watchRecords(fresh, 'configmaps').filter((r) => r.name === 'doomed' && r.origin === 'watch')).toHaveLength(0);
    expect(watchRecords(relist, 'configmaps').find((r) => r.name === 'survivor')).toMatchObject({ type: 'ADDED', resourceVersion: changed.metadata!.resourceVersion });
    expect(listFinished.message).toMatch(/1 known object\(s\) missing from the list recorded as tombstones/);
    // The bookkeeping for later tests: the deletion is recorded (as a tombstone), the update as a relisted version.
    writes.push({ resource: 'configmaps', type: 'DELETED', name: 'doomed', uid: doomed.metadata!.uid!, rv: undefined });
    writes.push({ resource: 'configmaps', type: 'MODIFIED', name: 'survivor', uid: survivor.metadata!.uid!, rv: changed.metadata!.resourceVersion });
  });

  it('kill -9 loses nothing the watch can re-send; the restart on the same session records the gap and resumes', async () => {
    await createConfigMap('before-kill');
    await expectEveryWriteRecorded();
    await stopRecorder(running!, 'SIGKILL');
    const afterKill = readSession();
    const lastSeq = afterKill.records.at(-1)!.seq;
    expect(markers(afterKill.records, 'recorder-stopped')).toHaveLength(0);

    // Changes while no recorder runs: an update, and a deletion the resumed watch delivers.
    await updateConfigMap('before-kill', { while: 'down' });
    const gone = await e2e.cluster.core.readNamespacedConfigMap({ name: 'cm-7', namespace: ns() });
    await e2e.cluster.core.deleteNamespacedConfigMap({ name: 'cm-7', namespace: ns() });
    writes.push({ resource: 'configmaps', type: 'DELETED', name: 'cm-7', uid: gone.metadata!.uid!, rv: undefined });

    running = startRecorder(recorderOptions());
    await waitSynced(running, ['v1/configmaps', 'v1/secrets', 'apps/v1/deployments', `${group}/v1/widgets`]);
    await createConfigMap('after-kill');
    const records = await expectEveryWriteRecorded();
    const gap = markers(records, 'gap')[0]!;
    expect(gap.seq).toBe(lastSeq + 1);
    expect(gap.message).toMatch(new RegExp(`ended without recorder-stopped .*last committed record: seq ${lastSeq} `));
    const session = readSession();
    expect(session.partial).toBe(true);
    const deletion = watchRecords(records, 'configmaps').find((r) => r.name === 'cm-7' && r.type === 'DELETED');
    expect(deletion).toMatchObject({ origin: 'watch' });
    expect(deletion!.seq).toBeGreaterThan(gap.seq);
    // Each watch says how it went on: configmaps from its fresh resume point; another may still have been relisting
    // after the previous test's compaction when the recorder was killed (its point is then too old: relisted).
    const resumes = records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.seq > gap.seq && r.resume !== undefined);
    expect(resumes.find((m) => m.resource === 'configmaps')).toMatchObject({ marker: 'watch-started', resume: 'resumed' });
    expect(resumes.map((m) => m.resource).sort()).toEqual(['configmaps', 'deployments', 'secrets', 'widgets']);
  });

  it("records the API server's audit webhook: writes and failed reads with their status codes", async () => {
    // Blocking mode: each event reaches the recorder before the API server answers its client.
    await restartApiServer({ auditWebhookUrl: `http://127.0.0.1:${listenPort}/v1/audit` });
    await waitSynced(running!, ['v1/configmaps']);
    await createConfigMap('audited');
    await updateConfigMap('audited', { v: '2' });
    const conflict = await e2e.cluster.core.createNamespacedConfigMap({ namespace: ns(), body: { metadata: { name: 'audited' } } }).catch((error: unknown) => error);
    expect(isApiStatus(conflict, 409)).toBe(true);
    const missing = await e2e.cluster.core.readNamespacedConfigMap({ name: 'no-such-map', namespace: ns() }).catch((error: unknown) => error);
    expect(isApiStatus(missing, 404)).toBe(true);
    await deleteConfigMap('audited');

    let apis: (StoredRecord & { record: 'api' })[] = [];
    await eventually(async () => {
      apis = readSession().records.filter((r): r is StoredRecord & { record: 'api' } => r.record === 'api' && r.object.namespace === ns());
      const seen = apis.map((a) => `${a.verb} ${a.object.name} ${a.code}`);
      for (const expected of ['create audited 201', 'update audited 200', 'create audited 409', 'get no-such-map 404', 'delete audited 200']) {
        if (!seen.includes(expected)) throw new Error(`missing audit record "${expected}"; have ${seen.join(', ')}`);
      }
    }, 60_000, 500);
    const update = apis.find((a) => a.verb === 'update')!;
    expect(update).toMatchObject({ origin: 'audit', actor: 'kreplay-admin', byController: true, object: { kind: 'ConfigMap', resource: 'configmaps' } });
    expect(update.resourceVersionAfter).toBe(writes.filter((w) => w.name === 'audited' && w.type === 'MODIFIED').at(-1)!.rv);
    expect(apis.find((a) => a.code === 409)).toMatchObject({ reason: 'AlreadyExists' });
    // Successful reads are not recorded.
    expect(apis.some((a) => a.verb === 'get' && a.code === 200)).toBe(false);
  });

  it('drains on SIGTERM: recorder-stopped, the session ended, exit code 0', async () => {
    const code = await stopRecorder(running!, 'SIGTERM');
    const log = running!.log();
    running = undefined;
    expect(code, log.slice(-3000)).toBe(0);
    expect(log).toMatch(/kreplay record: session e2e-recording: \d+ record\(s\) committed/);
    const session = readSession();
    expect(session.records.at(-1)).toMatchObject({ record: 'marker', marker: 'recorder-stopped' });
    expect(session.endedAt).not.toBeNull();
  });
});
