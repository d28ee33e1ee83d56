import http from 'node:http';
import https from 'node:https';
import type { ApiRequestRecord, ApiVerb, DeliveryHandler, DeliveryRecord, ObjectRef, ReconcileRecord, ReconcileStartRecord } from '../../model/index.js';
import { classifyApiError } from './classify.js';

/**
 * The TypeScript reporting SDK: a controller written with @kubernetes/client-node reports its reconcile outcomes,
 * informer deliveries and API requests to the kreplay recorder (POST /v1/records, recorder/ingest-server.ts).
 *
 * Same contract as the Go SDK (sdk/go): reporting never blocks, never throws and never rejects. report*() appends
 * to a bounded in-memory queue; a single sender posts NDJSON batches of at most `batchSize` records, at most
 * `flushIntervalMs` (≤ 250 ms) after the first record of a batch. When the recorder is slow or down, records beyond
 * `bufferSize` are dropped and counted. With no URL configured the reporter is disabled and every call is a no-op.
 */

export const envUrl = 'KREPLAY_INGEST_URL';
export const envToken = 'KREPLAY_INGEST_TOKEN';
const defaultPath = '/v1/records';
const maxBatchBytes = 1024 * 1024;
const maxMessageLength = 2048;
const initialBackoffMs = 100;
const maxBackoffMs = 5_000;
const maxRetryAfterMs = 30_000;
const closeAttempts = 3;
const userAgent = 'kreplay-ts-sdk/0.1';

export interface ReporterOptions {
  /** The recorder's ingest endpoint. Default $KREPLAY_INGEST_URL; the path defaults to /v1/records. */
  readonly url?: string | undefined;
  /** Sent as `Authorization: Bearer <token>`. Default $KREPLAY_INGEST_TOKEN. */
  readonly token?: string | undefined;
  /** Records held while the recorder is slow or down; beyond it they are dropped and counted. Default 4096. */
  readonly bufferSize?: number;
  /** Most records per request. Default 500. */
  readonly batchSize?: number;
  /** Longest a record waits before its batch is sent. Default 200, at most 250. */
  readonly flushIntervalMs?: number;
  /** Per-request timeout. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Where the reporter's few messages go (an outage starting and ending, a refusal, once per status). */
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
  /**
   * wrapReconcile reports a `reconcile-start` when each call begins, so a call that never returns still shows
   * (hung-reconcile). Default true; false halves the records of a busy controller. A recorder too old to know them
   * refuses the first one, and the reporter then stops sending them by itself.
   */
  readonly reconcileStarts?: boolean;
}

export interface ReporterStats {
  /** Accepted by the recorder. */
  sent: number;
  /** Never reached it: buffer full, reported after close(), or unsent when close() gave up. */
  dropped: number;
  /** Refused by the recorder (4xx), or invalid (no object name or kind). */
  rejected: number;
}

/** An object reference as callers have it: namespace may be left out for cluster-scoped objects. */
export interface ObjectRefInput {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string | null | undefined;
  readonly resource?: string | undefined;
  readonly uid?: string | null | undefined;
}

/** What a reconcile function may return: nothing (success), a requeue, or a delayed requeue. */
export interface ReconcileOutcome {
  readonly requeue?: boolean;
  readonly requeueAfterMs?: number;
}

export interface ReconcileReport {
  readonly controller: string;
  readonly object: ObjectRefInput;
  readonly startedAt: Date | number;
  readonly finishedAt: Date | number;
  readonly observedResourceVersion?: string | null;
  readonly observedGeneration?: number | null;
  /** What the reconcile returned; ignored when `error` is set. */
  readonly outcome?: ReconcileOutcome | void;
  /** What it threw: classified into errorReason (ApiException codes: 404 NotFound, 409 Conflict, ...). */
  readonly error?: unknown;
}

export interface ReconcileStartReport {
  readonly controller: string;
  readonly object: ObjectRefInput;
  readonly startedAt: Date | number;
  readonly observedResourceVersion?: string | null;
  readonly observedGeneration?: number | null;
}

export interface DeliveryReport {
  readonly controller: string;
  readonly handler: DeliveryHandler;
  readonly object: ObjectRefInput;
  readonly resourceVersion: string | null | undefined;
  /** update only: equal to resourceVersion on an informer resync. */
  readonly oldResourceVersion?: string | null;
  /** A delete learned from a relist rather than a watch event. */
  readonly tombstone?: boolean;
  readonly at?: Date | number;
}

export interface ApiRequestReport {
  /** Who made the request (the controller's name or its user). */
  readonly actor: string;
  readonly verb: ApiVerb;
  readonly object: ObjectRefInput;
  readonly subresource?: string | null;
  /** HTTP status; leave it out and pass `error` to have it taken from an ApiException (0 without a response). */
  readonly code?: number;
  readonly error?: unknown;
  readonly resourceVersionBefore?: string | null;
  readonly resourceVersionAfter?: string | null;
  readonly userAgent?: string | null;
  readonly at?: Date | number;
}

/** The request a wrapped reconcile function receives: the workqueue key, split. */
export interface ReconcileRequest {
  readonly namespace: string | null;
  readonly name: string;
}

export interface ReconcileContext {
  /** Tell the reporter which version of the object this reconcile read (its metadata). Optional. */
  observe(object: { metadata?: { resourceVersion?: string; generation?: number; uid?: string } | undefined } | null | undefined): void;
}

export interface WrapReconcileOptions {
  readonly controller: string;
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly resource?: string;
}

export type ReconcileFunction = (request: ReconcileRequest, context: ReconcileContext) => Promise<ReconcileOutcome | void>;

export interface Reporter {
  /** False when no URL is configured: every method is then a no-op. */
  readonly enabled: boolean;
  reportReconcile(report: ReconcileReport): void;
  /** A reconcile has begun (wrapReconcile does it); its finish is the reconcile report with the same startedAt. */
  reportReconcileStart(report: ReconcileStartReport): void;
  reportDelivery(report: DeliveryReport): void;
  reportApiRequest(report: ApiRequestReport): void;
  /**
   * Wraps a reconcile function: times each call and reports its outcome (success | requeue | requeue-after |
   * error with its reason). What fn returns or throws is passed through unchanged.
   */
  wrapReconcile(options: WrapReconcileOptions, fn: ReconcileFunction): (request: ReconcileRequest) => Promise<ReconcileOutcome | void>;
  stats(): ReporterStats;
  /**
   * Stops accepting records and sends what is queued, for at most `timeoutMs` (default 5 s); what is still unsent
   * then is counted as dropped. Never rejects.
   */
  close(options?: { timeoutMs?: number }): Promise<ReporterStats>;
}

type WireRecord = ReconcileRecord | ReconcileStartRecord | DeliveryRecord | ApiRequestRecord;

export function createReporter(options: ReporterOptions = {}): Reporter {
  const raw = options.url ?? process.env[envUrl] ?? '';
  const log = options.log ?? ((message, fields) => console.warn(`kreplay: ${message}`, fields ?? ''));
  if (!raw) {
    // Said once, at start: a deployment wired with the wrong variable must not look like "no findings".
    log(`reporting is off: no ingest URL (set ${envUrl}, e.g. http://127.0.0.1:9477)`);
    return disabledReporter;
  }
  let endpoint: URL;
  try {
    endpoint = ingestUrl(raw);
  } catch (error) {
    log('invalid ingest URL: reporting disabled', { url: raw, error: (error as Error).message });
    return disabledReporter;
  }
  const token = options.token ?? process.env[envToken] ?? '';
  log('reporting is on', { url: endpoint.href, token: token !== '' });
  return new HttpReporter(endpoint, token, options, log);
}

export function ingestUrl(raw: string): URL {
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${raw} is not an http(s) URL`);
  if (url.pathname === '' || url.pathname === '/') url.pathname = defaultPath;
  return url;
}

const zeroStats = (): ReporterStats => ({ sent: 0, dropped: 0, rejected: 0 });

const disabledReporter: Reporter = {
  enabled: false,
  reportReconcile: () => undefined,
  reportReconcileStart: () => undefined,
  reportDelivery: () => undefined,
  reportApiRequest: () => undefined,
  wrapReconcile: (_options, fn) => (request) => fn(request, { observe: () => undefined }),
  stats: zeroStats,
  close: () => Promise.resolve(zeroStats()),
};

type PostResult = { status: number; body: string; retryAfterMs: number } | { error: Error };

class HttpReporter implements Reporter {
  readonly enabled = true;
  private readonly queue: WireRecord[] = [];
  private readonly counts = zeroStats();
  private readonly bufferSize: number;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly agent: http.Agent;
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  /** Aborted when close() gives up: cancels the request in flight and any backoff wait. */
  private readonly abort = new AbortController();
  /** Aborted by close(): a backoff wait ends at once, and the batch gets its last few attempts (closeAttempts). */
  private readonly closing = new AbortController();
  private unreachable = false;
  private outageSince: number | undefined;
  private readonly loggedStatus = new Set<number>();
  private loggedInvalid = false;
  /** Starts are not reported: options.reconcileStarts is false, or the recorder refused one. */
  private startsOff: boolean;

  constructor(
    private readonly url: URL,
    private readonly token: string,
    options: ReporterOptions,
    private readonly log: (message: string, fields?: Record<string, unknown>) => void,
  ) {
    this.bufferSize = positive(options.bufferSize, 4096);
    this.batchSize = positive(options.batchSize, 500);
    this.flushIntervalMs = Math.min(positive(options.flushIntervalMs, 200), 250);
    this.requestTimeoutMs = positive(options.requestTimeoutMs, 10_000);
    this.startsOff = options.reconcileStarts === false;
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  }

  reportReconcile(report: ReconcileReport): void {
    this.guard('reconcile', () => {
      const startedMs = toMs(report.startedAt);
      const finishedMs = Math.max(startedMs, toMs(report.finishedAt));
      const record: ReconcileRecord = {
        record: 'reconcile',
        observedAt: iso(finishedMs),
        origin: 'ingest',
        controller: report.controller,
        object: objectRef(report.object),
        startedAt: iso(startedMs),
        finishedAt: iso(finishedMs),
        result: 'success',
      };
      if (report.observedResourceVersion) record.observedResourceVersion = report.observedResourceVersion;
      if (Number.isInteger(report.observedGeneration)) record.observedGeneration = report.observedGeneration!;
      if (report.error !== undefined) {
        // As in controller-runtime, a reconcile that failed has no other result.
        const info = classifyApiError(report.error);
        record.result = 'error';
        record.errorReason = info.reason;
        record.errorMessage = truncate(info.message);
      } else if (report.outcome && (report.outcome.requeueAfterMs ?? 0) > 0) {
        record.result = 'requeue-after';
        record.requeueAfterMs = Math.ceil(report.outcome.requeueAfterMs!);
      } else if (report.outcome?.requeue) {
        record.result = 'requeue';
      }
      return valid(record.controller, record.object) ? record : undefined;
    });
  }

  reportReconcileStart(report: ReconcileStartReport): void {
    if (this.startsOff) return;
    this.guard('reconcile-start', () => {
      const startedMs = toMs(report.startedAt);
      const record: ReconcileStartRecord = {
        record: 'reconcile-start',
        observedAt: iso(startedMs),
        origin: 'ingest',
        controller: report.controller,
        object: objectRef(report.object),
        startedAt: iso(startedMs),
      };
      if (report.observedResourceVersion) record.observedResourceVersion = report.observedResourceVersion;
      if (Number.isInteger(report.observedGeneration)) record.observedGeneration = report.observedGeneration!;
      return valid(record.controller, record.object) ? record : undefined;
    });
  }

  reportDelivery(report: DeliveryReport): void {
    this.guard('delivery', () => {
      const record: DeliveryRecord = {
        record: 'delivery',
        observedAt: iso(report.at === undefined ? Date.now() : toMs(report.at)),
        origin: 'ingest',
        controller: report.controller,
        handler: report.handler,
        tombstone: report.tombstone === true,
        object: objectRef(report.object),
        resourceVersion: report.resourceVersion || null,
      };
      if (report.handler === 'update' && report.oldResourceVersion) record.oldResourceVersion = report.oldResourceVersion;
      const knownHandler = report.handler === 'add' || report.handler === 'update' || report.handler === 'delete';
      return knownHandler && valid(record.controller, record.object) ? record : undefined;
    });
  }

  reportApiRequest(report: ApiRequestReport): void {
    this.guard('api', () => {
      const record: ApiRequestRecord = {
        record: 'api',
        observedAt: iso(report.at === undefined ? Date.now() : toMs(report.at)),
        origin: 'ingest',
        actor: report.actor,
        byController: true,
        verb: report.verb,
        object: objectRef(report.object),
        code: report.code ?? 0,
      };
      if (report.error !== undefined) {
        const info = classifyApiError(report.error);
        record.code = report.code ?? info.code ?? 0;
        if (info.statusReason) record.reason = info.statusReason;
        record.message = truncate(info.message);
      }
      if (report.subresource) record.subresource = report.subresource;
      if (report.userAgent) record.userAgent = report.userAgent;
      if (report.resourceVersionBefore) record.resourceVersionBefore = report.resourceVersionBefore;
      if (report.resourceVersionAfter) record.resourceVersionAfter = report.resourceVersionAfter;
      return Number.isInteger(record.code) && valid(record.actor, record.object) ? record : undefined;
    });
  }

  wrapReconcile(options: WrapReconcileOptions, fn: ReconcileFunction): (request: ReconcileRequest) => Promise<ReconcileOutcome | void> {
    return async (request) => {
      const startedMs = Date.now();
      const t0 = performance.now();
      let observed: { resourceVersion?: string; generation?: number; uid?: string } | undefined;
      const context: ReconcileContext = {
        observe: (object) => {
          observed = object?.metadata ?? undefined;
        },
      };
      const report = (outcome: ReconcileOutcome | void, error: unknown): void => {
        this.reportReconcile({
          controller: options.controller,
          object: {
            group: options.group,
            version: options.version,
            kind: options.kind,
            ...(options.resource ? { resource: options.resource } : {}),
            namespace: request.namespace,
            name: request.name,
            uid: observed?.uid ?? null,
          },
          // Finished from the monotonic clock: a wall-clock step cannot put it before the start.
          startedAt: startedMs,
          finishedAt: startedMs + (performance.now() - t0),
          observedResourceVersion: observed?.resourceVersion ?? null,
          observedGeneration: observed?.generation ?? null,
          outcome,
          error,
        });
      };
      let outcome: ReconcileOutcome | void;
      // Reported as the call begins, so one that never settles still shows. What the function will observe is not
      // known yet: the start names the key only.
      this.reportReconcileStart({
        controller: options.controller,
        object: { group: options.group, version: options.version, kind: options.kind, ...(options.resource ? { resource: options.resource } : {}), namespace: request.namespace, name: request.name },
        startedAt: startedMs,
      });
      try {
        outcome = await fn(request, context);
      } catch (error) {
        report(undefined, error ?? new Error('reconcile threw a nullish value'));
        throw error;
      }
      report(outcome, undefined);
      return outcome;
    };
  }

  stats(): ReporterStats {
    return { ...this.counts };
  }

  async close(options: { timeoutMs?: number } = {}): Promise<ReporterStats> {
    this.closed = true;
    this.closing.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let timeout: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timeout = setTimeout(resolve, positive(options.timeoutMs, 5_000));
      timeout.unref();
    });
    try {
      await Promise.race([this.drain(), deadline]);
    } finally {
      clearTimeout(timeout);
    }
    if (this.queue.length || this.sending) {
      this.abort.abort();
      await this.sending?.catch(() => undefined);
      this.counts.dropped += this.queue.splice(0).length;
    }
    this.agent.destroy();
    return this.stats();
  }

  /** Runs `build` (which may throw on strange input: reporting must not) and queues its record. */
  private guard(kind: string, build: () => WireRecord | undefined): void {
    let record: WireRecord | undefined;
    try {
      record = build();
    } catch {
      record = undefined;
    }
    if (!record) {
      this.counts.rejected += 1;
      if (!this.loggedInvalid) {
        this.loggedInvalid = true;
        this.log('dropping an invalid record (logged once): a record needs a controller, and the object its version, kind and name', { record: kind });
      }
      return;
    }
    if (this.closed || this.queue.length >= this.bufferSize) {
      this.counts.dropped += 1;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.batchSize) this.kick();
    else if (!this.timer && !this.sending) {
      this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
      this.timer.unref();
    }
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sending) return; // the running sender takes what is queued when its batch is done
    this.sending = this.sendAll()
      .catch((error: unknown) => this.log('unexpected error while sending', { error: String(error) }))
      .finally(() => {
        this.sending = undefined;
        // Records that arrived during the last request but did not fill a batch wait for the next interval.
        if (this.queue.length && !this.closed && !this.timer) {
          this.timer = setTimeout(() => this.kick(), this.flushIntervalMs);
          this.timer.unref();
        }
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length || this.sending) {
      if (!this.sending) this.kick();
      await this.sending;
    }
  }

  private async sendAll(): Promise<void> {
    for (let first = true; this.queue.length && !this.abort.signal.aborted; first = false) {
      // After the batch that was due, only full batches go out back to back (or everything, once closing); a
      // partial one waits for its own flush interval, armed when this returns.
      if (!first && !this.closed && this.queue.length < this.batchSize) break;
      const lines: string[] = [];
      let bytes = 0;
      while (this.queue.length && lines.length < this.batchSize) {
        let line: string;
        try {
          line = JSON.stringify(this.queue[0]);
        } catch {
          // A caller-supplied value that does not serialise (a BigInt, a cycle): refuse that record only.
          this.queue.shift();
          this.counts.rejected += 1;
          continue;
        }
        const size = Buffer.byteLength(line) + 1;
        if (lines.length && bytes + size > maxBatchBytes) break;
        this.queue.shift();
        lines.push(line);
        bytes += size;
      }
      await this.deliver(lines);
    }
  }

  /**
   * Posts lines until the recorder accepts or refuses them. Mirrors the Go SDK (sdk/go/reporter.go deliver):
   * 2xx sent; 503 with `dropped` (queue full, already marked by the recorder) not resent; other 5xx, 408, 429
   * (Retry-After) and connection errors retried with capped backoff (a few times only once closing); a 400 naming
   * a line drops that line and resends the rest; 413 halves the batch; other 4xx drop it, logged once per status.
   */
  private async deliver(lines: string[]): Promise<void> {
    let backoff = initialBackoffMs;
    for (let attempt = 1; lines.length > 0; attempt += 1) {
      if (this.unreachable || this.abort.signal.aborted) {
        this.counts.dropped += lines.length;
        return;
      }
      const result = await this.post(lines);
      const status = 'status' in result ? result.status : 0;
      const body = 'status' in result ? result.body : '';
      if (status >= 200 && status < 300) {
        this.counts.sent += lines.length;
        if (this.outageSince !== undefined) {
          this.log('kreplay recorder reachable again', { afterMs: Date.now() - this.outageSince, droppedSoFar: this.counts.dropped });
          this.outageSince = undefined;
        }
        return;
      }
      if (status === 503 && jsonField(body, 'dropped') !== undefined) {
        this.counts.rejected += lines.length;
        this.logRefusal(status, lines.length, body, "the recorder's queue is full; it marked these records as dropped");
        return;
      }
      if (status === 0 || status >= 500 || status === 408 || status === 429) {
        if (this.abort.signal.aborted || (this.closed && attempt >= closeAttempts)) {
          this.unreachable = this.closed;
          this.counts.dropped += lines.length;
          return;
        }
        if (this.outageSince === undefined) {
          this.outageSince = Date.now();
          this.log('kreplay recorder unavailable: retrying in the background; records beyond the buffer are dropped and counted', {
            url: this.url.href,
            status,
            error: 'error' in result ? result.error.message : undefined,
          });
        }
        const retryAfterMs = 'status' in result ? result.retryAfterMs : 0;
        await sleep(retryAfterMs || backoff / 2 + Math.random() * (backoff / 2), this.closing.signal);
        backoff = Math.min(backoff * 2, maxBackoffMs);
        continue;
      }
      const line = jsonField(body, 'line');
      if (status === 400 && typeof line === 'number' && Number.isInteger(line) && line >= 1 && line <= lines.length && isStart(lines[line - 1]!)) {
        // A recorder older than reconcile-start records refuses each one: stop sending them, resend the rest at once.
        this.startsOff = true;
        const kept = lines.filter((l) => !isStart(l));
        this.counts.rejected += lines.length - kept.length;
        this.logRefusal(status, lines.length - kept.length, body, 'this recorder does not accept reconcile-start records: no more are sent, the rest of the batch is resent');
        lines = kept;
        continue;
      }
      if (status === 400 && typeof line === 'number' && Number.isInteger(line) && line >= 1 && line <= lines.length) {
        this.counts.rejected += 1;
        this.logRefusal(status, 1, body, 'the rest of the batch is resent');
        lines = [...lines.slice(0, line - 1), ...lines.slice(line)];
        continue;
      }
      if (status === 413 && lines.length > 1) {
        const half = Math.floor(lines.length / 2);
        await this.deliver(lines.slice(0, half));
        await this.deliver(lines.slice(half));
        return;
      }
      this.counts.rejected += lines.length;
      const hint =
        status === 401 || status === 403
          ? `check ${envToken}`
          : status === 404 || status === 405
            ? `check ${envUrl} (the path defaults to ${defaultPath})`
            : status === 413
              ? "one record is larger than the recorder's server.maxBodySize"
              : '';
      this.logRefusal(status, lines.length, body, hint);
      return;
    }
  }

  private logRefusal(status: number, records: number, body: string, hint: string): void {
    if (this.loggedStatus.has(status)) return;
    this.loggedStatus.add(status);
    this.log('kreplay recorder refused records (logged once per status code)', { status, records, response: body.slice(0, 500), hint });
  }

  private post(lines: readonly string[]): Promise<PostResult> {
    const payload = Buffer.from(`${lines.join('\n')}\n`);
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/x-ndjson',
      'Content-Length': payload.length,
      'User-Agent': userAgent,
    };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const request = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise<PostResult>((resolve) => {
      let settled = false;
      const done = (result: PostResult): void => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      try {
        const req = request(this.url, { method: 'POST', headers, agent: this.agent, signal: this.abort.signal, timeout: this.requestTimeoutMs }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 4096) chunks.push(chunk);
          });
          res.on('end', () => {
            const retryAfter = Number(res.headers['retry-after']);
            done({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').trim(),
              retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, maxRetryAfterMs) : 0,
            });
          });
          res.on('error', (error) => done({ error }));
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)));
        req.on('error', (error) => done({ error }));
        req.end(payload);
      } catch (error) {
        done({ error: error as Error });
      }
    });
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function toMs(value: Date | number): number {
  return typeof value === 'number' ? value : value.getTime();
}

/** RFC 3339 in UTC with milliseconds; fractional input ms are truncated. */
function iso(ms: number): string {
  return new Date(Math.floor(ms)).toISOString();
}

function objectRef(input: ObjectRefInput): ObjectRef {
  const ref: ObjectRef = {
    group: input.group ?? '',
    version: input.version,
    kind: input.kind,
    namespace: input.namespace || null,
    name: input.name,
  };
  if (input.resource) ref.resource = input.resource;
  if (input.uid) ref.uid = input.uid;
  return ref;
}

/** The checks the recorder would refuse a record for; the rest holds by construction. */
function valid(who: string, object: ObjectRef): boolean {
  return typeof who === 'string' && who.length > 0 && !!object.version && !!object.kind && !!object.name && typeof object.group === 'string';
}

function truncate(text: string): string {
  return text.length <= maxMessageLength ? text : `${text.slice(0, maxMessageLength)}…`;
}

function jsonField(body: string, key: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves after ms, or at once when signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref();
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A reconcile-start line, by its first key (JSON.stringify keeps the order the record was built in). */
function isStart(line: string): boolean {
  return line.startsWith('{"record":"reconcile-start"');
}
