import { writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import type { FaultPlan, MarkerRecord, SessionInfo, SessionRecord } from '../model/index.js';
import { KubeClient, connectionFromConfig, discover } from '../recorder/kube-client.js';
import type { ResolvedKubeConfig } from '../recorder/kubeconfig.js';
import { silentLogger, type Logger } from '../recorder/log.js';
import { IngestServer } from '../recorder/ingest-server.js';
import { Writer, type RecordSink } from '../recorder/writer.js';
import type { SessionStore } from '../store/index.js';
import { FaultEngine } from './fault-engine.js';
import { ProxyServer } from './server.js';
import { generateProxyTls, type ProxyTls } from './tls.js';
import { ViewRecorder } from './view-records.js';

/**
 * One `kreplay proxy` run: a session, the writer that fills it, the proxy server, and the kubeconfig that points
 * the controller at it. Start order: session → proxy-started marker → listen → kubeconfig; stop order: stop
 * listening (open watches end with watch-closed) → proxy-stopped marker → commit → end the session.
 */

export interface ProxySessionOptions {
  readonly store: SessionStore;
  readonly sessionName: string;
  readonly upstream: ResolvedKubeConfig;
  readonly listen: { readonly host: string; readonly port: number };
  readonly kubeconfigOut: string;
  readonly faults: FaultPlan;
  /**
   * `--ingest HOST:PORT`: the SDK's ingest endpoint (POST /v1/records), into this session, so the controller's
   * reconciles and handler calls join its view (a tombstone is then judged by whether the key was reconciled).
   */
  readonly ingest?: { readonly host: string; readonly port: number } | undefined;
  /**
   * Serve TLS with a CA made for this run and take only clients with its certificate (the written kubeconfig
   * carries the CA and the client's certificate and key): what `kreplay proxy` does when --listen is not loopback.
   */
  readonly tls?: boolean | undefined;
  /** The proxy's own limit for requests that are not long-running (server.ts); default 90 s, 0 never. */
  readonly requestTimeoutMs?: number | undefined;
  readonly controller?: string | undefined;
  readonly impersonate?: { readonly user?: string | undefined; readonly groups: readonly string[] };
  readonly toolVersion: string;
  /** Stored verbatim in the session's config (how it was run). */
  readonly config: Record<string, unknown>;
  readonly log?: Logger;
  readonly now?: () => number;
}

export class ProxySession {
  private writer!: Writer;
  private server!: ProxyServer;
  private sessionInfo!: SessionInfo;
  private recorder!: ViewRecorder;
  private faults!: FaultEngine;
  private ingest: IngestServer | undefined;
  private ingestUrlValue: string | undefined;
  private urlValue = '';
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(private readonly options: ProxySessionOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
  }

  get session(): SessionInfo {
    return this.sessionInfo;
  }

  get url(): string {
    return this.urlValue;
  }

  /** The SDK's ingest URL (KREPLAY_INGEST_URL for the controller), when `ingest` was asked for. */
  get ingestUrl(): string | undefined {
    return this.ingestUrlValue;
  }

  async start(): Promise<void> {
    const { options } = this;
    const connection = await connectionFromConfig(options.upstream);
    const existing = options.store.findSession(options.sessionName);
    if (existing) throw new ProxyStartError(`session ${options.sessionName} already exists in ${options.store.path}: a proxy run records a new session (pick another --session, or delete it)`);
    this.sessionInfo = options.store.createSession({
      name: options.sessionName,
      source: 'proxy',
      cluster: connection.server.origin,
      context: options.upstream.contextName,
      toolVersion: options.toolVersion,
      startedAt: new Date(this.now()).toISOString(),
      config: options.config,
    });
    this.writer = new Writer({ store: options.store, sessionId: this.sessionInfo.id, flushIntervalMs: 100, batchSize: 1000, queueSize: 100_000, log: this.log, now: this.now });
    const actor = options.impersonate?.user ?? options.controller ?? 'controller';
    const discovery = new KubeClient(connection, `kreplay-proxy/${options.toolVersion}`);
    this.recorder = new ViewRecorder({
      sink: this.writer,
      actor,
      now: this.now,
      lookupKind: async (group, version, resource) => (await discover(discovery, { group, version, resource }))?.kind,
    });
    const started = performance.now();
    const faults = new FaultEngine(options.faults, () => performance.now() - started);
    this.faults = faults;
    const tls = options.tls ? generateProxyTls({ hosts: servingHosts(options.listen.host) }) : undefined;
    this.server = new ProxyServer({
      upstream: connection,
      recorder: this.recorder,
      faults,
      impersonate: options.impersonate,
      log: this.log,
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(tls ? { tls: { caPem: tls.caPem, certPem: tls.serverCertPem, keyPem: tls.serverKeyPem } } : {}),
    });
    const address = await this.server.listen(options.listen.host, options.listen.port);
    const reachable = wildcard(address.address) ? externalAddress() : address.address;
    const host = reachable.includes(':') ? `[${reachable}]` : reachable;
    this.urlValue = `${tls ? 'https' : 'http'}://${host}:${address.port}`;
    this.writer.push([
      this.marker(
        'recorder-started',
        `kreplay ${options.toolVersion} proxy on ${this.urlValue} for ${connection.description}${options.faults.rules.length ? ` with ${options.faults.rules.length} fault rule(s), seed ${options.faults.seed}` : ''} (pid ${process.pid})`,
      ),
    ]);
    if (options.ingest) {
      this.ingest = new IngestServer({ host: options.ingest.host, port: options.ingest.port, maxBodyBytes: 4 * 1024 * 1024, recordsPerSecond: 5_000, burst: 20_000, sink: withoutApiRecords(this.writer), log: this.log });
      this.ingestUrlValue = (await this.ingest.start()).url;
    }
    writeFileSync(options.kubeconfigOut, proxyKubeconfig(this.urlValue, options.upstream.namespace, tls), { mode: 0o600 });
  }

  /**
   * Ends fault injection for the rest of the run (SIGUSR1 to `kreplay proxy`): from the marker on, the controller
   * sees the API server as it is, so a run can show whether it converges once the faults stop. False when there was
   * nothing to stop.
   */
  stopFaults(reason: string): boolean {
    if (!this.faults.active) return false;
    this.faults.stop();
    // A fault marker with no resource: the point where injection ended (no finding is explained by it).
    this.writer.push([{ record: 'marker', observedAt: new Date(this.now()).toISOString(), origin: 'proxy', marker: 'fault', message: `fault injection stopped (${reason}) after ${this.faults.firings} fault(s): from here the controller sees the API server as it is` }]);
    return true;
  }

  async stop(reason: string): Promise<void> {
    await this.server.close();
    await this.ingest?.close();
    this.recorder.close();
    this.writer.push([this.marker('recorder-stopped', `proxy stopped (${reason})`)]);
    await this.writer.close();
    this.options.store.endSession(this.sessionInfo.id, new Date(this.now()).toISOString());
  }

  private marker(marker: 'recorder-started' | 'recorder-stopped', message: string): MarkerRecord {
    return { record: 'marker', observedAt: new Date(this.now()).toISOString(), origin: 'proxy', marker, message };
  }
}

export class ProxyStartError extends Error {}

/**
 * The SDK's reports without its `api` records: the proxy records every request the controller sends itself, with
 * the answer it got, so the SDK's copy of a write would only count it twice.
 */
function withoutApiRecords(sink: RecordSink): RecordSink {
  const keep = (records: readonly SessionRecord[]) => records.filter((r) => r.record !== 'api');
  return {
    push: (records, receivedAt, watch) => sink.push(keep(records), receivedAt, watch),
    offer: (records, source, receivedAt) => sink.offer(keep(records), source, receivedAt),
    whenRoom: () => sink.whenRoom(),
    flush: () => sink.flush(),
  };
}

const wildcard = (address: string) => address === '0.0.0.0' || address === '::';

/** The address a controller elsewhere reaches a proxy listening on every interface by: the first external IPv4. */
function externalAddress(): string {
  for (const entries of Object.values(networkInterfaces())) for (const entry of entries ?? []) if (!entry.internal && entry.family === 'IPv4') return entry.address;
  return '127.0.0.1';
}

/** The names the serving certificate must carry: the listen address (every interface's, for a wildcard), the host's name, loopback. */
function servingHosts(listenHost: string): string[] {
  const hosts = ['127.0.0.1', '::1', 'localhost'];
  if (wildcard(listenHost)) {
    for (const entries of Object.values(networkInterfaces())) for (const entry of entries ?? []) hosts.push(entry.address.replace(/%.*$/, ''));
    hosts.push(hostname());
  } else hosts.push(listenHost);
  return hosts;
}

const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');

/**
 * The controller's kubeconfig: the proxy, and no upstream credentials (the proxy holds them). Plain HTTP on loopback;
 * with TLS, the run's CA and the client certificate the proxy asks for.
 */
export function proxyKubeconfig(url: string, namespace?: string, tls?: ProxyTls): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kreplay-proxy',
    '  cluster:',
    `    server: ${url}`,
    ...(tls ? [`    certificate-authority-data: ${b64(tls.caPem)}`] : []),
    'users:',
    '- name: kreplay-proxy',
    ...(tls ? ['  user:', `    client-certificate-data: ${b64(tls.clientCertPem)}`, `    client-key-data: ${b64(tls.clientKeyPem)}`] : ['  user: {}']),
    'contexts:',
    '- name: kreplay-proxy',
    '  context:',
    '    cluster: kreplay-proxy',
    '    user: kreplay-proxy',
    ...(namespace ? [`    namespace: ${namespace}`] : []),
    'current-context: kreplay-proxy',
    '',
  ].join('\n');
}
