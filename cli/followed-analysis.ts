import { createAnalyzer, type Analysis, type AnalyzeOptions, type Analyzer } from '../replayer/index.js';
import { DecodedBodies, type SessionProgress, type SessionStore } from '../store/index.js';

/** One refresh of a followed analysis. */
export interface FollowedRefresh {
  /** The analysis of seq 1..throughSeq; undefined when nothing committed since the last refresh. */
  readonly analysis: Analysis | undefined;
  readonly throughSeq: number;
  /** This refresh read the session again from seq 1 (a row it had read changed). */
  readonly restarted: boolean;
  readonly progress: SessionProgress;
}

/**
 * `check`'s analysis of a session that another process (a recorder) is writing, kept alive between refreshes
 * (`check --follow`, `replay --follow`): a refresh reads only the records committed since the last one and reports,
 * so following an hour-long session costs what arrives, not the hour again each second. The result is exactly
 * analyze() of seq 1..throughSeq (replayer/analyze.ts report()).
 *
 * Stored rows change in one case: a request's other report merged into its row (store/sqlite-store.ts mergeInto).
 * The session row counts those appends and names the lowest row the latest one changed
 * (migrations/0009_session_rewrites.sql). A change to a row already read starts the analysis again from seq 1; so
 * does a count that moved by more than one (the rows of the ones in between are not known). A database that does
 * not count them (older than schema 9, opened read-only) is read again from seq 1 whenever it grew, as following
 * did before.
 */
export class FollowedAnalysis {
  private analyzer: Analyzer | undefined;
  private throughSeq = 0;
  private rewritesSeen: number | undefined;
  private bodies = new DecodedBodies();
  /** Refreshes that had to read the session again from seq 1. */
  restarts = 0;

  constructor(
    private readonly store: SessionStore,
    private readonly sessionId: number,
    private readonly options: AnalyzeOptions,
    /** Called every `progressEvery` records of a refresh (a long first read, for a progress bar). */
    private readonly onProgress?: (seq: number, lastSeq: number) => void,
    private readonly progressEvery = 20_000,
  ) {}

  refresh(): FollowedRefresh {
    const progress = this.store.progress(this.sessionId);
    const restart = this.analyzer !== undefined && this.readRowChanged(progress);
    if (this.analyzer && !restart && progress.lastSeq === this.throughSeq) {
      this.rewritesSeen = progress.rewrites?.count;
      return { analysis: undefined, throughSeq: this.throughSeq, restarted: false, progress };
    }
    if (!this.analyzer || restart) {
      if (restart) this.restarts += 1;
      this.analyzer = createAnalyzer(this.options);
      this.throughSeq = 0;
      this.bodies = new DecodedBodies();
    }
    const analyzer = this.analyzer;
    // Bounded by the last seq read with the rewrites: a later commit is the next refresh's.
    let n = 0;
    for (const record of this.store.records(this.sessionId, { fromSeq: this.throughSeq + 1, toSeq: progress.lastSeq, withObjects: 'lazy', bodies: this.bodies })) {
      analyzer.push(record);
      if (this.onProgress && ++n % this.progressEvery === 0) this.onProgress(record.seq, progress.lastSeq);
    }
    this.throughSeq = progress.lastSeq;
    this.rewritesSeen = progress.rewrites?.count;
    return { analysis: analyzer.report(), throughSeq: this.throughSeq, restarted: restart, progress };
  }

  /** Whether a row this analysis has read may have changed since the last refresh. */
  private readRowChanged({ rewrites, lastSeq }: SessionProgress): boolean {
    // A database that does not count rewrites: any growth may have come with one (before schema 9, every refresh
    // that found new records analysed the session again).
    if (rewrites === null) return lastSeq !== this.throughSeq;
    if (rewrites.count === this.rewritesSeen) return false;
    // Exactly one append changed rows: it says the lowest; rows past what was read are read for the first time next.
    return !(this.rewritesSeen !== undefined && rewrites.count === this.rewritesSeen + 1 && rewrites.fromSeq !== null && rewrites.fromSeq > this.throughSeq);
  }
}
