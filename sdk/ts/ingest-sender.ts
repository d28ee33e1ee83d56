import http from 'node:http';
import https from 'node:https';
import { defaultIngestPath, envToken, envUrl, type ReporterOptions, type ReporterStats } from './api.js';
import type { WireRecord } from './wire-records.js';

/**
 * The reporter's transport: a bounded in-memory queue and a single sender that posts NDJSON batches of at most
 * `batchSize` records, at most `flushIntervalMs` (≤ 250 ms) after the first record of a batch, with the Go SDK's
 * retry rules (sdk/go/reporter.go). When the recorder is slow or down, records beyond `bufferSize` are dropped and
 * counted; nothing here blocks the caller or throws.
 */

const maxBatchBytes = 1024 * 1024;
const initialBackoffMs = 100;
const maxBackoffMs = 5_000;
const maxRetryAfterMs = 30_000;
const closeAttempts = 3;
const userAgent = 'kreplay-ts-sdk/0.1';

export const zeroStats = (): ReporterStats => ({ sent: 0, dropped: 0, rejected: 0 });

type PostResult = { status: number; body: string; retryAfterMs: number } | { error: Error };

export class IngestSender {
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
  /** Starts are not sent: options.reconcileStarts is false, or the recorder refused one. */
  startsOff: boolean;

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

  /** Counts a report the recorder would refuse (logged once): it never reaches the queue. */
  reject(kind: string): void {
    this.counts.rejected += 1;
    if (!this.loggedInvalid) {
      this.loggedInvalid = true;
      this.log('dropping an invalid record (logged once): a record needs a controller, and the object its version, kind and name', { record: kind });
    }
  }

  /** Queues a record; a full buffer or a closed sender drops it, counted. */
  offer(record: WireRecord): void {
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
            ? `check ${envUrl} (the path defaults to ${defaultIngestPath})`
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
