// Finalizer removal as the real API server does it, seen by `kreplay record` (watch + audit webhook) and by an
// import of the API server's audit log. A ConfigMap with the controller's finalizer is deleted, then its finalizer
// patched away: kube-apiserver answers the PATCH 200 with finalizers empty but the *previous* resourceVersion and
// deletes the object (apiserver pkg/registry/generic/registry/store.go, Update → deleteWithoutFinalizers), the next
// GET is 404 and watchers get DELETED at a new RV carrying the last stored state. No source may call that stuck. A
// second ConfigMap keeps its finalizer: both sources must find it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckConfig } from '../model/check-config.js';
import type { Finding } from '../model/index.js';
import { importFile } from '../importers/import-file.js';
import { analyze } from '../replayer/index.js';
import { openStore } from '../store/index.js';
import { eventually, logPaths, restartApiServer, restoreBaseline, sleep, useE2e } from './harness.js';
import { freePort, startRecorder, stopRecorder, waitSynced, type RunningRecorder } from './recorder-process.js';

const e2e = useE2e('finalizer');
const manager = 'e2e-controller';
const finalizer = 'e2e.kreplay.dev/cleanup';
// Short enough for a test, long enough that a finalizer wrongly believed present is well past it at the end.
const parsedConfig = CheckConfig.parse({ thresholds: { finalizerTimeout: '2s' } });

let workDir: string;
let dbPath: string;
let recorder: RunningRecorder | undefined;

const ns = () => e2e.namespace;
const configMapPath = (name?: string) => `/api/v1/namespaces/${ns()}/configmaps${name ? `/${name}` : ''}`;

interface Meta {
  metadata: { resourceVersion: string; uid: string; finalizers?: string[]; deletionTimestamp?: string };
}

async function request(method: string, pathAndQuery: string, body?: unknown, contentType?: string): Promise<{ status: number; object: Meta }> {
  const res = await e2e.cluster.http.request(method, pathAndQuery, body, contentType ? { 'Content-Type': contentType } : {});
  return { status: res.status, object: JSON.parse(res.body) as Meta };
}

/** Waits until the recording holds these watch events ("ADDED name"). */
async function waitForWatched(events: readonly string[]): Promise<void> {
  await eventually(async () => {
    const store = openStore(dbPath, { readonly: true });
    try {
      const session = store.findSession('finalizers');
      const seen = session ? [...store.records(session.id, { withObjects: false })].flatMap((r) => (r.record === 'watch' ? [`${r.type} ${r.name}`] : [])) : [];
      const missing = events.filter((e) => !seen.includes(e));
      if (missing.length) throw new Error(`not recorded yet: ${missing.join(', ')} (have ${seen.join(', ')})`);
    } finally {
      store.close();
    }
  }, 60_000, 500);
}

/** Alarms (warning or error) of one kind on one object; info findings are context. */
const alarmsOn = (findings: readonly Finding[], kind: string, name: string) =>
  findings.filter((f) => f.kind === kind && f.object.name === name && f.severity !== 'info');

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'kreplay-e2e-finalizer-'));
  dbPath = path.join(workDir, 'kreplay.db');
  const configPath = path.join(workDir, 'recorder.yaml');
  const listenPort = await freePort();
  writeFileSync(
    configPath,
    ['resources:', '  - v1/configmaps', `namespaces: [${ns()}]`, 'controller:', `  name: ${manager}`, 'server:', `  listen: 127.0.0.1:${listenPort}`, 'writer:', '  flushInterval: 100ms', ''].join('\n'),
  );
  recorder = startRecorder({ dbPath, configPath, kubeconfigPath: e2e.cluster.paths.kubeconfig, session: 'finalizers', listenPort });
  await waitSynced(recorder, ['v1/configmaps']);
  // Blocking mode: each audit event reaches the recorder before the API server answers its client (so the recorder
  // must listen before the server starts). A restarted server's watch cache starts at etcd's current revision: the
  // recorder's watch resumes with a relist, and a probe seen by the watch says it is live again.
  await restartApiServer({ auditWebhookUrl: `http://127.0.0.1:${listenPort}/v1/audit` });
  expect((await request('POST', configMapPath(), { metadata: { name: 'probe' } })).status).toBe(201);
  await waitForWatched(['ADDED probe']);
});

afterAll(async () => {
  // The held ConfigMap would keep the namespace terminating forever.
  await request('PATCH', `${configMapPath('held')}?fieldManager=${manager}`, { metadata: { finalizers: null } }, 'application/merge-patch+json').catch(() => undefined);
  if (recorder) {
    recorder.child.kill('SIGKILL');
    await recorder.exited;
  }
  await restoreBaseline();
  if (process.env['KREPLAY_E2E_KEEP'] !== '1') rmSync(workDir, { recursive: true, force: true });
});

describe('finalizer removal on a real API server', () => {
  it('a released finalizer is never stuck, a kept one always is: recorded (watch + audit webhook) and imported from the audit log', async () => {
    const body = (name: string) => ({ metadata: { name, finalizers: [finalizer] }, data: { v: '1' } });
    for (const name of ['released', 'held']) expect((await request('POST', `${configMapPath()}?fieldManager=${manager}`, body(name))).status).toBe(201);
    const deleted = await request('DELETE', configMapPath('released'));
    expect(deleted.status).toBe(200);
    expect(deleted.object.metadata.deletionTimestamp).toBeDefined();
    expect((await request('DELETE', configMapPath('held'))).status).toBe(200);

    // The controller's cleanup is done: it removes its finalizer, and the server deletes the object.
    const removal = await request('PATCH', `${configMapPath('released')}?fieldManager=${manager}`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    expect(removal.status).toBe(200);
    expect(removal.object.metadata.finalizers ?? []).toEqual([]);
    // The answer carries the resourceVersion the object had before the write: the write was never stored.
    expect(removal.object.metadata.resourceVersion).toBe(deleted.object.metadata.resourceVersion);
    expect((await request('GET', configMapPath('released'))).status).toBe(404);

    // Time passes with the other finalizer still there; a last write so the audit log's clock moves too.
    await sleep(3_500);
    expect((await request('POST', `${configMapPath()}?fieldManager=${manager}`, { metadata: { name: 'later' } })).status).toBe(201);

    // Recorded: watch events and the webhook's audit records in one session.
    await waitForWatched(['DELETED released', 'ADDED later']);
    const store = openStore(dbPath);
    try {
      expect(await stopRecorder(recorder!, 'SIGTERM')).toBe(0);
      recorder = undefined;
      const session = store.findSession('finalizers')!;
      const recorded = analyze(store.records(session.id, { withObjects: 'lazy' }), { parsedConfig, controller: [manager] }).findings;
      expect(alarmsOn(recorded, 'stuck-finalizer', 'released')).toEqual([]);
      const heldRecorded = alarmsOn(recorded, 'stuck-finalizer', 'held');
      expect(heldRecorded).toHaveLength(1);
      expect(heldRecorded[0]!.blame).toMatchObject({ actor: manager, role: 'controller' });

      // Imported: the API server's own audit log, this namespace's requests only.
      const auditPath = path.join(workDir, 'audit.log');
      const lines = readFileSync(logPaths().audit, 'utf8')
        .split('\n')
        .filter((line) => line.includes(`"namespace":"${ns()}"`));
      writeFileSync(auditPath, lines.join('\n') + '\n');
      const outcome = await importFile(store, { format: 'audit', session: 'finalizers-audit', input: { path: auditPath }, controller: manager, strict: true, toolVersion: 'test' });
      if (!outcome.ok) throw new Error(outcome.message);
      const imported = analyze(store.records(outcome.summary.session.id, { withObjects: 'lazy' }), { parsedConfig, controller: [manager] }).findings;
      expect(alarmsOn(imported, 'stuck-finalizer', 'released')).toEqual([]);
      const heldImported = alarmsOn(imported, 'stuck-finalizer', 'held');
      expect(heldImported).toHaveLength(1);
      expect(heldImported[0]!.blame).toMatchObject({ actor: manager, role: 'controller' });
    } finally {
      store.close();
    }
  });
});
