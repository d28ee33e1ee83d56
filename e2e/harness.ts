// Test helper for the end-to-end tests: a ready client for the real control plane started by
// `npm run e2e:up` (e2e/scripts/up.sh), a fresh namespace per test file, raw HTTP watches,
// fault controls (e2e/scripts/ctl.sh) and the log paths a failing test should print.
//
// The control plane is never started from here: it takes seconds warm and many minutes cold,
// and CI starts it once for all files. If it is not up, every entry point says so.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { z } from 'zod';

const e2eDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(e2eDir, '..');
const ctlScript = path.join(e2eDir, 'scripts', 'ctl.sh');

// --- paths -------------------------------------------------------------------------------

/** The same layout e2e/scripts/lib.sh writes. */
export interface ControlPlanePaths {
  readonly stateDir: string;
  readonly kubeconfig: string;
  readonly caCert: string;
  readonly logs: LogPaths;
}

export interface LogPaths {
  readonly apiserver: string;
  readonly etcd: string;
  readonly sampleController: string;
  readonly kubeControllerManager: string;
  /** kube-apiserver's --audit-log-path: one audit.k8s.io/v1 Event per line. */
  readonly audit: string;
}

export function controlPlanePaths(): ControlPlanePaths {
  const stateDir = path.resolve(process.env['KREPLAY_E2E_DIR'] ?? path.join(repoRoot, '.e2e'));
  const logDir = path.join(stateDir, 'logs');
  return {
    stateDir,
    kubeconfig: path.join(stateDir, 'kubeconfig'),
    caCert: path.join(stateDir, 'pki', 'ca.crt'),
    logs: {
      apiserver: path.join(logDir, 'kube-apiserver.log'),
      etcd: path.join(logDir, 'etcd.log'),
      sampleController: path.join(logDir, 'sample-controller.log'),
      kubeControllerManager: path.join(logDir, 'kube-controller-manager.log'),
      audit: path.join(logDir, 'audit.log'),
    },
  };
}

export function logPaths(): LogPaths {
  return controlPlanePaths().logs;
}

/** The last `lines` lines of each component log, for a failing test to print. */
export function logTails(lines = 40): string {
  const logs = logPaths();
  const parts: string[] = [];
  for (const [name, file] of [
    ['kube-apiserver', logs.apiserver],
    ['etcd', logs.etcd],
    ['kube-controller-manager', logs.kubeControllerManager],
    ['sample-controller', logs.sampleController],
  ] as const) {
    if (!existsSync(file)) {
      parts.push(`----- ${name}: ${file} (missing)`);
      continue;
    }
    const tail = readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
    parts.push(`----- ${name}: ${file} (last ${lines} lines)\n${tail}`);
  }
  parts.push(`----- audit log: ${logs.audit}`);
  return parts.join('\n');
}

// --- connecting --------------------------------------------------------------------------

export class ControlPlaneNotUpError extends Error {
  constructor(detail: string) {
    const { stateDir } = controlPlanePaths();
    super(
      `The e2e control plane is not up (${detail}).\n` +
        `Start it with 'npm run e2e:up' (state dir: ${stateDir}; set KREPLAY_E2E_DIR to use another), ` +
        `then run 'npm run test:e2e'. See e2e/README.md.`,
    );
    this.name = 'ControlPlaneNotUpError';
  }
}

/** Everything a test needs to talk to the API server. */
export interface Cluster {
  readonly kubeConfig: k8s.KubeConfig;
  /** e.g. https://127.0.0.1:36443 */
  readonly server: string;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly apiextensions: k8s.ApiextensionsV1Api;
  readonly customObjects: k8s.CustomObjectsApi;
  readonly paths: ControlPlanePaths;
  /** Plain HTTPS with the kubeconfig's CA and token, for what client-node does badly (watches). */
  readonly http: RawClient;
}

let connected: Promise<Cluster> | undefined;

/** Connects once per test file and checks /readyz; throws ControlPlaneNotUpError if not up. */
export function connect(): Promise<Cluster> {
  connected ??= connectOnce().catch((err: unknown) => {
    connected = undefined;
    throw err;
  });
  return connected;
}

async function connectOnce(): Promise<Cluster> {
  const paths = controlPlanePaths();
  if (!existsSync(paths.kubeconfig)) throw new ControlPlaneNotUpError(`no kubeconfig at ${paths.kubeconfig}`);
  const kubeConfig = new k8s.KubeConfig();
  kubeConfig.loadFromFile(paths.kubeconfig);
  const server = kubeConfig.getCurrentCluster()?.server;
  if (server === undefined) throw new ControlPlaneNotUpError(`no current cluster in ${paths.kubeconfig}`);
  const http = await RawClient.fromKubeConfig(kubeConfig, server);
  let ready: RawResponse;
  try {
    ready = await http.request('GET', '/readyz');
  } catch (err) {
    throw new ControlPlaneNotUpError(`${server}/readyz: ${asError(err).message}`);
  }
  if (ready.status !== 200) throw new ControlPlaneNotUpError(`${server}/readyz answered ${ready.status}: ${ready.body}`);
  return {
    kubeConfig,
    server,
    core: kubeConfig.makeApiClient(k8s.CoreV1Api),
    apps: kubeConfig.makeApiClient(k8s.AppsV1Api),
    apiextensions: kubeConfig.makeApiClient(k8s.ApiextensionsV1Api),
    customObjects: kubeConfig.makeApiClient(k8s.CustomObjectsApi),
    paths,
    http,
  };
}

// --- namespaces --------------------------------------------------------------------------

/**
 * Creates a namespace named kreplay-e2e-<prefix>-<random>, plus its `default` ServiceAccount unless
 * kube-controller-manager's serviceaccount controller got there first (it does not run with
 * KREPLAY_E2E_KUBE_CONTROLLER_MANAGER=0): the ServiceAccount admission plugin rejects Pods whose
 * service account does not exist (plugin/pkg/admission/serviceaccount/admission.go).
 */
export async function createNamespace(cluster: Cluster, prefix: string): Promise<string> {
  const name = `kreplay-e2e-${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 63);
  await cluster.core.createNamespace({ body: { metadata: { name, labels: { 'kreplay.dev/e2e': 'true' } } } });
  await cluster.core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } }).catch((err: unknown) => {
    if (!isApiStatus(err, 409)) throw err;
  });
  return name;
}

/**
 * Deletes the namespace; kube-controller-manager's namespace controller empties and removes it
 * (without it, it stays Terminating until the next `e2e:up`, which starts from an empty etcd;
 * tests only ever look inside their own namespace). KREPLAY_E2E_KEEP=1 keeps it for a look
 * with kubectl.
 */
export async function deleteNamespace(cluster: Cluster, name: string): Promise<void> {
  if (process.env['KREPLAY_E2E_KEEP'] === '1') return;
  await cluster.core.deleteNamespace({ name }).catch((err: unknown) => {
    if (!isApiStatus(err, 404)) throw err;
  });
}

export interface E2eContext {
  /** Set in beforeAll; read it inside tests and hooks, not at module load. */
  readonly cluster: Cluster;
  readonly namespace: string;
}

/**
 * Registers vitest hooks for one test file: connect and create a namespace before all,
 * delete it after all, and print the control plane's log tails when a test fails.
 */
export function useE2e(prefix: string): E2eContext {
  let cluster: Cluster | undefined;
  let namespace: string | undefined;
  beforeAll(async () => {
    cluster = await connect();
    namespace = await createNamespace(cluster, prefix);
  });
  afterAll(async () => {
    if (cluster !== undefined && namespace !== undefined) await deleteNamespace(cluster, namespace);
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      console.error(`[e2e] ${ctx.task.name} failed; namespace ${namespace ?? '(none)'}\n${logTails()}`);
    });
  });
  return {
    get cluster(): Cluster {
      if (cluster === undefined) throw new Error('useE2e: the cluster is only available inside tests and hooks');
      return cluster;
    },
    get namespace(): string {
      if (namespace === undefined) throw new Error('useE2e: the namespace is only available inside tests and hooks');
      return namespace;
    },
  };
}

// --- raw HTTP and watches ----------------------------------------------------------------

export interface RawResponse {
  readonly status: number;
  readonly body: string;
}

/** A watch event as the server sends it: one JSON object per line of a 200 response. */
export const WatchEvent = z.object({
  type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']),
  object: z.looseObject({
    kind: z.string().optional(),
    metadata: z
      .looseObject({
        name: z.string().optional(),
        resourceVersion: z.string().optional(),
        annotations: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    code: z.number().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
  }),
});
export type WatchEvent = z.infer<typeof WatchEvent>;

/**
 * Watch events without kube-controller-manager's `kube-root-ca.crt`: its root-CA publisher writes that ConfigMap into
 * every namespace when its informer gets to it (pkg/controller/certificates/rootcacertpublisher), a moment after the
 * namespace is created and, after an API server restart, seconds late — inside a watch under test. Not the test's.
 */
export function withoutRootCa(events: readonly WatchEvent[]): WatchEvent[] {
  return events.filter((e) => e.type === 'BOOKMARK' || e.object.metadata?.name !== 'kube-root-ca.crt');
}

export interface WatchOptions {
  /** Stop (and close the connection) once this returns true for the events so far. */
  readonly until?: (events: readonly WatchEvent[]) => boolean;
  /** Give up after this long and return what arrived; the default is 30 s. */
  readonly timeoutMs?: number;
  /** Called once the server has answered 200, before any event is read. */
  readonly onOpen?: () => void | Promise<void>;
}

export interface WatchResult {
  readonly events: readonly WatchEvent[];
  /** 'server': the server ended the stream; 'until': the predicate held; 'timeout'. */
  readonly endedBy: 'server' | 'until' | 'timeout';
  readonly elapsedMs: number;
}

export class RawClient {
  private constructor(
    private readonly server: URL,
    private readonly agent: https.Agent,
    private readonly authorization: string,
  ) {}

  static async fromKubeConfig(kubeConfig: k8s.KubeConfig, server: string): Promise<RawClient> {
    const opts: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(opts);
    const headers = opts.headers;
    const auth = headers === undefined || Array.isArray(headers) ? undefined : (headers as http.OutgoingHttpHeaders)['Authorization'];
    if (typeof auth !== 'string') throw new Error('the e2e kubeconfig has no bearer token');
    // One agent for every request of the file; client-node makes one per call.
    return new RawClient(new URL(server), new https.Agent({ ca: opts.ca, keepAlive: false }), auth);
  }

  private options(
    method: string,
    pathAndQuery: string,
    contentType?: string,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): https.RequestOptions {
    const headers: Record<string, string> = {
      Authorization: this.authorization,
      Accept: 'application/json',
      ...extraHeaders,
    };
    // A caller's own Content-Type (a merge patch) wins over the JSON default.
    if (contentType !== undefined && headers['Content-Type'] === undefined) headers['Content-Type'] = contentType;
    return {
      method,
      hostname: this.server.hostname,
      port: this.server.port,
      path: pathAndQuery,
      agent: this.agent,
      headers,
    };
  }

  /**
   * One request, whole body read; any status is returned, only transport errors throw.
   * `headers` override the defaults (e.g. another Authorization, or Impersonate-User).
   */
  request(
    method: string,
    pathAndQuery: string,
    body?: unknown,
    headers: Readonly<Record<string, string>> = {},
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        this.options(method, pathAndQuery, payload === undefined ? undefined : 'application/json', headers),
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${pathAndQuery}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** request() that throws unless the status is 2xx, and parses the JSON body. */
  async json(method: string, pathAndQuery: string, body?: unknown): Promise<unknown> {
    const res = await this.request(method, pathAndQuery, body);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${method} ${pathAndQuery} answered ${res.status}: ${res.body}`);
    }
    return JSON.parse(res.body) as unknown;
  }

  /**
   * Watches `path` (e.g. /api/v1/namespaces/x/configmaps) with `query` (watch=1 is added)
   * and collects the events. A 429 right after an API server restart (watch cache not ready
   * yet, KEP-4568) is retried for up to 20 s; any other non-200 status throws.
   */
  async watch(resourcePath: string, query: Record<string, string>, options: WatchOptions = {}): Promise<WatchResult> {
    const qs = new URLSearchParams({ ...query, watch: '1' }).toString();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const result = await this.watchOnce(`${resourcePath}?${qs}`, options);
      if (result !== 'retry') return result;
      if (Date.now() > deadline) throw new Error(`watch ${resourcePath}: still 429 after 20 s`);
      await sleep(250);
    }
  }

  private watchOnce(pathAndQuery: string, options: WatchOptions): Promise<WatchResult | 'retry'> {
    const started = Date.now();
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const events: WatchEvent[] = [];
      let settled = false;
      // onOpen's work (writes, a restart) always completes before the watch returns, and
      // its failure fails the watch, whichever way the stream ended.
      let opened: Promise<Error | undefined> = Promise.resolve(undefined);
      const settle = (outcome: { endedBy: WatchResult['endedBy'] } | { error: Error }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        const elapsedMs = Date.now() - started;
        void opened.then((openError) => {
          if ('error' in outcome) reject(outcome.error);
          else if (openError !== undefined) reject(openError);
          else resolve({ events, endedBy: outcome.endedBy, elapsedMs });
        });
      };
      const req = https.request(this.options('GET', pathAndQuery), (res) => {
        if (res.statusCode === 429) {
          settled = true;
          clearTimeout(timer);
          res.resume();
          req.destroy();
          resolve('retry');
          return;
        }
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString('utf8');
            settle({ error: new Error(`watch ${pathAndQuery} answered ${res.statusCode}: ${body}`) });
          });
          return;
        }
        const onOpen = options.onOpen;
        if (onOpen !== undefined) {
          opened = Promise.resolve()
            .then(() => onOpen())
            .then(
              () => undefined,
              (err: unknown) => asError(err),
            );
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while (!settled && (nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line === '') continue;
            let json: unknown;
            try {
              json = JSON.parse(line);
            } catch {
              settle({ error: new Error(`watch ${pathAndQuery}: a line that is not JSON: ${line}`) });
              return;
            }
            const parsed = WatchEvent.safeParse(json);
            if (!parsed.success) {
              settle({ error: new Error(`watch ${pathAndQuery}: unexpected event ${line}`) });
              return;
            }
            events.push(parsed.data);
            if (options.until?.(events) === true) settle({ endedBy: 'until' });
          }
        });
        // The server ending the stream, cleanly or by dropping the connection (a stopped API
        // server), is a result, not an error.
        res.on('end', () => settle({ endedBy: 'server' }));
        res.on('error', () => settle({ endedBy: 'server' }));
        res.on('close', () => settle({ endedBy: 'server' }));
      });
      // settle() only runs from I/O and timer callbacks, after `req` and `timer` exist.
      const timer = setTimeout(() => settle({ endedBy: 'timeout' }), timeoutMs);
      req.on('error', (err) => settle({ error: err }));
      req.end();
    });
  }
}

// --- fault controls (e2e/scripts/ctl.sh) --------------------------------------------------

export interface ApiServerOptions {
  /** --watch-cache; the baseline is true. */
  readonly watchCache?: boolean;
  /** --min-request-timeout: server-side watch timeouts land in [n, 2n) seconds; baseline 1800. */
  readonly minRequestTimeoutSeconds?: number;
  /** Audit webhook (blocking mode) for this run; '' turns it off. Baseline: KREPLAY_E2E_AUDIT_WEBHOOK_URL. */
  readonly auditWebhookUrl?: string;
  /** --etcd-compaction-interval, e.g. '10s'; '0' turns the API server's own compaction off. */
  readonly etcdCompactionInterval?: string;
}

async function ctl(...args: string[]): Promise<string> {
  const { kubeconfig } = controlPlanePaths();
  if (!existsSync(kubeconfig)) throw new ControlPlaneNotUpError(`no kubeconfig at ${kubeconfig}`);
  return new Promise((resolve, reject) => {
    execFile('bash', [ctlScript, ...args], { timeout: 180_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ctl.sh ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Stops and starts kube-apiserver and waits for /readyz. Options hold until the next restart;
 * a restart without options goes back to the baseline. Every watch open at the time ends,
 * and the new watch cache starts at the current revision: older resourceVersions get 410.
 */
export async function restartApiServer(options: ApiServerOptions = {}): Promise<void> {
  const args: string[] = [];
  if (options.watchCache !== undefined) args.push(`--watch-cache=${String(options.watchCache)}`);
  if (options.minRequestTimeoutSeconds !== undefined) args.push(`--min-request-timeout=${options.minRequestTimeoutSeconds}`);
  if (options.auditWebhookUrl !== undefined) args.push(`--audit-webhook-url=${options.auditWebhookUrl}`);
  if (options.etcdCompactionInterval !== undefined) args.push(`--etcd-compaction-interval=${options.etcdCompactionInterval}`);
  await ctl('restart-apiserver', ...args);
}

/**
 * Compacts etcd at its current revision and (unless restartApiServer is false) restarts the
 * API server so its watch cache drops the history too. Returns the compacted revision: a
 * watch from any older resourceVersion then gets the in-stream ERROR 410 Expired.
 */
export async function compact(options: { readonly restartApiServer?: boolean } = {}): Promise<number> {
  const out = await ctl('compact', ...(options.restartApiServer === false ? ['--no-restart'] : []));
  const revision = Number(out.trim().split('\n').pop());
  if (!Number.isSafeInteger(revision)) throw new Error(`ctl.sh compact printed ${JSON.stringify(out)}`);
  return revision;
}

/** Stops etcd (SIGTERM, or SIGKILL with kill: true); the API server keeps running and fails reads. */
export async function stopEtcd(options: { readonly kill?: boolean } = {}): Promise<void> {
  await ctl('stop-etcd', ...(options.kill === true ? ['--kill'] : []));
}

/** Starts etcd again on the same data dir and waits until it is healthy. */
export async function startEtcd(): Promise<void> {
  await ctl('start-etcd');
}

export async function stopSampleController(): Promise<void> {
  await ctl('stop-sample-controller');
}

export async function startSampleController(): Promise<void> {
  await ctl('start-sample-controller');
}

/**
 * Puts the control plane back to what `up` started: etcd running, the API server on its
 * baseline flags (restarted only if they differ). For afterAll hooks of fault tests.
 */
export async function restoreBaseline(): Promise<void> {
  await ctl('ensure-baseline');
}

/** etcd's current revision: the newest resourceVersion in the whole cluster. */
export async function etcdRevision(): Promise<number> {
  return Number((await ctl('revision')).trim());
}

/** Polls until the API server answers /readyz with 200 (e.g. after startEtcd). */
export async function waitForReady(cluster: Cluster, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => {
    const res = await cluster.http.request('GET', '/readyz');
    if (res.status !== 200) throw new Error(`/readyz answered ${res.status}: ${res.body}`);
  }, timeoutMs);
}

// --- small helpers -----------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries `fn` until it resolves or `timeoutMs` passes; rethrows the last error. */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 30_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

/** True if `err` is a client-node ApiException (or a Status body) with this HTTP code. */
export function isApiStatus(err: unknown, code: number): boolean {
  return err instanceof k8s.ApiException && err.code === code;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** resourceVersions are opaque strings to clients, but etcd-backed ones are integers; tests compare them. */
export function rv(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n)) throw new Error(`not an integer resourceVersion: ${value}`);
  return n;
}
