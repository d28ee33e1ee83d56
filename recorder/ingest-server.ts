import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { SessionRecord, clockSkewOf, defaultMaxClockSkewMs, redactObject } from '../model/index.js';
import { describeIssues } from '../importers/parser.js';
import { AuditBodyConverter, type AuditReceiverOptions } from './audit-receiver.js';
import { RecentAuditIds } from './recent-audit-ids.js';
import { HttpProblem } from './http-problem.js';
import { bodyChunks, bodyLines, drainBody } from './request-body.js';
import { silentLogger, type Logger } from './log.js';
import type { RecorderMetrics } from './metrics.js';
import type { RecordSink } from './writer.js';

/**
 * The recorder's HTTP face (node:http, loopback by default):
 *
 *   POST /v1/records   kreplay NDJSON from the controller (reconcile, delivery, api records; docs/format.md)
 *   POST /v1/audit     kube-apiserver's audit webhook (an audit.k8s.io/v1 EventList)
 *   GET  /healthz      200 while the process serves requests (liveness)
 *   GET  /readyz       200 once every watch has listed and the writer commits; 503 with the details otherwise
 *   GET  /metrics      Prometheus text format
 *
 * The two POSTs need the bearer token when one is configured. A /v1/records batch is all or nothing: one bad line
 * gets a 400 naming the line and the problem, and none of the batch is queued. The controller is never made to
 * wait for the disk: an accepted batch is answered 202 as soon as it is queued.
 *
 * Memory per request is bounded before anything is parsed whole: a body is read as a stream (request-body.ts), each
 * line is parsed and validated as it arrives, a batch holds at most `maxBatchRecords` records and `maxBodyBytes`
 * bytes (after gzip), and at most `maxConcurrentBodies` bodies are read at once (the others wait in the socket, where
 * they cost the recorder nothing). Timestamps further than `maxClockSkewMs` from receipt are kept and flagged
 * (model/clock-skew.ts).
 */

export interface IngestServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
  readonly maxBodyBytes: number;
  /** Records one request may hold (server.maxBatchRecords); more is a 413. */
  readonly maxBatchRecords?: number | undefined;
  /** Records whose own time is further than this from receipt are flagged (server.maxClockSkew). */
  readonly maxClockSkewMs?: number | undefined;
  /** Request bodies read at once; more wait their turn. */
  readonly maxConcurrentBodies?: number | undefined;
  readonly recordsPerSecond: number;
  readonly burst: number;
  readonly sink: RecordSink;
  readonly metrics?: RecorderMetrics | undefined;
  readonly log?: Logger | undefined;
  readonly redactPaths?: readonly string[];
  /** Undefined: the audit endpoint answers 404. */
  readonly audit?: AuditReceiverOptions | undefined;
  readonly readiness?: () => { ready: boolean; details: unknown };
  readonly now?: () => number;
  readonly monotonic?: () => number;
}

/** 'host:port', ':port', '[::1]:port' or a bare port. */
export function parseListen(text: string): { host: string; port: number } {
  if (/^\d+$/.test(text.trim())) return parseListen(`:${text.trim()}`);
  const match = /^(?:\[([^\]]+)\]|([^:]*))?:?(\d+)$/.exec(text.trim());
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`"${text}" is not a listen address; write host:port (127.0.0.1:9477), :port or [::1]:port`);
  }
  return { host: match[1] ?? (match[2] || '127.0.0.1'), port };
}

/** A token bucket over records, allowed to go negative so a batch bigger than the burst is not refused forever. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly monotonic: () => number,
  ) {
    this.tokens = burst;
    this.updatedAt = monotonic();
  }

  /** Takes n tokens, or returns how many seconds to wait before trying again. */
  take(n: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.monotonic();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.ratePerSecond);
    this.updatedAt = now;
    if (this.tokens < 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(-this.tokens / this.ratePerSecond)) };
    this.tokens -= n;
    return { ok: true };
  }
}

export const defaultMaxBatchRecords = 10_000;
const defaultMaxConcurrentBodies = 4;
/**
 * One record line at most: the largest object the API server stores is 1.5 MiB (etcd's --max-request-bytes default),
 * and an api record's responseObject is the only object a record carries.
 */
const maxRecordBytes = 2 * 1024 * 1024;
/** What is read and discarded of a refused body before the connection is closed instead. */
const drainCapBytes = 16 * 1024 * 1024;

/** At most n holders at once; the others wait in order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

const ingestKinds = new Set(['reconcile', 'reconcile-start', 'delivery', 'api']);

export class IngestServer {
  private readonly server: http.Server;
  private readonly log: Logger;
  private readonly bucket: TokenBucket;
  private readonly tokenDigest: Buffer | undefined;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  private readonly bodySlots: Slots;
  /** auditIDs of webhook batches already answered: the API server re-sends a batch whose answer it lost. */
  private readonly answeredAuditIds = new RecentAuditIds();
  private readonly maxBatchRecords: number;
  private readonly maxClockSkewMs: number;

  constructor(private readonly options: IngestServerOptions) {
    this.bodySlots = new Slots(options.maxConcurrentBodies ?? defaultMaxConcurrentBodies);
    this.maxBatchRecords = options.maxBatchRecords ?? defaultMaxBatchRecords;
    this.maxClockSkewMs = options.maxClockSkewMs ?? defaultMaxClockSkewMs;
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.bucket = new TokenBucket(options.recordsPerSecond, options.burst, this.monotonic);
    this.tokenDigest = options.token ? digest(options.token) : undefined;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Slow-loris protection without cutting off a large batch on a slow link.
    this.server.requestTimeout = 60_000;
    this.server.headersTimeout = 20_000;
    this.server.keepAliveTimeout = 65_000;
  }

  async start(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.address;
  }

  get address(): { host: string; port: number; url: string } {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` };
  }

  /** Stops accepting connections and waits for the requests in flight. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const endpoint = path === '/v1/records' ? 'records' : path === '/v1/audit' ? 'audit' : 'other';
    try {
      switch (path) {
        case '/healthz':
        case '/livez':
          this.only(req, 'GET');
          return send(res, 200, { status: 'ok' });
        case '/readyz': {
          this.only(req, 'GET');
          const readiness = this.options.readiness?.() ?? { ready: true, details: {} };
          return send(res, readiness.ready ? 200 : 503, { ready: readiness.ready, ...(readiness.details as object) });
        }
        case '/metrics': {
          this.only(req, 'GET');
          const text = (await this.options.metrics?.metrics()) ?? '';
          res.writeHead(200, { 'Content-Type': this.options.metrics?.contentType ?? 'text/plain; version=0.0.4' });
          res.end(text);
          return;
        }
        case '/v1/records':
          this.only(req, 'POST');
          this.authorize(req);
          return await this.ingest(req, res);
        case '/v1/audit':
          if (!this.options.audit) throw new HttpProblem(404, 'the audit webhook receiver is disabled (audit.enabled: false)');
          this.only(req, 'POST');
          this.authorize(req);
          return await this.auditWebhook(req, res);
        default:
          throw new HttpProblem(404, `no such endpoint: ${path}; see docs/recorder.md`);
      }
    } catch (error) {
      if (!(error instanceof HttpProblem)) {
        // A bug in a handler must not take the recorder down: log it and answer 500.
        this.log.error('request handler failed', { path, error: (error as Error).stack ?? String(error) });
        this.options.metrics?.ingestErrors.inc({ endpoint, reason: 'internal' });
        if (!res.headersSent) send(res, 500, { error: 'internal error; see the recorder log' });
        else res.destroy();
        return;
      }
      if (endpoint !== 'other') this.options.metrics?.ingestErrors.inc({ endpoint, reason: reasonOf(error.status) });
      if (error.status >= 500 || error.status === 413 || error.status === 429) this.log.warn('request refused', { path, status: error.status, error: error.message });
      // A client still sending a refused body reads the answer once it has sent it (bounded: past the cap the
      // connection closes instead); a closed connection would be all it saw otherwise.
      // Draining takes a body slot too: what is read at once stays bounded.
      if (endpoint !== 'other' && !(await this.bodySlots.run(() => drainBody(req, drainCapBytes)))) res.setHeader('Connection', 'close');
      send(res, error.status, { error: error.message, ...error.extra }, error.headers);
    }
  }

  private only(req: http.IncomingMessage, method: string): void {
    if (req.method !== method) throw new HttpProblem(405, `use ${method}`, {}, { Allow: method });
  }

  private authorize(req: http.IncomingMessage): void {
    if (!this.tokenDigest) return;
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    // Compare digests: constant time, and the length of the token does not leak either.
    if (!match || !timingSafeEqual(digest(match[1]!.trim()), this.tokenDigest)) {
      throw new HttpProblem(401, 'missing or wrong bearer token', {}, { 'WWW-Authenticate': 'Bearer realm="kreplay-recorder"' });
    }
  }

  private tooManyRecords(): HttpProblem {
    return new HttpProblem(413, `the batch holds more than ${this.maxBatchRecords} records (server.maxBatchRecords); send it in smaller batches`);
  }

  /** The recorder says where a record came from and whether its clock is believable, never the client. */
  private stamp(record: SessionRecord, receivedAtMs: number): void {
    delete record.clockSkew;
    const skew = clockSkewOf(record, receivedAtMs, this.maxClockSkewMs);
    if (skew) record.clockSkew = skew;
  }

  /** One NDJSON line → a record, or a 400 naming the line. Undefined for a blank line. */
  private parseLine(raw: Buffer, lineNumber: number, observedAt: string, receivedAtMs: number): SessionRecord | undefined {
    const line = raw.toString('utf8').trim();
    if (!line) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new HttpProblem(400, `line ${lineNumber}: not valid JSON: ${(error as Error).message}`, { line: lineNumber });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpProblem(400, `line ${lineNumber}: not a JSON object`, { line: lineNumber });
    const kind = (value as { record?: unknown }).record;
    if (typeof kind === 'string' && !ingestKinds.has(kind)) {
      throw new HttpProblem(400, `line ${lineNumber}: a "${kind.slice(0, 40)}" record cannot be ingested; the recorder writes watch events and markers itself (send reconcile, reconcile-start, delivery or api records)`, { line: lineNumber });
    }
    // The recorder knows where these came from; observedAt defaults to the time of receipt.
    const candidate = { observedAt, ...(value as object), origin: 'ingest' };
    const parsed = SessionRecord.safeParse(candidate);
    if (!parsed.success) throw new HttpProblem(400, `line ${lineNumber}: ${describeIssues(parsed.error, candidate)}`, { line: lineNumber });
    const record = parsed.data;
    // Which sources reported a request is the recorder's to say (it pairs them), like origin.
    if (record.record === 'api') delete record.sources;
    if (record.record === 'api' && record.responseObject) record.responseObject = redactObject(record.responseObject, this.options.redactPaths ?? []);
    this.stamp(record, receivedAtMs);
    return record;
  }

  /** NDJSON → records, all or nothing, parsed line by line as the body arrives. */
  private async ingest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedAt = this.monotonic();
    const receivedAtMs = this.now();
    const observedAt = new Date(receivedAtMs).toISOString();
    const records: SessionRecord[] = [];
    let refusal: HttpProblem | undefined;
    await this.bodySlots.run(async () => {
      let lineNumber = 0;
      for await (const raw of bodyLines(bodyChunks(req, this.options.maxBodyBytes), maxRecordBytes)) {
        lineNumber += 1;
        // After a bad line the rest is read but not parsed: the client gets its 400 once it has sent its body.
        if (refusal) continue;
        try {
          const record = this.parseLine(raw, lineNumber, observedAt, receivedAtMs);
          if (!record) continue;
          records.push(record);
          if (records.length > this.maxBatchRecords) throw this.tooManyRecords();
        } catch (error) {
          if (!(error instanceof HttpProblem) || error.status !== 400) throw error;
          refusal = error;
          records.length = 0;
        }
      }
    });
    if (refusal) throw refusal;
    if (records.length === 0) return send(res, 202, { accepted: 0 });
    const allowed = this.bucket.take(records.length);
    if (!allowed.ok) {
      throw new HttpProblem(429, `over the ingest rate limit (server.recordsPerSecond); retry in ${allowed.retryAfterSeconds}s`, { retryAfterSeconds: allowed.retryAfterSeconds }, { 'Retry-After': String(allowed.retryAfterSeconds) });
    }
    if (!this.options.sink.offer(records, 'ingest', receivedAt)) {
      // Counted and marked in the session (a `dropped` marker): resending would double-count the loss.
      throw new HttpProblem(503, `the recorder's queue is full: ${records.length} record(s) dropped and marked in the session; do not resend`, { dropped: records.length });
    }
    for (const record of records) this.options.metrics?.ingestRecords.inc({ kind: record.record });
    send(res, 202, { accepted: records.length });
  }

  /**
   * The API server's webhook backend waits for this answer (in blocking mode, before answering its own client),
   * and retries on errors. So: parse, queue, answer at once; never 429 and never wait for the disk. What does not
   * fit in the queue is dropped and marked rather than refused. A body that is not an EventList at all (broken
   * JSON, another kind) is refused whole with a 400; an event that breaks a rule is skipped and counted.
   */
  private async auditWebhook(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const receivedAt = this.monotonic();
    const receivedAtMs = this.now();
    const converter = new AuditBodyConverter(this.options.audit!, this.answeredAuditIds);
    const batch = await this.bodySlots.run(async () => {
      const decoder = new StringDecoder('utf8');
      for await (const chunk of bodyChunks(req, this.options.maxBodyBytes)) {
        if (converter.malformed) continue;
        converter.push(decoder.write(chunk));
        if (converter.recordCount > this.maxBatchRecords) throw this.tooManyRecords();
      }
      if (!converter.malformed) converter.push(decoder.end());
      return converter.end();
    });
    if (converter.malformed) throw new HttpProblem(400, `line ${converter.malformed.line}: ${converter.malformed.problem}`, { line: converter.malformed.line });
    for (const record of batch.records) this.stamp(record, receivedAtMs);
    for (const problem of batch.problems) this.log.warn('audit event skipped', { problem });
    this.options.metrics?.auditEvents.inc({ outcome: 'recorded' }, batch.records.length);
    const skipped = Object.values(batch.skipped).reduce((a, b) => a + b, 0) + batch.outOfScope;
    this.options.metrics?.auditEvents.inc({ outcome: 'skipped' }, skipped);
    if (batch.problems.length) this.options.metrics?.auditEvents.inc({ outcome: 'invalid' }, batch.problems.length);
    if (batch.records.length) {
      if (!this.options.sink.offer(batch.records, 'audit', receivedAt)) this.options.metrics?.ingestErrors.inc({ endpoint: 'audit', reason: 'queue_full' });
    }
    // Answered: from here a re-send of any of these events is the API server retrying, not a new event.
    this.answeredAuditIds.remember(converter.auditIds);
    send(res, 200, { recorded: batch.records.length, skipped, problems: batch.problems.length });
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function reasonOf(status: number): string {
  return { 400: 'invalid', 401: 'unauthorized', 404: 'not_found', 405: 'method', 413: 'too_large', 415: 'encoding', 429: 'rate_limited', 503: 'queue_full' }[status] ?? String(status);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
