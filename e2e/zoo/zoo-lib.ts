// The zoo's moving parts, used by zoo.test.ts: the files beside each controller (expect.json, workload.json), the
// audit relay the API server's webhook points at, the controller as a child process, the scripted workload, the
// kreplay CLI (import, check) as a user runs it, and the planted-vs-found comparison.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Finding, Severity } from '../../model/index.js';
import { sleep, type Cluster } from '../harness.js';

export const zooDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(zooDir, '..', '..');
export const outDir = path.join(zooDir, 'out');
export const dbPath = path.join(outDir, 'zoo.db');
export const checkConfigPath = path.join(zooDir, 'check.yaml');

// ---- the files beside each controller ------------------------------------------------------------------------------

/** How a session is recorded. `record`: watch + SDK ingest + audit webhook; `webhook`: the audit webhook alone; `audit`: an import of the API server's audit log slice for the run. */
export const recordingModes = ['record', 'webhook', 'audit'] as const;
export type RecordingMode = (typeof recordingModes)[number];

const Expected = z.strictObject({
  /** A finding kind, e.g. stuck-finalizer. */
  kind: z.string().min(1),
  namespace: z.string(),
  name: z.string().min(1),
  /**
   * The severity it must have. Without it: warning or above, like every alarm. With it, exactly that one, which is
   * how a planted finding that is context by design (`info`, e.g. cluster-wide-watch without cluster-wide RBAC) is
   * asserted: found at info, and not raised to an alarm.
   */
  severity: Severity.optional(),
});
export type Expected = z.infer<typeof Expected>;

export const ExpectFile = z.strictObject({
  /** What the controller does wrong, in a few words (the table's "planted" column). */
  planted: z.string().min(1),
  /** What `check` must find in every mode, and nothing else at warning or above. */
  expect: z.array(Expected),
  /** Per mode, what that mode's data can show instead (a mode that cannot show the kind expects less). */
  modes: z.partialRecord(z.enum(recordingModes), z.array(Expected)).optional(),
  /**
   * A detector problem that raises false alarms: findings beyond `expect` are reported but tolerated. A planted kind
   * must still be found (a mode that cannot show it says so in `modes`). A string for every mode, or per mode.
   */
  knownFailure: z.union([z.string().min(1), z.partialRecord(z.enum(recordingModes), z.string().min(1))]).optional(),
});
export type ExpectFile = z.infer<typeof ExpectFile>;

const WorkloadStep = z.union([
  z.strictObject({ at: z.number().nonnegative(), create: z.string().min(1), size: z.number().int().nonnegative() }),
  z.strictObject({ at: z.number().nonnegative(), update: z.string().min(1), size: z.number().int().nonnegative() }),
  z.strictObject({ at: z.number().nonnegative(), delete: z.string().min(1) }),
  /**
   * A delete no watch sees: the controller and the recorder are cut off the API server, the Widget (and its child)
   * is deleted,
   * etcd is compacted and the API server restarted, then they are let back in. Their watches resume from a
   * resourceVersion that is gone: 410, relist, and the Widget is a tombstone (DeletedFinalStateUnknown).
   */
  z.strictObject({ at: z.number().nonnegative(), deleteUnseen: z.string().min(1) }),
  /**
   * A plain disconnect: the controller alone is cut off (its connections closed, new ones refused) until a
   * `reconnect` step. The API server keeps running and nothing is compacted, so its watch cache still holds the
   * history: a client resuming from any resourceVersion it was handed gets exactly what it missed. The recorder
   * stays connected and sees every change.
   */
  z.strictObject({ at: z.number().nonnegative(), disconnect: z.literal(true) }),
  z.strictObject({ at: z.number().nonnegative(), reconnect: z.literal(true) }),
]);
export type WorkloadStep = z.infer<typeof WorkloadStep>;

export const WorkloadFile = z.strictObject({
  /** Seconds the controller runs, from the moment it is ready; at most 60. */
  duration: z.number().positive().max(60),
  /** Writes to Widgets, `at` seconds after the controller is ready, in order. */
  steps: z.array(WorkloadStep),
});
export type WorkloadFile = z.infer<typeof WorkloadFile>;

export interface ZooController {
  readonly name: string;
  readonly namespace: string;
  /** The user it impersonates, its field manager and its SDK name (internal/zoo Env.Identity). */
  readonly identity: string;
  readonly expect: ExpectFile;
  readonly workload: WorkloadFile;
}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Every directory of e2e/zoo with an expect.json, optionally only those named in $KREPLAY_ZOO_ONLY (comma-separated). */
export function zooControllers(only = process.env['KREPLAY_ZOO_ONLY']): ZooController[] {
  const wanted = only ? new Set(only.split(',').map((s) => s.trim()).filter(Boolean)) : undefined;
  const names = readdirSync(zooDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(zooDir, d.name, 'expect.json')))
    .map((d) => d.name)
    .sort();
  if (wanted) {
    const unknown = [...wanted].filter((w) => !names.includes(w));
    if (unknown.length) throw new Error(`KREPLAY_ZOO_ONLY names no zoo controller: ${unknown.join(', ')} (there are: ${names.join(', ')})`);
  }
  return names
    .filter((name) => !wanted || wanted.has(name))
    .map((name) => ({
      name,
      namespace: `zoo-${name}`,
      identity: `zoo-${name}`,
      expect: readJson(path.join(zooDir, name, 'expect.json'), ExpectFile),
      workload: readJson(path.join(zooDir, name, 'workload.json'), WorkloadFile),
    }));
}

export function expectedFor(controller: ZooController, mode: RecordingMode): readonly Expected[] {
  return controller.expect.modes?.[mode] ?? controller.expect.expect;
}

export function knownFailureFor(controller: ZooController, mode: RecordingMode): string | undefined {
  const known = controller.expect.knownFailure;
  return typeof known === 'string' ? known : known?.[mode];
}

// ---- the audit relay -------------------------------------------------------------------------------------------------

/**
 * What the API server's audit webhook points at for the whole zoo run. In blocking mode the API server waits for the
 * webhook on every request and retries a sink that is down (~2 s per event), so the webhook cannot point at a
 * recorder that only lives for one controller's run. The relay answers every batch, forwarding it first, body
 * untouched, to the recorders listening at the moment.
 */
export class AuditRelay {
  private readonly server: http.Server;
  private readonly targets = new Set<string>();
  forwarded = 0;
  failures = 0;

  constructor() {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        void Promise.all([...this.targets].map((url) => this.forward(url, body, req.headers['content-type']))).finally(() => res.writeHead(200).end());
      });
    });
  }

  private async forward(url: string, body: Buffer, contentType: string | undefined): Promise<void> {
    try {
      const response = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': contentType ?? 'application/json' } });
      await response.arrayBuffer();
      if (response.ok) this.forwarded += 1;
      else this.failures += 1;
    } catch {
      this.failures += 1;
    }
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/audit`;
  }

  add(url: string): void {
    this.targets.add(url);
  }

  remove(url: string): void {
    this.targets.delete(url);
  }

  async close(): Promise<void> {
    this.targets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- processes -------------------------------------------------------------------------------------------------------

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  log(): string;
}

/** The zoo binary running one controller; its output also goes to out/<name>.controller.log. */
export function startController(binary: string, controller: ZooController, kubeconfig: string, env: Record<string, string>): RunningProcess {
  const child = spawn(binary, [controller.name, '--kubeconfig', kubeconfig, '--namespace', controller.namespace], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: '', ...env },
  });
  const file = createWriteStream(path.join(outDir, `${controller.name}.controller.log`));
  let output = '';
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      file.write(chunk);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { file.end(); resolve(code); }));
  return { child, exited, log: () => output };
}

/** `kreplay ARGS` as a user runs it (tsx, no build needed), on the zoo's database. */
export function kreplay(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', '--db', dbPath, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// ---- the workload ----------------------------------------------------------------------------------------------------

const widgetsPath = (namespace: string, name?: string) => `/apis/zoo.kreplay.dev/v1/namespaces/${namespace}/widgets${name ? `/${name}` : ''}`;
/** The workload's writes carry their own field manager, so managedFields tell them from the controller's. */
const workloadManager = 'zoo-workload';

async function must(cluster: Cluster, method: string, pathAndQuery: string, body?: unknown, headers: Record<string, string> = {}): Promise<void> {
  const res = await cluster.http.request(method, pathAndQuery, body, headers);
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${pathAndQuery} answered ${res.status}: ${res.body}`);
}

export interface Faults {
  /** Deletes the Widget while the controller and the recorder are cut off, and makes their watches expire. */
  deleteUnseen(name: string): Promise<void>;
  /** Closes the controller's connections and refuses new ones; the recorder stays connected. */
  disconnect(): void;
  /** Lets the controller back in. */
  reconnect(): void;
}

/**
 * Runs the steps at their times (seconds after `t0`), waits until `duration` has passed, and ends with one write of
 * its own, a ConfigMap `zoo-run-end`. An audit log has no end marker: a session imported from it ends at its last
 * event, and this quiet cluster (Lease renewals are not audited) may write nothing for the last 20 s of a run, which
 * would cut short every duration measured "until the session ended" (a stuck finalizer's).
 */
export async function runWorkload(cluster: Cluster, controller: ZooController, t0: number, faults: Faults): Promise<void> {
  const ns = controller.namespace;
  for (const step of controller.workload.steps) {
    const wait = t0 + step.at * 1000 - Date.now();
    if (wait > 0) await sleep(wait);
    if ('create' in step) {
      await must(cluster, 'POST', `${widgetsPath(ns)}?fieldManager=${workloadManager}`, {
        apiVersion: 'zoo.kreplay.dev/v1',
        kind: 'Widget',
        metadata: { name: step.create },
        spec: { size: step.size },
      });
    } else if ('update' in step) {
      await must(cluster, 'PATCH', `${widgetsPath(ns, step.update)}?fieldManager=${workloadManager}`, { spec: { size: step.size } }, { 'Content-Type': 'application/merge-patch+json' });
    } else if ('delete' in step) {
      await must(cluster, 'DELETE', widgetsPath(ns, step.delete));
    } else if ('disconnect' in step) {
      faults.disconnect();
    } else if ('reconnect' in step) {
      faults.reconnect();
    } else {
      await faults.deleteUnseen(step.deleteUnseen);
    }
  }
  const rest = t0 + controller.workload.duration * 1000 - Date.now();
  if (rest > 0) await sleep(rest);
  await must(cluster, 'POST', `/api/v1/namespaces/${ns}/configmaps?fieldManager=${workloadManager}`, { metadata: { name: 'zoo-run-end' }, data: { at: new Date().toISOString() } });
}

/** Takes every finalizer off the namespace's Widgets (a stuck one would hold the namespace for ever), then deletes it. */
/** Waits until a GET of the Widget answers 404. */
export async function waitWidgetGone(cluster: Cluster, namespace: string, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await cluster.http.request('GET', widgetsPath(namespace, name))).status !== 404) {
    if (Date.now() > deadline) throw new Error(`Widget ${namespace}/${name} still there ${timeoutMs / 1000}s after its delete`);
    await sleep(200);
  }
}

export async function removeNamespace(cluster: Cluster, namespace: string): Promise<void> {
  const list = await cluster.http.request('GET', widgetsPath(namespace));
  if (list.status === 200) {
    const items = (JSON.parse(list.body) as { items: { metadata: { name: string; finalizers?: string[] } }[] }).items;
    for (const item of items.filter((i) => i.metadata.finalizers?.length)) {
      await cluster.http.request('PATCH', widgetsPath(namespace, item.metadata.name), { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
    }
  }
  const res = await cluster.http.request('DELETE', `/api/v1/namespaces/${namespace}`);
  if (res.status !== 200 && res.status !== 202 && res.status !== 404) throw new Error(`DELETE namespace ${namespace} answered ${res.status}: ${res.body}`);
}

/**
 * A fresh namespace: one left by an earlier run is removed first (kube-controller-manager's namespace controller
 * empties it). Widgets can outlive their namespace: seen once when it was deleted just before an API server restart
 * (the namespace controller likely ran while discovery did not list the CRD yet, found nothing to delete and let the
 * namespace go), so any found in the new namespace are removed too.
 */
export async function freshNamespace(cluster: Cluster, namespace: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}`);
    if (res.status === 404) break;
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} from an earlier run is still there after ${timeoutMs / 1000}s (is kube-controller-manager running?)`);
    await removeNamespace(cluster, namespace);
    await sleep(1000);
  }
  await must(cluster, 'POST', '/api/v1/namespaces', { metadata: { name: namespace, labels: { 'zoo.kreplay.dev/zoo': 'true' } } });
  for (;;) {
    const list = await cluster.http.request('GET', widgetsPath(namespace));
    const items = list.status === 200 ? (JSON.parse(list.body) as { items: { metadata: { name: string; finalizers?: string[] } }[] }).items : [];
    if (items.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Widgets left in ${namespace} by an earlier run would not go: ${items.map((i) => i.metadata.name).join(', ')}`);
    for (const item of items) {
      if (item.metadata.finalizers?.length) {
        await cluster.http.request('PATCH', widgetsPath(namespace, item.metadata.name), { metadata: { finalizers: null } }, { 'Content-Type': 'application/merge-patch+json' });
      }
      await cluster.http.request('DELETE', widgetsPath(namespace, item.metadata.name));
    }
    await sleep(500);
  }
}

/** Waits until the namespaces are gone (before an API server restart, so their deletion cannot race it). */
export async function waitNamespacesGone(cluster: Cluster, namespaces: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const namespace of namespaces) {
    while ((await cluster.http.request('GET', `/api/v1/namespaces/${namespace}`)).status !== 404) {
      if (Date.now() > deadline) return;
      await sleep(500);
    }
  }
}

// ---- check and compare -----------------------------------------------------------------------------------------------

const CheckOutput = z.looseObject({ session: z.string(), findings: z.array(Finding) });

/** `kreplay check SESSION --json` with the zoo's thresholds and the controller named. */
export async function check(session: string, controller: ZooController): Promise<Finding[]> {
  const { code, stdout, stderr } = await kreplay(['check', session, '--json', '--config', checkConfigPath, '--controller', controller.identity]);
  if (code !== 0 && code !== 1) throw new Error(`kreplay check ${session} exited ${code}: ${stderr}`);
  return CheckOutput.parse(JSON.parse(stdout)).findings;
}

export const findingKey = (f: { kind: string; namespace: string | null; name: string }) => `${f.kind} ${f.namespace ? `${f.namespace}/` : ''}${f.name}`;

export interface Comparison {
  readonly controller: string;
  readonly mode: RecordingMode;
  readonly session: string;
  readonly expected: readonly string[];
  /** Alarms (warning or above, not suppressed), as `kind namespace/name`, and the expected info-level ones found. */
  readonly found: readonly string[];
  readonly missed: readonly string[];
  readonly unexpected: readonly string[];
  readonly knownFailure: string | undefined;
  readonly ok: boolean;
  /** ok, or only unexpected findings under a known failure. */
  readonly tolerated: boolean;
}

export function compare(controller: ZooController, mode: RecordingMode, session: string, findings: readonly Finding[]): Comparison {
  const wanted = expectedFor(controller, mode);
  const keyOf = (f: Finding) => findingKey({ kind: f.kind, namespace: f.object.namespace, name: f.object.name });
  const live = findings.filter((f) => !f.suppressed);
  const alarms = new Set(live.filter((f) => f.severity !== 'info').map(keyOf));
  /** An expected finding is there when one of that key has the severity it asks for (warning or above by default). */
  const present = (e: Expected) => live.some((f) => keyOf(f) === findingKey(e) && (e.severity ? f.severity === e.severity : f.severity !== 'info'));
  const label = (e: Expected) => `${findingKey(e)}${e.severity ? ` (${e.severity})` : ''}`;
  const expected = [...new Set(wanted.map(label))].sort();
  const found = [...new Set([...alarms, ...wanted.filter(present).filter((e) => e.severity === 'info').map(label)])].sort();
  const missed = [...new Set(wanted.filter((e) => !present(e)).map(label))].sort();
  const allowed = new Set(wanted.filter((e) => e.severity !== 'info').map(findingKey));
  const unexpected = [...alarms].filter((key) => !allowed.has(key)).sort();
  const knownFailure = knownFailureFor(controller, mode);
  const ok = missed.length === 0 && unexpected.length === 0;
  return { controller: controller.name, mode, session, expected, found, missed, unexpected, knownFailure, ok, tolerated: ok || (missed.length === 0 && knownFailure !== undefined) };
}

/** The planted-vs-found table, one row per controller and mode; known failures' reasons below it. */
export function formatTable(rows: readonly Comparison[]): string {
  const mismatch = (r: Comparison) => `${r.missed.length ? ` missed ${r.missed.join(', ')}` : ''}${r.unexpected.length ? ` unexpected ${r.unexpected.join(', ')}` : ''}`;
  const notes: string[] = [];
  const cells = rows.map((r) => {
    let verdict = 'ok';
    if (!r.ok && r.tolerated) {
      notes.push(`[${notes.length + 1}] ${r.session}: ${r.knownFailure}`);
      verdict = `known failure [${notes.length}]:${mismatch(r)}`;
    } else if (!r.ok) verdict = `MISMATCH:${mismatch(r)}`;
    return [r.controller, r.mode, r.expected.join(', ') || '—', r.found.join(', ') || '—', verdict];
  });
  const header = ['controller', 'mode', 'planted (must find)', 'found (warning+)', 'verdict'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n');
}
