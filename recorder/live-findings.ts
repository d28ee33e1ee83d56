import { namespacedName, type Finding, type SessionInfo, type StoredRecord } from '../model/index.js';
import { DecodedBodies, type SessionStore } from '../store/index.js';
import { watchHeap, type HeapProbe } from './heap-watch.js';
import { silentLogger, type Logger } from './log.js';
import type { RecorderMetrics } from './metrics.js';
import type { CommittedBatch } from './writer.js';

/**
 * Online detection: the detectors `kreplay check` runs, over the live session, while it records.
 *
 *   Writer ──batch committed──▶ LiveFindings.committed() ──debounce──▶ one run: the records after the last run's,
 *                                                                        │ pushed into the live analysis, reported
 *                                                                        │ (a worker thread, or chunks in process)
 *                                     log line per new/updated finding ◀─┤
 *                                kreplay_findings{kind,severity} gauge ◀─┤
 *                                   kreplay_findings_total counter     ◀─┘──▶ GET /v1/findings (check --json shape)
 *
 * The analysis stays alive between runs (replayer/analyze.ts report(): detectors report without ending), so a run
 * costs the records that arrived since the last one plus one report, not the session again; its result is `check`'s
 * over seq 1..throughSeq (replayer/report.int.test.ts, cli/live-analysis.int.test.ts). One thing a live analysis
 * cannot follow is a stored record that changes: the other source's report of an API request merged into its row
 * (model/api-pairing.ts). A commit says the lowest row it changed (CommittedBatch.changedFromSeq); a change at or
 * below what the analysis already read starts it again from seq 1. The recorder runs it off its thread
 * (`analyser`: a worker on its own connection, wired by cli/live-analysis.ts); the in-process form (`analysis`, for
 * tests) reads in chunks and yields between them. Either way the next run starts no sooner than `cpuShare` of the
 * time allows (a 300 ms run at a share of 0.1 waits 2.7 s), so a burst slows detection, never the recording. The
 * recorder imports no replayer (STYLE.md): the analysis is handed in.
 */

/** One analysis of one session, fed its records in seq order: what `kreplay check` runs. */
export interface SessionAnalysisRun {
  push(record: StoredRecord): void;
  /**
   * The findings and the `summary` object of `check --json` over the records pushed so far; more may be pushed
   * after it. `session`: the session as it is now (its summary says whether it is partial).
   */
  report(session: SessionInfo): { findings: Finding[]; summary: Record<string, unknown> };
}

export type SessionAnalysisFactory = (session: SessionInfo) => SessionAnalysisRun;

/**
 * The same analysis off the recorder's thread (cli/live-analysis.ts runs it in a worker thread on its own read-only
 * connection): the event loop that receives watch events and commits batches never waits for it.
 */
export interface SessionAnalyser {
  /**
   * `check` over seq 1..throughSeq of the session; busyMs: the time the run took where it ran. `changedFromSeq`: the
   * lowest stored record changed since the previous call (a merged API request), if any: at or below what the
   * analyser already read, it reads the session again from seq 1.
   */
  analyse(session: SessionInfo, throughSeq: number, changedFromSeq?: number): Promise<{ findings: Finding[]; summary: Record<string, unknown>; busyMs: number }>;
  close(): Promise<void>;
}

/** `GET /v1/findings`: `check --json`'s document, plus where the analysis stands. */
export interface LiveFindingsDocument {
  session: string;
  summary: Record<string, unknown>;
  findings: Finding[];
  /** The records analysed: seq 1 to this one. */
  throughSeq: number;
  /** The id of the finding discovered last (of those reported now): the `since` of the next poll for new ones. */
  newest: string | null;
  analyzedAt: string;
  /** Set once detection stopped for good (the heap past detection.heapShare, or its worker ended): why, and what to do. */
  stopped?: string;
}

export interface LiveFindingsOptions {
  readonly store: SessionStore;
  /** In-process analysis, read in chunks on the caller's thread (tests; a recorder without a database file). */
  readonly analysis?: SessionAnalysisFactory | undefined;
  /** Off-thread analysis: wins over `analysis` when given. */
  readonly analyser?: SessionAnalyser | undefined;
  readonly metrics?: RecorderMetrics | undefined;
  readonly log?: Logger | undefined;
  /** Least time between the starts of two runs. */
  readonly minIntervalMs?: number;
  /** Most of one core the runs may take over time (0 < share ≤ 1). */
  readonly cpuShare?: number;
  /** Records read and analysed between two yields to the event loop. */
  readonly chunkRecords?: number;
  /**
   * Most of the heap limit the recorder may keep (live after a full collection) while the in-process analysis runs:
   * past it, detection stops for good and frees its state, and the recording goes on. Default 0.7.
   */
  readonly heapShare?: number;
  /** The heap as the last full collection left it (tests); by default read from V8 after each one. */
  readonly heap?: HeapProbe;
  readonly monotonic?: () => number;
  readonly now?: () => number;
  /** Called with each run's document (tests; anything that wants every analysis rather than the latest). */
  readonly onAnalysed?: ((document: LiveFindingsDocument) => void) | undefined;
}

interface Known {
  /** Order of discovery: `?since=<id>` returns the findings discovered after that one. */
  readonly serial: number;
  counted: boolean;
  /** What the last log line said of it: the next "updated" line is for news, not for every repeat of a loop. */
  logged: { severity: string; suppressed: boolean; count: number };
}

interface Snapshot {
  readonly sessionId: number;
  readonly document: LiveFindingsDocument;
}

/** The analyser cannot run any more (its worker ran out of memory, or exited): detection stops instead of failing every run. */
export class AnalyserGoneError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalyserGoneError';
  }
}

export class UnknownFindingError extends Error {
  constructor(readonly id: string) {
    super(`no finding with id "${id}" in the live session (ids are those of GET /v1/findings; a new segment starts afresh)`);
    this.name = 'UnknownFindingError';
  }
}

const defaultMinIntervalMs = 1_000;
const defaultCpuShare = 0.1;
/** A slice of the in-process analysis: ~10–20 ms of detectors at their busiest, then the event loop gets its turn. */
const defaultChunkRecords = 100;
/**
 * The in-process analysis shares the recorder's heap, and its state grows with the objects watched (~4 KB each:
 * their latest versions and the detectors' per-object state). On a 192 MB heap, 25,000 watched ConfigMaps ended in
 * "JavaScript heap out of memory", the recording with it. Past 70 % live there is still room for a burst's queue
 * and the garbage between collections (on the image's 136 MB cap: ~104 MB live, ~8,000 busy objects once their rings fill).
 */
const defaultHeapShare = 0.7;

export class LiveFindings {
  private target: CommittedBatch | undefined;
  /** The lowest stored row changed by the commits since the last run started (a merged API request). */
  private changedFromSeq: number | undefined;
  /** The in-process analysis, alive between runs: the records it has read. */
  private live: { sessionId: number; run: SessionAnalysisRun; throughSeq: number; bodies: DecodedBodies } | undefined;
  private analysedSessionId: number | undefined;
  private snapshot: Snapshot | undefined;
  private known = new Map<string, Known>();
  private nextSerial = 1;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private nextAllowedAt = 0;
  private closed = false;
  private waiters: { sessionId: number; seq: number; resolve: () => void }[] = [];
  private readonly log: Logger;
  private readonly monotonic: () => number;
  private readonly now: () => number;
  private readonly minIntervalMs: number;
  private readonly cpuShare: number;
  private readonly chunkRecords: number;
  private readonly heapShare: number;
  private readonly heap: HeapProbe | undefined;
  private readonly stopWatchingHeap: (() => void) | undefined;
  private stoppedReason: string | undefined;

  constructor(private readonly options: LiveFindingsOptions) {
    this.log = options.log ?? silentLogger;
    this.monotonic = options.monotonic ?? (() => performance.now());
    this.now = options.now ?? Date.now;
    this.minIntervalMs = options.minIntervalMs ?? defaultMinIntervalMs;
    this.cpuShare = Math.min(1, Math.max(0.01, options.cpuShare ?? defaultCpuShare));
    this.chunkRecords = Math.max(1, options.chunkRecords ?? defaultChunkRecords);
    this.heapShare = options.heapShare ?? defaultHeapShare;
    // Only the in-process analysis lives in this heap; a worker's has its own.
    if (options.heap) this.heap = options.heap;
    else if (options.analysis && !options.analyser) {
      const watch = watchHeap();
      this.heap = watch.probe;
      this.stopWatchingHeap = watch.stop;
    }
  }

  /** Why detection stopped for good (the heap, or its worker's end), or undefined while it runs. */
  get stopped(): string | undefined {
    return this.stoppedReason;
  }

  /** The writer's "batch committed" notification: schedules a run (cheap; never analyses in the caller). */
  committed(commit: CommittedBatch): void {
    if (this.closed) return;
    if (this.target && this.target.sessionId !== commit.sessionId) this.changedFromSeq = undefined;
    if (commit.changedFromSeq !== undefined) this.changedFromSeq = Math.min(this.changedFromSeq ?? commit.changedFromSeq, commit.changedFromSeq);
    this.target = commit;
    this.showLag();
    this.schedule();
  }

  /** The latest analysis, or undefined before the first run finished. `since`: only findings discovered after it. */
  document(since?: string): LiveFindingsDocument | undefined {
    const snapshot = this.snapshot;
    if (!snapshot) return undefined;
    const document = this.stoppedReason === undefined ? snapshot.document : { ...snapshot.document, stopped: this.stoppedReason };
    if (since === undefined) return document;
    const after = this.known.get(since);
    if (!after) throw new UnknownFindingError(since);
    return { ...document, findings: document.findings.filter((f) => (this.known.get(f.id)?.serial ?? 0) > after.serial) };
  }

  /** Resolves once a run has analysed the session through `seq` (tests, and a clean stop), or at once if stopped. */
  analysed(sessionId: number, seq: number): Promise<void> {
    // Stopped for good: no run will come, and a clean stop must not wait for one.
    if (this.stoppedReason !== undefined || this.covers(sessionId, seq)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ sessionId, seq, resolve }));
  }

  /** Stops scheduling; waits for a run in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopWatchingHeap?.();
    await this.running;
    await this.options.analyser?.close();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  private covers(sessionId: number, seq: number): boolean {
    const snapshot = this.snapshot;
    return snapshot !== undefined && snapshot.sessionId === sessionId && snapshot.document.throughSeq >= seq;
  }

  private schedule(): void {
    if (this.closed || this.stoppedReason !== undefined || this.running || this.timer) return;
    const delay = Math.max(0, this.nextAllowedAt - this.monotonic());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.run().finally(() => {
        this.running = undefined;
        if (this.target && !this.covers(this.target.sessionId, this.target.lastSeq)) this.schedule();
      });
    }, delay);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const target = this.target;
    if (!target) return;
    const { store } = this.options;
    const startedAt = this.monotonic();
    let busyMs = 0;
    try {
      const session = store.findSession(String(target.sessionId));
      if (!session) return; // deleted (retention) before its run
      // Through the last row no later append can change: a request still waiting for its other source's report
      // would, once merged, make the analysis start over from seq 1 (model/api-pairing.ts oldestWaiting).
      // Never back: rows already analysed are read again only after a change (then through at least as far).
      const analysed = this.snapshot?.sessionId === session.id ? this.snapshot.document.throughSeq : 0;
      const throughSeq = Math.max(analysed, Math.min(target.lastSeq, store.settledThrough(session.id, this.now())));
      const changedFromSeq = this.changedFromSeq;
      if (throughSeq <= analysed && changedFromSeq === undefined) return; // held back: nothing settled since
      this.changedFromSeq = undefined;
      if (changedFromSeq !== undefined && changedFromSeq <= analysed) this.options.metrics?.analysisRestarts.inc();
      if (this.options.analyser) {
        const result = await this.options.analyser.analyse(session, throughSeq, changedFromSeq);
        busyMs = result.busyMs;
        if (this.closed) return;
        this.log.debug('analysis run', { session: session.name, throughSeq, busyMs: Math.round(busyMs), findings: result.findings.length, where: 'worker' });
        this.publish(session, throughSeq, result.findings, result.summary);
        return;
      }
      if (!this.options.analysis) return;
      if (this.heapFull(this.live?.throughSeq ?? 0)) return;
      let live = this.live;
      if (!live || live.sessionId !== session.id || (changedFromSeq !== undefined && changedFromSeq <= live.throughSeq)) {
        live = this.live = { sessionId: session.id, run: this.options.analysis(session), throughSeq: 0, bodies: new DecodedBodies() };
      }
      let sliceStart = this.monotonic();
      let longestSliceMs = 0;
      // Chunks of whole, closed reads: no statement stays open on the writer's connection while it commits.
      for (let from = live.throughSeq + 1; from <= throughSeq; from += this.chunkRecords) {
        // Stopped mid-run: what was read stays read (the next run goes on from there); nothing is reported.
        if (this.closed) return;
        const to = Math.min(throughSeq, from + this.chunkRecords - 1);
        for (const record of store.records(session.id, { fromSeq: from, toSeq: to, withObjects: 'lazy', parallel: false, bodies: live.bodies })) live.run.push(record);
        live.throughSeq = to;
        const sliceMs = this.monotonic() - sliceStart;
        busyMs += sliceMs;
        longestSliceMs = Math.max(longestSliceMs, sliceMs);
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStart = this.monotonic();
        // A full collection during the slice has reported by now (its observer's callback was queued first).
        if (this.heapFull(live.throughSeq)) return;
      }
      if (this.closed) return;
      const { findings, summary } = live.run.report(session);
      const finishMs = this.monotonic() - sliceStart;
      busyMs += finishMs;
      this.log.debug('analysis run', { session: session.name, throughSeq, busyMs: Math.round(busyMs), longestSliceMs: Math.round(longestSliceMs), finishMs: Math.round(finishMs), findings: findings.length });
      this.publish(session, throughSeq, findings, summary);
    } catch (error) {
      if (error instanceof AnalyserGoneError) {
        const analysed = this.snapshot?.document.throughSeq ?? 0;
        this.stop(`online detection stopped after seq ${analysed}: ${error.message}. The recording goes on; run kreplay check on the session (kreplay pull copies it out)`);
        return;
      }
      // One failed run (a session deleted mid-read, a detector bug) must not stop the recording or later runs; the
      // next one reads the session afresh (this one may have pushed half a chunk).
      this.live = undefined;
      this.log.error('online analysis failed', { session: target.sessionId, throughSeq: target.lastSeq, error: (error as Error).message });
    } finally {
      this.options.metrics?.analysisSeconds.observe(busyMs / 1000);
      const endedAt = this.monotonic();
      // The pause after a run is what keeps the runs at cpuShare of a core: busy / (busy + pause) = share.
      this.nextAllowedAt = Math.max(startedAt + this.minIntervalMs, endedAt + (busyMs * (1 - this.cpuShare)) / this.cpuShare);
    }
  }

  /**
   * Stops detection for good when the heap keeps more than heapShare of its limit: its state goes (the next full
   * collection frees it), the findings published so far stay readable, and the recording goes on.
   */
  private heapFull(analysedThrough: number): boolean {
    const reading = this.heap?.();
    if (!reading || reading.liveBytes <= this.heapShare * reading.limitBytes) return false;
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    this.stop(
      `online detection stopped after seq ${analysedThrough}: the recorder's heap kept ${mb(reading.liveBytes)} MB after a full collection, ` +
        `more than detection.heapShare (${Math.round(this.heapShare * 100)} %) of its ${mb(reading.limitBytes)} MB limit. The recording goes on; ` +
        'run kreplay check on the session (kreplay pull copies it out), or give the recorder a larger heap (--max-old-space-size) or fewer resources to watch.',
    );
    return true;
  }

  /** Detection ends for good; what was published stays readable and says why. */
  private stop(reason: string): void {
    this.live = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stoppedReason = reason;
    this.log.warn('online detection stopped', { reason });
    this.options.metrics?.analysisStopped.set(1);
    // Nothing more will be analysed: whoever waits for a seq (a clean stop) waits no longer.
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
  }

  private publish(session: SessionInfo, throughSeq: number, findings: Finding[], summary: Record<string, unknown>): void {
    if (this.analysedSessionId !== session.id) {
      // A new segment is a new session: its findings start afresh (the counter keeps counting).
      this.known = new Map();
      this.analysedSessionId = session.id;
    }
    const present = new Set<string>();
    for (const finding of findings) {
      present.add(finding.id);
      const suppressed = Boolean(finding.suppressed);
      const known = this.known.get(finding.id);
      const entry = known ?? { serial: this.nextSerial++, counted: false, logged: { severity: finding.severity, suppressed, count: finding.count } };
      if (!known) this.known.set(finding.id, entry);
      if (!entry.counted && !suppressed) {
        entry.counted = true;
        this.options.metrics?.findingsTotal.inc({ kind: finding.kind, severity: finding.severity });
      }
      // New, or news: its severity or suppression changed, or it doubled its count since its last line (a hot loop
      // grows by the second: one line per doubling, not one per run).
      const logged = entry.logged;
      if (known && logged.severity === finding.severity && logged.suppressed === suppressed && finding.count < logged.count * 2) continue;
      entry.logged = { severity: finding.severity, suppressed, count: finding.count };
      this.logFinding(known ? 'updated' : 'new', session, finding);
    }
    for (const id of this.known.keys()) {
      // A finding can stand down as records arrive (the object it waited for was reconciled after all).
      if (!present.has(id)) {
        this.log.info('finding gone', { session: session.name, id });
        this.known.delete(id);
      }
    }
    const metrics = this.options.metrics;
    if (metrics) {
      metrics.findings.reset();
      const counts = new Map<string, number>();
      for (const f of findings) if (!f.suppressed) counts.set(`${f.kind}\0${f.severity}`, (counts.get(`${f.kind}\0${f.severity}`) ?? 0) + 1);
      for (const [key, n] of counts) {
        const [kind, severity] = key.split('\0') as [string, string];
        metrics.findings.set({ kind, severity }, n);
      }
    }
    this.snapshot = {
      sessionId: session.id,
      document: { session: session.name, summary, findings, throughSeq, newest: this.newest(), analyzedAt: new Date(this.now()).toISOString() },
    };
    this.showLag();
    this.options.onAnalysed?.(this.snapshot.document);
    const still: typeof this.waiters = [];
    for (const waiter of this.waiters) (this.covers(waiter.sessionId, waiter.seq) ? waiter.resolve : () => still.push(waiter))();
    this.waiters = still;
  }

  /** kreplay_recorder_analysis_lag_records: the live session's committed records not analysed yet. */
  private showLag(): void {
    const target = this.target;
    if (!target || !this.options.metrics) return;
    const snapshot = this.snapshot;
    const analysed = snapshot && snapshot.sessionId === target.sessionId ? snapshot.document.throughSeq : 0;
    this.options.metrics.analysisLag.set(Math.max(0, target.lastSeq - analysed));
  }

  private newest(): string | null {
    let newest: [string, number] | undefined;
    for (const [id, known] of this.known) if (!newest || known.serial > newest[1]) newest = [id, known.serial];
    return newest?.[0] ?? null;
  }

  private logFinding(status: 'new' | 'updated', session: SessionInfo, finding: Finding): void {
    const o = finding.object;
    const fields = {
      status,
      session: session.name,
      id: finding.id,
      kind: finding.kind,
      severity: finding.severity,
      rule: finding.rule,
      object: `${o.kind} ${namespacedName(o.namespace, o.name)}`,
      firstSeq: finding.firstSeq,
      lastSeq: finding.lastSeq,
      count: finding.count,
      suppressed: finding.suppressed ? true : undefined,
      message: finding.message,
    };
    if (finding.severity === 'info' || finding.suppressed) this.log.info('finding', fields);
    else this.log.warn('finding', fields);
  }
}
