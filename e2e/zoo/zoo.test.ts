// The zoo on the real control plane (`npm run test:zoo`; see README.md): for each controller in e2e/zoo/<name>/,
// record a run of it under a scripted workload, check the sessions with `kreplay check`, and compare what was found
// with what was planted (expect.json). One run of the controller feeds every recording mode at once:
//   <name>-record   kreplay record: watches on Widgets and ConfigMaps, the controller's SDK reports, the audit webhook
//   <name>-webhook  kreplay record watching nothing: the audit webhook alone (the uninstrumented case)
//   <name>-audit    kreplay import of the API server's audit log, the slice written during the run
// Sessions stay in e2e/zoo/out/zoo.db for `kreplay replay`. Prints a planted-vs-found table at the end.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { openStore } from '../../store/index.js';
import { CuttableProxy } from '../cuttable-proxy.js';
import { compact, connect, eventually, logTails, restartApiServer, restoreBaseline, sleep, type Cluster } from '../harness.js';
import { freePort, startRecorder, stopRecorder, waitSynced, type RunningRecorder } from '../recorder-process.js';
import {
  AuditRelay,
  check,
  compare,
  dbPath,
  formatTable,
  freshNamespace,
  kreplay,
  outDir,
  removeNamespace,
  waitNamespacesGone,
  waitWidgetGone,
  runWorkload,
  startController,
  zooControllers,
  zooDir,
  type Comparison,
  type RunningProcess,
  type RecordingMode,
  type ZooController,
} from './zoo-lib.js';

const controllers = zooControllers();
const rows: Comparison[] = [];
let cluster: Cluster;
let binary: string;
let relay: AuditRelay | undefined;
let relayUrl: string;

function buildZoo(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(zooDir, 'build.sh')], { maxBuffer: 1 << 20, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`e2e/zoo/build.sh failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').pop()!);
    });
  });
}

async function applyCrd(): Promise<void> {
  const body = parseYaml(readFileSync(path.join(zooDir, 'crd.yaml'), 'utf8')) as { metadata: { name: string } };
  const res = await cluster.http.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', body);
  if (res.status === 409) {
    const current = JSON.parse((await cluster.http.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${body.metadata.name}`)).body) as { metadata: { resourceVersion: string } };
    const put = await cluster.http.request('PUT', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${body.metadata.name}`, { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } });
    if (put.status !== 200) throw new Error(`updating the Widget CRD answered ${put.status}: ${put.body}`);
  } else if (res.status !== 201) throw new Error(`creating the Widget CRD answered ${res.status}: ${res.body}`);
  await eventually(async () => {
    const list = await cluster.http.request('GET', '/apis/zoo.kreplay.dev/v1/widgets');
    if (list.status !== 200) throw new Error(`Widgets not served yet (${list.status})`);
  }, 60_000);
}

/**
 * Widgets that earlier tests left anywhere go first (finalizers released, then deleted), and the zoo waits until none
 * is left: the cluster-wide-watch controller lists every namespace, and reconciling a leftover rightly stands its
 * finding down. A namespace deletion alone is not enough: kube-controller-manager's namespace controller can take
 * minutes after API server restarts (its discovery of the Widget group fails meanwhile), and CI saw a proxy e2e test's
 * Widget still there when the zoo began.
 */
async function removeLeftoverWidgets(): Promise<void> {
  const widgets = async () => {
    const list = await cluster.http.request('GET', '/apis/zoo.kreplay.dev/v1/widgets');
    if (list.status !== 200) throw new Error(`listing Widgets answered ${list.status}: ${list.body}`);
    return (JSON.parse(list.body) as { items: { metadata: { namespace: string; name: string } }[] }).items.map((i) => i.metadata);
  };
  for (const { namespace, name } of await widgets()) {
    const at = `/apis/zoo.kreplay.dev/v1/namespaces/${namespace}/widgets/${name}`;
    await cluster.http.request('PATCH', at, { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    await cluster.http.request('DELETE', at);
  }
  await eventually(async () => {
    const left = await widgets();
    if (left.length) throw new Error(`Widgets left by earlier tests: ${left.map((w) => `${w.namespace}/${w.name}`).join(', ')}`);
  }, 60_000, 500);
}

function auditLogSize(): number {
  return statSync(cluster.paths.logs.audit).size;
}

/** The bytes the API server appended to its audit log between two sizes, cut at the last whole line. */
function auditSlice(from: number, to: number): string {
  const fd = openSync(cluster.paths.logs.audit, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    readSync(fd, buffer, 0, buffer.length, from);
    const text = buffer.toString('utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1);
  } finally {
    closeSync(fd);
  }
}

/** A session of that name from an earlier run goes: its segments too (NAME.2, ...), which a resumed recording makes. */
function deleteSession(name: string): void {
  if (!existsSync(dbPath)) return;
  const store = openStore(dbPath);
  try {
    for (const session of store.listSessions()) {
      if (session.name === name || session.name.startsWith(`${name}.`)) store.deleteSession(session.id);
    }
  } finally {
    store.close();
  }
}

function recorderConfig(controller: ZooController, listenPort: number, mode: 'record' | 'webhook'): string {
  const lines =
    mode === 'record'
      ? ['resources:', '  - zoo.kreplay.dev/v1/widgets', '  - v1/configmaps', `namespaces: [${controller.namespace}]`]
      : // No watches: every write the webhook sends (the workload's too), and the controller's failed reads.
        ['resources: []', 'audit:', '  scope: all'];
  return [
    ...lines,
    'controller:',
    `  name: ${controller.identity}`,
    `  username: ${controller.identity}`,
    'server:',
    `  listen: 127.0.0.1:${listenPort}`,
    'writer:',
    '  flushInterval: 100ms',
    // Back soon after a cut (deleteUnseen), like the controller's reflector.
    'watch:',
    '  maxBackoff: 2s',
    '',
  ].join('\n');
}

interface RunResult {
  readonly sessions: Partial<Record<RecordingMode, string>>;
}

/** One controller's run: every recording mode listening, the controller and its workload, then everything stopped. */
async function runController(controller: ZooController): Promise<RunResult> {
  const record = `${controller.name}-record`;
  const webhook = `${controller.name}-webhook`;
  const audit = `${controller.name}-audit`;
  for (const session of [record, webhook, audit]) deleteSession(session);
  await freshNamespace(cluster, controller.namespace);

  // The controller and the recording recorder reach the API server through proxies, one each: deleteUnseen cuts
  // both, disconnect the controller's alone.
  const server = new URL(cluster.server);
  const proxiedKubeconfig = async (proxy: CuttableProxy, file: string): Promise<string> => {
    const kubeconfigPath = path.join(outDir, file);
    writeFileSync(kubeconfigPath, readFileSync(cluster.paths.kubeconfig, 'utf8').replace(/server: https:\/\/[^\s]+/, `server: https://127.0.0.1:${await proxy.start()}`), { mode: 0o600 });
    return kubeconfigPath;
  };
  const recorderProxy = new CuttableProxy({ host: server.hostname, port: Number(server.port) });
  const controllerProxy = new CuttableProxy({ host: server.hostname, port: Number(server.port) });
  const recorderKubeconfig = await proxiedKubeconfig(recorderProxy, `${controller.name}.recorder.kubeconfig`);
  const controllerKubeconfig = await proxiedKubeconfig(controllerProxy, `${controller.name}.kubeconfig`);
  const faults = {
    async deleteUnseen(name: string): Promise<void> {
      const relistsBefore = listsFinished(record);
      recorderProxy.cutOff();
      controllerProxy.cutOff();
      await sleep(500);
      const res = await cluster.http.request('DELETE', `/apis/zoo.kreplay.dev/v1/namespaces/${controller.namespace}/widgets/${name}`);
      if (res.status !== 200) throw new Error(`deleteUnseen ${name}: DELETE answered ${res.status}: ${res.body}`);
      await waitWidgetGone(cluster, controller.namespace, name);
      // And its child, inside the cut too, so that every run is alike: the garbage collector would delete it, but
      // after an API server restart it took from 1 s to 34 s (its monitors resync), sometimes after the reconnect.
      const childPath = `/api/v1/namespaces/${controller.namespace}/configmaps/${name}-config`;
      const child = await cluster.http.request('DELETE', childPath);
      if (child.status !== 200 && child.status !== 404) throw new Error(`deleteUnseen ${name}: DELETE of its child answered ${child.status}: ${child.body}`);
      // Compaction, then a restart with the relay's webhook: every resourceVersion handed out so far is gone.
      await compact({ restartApiServer: false });
      await restartApiServer({ auditWebhookUrl: relayUrl });
      recorderProxy.heal();
      controllerProxy.heal();
      // The recording recorder relists (its resourceVersions were compacted) before the workload goes on: a write
      // made while it was still backing off would be a gap in the recorder's view, not the controller's (CI under
      // load: it reconnected after the controller, and the next update fell between the two).
      await eventually(async () => {
        const now = listsFinished(record);
        const behind = [...relistsBefore].filter(([resource, count]) => (now.get(resource) ?? 0) <= count).map(([resource]) => resource);
        if (behind.length) throw new Error(`the recorder has not relisted ${behind.join(', ')} since the API server restart`);
      }, 60_000, 250);
    },
    disconnect(): void {
      controllerProxy.cutOff();
    },
    reconnect(): void {
      controllerProxy.heal();
    },
  };
  const recorders: { mode: 'record' | 'webhook'; recorder: RunningRecorder; webhookUrl: string }[] = [];
  let running: RunningProcess | undefined;
  try {
    for (const [mode, session] of [['record', record], ['webhook', webhook]] as const) {
      const listenPort = await freePort();
      const configPath = path.join(outDir, `${controller.name}.${mode}.yaml`);
      writeFileSync(configPath, recorderConfig(controller, listenPort, mode));
      const recorder = startRecorder({ dbPath, configPath, kubeconfigPath: mode === 'record' ? recorderKubeconfig : cluster.paths.kubeconfig, session, listenPort });
      recorders.push({ mode, recorder, webhookUrl: `http://127.0.0.1:${listenPort}/v1/audit` });
    }
    const [recording, webhookOnly] = [recorders[0]!, recorders[1]!];
    await waitSynced(recording.recorder, ['zoo.kreplay.dev/v1/widgets', 'v1/configmaps'], 90_000);
    await waitSynced(webhookOnly.recorder, [], 90_000);
    for (const r of recorders) relay!.add(r.webhookUrl);
    const auditFrom = auditLogSize();
    running = startController(binary, controller, controllerKubeconfig, { KREPLAY_INGEST_URL: `http://127.0.0.1:${recording.recorder.listenPort}` });
    // Ready: controller-runtime says "Starting workers", the client-go one "starting the worker".
    await eventually(async () => {
      if (running!.child.exitCode !== null) throw new Error(`the controller exited (${running!.child.exitCode}):\n${running!.log().slice(-3000)}`);
      if (!/Starting workers|starting the worker/.test(running!.log())) throw new Error(`controller not ready yet:\n${running!.log().slice(-2000)}`);
    }, 60_000, 200);
    await runWorkload(cluster, controller, Date.now(), faults);
    running.child.kill('SIGTERM');
    const code = await running.exited;
    running = undefined;
    if (code !== 0) throw new Error(`zoo ${controller.name} exited ${code}; log: e2e/zoo/out/${controller.name}.controller.log`);
    // The SDK's last batch and the watch's last events: give them a moment before the recorders drain.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const auditTo = auditLogSize();
    for (const r of recorders) {
      relay!.remove(r.webhookUrl);
      const exit = await stopRecorder(r.recorder, 'SIGTERM');
      writeFileSync(path.join(outDir, `${controller.name}.${r.mode}.log`), r.recorder.log());
      if (exit !== 0) throw new Error(`kreplay record (${r.mode}) exited ${exit}:\n${r.recorder.log().slice(-3000)}`);
    }

    const auditFile = path.join(outDir, `${controller.name}.audit.log`);
    writeFileSync(auditFile, auditSlice(auditFrom, auditTo));
    const imported = await kreplay(['import', auditFile, '--format', 'audit', '--session', audit, '--controller', controller.identity]);
    if (imported.code !== 0) throw new Error(`kreplay import of ${auditFile} exited ${imported.code}: ${imported.stderr}`);
    return { sessions: { record, webhook, audit } };
  } finally {
    if (running) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    for (const r of recorders) {
      relay!.remove(r.webhookUrl);
      if (r.recorder.child.exitCode === null) {
        r.recorder.child.kill('SIGKILL');
        await r.recorder.exited;
      }
    }
    await recorderProxy.close();
    await controllerProxy.close();
    await removeNamespace(cluster, controller.namespace).catch(() => undefined);
  }
}

beforeAll(async () => {
  // Fails at once, saying how to start it, when no control plane is up (KREPLAY_E2E_DIR and the ports find it).
  cluster = await connect();
  mkdirSync(outDir, { recursive: true });
  binary = await buildZoo();
  await applyCrd();
  await removeLeftoverWidgets();
  relay = new AuditRelay();
  relayUrl = await relay.start();
  await restartApiServer({ auditWebhookUrl: relayUrl });
}, 40 * 60_000);

afterAll(async () => {
  if (rows.length) console.log(`\nzoo: planted vs found (sessions in ${path.relative(process.cwd(), dbPath)})\n${formatTable(rows)}\n`);
  if (relay) {
    await waitNamespacesGone(cluster, controllers.map((c) => c.namespace));
    await restoreBaseline().catch((error: unknown) => console.error(`restoring the API server's baseline failed: ${String(error)}`));
    await relay.close();
  }
}, 120_000);

describe('zoo', () => {
  for (const controller of controllers) {
    it(`${controller.name}: ${controller.expect.planted}`, async () => {
      let result: RunResult;
      try {
        result = await runController(controller);
      } catch (error) {
        console.error(`[zoo] ${controller.name} failed to run\n${logTails(20)}`);
        throw error;
      }
      const mine: Comparison[] = [];
      for (const [mode, session] of Object.entries(result.sessions) as [keyof RunResult['sessions'], string][]) {
        mine.push(compare(controller, mode, session, await check(session, controller)));
      }
      rows.push(...mine);
      const failures = mine.filter((r) => !r.tolerated);
      expect(failures.map((r) => `${r.session}: missed [${r.missed.join(', ')}] unexpected [${r.unexpected.join(', ')}]`)).toEqual([]);
    }, 240_000);
  }
});

/** How many lists a recorder session has finished so far, per resource: a relist is done when its count grows. */
function listsFinished(session: string): Map<string, number> {
  const store = openStore(dbPath);
  try {
    const info = store.findSession(session);
    const counts = new Map<string, number>();
    if (!info) return counts;
    for (const r of store.records(info.id)) {
      if (r.record === 'marker' && r.marker === 'list-finished' && r.resource) counts.set(r.resource, (counts.get(r.resource) ?? 0) + 1);
    }
    return counts;
  } finally {
    store.close();
  }
}
