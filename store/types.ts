import type { DecodedBodies } from './decoded-bodies.js';
import type { NewSession, RecordKind, SessionInfo, StoredRecord, SessionRecord, KubeObject } from '../model/index.js';

/** One row of `kreplay sessions`. */
export interface SessionSummary extends SessionInfo {
  recordCount: number;
  countsByKind: Partial<Record<RecordKind, number>>;
  objectCount: number;
  /** Records flagged for a client clock off by more than the allowed skew: left out of the span (model/clock-skew.ts). */
  clockSkewedRecords: number;
  firstObservedAt: string | null;
  lastObservedAt: string | null;
  /** Bytes this session's rows take in the database file (SQLite dbstat when available, else an estimate). */
  bytesOnDisk: number;
}

/** One object of a session, for `kreplay show` and the TUI's object filter. */
export interface ObjectSummary {
  objectId: number;
  group: string;
  version: string;
  resource: string | null;
  kind: string;
  namespace: string | null;
  name: string;
  uid: string | null;
  recordCount: number;
  versionCount: number;
  firstSeq: number;
  lastSeq: number;
  /** The newest event type seen for the object (DELETED means it is gone). */
  lastEventType: string | null;
}

export interface RecordFilter {
  kinds?: readonly RecordKind[];
  /** Object filters match watch, reconcile, reconcile-start, delivery and api records that name an object. */
  objectKind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  objectId?: number;
  /** Event type, marker kind, verb, result or handler, depending on the record kind. */
  types?: readonly string[];
  origins?: readonly string[];
}

export interface ReadOptions {
  fromSeq?: number;
  toSeq?: number;
  filter?: RecordFilter;
  /**
   * Materialise watch events' objects (default true). Reading without objects is much faster: use it when
   * only metadata (RV, generation, type) is needed. 'lazy': objects stay null, and each watch record carries its
   * version's facts and `loadObject()` instead (what the replayer reads: it decodes the few bodies it looks into).
   */
  withObjects?: boolean | 'lazy';
  /**
   * Lazy reads only: read the rows in a worker thread, so the caller's thread spends its time on the records rather
   * than on SQLite. Default: for reads of 50,000 records or more.
   */
  parallel?: boolean;
  /**
   * Decoded bodies to start from and to keep (DecodedBodies): a reader that reads a session in consecutive pieces
   * (the recorder's online analysis) passes the same one to each read, so the first version of an object in a piece
   * is rebuilt from the one decoded in the piece before, not from its keyframe.
   */
  bodies?: DecodedBodies;
}

export interface PageOptions {
  /** Rows strictly after this seq (forward paging) ... */
  afterSeq?: number;
  /** ... or strictly before it (backward paging; rows still come back in ascending order). */
  beforeSeq?: number;
  limit: number;
  filter?: RecordFilter;
  withObjects?: boolean;
}

export interface AppendResult {
  /** The seqs of the new rows (lastSeq = firstSeq - 1 when there are none). */
  firstSeq: number;
  lastSeq: number;
  /** New rows. */
  count: number;
  /**
   * Records that were not given a row of their own: the other source's report of a request already stored, merged
   * into that request's row (model/api-pairing.ts). count + merged = the records appended.
   */
  merged: number;
  /**
   * The lowest seq of a row stored by an earlier append that this one changed (a request's other report merged
   * into it), or null: a reader that already read that row reads it again (recorder/live-findings.ts).
   */
  changedFromSeq: number | null;
}

/** A session as of its last commit: how far it goes, and whether rows already stored have changed. */
export interface SessionProgress {
  /** The newest seq (0 when empty). */
  lastSeq: number;
  /**
   * How many appends changed rows stored before them (a request's other report merged into its row), and the lowest
   * row the latest one changed; null in a database older than schema 9 (opened read-only), which does not say.
   */
  rewrites: { count: number; fromSeq: number | null } | null;
  /** The session has an end time (its recorder stopped or rotated to a new segment). */
  ended: boolean;
}

/**
 * Where one watch of a recording resumes after a restart (migrations/0006_watch_checkpoints.sql): the resourceVersion
 * of the last watch event, bookmark or list committed for it.
 */
export interface WatchCheckpoint {
  /** Names the watch (the recorder's recorder/checkpoint.ts watchKey); opaque to the store. */
  readonly watch: string;
  readonly resourceVersion: string;
}

/** A checkpoint written by append, in the same transaction as the record that carries its resourceVersion. */
export interface CheckpointUpdate extends WatchCheckpoint {
  /** The index, among the records of this append, of the record that carries the resourceVersion. */
  readonly record: number;
}

export interface StoredCheckpoint extends WatchCheckpoint {
  /** The seq of the record that carried it. */
  readonly throughSeq: number;
  readonly committedAt: string;
}

/** The store's whole surface: recorder, importers, CLI and TUI go through this and nothing else. */
export interface SessionStore {
  readonly path: string;
  createSession(session: NewSession): SessionInfo;
  /** By name, or by numeric id. */
  findSession(nameOrId: string): SessionInfo | undefined;
  listSessions(): SessionSummary[];
  /**
   * Appends in one transaction: either every record is written or none is. Returns the seqs assigned. An `api` record
   * that is the partner of one stored shortly before (the same request from audit and from the SDK) updates that
   * record instead of taking a seq. Checkpoints are written in the same transaction (the last one per watch wins),
   * so a checkpoint is on disk exactly when the record that carries it is.
   */
  append(sessionId: number, records: readonly SessionRecord[], checkpoints?: readonly CheckpointUpdate[]): AppendResult;
  /** The session's watch checkpoints (none for a database written before schema 6). */
  watchCheckpoints(sessionId: number): StoredCheckpoint[];
  markPartial(sessionId: number, problems: readonly string[]): void;
  endSession(sessionId: number, endedAt: string | null): void;
  deleteSession(sessionId: number): void;
  /** Streams records in seq order; memory stays bounded by the number of live objects, not the session length. */
  records(sessionId: number, options?: ReadOptions): IterableIterator<StoredRecord>;
  page(sessionId: number, options: PageOptions): StoredRecord[];
  record(sessionId: number, seq: number): StoredRecord | undefined;
  recordCount(sessionId: number, filter?: RecordFilter): number;
  /** The position (0-based) of a seq among the records matching the filter: lets a pager show "n of total". */
  indexOfSeq(sessionId: number, seq: number, filter?: RecordFilter): number;
  /** The object's body as of the given watch record. */
  objectAt(sessionId: number, seq: number): KubeObject | undefined;
  objects(sessionId: number): ObjectSummary[];
  /** Every watch event of one object (by uid) with its object, oldest first. */
  objectHistory(sessionId: number, uid: string): StoredRecord[];
  /**
   * Cached analysis results (JSON text) for a session and an options key; undefined when absent, computed by
   * another kreplay version, or older than the session's last record.
   */
  cachedAnalysis(sessionId: number, optionsKey: string): string | undefined;
  saveAnalysis(sessionId: number, optionsKey: string, throughSeq: number, findingsJson: string): void;
  /** The newest seq of the session (0 when empty). */
  lastSeq(sessionId: number): number;
  /**
   * The last seq that no later append of this store can change: the row before the oldest request still waiting
   * for its other source's report (model/api-pairing.ts oldestWaiting; `now`: epoch ms), else the last seq. The
   * recorder's online analysis reads that far, so a merge does not make it start over.
   */
  settledThrough(sessionId: number, now: number): number;
  /** Where a session stands, for a reader that follows it from another process (cli/followed-analysis.ts). */
  progress(sessionId: number): SessionProgress;
  /**
   * Whether the file, when opened, looked like a copy that left its -wal behind (store/wal-check.ts): 'possible'
   * (WAL mode, no -wal with content: also how a cleanly closed database looks; worth saying when sessions look cut
   * short) or 'likely' (a -shm without any -wal).
   */
  readonly walMissing: 'none' | 'possible' | 'likely';
  /** Opened read-only: asked for, or the file is not writable by this process (reads work, writes fail). */
  readonly readonlyFile: boolean;
  /** Writes a consistent copy of the whole database to a new file, safe while another process appends. */
  snapshot(outPath: string): void;
  /**
   * Writes a consistent copy of one session (and nothing else) to a new file, without holding up appends on this
   * connection for more than a step of the copy at a time (the recorder's GET /v1/sessions/{name}/export?format=sqlite).
   */
  copySession(sessionId: number, outPath: string): Promise<void>;
  close(): void;
}
