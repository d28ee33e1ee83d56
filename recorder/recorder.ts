import type { KubeObject, MarkerRecord, SessionInfo, SessionRecord } from '../model/index.js';
import type { SessionStore } from '../store/index.js';
import { watchKey } from './checkpoint.js';
import { configForSession, controllerUsernames, type RecorderConfig } from './config.js';
import { IngestServer, parseListen } from './ingest-server.js';
import { KubeClient, connectionFromConfig, recorderUserAgent, type KubeConnection } from './kube-client.js';
import type { ResolvedKubeConfig } from './kubeconfig.js';
import { silentLogger, type Logger } from './log.js';
import { RecorderMetrics } from './metrics.js';
import type { KnownObject } from './relist.js';
import { databaseUsedBytes, planRetention, segmentName, type RetentionSession } from './retention.js';
import { unservedResources } from './resource-check.js';
import { WatchSupervisor, describeSpec, type WatchSpec } from './watch-supervisor.js';
import { LiveFindings, type SessionAnalyser, type SessionAnalysisFactory } from './live-findings.js';
import { ReadRouter, type SessionReports } from './read-routes.js';
import { Writer, type CommittedBatch } from './writer.js';

/**
 * The daemon: one session (or a chain of segments), one writer, one supervisor per watched resource and
 * namespace, one HTTP server, and the retention timer. start() returns once everything runs; stop() drains:
 *
 *   stop accepting HTTP ─▶ close the watches (watch-closed) ─▶ recorder-stopped ─▶ commit the queue ─▶ end session
 *
 *    watches ──┐
 *   /v1/records ┼──▶ Writer (bounded queue, batches ≤ 250 ms) ──▶ store.append (one transaction per batch)
 *   /v1/audit ─┘
 */

export interface RecorderOptions {
  readonly config: RecorderConfig;
  /** The context to record from (kubeconfig.ts loadKubeConfig). */
  readonly kube: ResolvedKubeConfig;
  readonly store: SessionStore;
  /** The database file, for retention's size check; undefined disables maxSize. */
  readonly dbPath?: string | undefined;
  /** The recording's name: a new name creates a session, an existing one resumes it (with a gap marker). */
  readonly sessionName: string;
  readonly toolVersion: string;
  readonly token?: string | undefined;
  readonly log?: Logger | undefined;
  readonly metrics?: RecorderMetrics | undefined;
  /**
   * Online detection: `kreplay check`'s analysis (cli/live-analysis.ts), run over the live session as batches commit.
   * Undefined: no online detection (GET /v1/findings answers 404).
   */
  readonly analysis?: SessionAnalysisFactory | undefined;
  /** The same analysis off the recorder's thread (wins over `analysis`); the recorder closes it when it stops. */
  readonly analyser?: SessionAnalyser | undefined;
  /** Least time between two analysis runs, and the share of a core they may take (live-findings.ts). */
  readonly analysisPacing?: { readonly minIntervalMs?: number; readonly cpuShare?: number } | undefined;
  /** Report renderers for GET /v1/sessions/{name}/export (json, markdown, html), wired by the CLI. */
  readonly reports?: SessionReports | undefined;
  /** Tests: connect to a fake API server without a kubeconfig. */
  readonly connection?: KubeConnection | undefined;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface RecorderSummary {
  readonly session: string;
  readonly sessionId: number;
  readonly segments: number;
  readonly startedAt: string;
  readonly stoppedAt: string;
  readonly committed: number;
  readonly lastSeq: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly watches: ReturnType<WatchSupervisor['status']>[];
}

/** Expected failures of start(): the CLI prints them as user errors. */
export class RecorderStartError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'RecorderStartError';
  }
}

interface SegmentInfo {
  readonly base: string;
  readonly segment: number;
}

export class Recorder {
  private supervisors: WatchSupervisor[] = [];
  private live: LiveFindings | undefined;
  private reads: ReadRouter | undefined;
  private server: IngestServer | undefined;
  private client: KubeClient | undefined;
  private writer!: Writer;
  private session!: SessionInfo;
  private segment!: SegmentInfo;
  private segmentStartedAt = 0;
  private retentionTimer: NodeJS.Timeout | undefined;
  private retentionCache: RetentionSession[] | undefined;
  private retentionRunning = false;
  private stopping: Promise<RecorderSummary> | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  readonly metrics: RecorderMetrics;
  private readonly startedAt: string;
  private segmentsWritten = 1;

  private constructor(private readonly options: RecorderOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.metrics = options.metrics ?? new RecorderMetrics();
    this.startedAt = new Date(this.now()).toISOString();
  }

  static async start(options: RecorderOptions): Promise<Recorder> {
    const recorder = new Recorder(options);
    try {
      await recorder.startAll();
    } catch (error) {
      await recorder.abortStart();
      throw error;
    }
    return recorder;
  }

  get sessionInfo(): SessionInfo {
    return this.session;
  }

  get url(): string {
    return this.server?.address.url ?? '';
  }

  get sessionId(): number {
    return this.writer.sessionId;
  }

  /** Online detection, when the recorder runs it. */
  get findings(): LiveFindings | undefined {
    return this.live;
  }

  /** The writer's one "batch committed" notification, fanned out to online detection and record followers. */
  private committed(commit: CommittedBatch): void {
    this.live?.committed(commit);
    this.reads?.committed(commit);
  }

  /** Ready once every watch has listed, and commits are not failing. */
  readiness(): { ready: boolean; details: unknown } {
    const watches = this.supervisors.map((s) => ({ resource: describeSpec(s.spec), phase: s.phase, synced: s.synced }));
    const writer = this.writer.health();
    return { ready: watches.every((w) => w.synced) && writer.ok, details: { session: this.session.name, watches, writer } };
  }

  private observedAt(): string {
    return new Date(this.now()).toISOString();
  }

  private marker(marker: MarkerRecord['marker'], message: string, extra: Partial<MarkerRecord> = {}): MarkerRecord {
    return { record: 'marker', observedAt: this.observedAt(), origin: 'watch', marker, message, ...extra };
  }

  // ---- start ----------------------------------------------------------------------------------------------------

  private async startAll(): Promise<void> {
    const { config, store } = this.options;
    const listen = parseListen(config.server.listen);
    const connection = this.options.connection ?? (await connectionFromConfig(this.options.kube));
    this.client = new KubeClient(connection, `${recorderUserAgent}/${this.options.toolVersion}`);
    // Before a session exists: a resource that can never be served is a config mistake, not something to wait for.
    const unserved = await unservedResources(this.client, config.resources);
    if (unserved.length) {
      throw new RecorderStartError(
        `${unserved.length === 1 ? 'a configured resource is' : `${unserved.length} configured resources are`} not served by ${connection.description}:\n  ${unserved.join('\n  ')}`,
        'Resources are the plural, lower-case names in the API paths (kubectl api-resources lists them). Fix the config and start again.',
      );
    }

    const { session, gap, seed, checkpoints } = this.openSession(connection);
    this.session = session;
    this.segmentStartedAt = this.now();
    this.writer = new Writer({
      store,
      sessionId: session.id,
      flushIntervalMs: config.writer.flushInterval,
      batchSize: config.writer.batchSize,
      queueSize: config.writer.queueSize,
      metrics: this.metrics,
      log: this.log.with({ component: 'writer' }),
      now: this.now,
      onCommitted: (commit) => this.committed(commit),
    });
    const opening: SessionRecord[] = [];
    if (gap) opening.push(gap);
    opening.push(
      this.marker(
        'recorder-started',
        `kreplay ${this.options.toolVersion} recording ${config.resources.length} resource(s) from ${connection.description} (pid ${process.pid})`,
      ),
    );
    this.writer.push(opening);

    if (this.options.analysis || this.options.analyser) {
      this.live = new LiveFindings({
        store,
        analysis: this.options.analysis,
        analyser: this.options.analyser,
        metrics: this.metrics,
        log: this.log.with({ component: 'detectors' }),
        heapShare: this.options.config.detection.heapShare,
        ...(this.options.analysisPacing ?? { minIntervalMs: this.options.config.detection.minInterval, cpuShare: this.options.config.detection.cpuShare }),
      });
    }
    this.reads = new ReadRouter({ store, findings: this.live, reports: this.options.reports, log: this.log.with({ component: 'reads' }) });

    this.supervisors = this.createSupervisors(seed, checkpoints);
    for (const supervisor of this.supervisors) supervisor.start();

    const usernames = controllerUsernames(config);
    this.server = new IngestServer({
      host: listen.host,
      port: listen.port,
      token: this.options.token,
      maxBodyBytes: config.server.maxBodySize,
      maxBatchRecords: config.server.maxBatchRecords,
      maxClockSkewMs: config.server.maxClockSkew,
      recordsPerSecond: config.server.recordsPerSecond,
      burst: config.server.burst,
      sink: this.writer,
      metrics: this.metrics,
      log: this.log.with({ component: 'server' }),
      redactPaths: config.redaction.paths,
      audit: config.audit.enabled
        ? { scope: config.audit.scope, resources: config.resources, controllerUsernames: usernames, kindOf: (group, resource) => this.kindOf(group, resource) }
        : undefined,
      readiness: () => this.readiness(),
      reads: this.reads,
      now: this.now,
    });
    const address = await this.server.start();
    this.log.info('recording', { session: session.name, url: address.url, resources: config.resources.length, watches: this.supervisors.length });

    if (config.retention.maxAge !== undefined || config.retention.maxSize !== undefined) {
      this.retentionTimer = setInterval(() => this.enforceRetention(), config.retention.checkInterval);
      this.retentionTimer.unref();
    }
  }

  private async abortStart(): Promise<void> {
    this.reads?.close();
    await this.server?.close().catch(() => undefined);
    await this.live?.close();
    await Promise.all(this.supervisors.map((s) => s.stop()));
    if (this.writer) await this.writer.close().catch(() => undefined);
    this.client?.close();
    clearInterval(this.retentionTimer);
  }

  /**
   * A new session, or the latest segment of an existing recording with a gap marker, its live objects and the
   * resourceVersion each watch resumes from (checkpoint.ts; undefined for a new session).
   */
  private openSession(connection: KubeConnection): { session: SessionInfo; gap?: MarkerRecord; seed: KnownObject[]; checkpoints?: ReadonlyMap<string, string> } {
    const { store, sessionName, config } = this.options;
    // The recording's live segment is its highest-numbered one: NAME, NAME.2, NAME.3, ...
    let latest = store.findSession(sessionName);
    let n = 1;
    for (let next = latest && store.findSession(segmentName(sessionName, 2)); next; next = store.findSession(segmentName(sessionName, n + 1))) {
      latest = next;
      n += 1;
    }
    if (!latest) {
      this.segment = { base: sessionName, segment: 1 };
      const session = store.createSession({
        name: sessionName,
        source: 'recorder',
        cluster: connection.server.origin,
        context: this.options.kube.contextName,
        toolVersion: this.options.toolVersion,
        config: { ...configForSession(config), recording: this.segment },
        startedAt: this.observedAt(),
      });
      return { session, seed: [] };
    }
    if (latest.source !== 'recorder') {
      throw new RecorderStartError(
        `session "${latest.name}" exists and was not recorded (source ${latest.source}); the recorder only appends to its own sessions`,
        'Pick another --session name, or delete that session (kreplay delete).',
      );
    }
    this.segment = { base: sessionName, segment: n };
    const last = store.page(latest.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 1 })[0];
    const cleanly = latest.endedAt !== null && last?.record === 'marker' && last.marker === 'recorder-stopped';
    const lastText = last ? `last committed record: seq ${last.seq} at ${last.observedAt ?? 'an unknown time'}` : 'no record was committed';
    const { checkpoints, text: resumeText } = this.resumePoints(latest, connection);
    const gap = this.marker(
      'gap',
      cleanly
        ? `the recorder was stopped at ${latest.endedAt} and restarted; ${lastText}. ${resumeText}`
        : `the previous recorder ended without recorder-stopped (killed or crashed); ${lastText}. SDK and audit reports it had not committed are lost. ${resumeText}`,
    );
    if (!cleanly) store.markPartial(latest.id, [`${gap.observedAt}: recorder restarted after an unclean stop; ${lastText}`]);
    store.endSession(latest.id, null);
    const seed = this.liveObjects(latest.id);
    this.log.info('resuming session', { session: latest.name, lastSeq: last?.seq, cleanStop: cleanly, liveObjects: seed.length, resumePoints: checkpoints.size });
    return { session: store.findSession(String(latest.id))!, gap, seed, checkpoints };
  }

  /**
   * The committed resume point of each watch of this config (checkpoint.ts), and what the gap marker says about them.
   * A watch the config no longer has keeps its checkpoint unused; a new one has none and lists.
   */
  private resumePoints(session: SessionInfo, connection: KubeConnection): { checkpoints: ReadonlyMap<string, string>; text: string } {
    const keys = this.watchSpecs().map((spec) => watchKey(spec));
    const stored = this.options.store.watchCheckpoints(session.id);
    const relistText = 'a watch whose resourceVersion is too old (410) relists, and objects deleted meanwhile appear as tombstones';
    if (session.cluster !== null && session.cluster !== connection.server.origin) {
      return {
        checkpoints: new Map(),
        text: `The session was recorded from ${session.cluster}, this recorder reads ${connection.server.origin}: its resourceVersions mean nothing here, so every watch lists`,
      };
    }
    const checkpoints = new Map(stored.filter((c) => keys.includes(c.watch)).map((c) => [c.watch, c.resourceVersion]));
    const unused = stored.filter((c) => !keys.includes(c.watch)).map((c) => c.watch);
    const fresh = keys.length - checkpoints.size;
    const parts = [
      `${checkpoints.size} of ${keys.length} watch(es) resume from the resourceVersion committed with their last records (the API server re-sends every change since, deletions included); ${relistText}`,
    ];
    if (fresh) parts.push(`${fresh} watch(es) without a committed resourceVersion list`);
    if (unused.length) parts.push(`${unused.length} watch(es) no longer in the config are not recorded any more: ${unused.join(', ')}`);
    return { checkpoints, text: parts.join('; ') };
  }

  /** One watch per configured resource and namespace (null: all namespaces). */
  private watchSpecs(): WatchSpec[] {
    return this.options.config.resources.flatMap((resource) =>
      (resource.namespaces ?? [null]).map((namespace) => ({
        group: resource.group,
        version: resource.version,
        resource: resource.resource,
        namespace,
        labelSelector: resource.labelSelector,
        fieldSelector: resource.fieldSelector,
      })),
    );
  }

  /** Objects whose last watch record in the session is not a DELETED: the state a relist is compared against. */
  private liveObjects(sessionId: number): (KnownObject & { group: string; resource: string | null })[] {
    return this.options.store
      .objects(sessionId)
      .filter((o) => o.uid !== null && o.lastEventType !== null && o.lastEventType !== 'DELETED')
      .map((o) => ({ uid: o.uid!, name: o.name, namespace: o.namespace, resourceVersion: '', generation: null, group: o.group, resource: o.resource }));
  }

  private createSupervisors(seed: (KnownObject & { group?: string; resource?: string | null })[], checkpoints: ReadonlyMap<string, string> | undefined): WatchSupervisor[] {
    const { config } = this.options;
    const supervisors: WatchSupervisor[] = [];
    for (const resource of config.resources) {
      const namespaces: readonly (string | null)[] = resource.namespaces ?? [null];
      namespaces.forEach((namespace, index) => {
        const spec: WatchSpec = {
          group: resource.group,
          version: resource.version,
          resource: resource.resource,
          namespace,
          labelSelector: resource.labelSelector,
          fieldSelector: resource.fieldSelector,
        };
        const mine = seed.filter(
          (o) => o.group === resource.group && o.resource === resource.resource && (namespace === null || o.namespace === namespace || (index === 0 && o.namespace === null)),
        );
        supervisors.push(
          new WatchSupervisor({
            client: this.client!,
            spec,
            sink: this.writer,
            metrics: this.metrics,
            log: this.log.with({ component: 'watch' }),
            redactPaths: config.redaction.paths,
            seed: mine,
            resume: checkpoints ? { resourceVersion: checkpoints.get(watchKey(spec)) } : undefined,
            clusterScopedOwner: index === 0,
            lastKnownObject: (entry) => this.lastKnownObject(entry),
            settings: {
              pageSize: config.watch.pageSize,
              watchTimeoutSeconds: Math.max(1, Math.round(config.watch.timeout / 1000)),
              inactivityTimeoutMs: config.watch.inactivityTimeout,
              readIntervalMs: config.watch.readInterval,
              backoff: { initialMs: config.watch.initialBackoff, maxMs: config.watch.maxBackoff, factor: 2, jitter: 1, resetAfterMs: 120_000 },
            },
            now: this.now,
            ...(this.options.random ? { random: this.options.random } : {}),
          }),
        );
      });
    }
    return supervisors;
  }

  /** The last body the session holds for an object: what its tombstone carries. */
  private async lastKnownObject(entry: KnownObject): Promise<KubeObject | null> {
    // The last version may still be queued. Wait for it, but not forever: a failing disk must not stall the relist
    // (the tombstone then carries the last committed version, or the stub).
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.writer.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
    const last = this.options.store.page(this.writer.sessionId, {
      beforeSeq: Number.MAX_SAFE_INTEGER,
      limit: 1,
      filter: { uid: entry.uid, kinds: ['watch'] },
      withObjects: true,
    })[0];
    return last?.record === 'watch' ? last.object : null;
  }

  private kindOf(group: string, resource: string): string | undefined {
    return this.supervisors.find((s) => s.spec.group === group && s.spec.resource === resource)?.kind;
  }

  // ---- retention ------------------------------------------------------------------------------------------------

  private enforceRetention(): void {
    if (this.retentionRunning || this.stopping) return;
    this.retentionRunning = true;
    void this.retentionPass()
      .catch((error: unknown) => this.log.error('retention pass failed', { error: (error as Error).message }))
      .finally(() => (this.retentionRunning = false));
  }

  /** One retention pass; public for tests. */
  async retentionPass(): Promise<void> {
    const { store, config, dbPath } = this.options;
    // Other sessions do not change while we record, so their sizes are read once (listSessions scans them).
    this.retentionCache ??= store
      .listSessions()
      .filter((s) => s.source === 'recorder' && s.id !== this.writer.sessionId)
      .map((s) => ({ id: s.id, name: s.name, newestAt: parseTime(s.lastObservedAt ?? s.endedAt ?? s.createdAt), bytes: s.bytesOnDisk }));
    const usedBytes = dbPath ? databaseUsedBytes(dbPath) : 0;
    const plan = planRetention({
      now: this.now(),
      usedBytes,
      others: this.retentionCache,
      currentStartedAt: this.segmentStartedAt,
      limits: { maxAgeMs: config.retention.maxAge, maxBytes: dbPath ? config.retention.maxSize : undefined },
    });
    for (const doomed of plan.delete) {
      this.log.info('retention: deleting session', { session: doomed.name, reason: doomed.reason });
      store.deleteSession(doomed.id);
      this.metrics.retentionDeletedSessions.inc();
      this.retentionCache = this.retentionCache.filter((s) => s.id !== doomed.id);
    }
    if (plan.rotate) {
      const bytes = Math.max(0, usedBytes - this.retentionCache.reduce((sum, s) => sum + s.bytes, 0));
      const previous = await this.rotate(plan.rotate.reason);
      this.retentionCache.push({ id: previous.id, name: previous.name, newestAt: this.now(), bytes });
    }
  }

  /** Ends the live segment and starts the next one with a fresh list of every resource. */
  private async rotate(reason: string): Promise<SessionInfo> {
    const { store, config } = this.options;
    const previous = this.session;
    const next = { base: this.segment.base, segment: this.segment.segment + 1 };
    this.log.info('rotating segment', { from: previous.name, to: segmentName(next.base, next.segment), reason });
    await Promise.all(this.supervisors.map((s) => s.hold()));
    this.writer.push([this.marker('recorder-stopped', `segment ended (${reason}); continued in ${segmentName(next.base, next.segment)}`)]);
    const session = store.createSession({
      name: segmentName(next.base, next.segment),
      source: 'recorder',
      cluster: previous.cluster,
      context: previous.context,
      toolVersion: this.options.toolVersion,
      config: { ...configForSession(config), recording: next },
      startedAt: this.observedAt(),
    });
    await this.writer.switchSession(session.id);
    store.endSession(previous.id, this.observedAt());
    this.writer.push([this.marker('recorder-started', `segment ${next.segment} of recording ${next.base}, continuing ${previous.name} (${reason})`)]);
    this.session = session;
    this.segment = next;
    this.segmentStartedAt = this.now();
    this.segmentsWritten += 1;
    for (const supervisor of this.supervisors) supervisor.release({ relist: true });
    return previous;
  }

  // ---- stop -----------------------------------------------------------------------------------------------------

  /** Drains and ends the session. Safe to call more than once. */
  stop(reason = 'stopped'): Promise<RecorderSummary> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async stopAll(reason: string): Promise<RecorderSummary> {
    clearInterval(this.retentionTimer);
    this.log.info('stopping', { reason });
    // Followers' streams stay open until told: end them, or close() would wait for them.
    this.reads?.close();
    await this.server?.close();
    await Promise.all(this.supervisors.map((s) => s.stop()));
    const watches = this.supervisors.map((s) => s.status());
    const stats = this.writer.stats;
    this.writer.push([
      this.marker(
        'recorder-stopped',
        `${reason}: ${stats.committed + stats.depth + 1} record(s) this run; ${watches.reduce((n, w) => n + w.relists, 0)} relist(s), ${watches.reduce((n, w) => n + w.gone, 0)} 410(s), ${watches.reduce((n, w) => n + w.tombstones, 0)} tombstone(s), ${stats.dropped.ingest + stats.dropped.audit} dropped`,
      ),
    ]);
    await this.writer.close();
    await this.live?.close();
    const stoppedAt = this.observedAt();
    this.options.store.endSession(this.writer.sessionId, stoppedAt);
    this.client?.close();
    const final = this.writer.stats;
    return {
      session: this.session.name,
      sessionId: this.writer.sessionId,
      segments: this.segmentsWritten,
      startedAt: this.startedAt,
      stoppedAt,
      committed: final.committed,
      lastSeq: final.lastSeq,
      dropped: final.dropped,
      watches,
    };
  }
}

function parseTime(text: string | null): number | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}
