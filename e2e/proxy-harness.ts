// What the proxy's end-to-end tests share: the zoo binary and its CRD, `kreplay proxy -- zoo <controller>` as a child
// process, waiting for the controller's informers to sync through the proxy, and reading the session back.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { StoredRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { deleteNamespace, eventually, type Cluster } from './harness.js';

const e2eDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(e2eDir, '..');
const zooDir = path.join(e2eDir, 'zoo');

export function buildZoo(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(zooDir, 'build.sh')], { maxBuffer: 1 << 20, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`e2e/zoo/build.sh failed: ${err.message}\n${stderr}`));
      else resolve(stdout.trim().split('\n').pop()!);
    });
  });
}

/** The Widget CRD (e2e/zoo/crd.yaml), created if missing, and served. */
export async function ensureWidgetCrd(cluster: Cluster): Promise<void> {
  const body = parseYaml(readFileSync(path.join(zooDir, 'crd.yaml'), 'utf8')) as { metadata: { name: string } };
  const res = await cluster.http.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', body);
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating the Widget CRD answered ${res.status}: ${res.body}`);
  await eventually(async () => {
    const list = await cluster.http.request('GET', '/apis/zoo.kreplay.dev/v1/widgets');
    if (list.status !== 200) throw new Error(`Widgets not served yet (${list.status})`);
  }, 60_000);
}

export interface ProxiedRun {
  readonly db: string;
  readonly session: string;
  readonly kubeconfig: string;
  /** Everything the proxy and the controller printed so far. */
  output(): string;
  /** SIGUSR1 to kreplay: no fault fires from now on; resolves once the session holds the marker that says so. */
  stopFaults(): Promise<void>;
  /** SIGTERM to kreplay (which stops the controller first), then its exit code. */
  stop(): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** `kreplay proxy ... -- <zoo> <controller> --namespace NS`, from the repository as a user runs it (tsx). */
export function startProxied(options: { zoo: string; controller: string; namespace: string; session: string; adminKubeconfig: string; faults?: string; faultsProfile?: string; ingest?: boolean; dir?: string; standalone?: boolean; listen?: string }): ProxiedRun {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'kreplay-proxy-e2e-'));
  const db = path.join(dir, 'proxy.db');
  const kubeconfig = path.join(dir, `${options.session}.kubeconfig`);
  const args = ['--import', 'tsx', 'cli/run.ts', '--db', db, 'proxy', '--kubeconfig', options.adminKubeconfig, '--listen', options.listen ?? '127.0.0.1:0', '--write-kubeconfig', kubeconfig, '--session', options.session, '--controller', `zoo-${options.controller}`];
  if (options.faults) {
    const file = path.join(dir, `${options.session}.faults.yaml`);
    writeFileSync(file, options.faults);
    args.push('--faults', file);
  } else if (options.faultsProfile) args.push('--faults', options.faultsProfile);
  // The zoo's controllers report reconciles and handler calls through the SDK when KREPLAY_INGEST_URL is set.
  if (options.ingest) args.push('--ingest', '127.0.0.1:0');
  // standalone: the proxy alone; the test runs (and restarts) the controller itself with the written kubeconfig.
  if (!options.standalone) args.push('--', options.zoo, options.controller, '--namespace', options.namespace);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    db,
    session: options.session,
    kubeconfig,
    output: () => output,
    exited,
    async stopFaults() {
      child.kill('SIGUSR1');
      await eventually(async () => {
        const stopped = sessionRecords(db, options.session).some((r) => r.record === 'marker' && r.marker === 'fault' && r.message?.startsWith('fault injection stopped'));
        if (!stopped) throw new Error(`no fault-injection-stopped marker yet\n${output.slice(-1000)}`);
      }, 30_000, 250);
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The session's records, read from its database (WAL: readable while the proxy writes). */
export function sessionRecords(db: string, session: string): StoredRecord[] {
  const store = openStore(db);
  try {
    const info = store.findSession(session);
    if (!info) return [];
    return [...store.records(info.id)];
  } finally {
    store.close();
  }
}

/** Waits until the controller's informers have their initial state for each resource (a list-finished each). */
export async function waitSynced(run: ProxiedRun, resources: readonly string[], timeoutMs = 60_000): Promise<void> {
  await eventually(async () => {
    const finished = new Set(sessionRecords(run.db, run.session).flatMap((r) => (r.record === 'marker' && r.marker === 'list-finished' && r.resource ? [r.resource] : [])));
    const missing = resources.filter((r) => !finished.has(r));
    if (missing.length) throw new Error(`not synced through the proxy yet: ${missing.join(', ')}\n${run.output().slice(-2000)}`);
  }, timeoutMs, 500);
}

/** `kreplay check SESSION --json` on the proxy's database, with the zoo's short-run thresholds. */
export function checkSession(db: string, session: string, controller: string): Promise<{ code: number | null; findings: { kind: string; severity: string; rule: string; message: string; object: { namespace: string | null; name: string } }[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', '--db', db, 'check', session, '--json', '--config', path.join(zooDir, 'check.yaml'), '--controller', controller], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      try {
        resolve({ code, findings: (JSON.parse(stdout) as { findings: never[] }).findings, stderr });
      } catch (error) {
        reject(new Error(`kreplay check printed no JSON (exit ${code}): ${stderr}\n${stdout.slice(0, 500)} ${(error as Error).message}`));
      }
    });
  });
}

export const widgetsPath = (namespace: string, name?: string) => `/apis/zoo.kreplay.dev/v1/namespaces/${namespace}/widgets${name ? `/${name}` : ''}`;

export async function must(cluster: Cluster, method: string, pathAndQuery: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ metadata: { resourceVersion: string; uid: string } }> {
  const res = await cluster.http.request(method, pathAndQuery, body, headers);
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${pathAndQuery} answered ${res.status}: ${res.body}`);
  return JSON.parse(res.body) as { metadata: { resourceVersion: string; uid: string } };
}

export function createWidget(cluster: Cluster, namespace: string, name: string, size: number) {
  return must(cluster, 'POST', `${widgetsPath(namespace)}?fieldManager=zoo-workload`, { apiVersion: 'zoo.kreplay.dev/v1', kind: 'Widget', metadata: { name }, spec: { size } });
}

export function resizeWidget(cluster: Cluster, namespace: string, name: string, size: number) {
  return must(cluster, 'PATCH', `${widgetsPath(namespace, name)}?fieldManager=zoo-workload`, { spec: { size } }, { 'Content-Type': 'application/merge-patch+json' });
}

export function deleteWidget(cluster: Cluster, namespace: string, name: string) {
  return must(cluster, 'DELETE', widgetsPath(namespace, name));
}

/**
 * Test cleanup: deletes the namespace after releasing its Widgets' finalizers. The zoo controller that owned them has
 * stopped, so the namespace would otherwise stay Terminating with Widgets in it — until the next controller that
 * watches every namespace (the zoo's cluster-wide-watch) reconciles them and, rightly, is seen touching two
 * namespaces.
 */
export async function releaseAndDeleteNamespace(cluster: Cluster, namespace: string): Promise<void> {
  if (process.env['KREPLAY_E2E_KEEP'] === '1') return;
  const list = await cluster.http.request('GET', widgetsPath(namespace));
  if (list.status === 200) {
    for (const item of (JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items) {
      await cluster.http.request('PATCH', widgetsPath(namespace, item.metadata.name), { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    }
  }
  await deleteNamespace(cluster, namespace);
}

/**
 * kube-controller-manager writes ConfigMap kube-root-ca.crt into each new namespace, seconds later on a busy machine
 * (or after another test restarted the control plane): two runs compared by `kreplay diff` must both start with it,
 * or the diff sees it in one only.
 */
export async function namespaceSettled(cluster: Cluster, namespace: string): Promise<void> {
  await eventually(async () => {
    const res = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}/configmaps/kube-root-ca.crt`);
    if (res.status !== 200) throw new Error(`kube-root-ca.crt not in ${namespace} yet (${res.status})`);
  }, 120_000, 500);
}

/** Waits for the controller's child ConfigMap to hold the Widget's size (it wrote it through the proxy). */
export async function waitChild(cluster: Cluster, namespace: string, widget: string, size: number, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const res = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}/configmaps/${widget}-config`);
    if (res.status !== 200) throw new Error(`${widget}-config: ${res.status}`);
    const data = (JSON.parse(res.body) as { data?: Record<string, string> }).data ?? {};
    if (!Object.values(data).includes(String(size))) throw new Error(`${widget}-config holds ${JSON.stringify(data)}, not size ${size}`);
  }, timeoutMs, 250);
}

/** `kreplay ARGS` on the proxy's database, as a user runs it. */
export function kreplayCli(db: string, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', '--db', db, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Waits until the controller's view (the session) holds the Widget with its status caught up with its spec. */
export async function waitViewConverged(run: ProxiedRun, widget: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => {
    const last = sessionRecords(run.db, run.session)
      .filter((r) => r.record === 'watch' && r.name === widget && r.type !== 'BOOKMARK')
      .at(-1) as (StoredRecord & { object: { metadata?: { generation?: number }; status?: { observedGeneration?: number } } | null }) | undefined;
    const generation = last?.object?.metadata?.generation;
    if (!generation || last?.object?.status?.observedGeneration !== generation) throw new Error(`${widget}: the view has not caught up (${JSON.stringify(last?.object?.status ?? null)})`);
  }, timeoutMs, 250);
}
