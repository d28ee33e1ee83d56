import type { MarkerRecord, SessionRecord } from '../model/index.js';
import type { CheckpointUpdate, SessionStore } from '../store/index.js';
import { resumePointOf } from './checkpoint.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import type { RecorderMetrics } from './metrics.js';

/**
 * The only path from the recorder to the database: a bounded in-memory queue committed in batches.
 *
 * - A batch is committed when it reaches `batchSize` records or when its oldest record has waited `flushIntervalMs`
 *   (≤ 250 ms), whichever comes first; each batch is one transaction (store.append). After kill -9 at most the
 *   records received in the last flush interval are lost.
 * - Watch records are never dropped: when the queue is past its capacity the supervisor is told to slow down and
 *   stops reading its socket (TCP back-pressure; the API server closes a watcher that stays slow, and the
 *   supervisor resumes from its last resourceVersion). The overshoot is bounded by one read per watch.
 * - Ingest and audit batches that do not fit are dropped whole, and a `dropped` marker placed where the loss began
 *   carries the count (the session is marked partial): never silent, never unbounded.
 * - An API request that the audit webhook and the SDK both report is stored once: whichever comes first is written,
 *   and the other is merged into it when it arrives, within its pairing window (store.append, model/api-pairing.ts).
 *   Nothing waits for a partner that may never come.
 * - Records a watch pushes name that watch: each batch also moves the watch's resume point (checkpoint.ts) to the
 *   last of its records in the batch, in the same transaction, so a restart resumes exactly after what is on disk.
 * - A commit that fails for an I/O reason (disk full, database locked) is retried with backoff, keeping the batch;
 *   a record the store rejects is replaced by an `error` marker naming it. The recorder never crashes on one record.
 */

export type RecordSource = 'watch' | 'recorder' | 'ingest' | 'audit';
export type DroppableSource = 'ingest' | 'audit';

interface Pending {
  record: SessionRecord;
  /** Monotonic ms when the record was received: the start of its receive-to-commit latency. */
  receivedAt: number;
  /** The watch (checkpoint.ts watchKey) whose resume point this record may move. */
  watch?: string | undefined;
}

export interface WriterOptions {
  readonly store: SessionStore;
  readonly sessionId: number;
  readonly flushIntervalMs: number;
  readonly batchSize: number;
  readonly queueSize: number;
  readonly metrics?: RecorderMetrics | undefined;
  readonly log?: Logger | undefined;
  /** Monotonic clock in ms (performance.now). */
  readonly monotonic?: () => number;
  /** Wall clock in ms, for the timestamps of markers the writer itself writes. */
  readonly now?: () => number;
  /**
   * Called after each committed batch with the session it went to and the last seq committed so far: what online
   * detection and the record followers wait on (live-findings.ts, read-routes.ts). Synchronous and cheap by contract.
   */
  readonly onCommitted?: ((commit: CommittedBatch) => void) | undefined;
}

export interface CommittedBatch {
  readonly sessionId: number;
  readonly lastSeq: number;
  /** The lowest row of an earlier batch this one changed (a merged API request: AppendResult.changedFromSeq). */
  readonly changedFromSeq?: number;
}

/** What the supervisors, the ingest server and the daemon need from the writer. */
export interface RecordSink {
  /**
   * Enqueue records that must not be lost (watch events, markers). Returns true when the caller should slow down.
   * `watch` (checkpoint.ts watchKey): the records come from that watch and move its resume point when committed.
   */
  push(records: readonly SessionRecord[], receivedAt?: number, watch?: string): boolean;
  /** Enqueue a whole batch if it fits; otherwise drop it, count it in a `dropped` marker and return false. */
  offer(records: readonly SessionRecord[], source: DroppableSource, receivedAt?: number): boolean;
  /** Resolves once the queue is at most half full. */
  whenRoom(): Promise<void>;
  /** Resolves once everything enqueued so far is committed (or replaced by an error marker). */
  flush(): Promise<void>;
}

const transientSqliteCodes = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL|NOMEM|INTERRUPT)/;

export class Writer implements RecordSink {
  /**
   * Committed entries are cleared at once (set to undefined) and the array is compacted now and then: a committed
   * record kept here until the compaction lived seconds, long enough for V8 to promote it, parsed object and all,
   * and the old generation then filled with them (a full mark-compact every ~4 s at 1,000 events/s).
   */
  private queue: (Pending | undefined)[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private enqueued = 0;
  private done = 0;
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private roomWaiters: (() => void)[] = [];
  private openDropMarker: MarkerRecord | undefined;
  private openDropCounts: Record<DroppableSource, number> = { ingest: 0, audit: 0 };
  private readonly droppedBySource: Record<DroppableSource, number> = { ingest: 0, audit: 0 };
  private failureStreak = 0;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private closed = false;
  private readonly monotonic: () => number;
  private readonly now: () => number;
  private readonly log: Logger;
  private committedCount = 0;
  private lastSeq = 0;
  /** The lowest earlier row the batches since the last notification changed (merged API requests). */
  private changedFromSeq: number | undefined;
  private lastCommitAt: string | null = null;
  private sessionIdValue: number;

  constructor(private readonly options: WriterOptions) {
    this.sessionIdValue = options.sessionId;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.now = options.now ?? Date.now;
    this.log = options.log ?? silentLogger;
    options.metrics?.queueCapacity.set(options.queueSize);
  }

  /** The session records are committed to. */
  get sessionId(): number {
    return this.sessionIdValue;
  }

  /**
   * Commits everything queued so far to the current session, then sends what follows to another one (segment
   * rotation). The caller holds the watches first, so a segment's first records are its own markers and lists.
   */
  async switchSession(sessionId: number): Promise<void> {
    await this.flush();
    this.sessionIdValue = sessionId;
  }

  get depth(): number {
    return this.queue.length - this.head;
  }

  get stats(): { committed: number; lastSeq: number; lastCommitAt: string | null; dropped: Readonly<Record<DroppableSource, number>>; depth: number } {
    return { committed: this.committedCount, lastSeq: this.lastSeq, lastCommitAt: this.lastCommitAt, dropped: { ...this.droppedBySource }, depth: this.depth };
  }

  /** Healthy unless commits have been failing for longer than `graceMs`. */
  health(graceMs = 30_000): { ok: boolean; failingForMs?: number; error?: string } {
    if (this.failingSince === undefined) return { ok: true };
    const failingForMs = this.monotonic() - this.failingSince;
    return { ok: failingForMs < graceMs, failingForMs, ...(this.lastError ? { error: this.lastError } : {}) };
  }

  push(records: readonly SessionRecord[], receivedAt = this.monotonic(), watch?: string): boolean {
    if (this.closed) throw new Error('the writer is closed');
    if (watch === undefined) for (const record of records) this.queue.push({ record, receivedAt });
    else for (const record of records) this.queue.push({ record, receivedAt, watch });
    this.enqueued += records.length;
    this.afterEnqueue();
    return this.depth >= this.options.queueSize;
  }

  offer(records: readonly SessionRecord[], source: DroppableSource, receivedAt = this.monotonic()): boolean {
    if (!this.closed && this.depth + records.length <= this.options.queueSize) {
      this.push(records, receivedAt);
      return true;
    }
    this.droppedBySource[source] += records.length;
    this.options.metrics?.dropped.inc({ source }, records.length);
    if (this.closed) return false;
    if (this.openDropMarker) {
      this.openDropCounts[source] += records.length;
      this.openDropMarker.count = (this.openDropMarker.count ?? 0) + records.length;
      this.openDropMarker.message = this.dropMessage(this.openDropMarker);
    } else {
      this.openDropCounts = { ingest: 0, audit: 0, [source]: records.length };
      // Forced in, past capacity: it marks where the loss began; its count grows until it is committed.
      const marker: MarkerRecord = {
        record: 'marker',
        observedAt: new Date(this.now()).toISOString(),
        origin: source,
        marker: 'dropped',
        count: records.length,
      };
      marker.message = this.dropMessage(marker);
      this.openDropMarker = marker;
      this.queue.push({ record: marker, receivedAt });
      this.enqueued += 1;
      this.afterEnqueue();
      this.log.warn('queue full: dropping records', { source, queued: this.depth, capacity: this.options.queueSize });
    }
    return false;
  }

  private dropMessage(marker: MarkerRecord): string {
    const parts = Object.entries(this.openDropCounts)
      .filter(([, n]) => n > 0)
      .map(([source, n]) => `${n} ${source}`);
    return `${marker.count} record(s) dropped (${parts.join(', ')}): the recorder's queue was full (${this.options.queueSize} records)`;
  }

  whenRoom(): Promise<void> {
    if (this.depth <= this.options.queueSize / 2) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  flush(): Promise<void> {
    if (this.done >= this.enqueued) return Promise.resolve();
    const target = this.enqueued;
    const promise = new Promise<void>((resolve) => this.flushWaiters.push({ target, resolve }));
    this.schedule(0);
    return promise;
  }

  /** Commits everything and stops the timers. Records pushed afterwards throw. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.retryTimer = this.immediate = undefined;
  }

  private afterEnqueue(): void {
    this.options.metrics?.queueDepth.set(this.depth);
    if (this.retryTimer) return; // a failing store retries on its own schedule
    if (this.depth >= this.options.batchSize) this.schedule(0);
    else if (!this.timer && !this.immediate) this.schedule(this.options.flushIntervalMs);
  }

  private schedule(delayMs: number): void {
    if (this.retryTimer) return;
    if (delayMs <= 0) {
      if (this.immediate) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      // setImmediate, not a synchronous commit: the caller is usually in the middle of parsing a socket chunk.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.commitSome();
      });
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.commitSome();
    }, delayMs);
  }

  /** Commits one batch, then schedules the next by the age of the oldest remaining record. */
  private commitSome(): void {
    if (this.depth === 0) return;
    const count = Math.min(this.options.batchSize, this.depth);
    // Entries from head on are always set (only committed ones are cleared).
    const batch = this.queue.slice(this.head, this.head + count) as Pending[];
    if (batch.some((p) => p.record === this.openDropMarker)) this.openDropMarker = undefined;
    const started = this.monotonic();
    const ok = this.commitBatch(batch);
    if (!ok) {
      this.scheduleRetry();
      return;
    }
    const committedAt = this.monotonic();
    this.options.metrics?.commitSeconds.observe((committedAt - started) / 1000);
    if (this.options.metrics) for (const pending of batch) this.options.metrics.latencySeconds.observe((committedAt - pending.receivedAt) / 1000);
    this.queue.fill(undefined, this.head, this.head + count);
    this.head += count;
    this.done += count;
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.options.metrics?.queueDepth.set(this.depth);
    this.settleWaiters();
    this.notifyCommitted();
    if (this.depth === 0) return;
    if (this.depth >= this.options.batchSize || this.flushWaiters.length > 0) this.schedule(0);
    else {
      const oldest = this.queue[this.head]!.receivedAt;
      this.schedule(Math.max(1, oldest + this.options.flushIntervalMs - this.monotonic()));
    }
  }

  /** True when the batch is on disk (possibly with rejected records replaced by error markers). */
  private commitBatch(batch: Pending[]): boolean {
    const { store } = this.options;
    const sessionId = this.sessionIdValue;
    const records = batch.map((p) => p.record);
    try {
      const result = store.append(sessionId, records, checkpointsOf(batch));
      this.committed(result.count, result.lastSeq, result.merged, result.changedFromSeq);
      this.recordPartial(records);
      return true;
    } catch (error) {
      this.options.metrics?.commitFailures.inc();
      if (isTransient(error)) {
        this.failureStreak += 1;
        this.failingSince ??= this.monotonic();
        this.lastError = (error as Error).message;
        if (this.failureStreak === 1 || this.failureStreak % 10 === 0) {
          this.log.error('commit failed; keeping the batch and retrying', { error: this.lastError, attempt: this.failureStreak, queued: this.depth });
        }
        return false;
      }
      // Not the disk: one of the records. Commit them one by one and replace the ones the store rejects.
      this.log.error('the store rejected a batch; committing its records one by one', { error: (error as Error).message, records: records.length });
      for (const pending of batch) {
        const record = pending.record;
        const checkpoints = checkpointsOf([pending]);
        try {
          const result = store.append(sessionId, [record], checkpoints);
          this.committed(result.count, result.lastSeq, result.merged, result.changedFromSeq);
          this.recordPartial([record]);
        } catch (recordError) {
          if (isTransient(recordError)) return false; // the disk went away half-way: retry the rest later
          const marker: MarkerRecord = {
            record: 'marker',
            observedAt: record.observedAt ?? new Date(this.now()).toISOString(),
            origin: record.origin,
            marker: 'error',
            message: `the store rejected a ${describe(record)}: ${(recordError as Error).message}`,
          };
          try {
            // The marker stands for the record: the resume point moves past it (re-delivered, it would be refused again).
            const result = store.append(sessionId, [marker], checkpoints);
            this.committed(result.count, result.lastSeq);
            store.markPartial(sessionId, [marker.message!]);
          } catch {
            // Nothing more to do for this record; it is counted as failed.
          }
        }
        // Remove the record from the batch's head as soon as it is settled, so a retry does not write it twice.
        this.head += 1;
        this.done += 1;
      }
      // The loop above already advanced head/done for every record; undo the caller's advance.
      this.head -= batch.length;
      this.done -= batch.length;
      return true;
    }
  }

  private committed(count: number, lastSeq: number, merged = 0, changedFromSeq: number | null = null): void {
    this.committedCount += count;
    if (changedFromSeq !== null) this.changedFromSeq = Math.min(this.changedFromSeq ?? changedFromSeq, changedFromSeq);
    // An append of only merged records assigns no seq: the last one stays the last.
    if (count > 0) this.lastSeq = lastSeq;
    if (merged) this.options.metrics?.pairedRequests.inc(merged);
    this.lastCommitAt = new Date(this.now()).toISOString();
    this.options.metrics?.committedRecords.inc(count);
    if (this.failingSince !== undefined) this.log.info('commits succeed again', { afterAttempts: this.failureStreak });
    this.failureStreak = 0;
    this.failingSince = undefined;
    this.lastError = undefined;
  }

  /** The one "batch committed" notification (online detection, followers): after the batch is on disk. */
  private notifyCommitted(): void {
    const listener = this.options.onCommitted;
    if (!listener) return;
    try {
      const changedFromSeq = this.changedFromSeq;
      this.changedFromSeq = undefined;
      listener({ sessionId: this.sessionIdValue, lastSeq: this.lastSeq, ...(changedFromSeq !== undefined ? { changedFromSeq } : {}) });
    } catch (error) {
      // A listener's bug must not stop the commits.
      this.log.error('a commit listener failed', { error: (error as Error).message });
    }
  }

  /** A committed `dropped` marker makes the session partial, with the reason. */
  private recordPartial(records: readonly SessionRecord[]): void {
    const problems = records.filter((r): r is MarkerRecord => r.record === 'marker' && r.marker === 'dropped').map((r) => `${r.observedAt}: ${r.message}`);
    if (problems.length) {
      try {
        this.options.store.markPartial(this.sessionIdValue, problems);
      } catch (error) {
        this.log.warn('could not mark the session partial', { error: (error as Error).message });
      }
    }
  }

  private scheduleRetry(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failureStreak - 1, 7));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.commitSome();
    }, delay);
  }

  private settleWaiters(): void {
    if (this.flushWaiters.length) {
      const still: typeof this.flushWaiters = [];
      for (const waiter of this.flushWaiters) (this.done >= waiter.target ? waiter.resolve : () => still.push(waiter))();
      this.flushWaiters = still;
    }
    if (this.roomWaiters.length && this.depth <= this.options.queueSize / 2) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/** The resume point each watch reaches with this batch: the last of its records in the batch that carries one. */
function checkpointsOf(batch: readonly Pending[]): CheckpointUpdate[] {
  let last: Map<string, CheckpointUpdate> | undefined;
  batch.forEach((pending, index) => {
    if (pending.watch === undefined) return;
    const resourceVersion = resumePointOf(pending.record);
    if (resourceVersion === undefined) return;
    (last ??= new Map()).set(pending.watch, { watch: pending.watch, resourceVersion, record: index });
  });
  return last ? [...last.values()] : [];
}

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && transientSqliteCodes.test(code);
}

function describe(record: SessionRecord): string {
  switch (record.record) {
    case 'watch':
      return `watch ${record.type} of ${record.kind} ${record.namespace ? `${record.namespace}/` : ''}${record.name ?? ''} at RV ${record.resourceVersion}`;
    case 'marker':
      return `${record.marker} marker`;
    default:
      return `${record.record} record`;
  }
}
