import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  UnpairedRequests,
  countObjects,
  mergePair,
  parseSharedFacts,
  sharedFactsText,
  versionChangeOf,
  versionFacts,
  type ApiRequestRecord,
  type KubeObject,
  type NewSession,
  type ObjectRef,
  type RecordKind,
  type SessionInfo,
  type SessionRecord,
  type SharedVersionFacts,
  type StoredRecord,
  type VersionFacts,
  type WatchEventRecord,
} from '../model/index.js';
import { BodyKind, KEYFRAME_INTERVAL, MAX_CHUNK_BODIES, compressChunk, decodeBody, decompressChunk, encodeBody, patchTouches, type Json } from './codec.js';
import { DatabaseUnreadableError, migrate, refuseTooNew } from './migrate.js';
import { BodyMask, ObjectIndex } from './object-index.js';
import { parallelRows } from './parallel-read.js';
import type { BoundedMap, DecodedBodies, SeqsByObject } from './decoded-bodies.js';
import { TallyChanges } from './session-tallies.js';
import { toolVersion } from './tool-version.js';
import { inspectDatabaseFile, MissingWalError, schemaOnlyInMissingWal, walMissingLikelihood } from './wal-check.js';
import type {
  AppendResult,
  CheckpointUpdate,
  ObjectSummary,
  PageOptions,
  ReadOptions,
  RecordFilter,
  SessionProgress,
  SessionStore,
  SessionSummary,
  StoredCheckpoint,
} from './types.js';

interface SessionRow {
  id: number;
  name: string;
  source: string;
  cluster: string | null;
  context: string | null;
  started_at: string | null;
  ended_at: string | null;
  tool_version: string;
  config: string;
  partial: number;
  problems: string;
  created_at: string;
  next_seq: number;
  /** Schema 9 (absent before). */
  rewrites?: number;
  rewritten_from_seq?: number | null;
}

interface ObjectRow {
  id: number;
  api_group: string;
  version: string;
  resource: string | null;
  kind: string;
  namespace: string;
  name: string;
  uid: string;
}

interface RecordRow {
  seq: number;
  kind: RecordKind;
  origin: string;
  observed_at: string | null;
  object_id: number | null;
  type: string | null;
  resource_version: string | null;
  generation: number | null;
  payload: string | null;
  body_kind: number;
  chunk_id: number | null;
  body_offset: number | null;
  body_length: number | null;
}

const RECORD_COLUMNS = 'seq, kind, origin, observed_at, object_id, type, resource_version, generation, payload, body_kind, chunk_id, body_offset, body_length';
/** Schema 4 (version facts): read only when the database has them (a read-only open does not migrate). */
const FACTS_COLUMNS = 'facts_flags, facts_id, observed_generation, spec_hash';
/** A record row as written (schema 5 and later): the values of PendingRow, in this order. */
const INSERT_RECORD_SQL = `INSERT INTO records (session_id, seq, kind, origin, observed_at, object_id, type, resource_version, generation, payload, body_kind, chunk_id, body_offset, body_length, ${FACTS_COLUMNS}, sources)`;
const RECORD_INSERT_VALUES = 19;
/** Rows bound to one INSERT: 32 × 19 values stays far under SQLite's 32,766 host parameters. */
const ROWS_PER_INSERT = 32;
const LAZY_COLUMNS = 'seq, kind, origin, observed_at, object_id, type, resource_version, generation, payload';
/** Where the body is (chunk_id, body_offset, body_length): loading it then needs no query of its own. */
const LAZY_FACTS_COLUMNS = `${LAZY_COLUMNS}, body_kind | (facts_flags << 2), facts_id, observed_generation, spec_hash, chunk_id, body_offset, body_length`;
const LAZY_NO_FACTS_COLUMNS = `${LAZY_COLUMNS}, body_kind, NULL, NULL, NULL, chunk_id, body_offset, body_length`;

/** A record row as an array (better-sqlite3 raw mode: a streaming read makes a million of them). */
type RawRow = [
  seq: number,
  kind: RecordKind,
  origin: string,
  observedAt: string | null,
  objectId: number | null,
  type: string | null,
  resourceVersion: string | null,
  generation: number | null,
  payload: string | null,
  bodyKind: number,
  chunkId: number | null,
  bodyOffset: number | null,
  bodyLength: number | null,
];

/**
 * A row of a lazy read: no body coordinates (a body is located when it is loaded), and body_kind and facts_flags
 * packed into one integer: every column costs about 0.1 µs to hand to JavaScript, a million times over.
 */
type LazyRow = [
  seq: number,
  kind: RecordKind,
  origin: string,
  observedAt: string | null,
  objectId: number | null,
  type: string | null,
  resourceVersion: string | null,
  generation: number | null,
  payload: string | null,
  /** body_kind | facts_flags << 2 */
  flags: number,
  factsId: number | null,
  observedGeneration: number | null,
  specHash: number | null,
  chunkId: number | null,
  bodyOffset: number | null,
  bodyLength: number | null,
  /** A parallel read's payload, already rebuilt with its seq (parallel-read.ts); absent from a read on this thread. */
  parsed?: Record<string, unknown> | null,
];

/**
 * records.facts_flags (migrations/0004_version_facts.sql names the first four). Bits 4 and 5 came later without a
 * migration: a row without them reads as "unknown", and a reader that predates them ignores them, so databases stay
 * readable both ways.
 */
const FactsFlag = {
  present: 1,
  statusWrite: 2,
  statusChangedKnown: 4,
  statusChanged: 8,
  leaderRecordKnown: 16,
  leaderRecord: 32,
} as const;

/** Lazy reads of at least this many records use a worker thread (see readInParallel). */
const PARALLEL_READ_MIN_RECORDS = 50_000;

/** What a read takes over from the reads before it (ReadOptions.bodies). */
interface CarriedBodies {
  readonly bodies: DecodedBodies;
  readonly lastBodySeqs: SeqsByObject;
}

/** Bounds the per-store caches of distinct shared facts (text → id when appending, id → value when reading). */
const MAX_CACHED_FACTS = 20_000;

/** A record row waiting for its chunk: bodies are written together once the chunk is full or the append ends. */
interface PendingRow {
  values: unknown[];
  body?: string;
  /** Set once the row is in the table (a chunk filled up mid-append): a later change is an UPDATE. */
  written?: boolean;
}

/**
 * The file and its folder (where -wal and -shm live) may be written by this process, and the file is not marked
 * read-only. access(2) grants root every write, so a file nobody may write (`chmod a-w`) would be written by root:
 * no write bit at all is taken for what it says, for every user.
 */
function writable(path: string): boolean {
  try {
    if ((statSync(path).mode & 0o222) === 0) return false;
    accessSync(path, constants.W_OK);
    accessSync(dirname(path), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** SQL: the row's record carries a clockSkew flag. */
/** A session's record counts, span and payload size, for `sessions`. */
interface SessionTotals {
  recordCount: number;
  countsByKind: Partial<Record<RecordKind, number>>;
  first: string | null;
  last: string | null;
  skewed: number;
  payloadChars: number;
}

const clockSkewed = `(payload IS NOT NULL AND instr(payload, '"clockSkew":') > 0 AND json_extract(payload, '$.clockSkew') IS NOT NULL)`;

const Col = { origin: 3, observedAt: 4, resourceVersion: 7, payload: 9, chunkId: 11, bodyOffset: 12, bodyLength: 13, sources: 18 } as const;

/** The newest version of an object as the appender last wrote it, to encode the next one as a delta. */
interface Tip {
  body: Json;
  versionsSinceKeyframe: number;
  keyframeBytes: number;
  /**
   * The newest version that did not arrive late, with its facts: the base the next version's facts are computed
   * against, as the replayer's fold does (a late version, older than one already stored, changes no facts).
   */
  factsBase: { object: KubeObject; facts: VersionFacts; rvNum: number; factsId: number | null };
}

/** Sessions whose API requests wait for their other source's report (model/api-pairing.ts) at once. */
const MAX_PAIRING_SESSIONS = 4;

/** Decompressed chunks kept for reads: sequential reads touch one chunk for many records. */
const CHUNK_CACHE_SIZE = 32;

/** Bounds the appender's memory on long recordings with many objects; a miss rebuilds the tip from disk. */
/**
 * A row's type and origin as one shared string per word: SQLite hands every row fresh strings, and an analysis keeps
 * them (the fold remembers each object's last 32 deliveries with their type: ~10 MB of copies at 10,000 objects).
 * Bounded, so a damaged column cannot grow it.
 */
const words = new Map<string, string>();
function word(text: string): string {
  const shared = words.get(text);
  if (shared !== undefined) return shared;
  if (words.size < 64) words.set(text, text);
  return text;
}

const MAX_CACHED_TIPS = 50_000;
/**
 * ...and by size: a large cluster's objects would otherwise all stay in memory. Sized by each object's last
 * keyframe length (JSON characters), a fair proxy for its heap size.
 */
const MAX_CACHED_TIP_CHARS = 48 * 1024 * 1024;

function sameSharedFacts(a: SharedVersionFacts, b: SharedVersionFacts): boolean {
  if (a.writer !== b.writer || a.deletionTimestamp !== b.deletionTimestamp || a.suppress !== b.suppress || a.time !== b.time) return false;
  if (a.finalizers.length !== b.finalizers.length || a.finalizers.some((f, i) => f !== b.finalizers[i])) return false;
  if (a.owner === null || b.owner === null) return a.owner === b.owner;
  return a.owner.apiVersion === b.owner.apiVersion && a.owner.kind === b.owner.kind && a.owner.name === b.owner.name;
}

/** A non-watch record from its JSON payload (stored without its seq). */
function parsePayload(payload: string, seq: number): StoredRecord {
  const record = JSON.parse(payload) as StoredRecord;
  record.seq = seq;
  return record;
}

/** The RV as a number when it is a plain decimal integer (replayer/rv.ts has the why), else NaN. */
function numericRV(rv: string | null | undefined): number {
  if (!rv || rv.length > 15 || !/^\d+$/.test(rv)) return Number.NaN;
  return Number(rv);
}

export interface OpenOptions {
  /** Open without writing: no migration, no WAL switch. */
  readonly?: boolean;
  /**
   * SQLite's page cache for this connection, in KiB. better-sqlite3 builds SQLite with a 16 MiB default, which a
   * long-running appender fills page by page as the database grows: the recorder's resident memory crept up by
   * that much over its first minutes. Readers (check, the TUI) keep the default.
   */
  cacheKiB?: number;
  /**
   * The page size (bytes, a power of two from 512 to 65536) if this open creates the database; SQLite's default is
   * 4096. A writer that commits small batches often (the recorder) wants small pages: every commit rewrites the last,
   * part-filled page of each table and index it appends to, about ten of them (docs/recorder.md, Performance).
   */
  pageSize?: number;
}

export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly tips = new Map<number, Tip>();
  private tipChars = 0;
  private readonly objectIds = new Map<string, number>();
  private readonly chunkCache = new Map<number, string>();
  private readonly factsIds = new Map<string, number>();
  private readonly factsById = new Map<number, SharedVersionFacts>();
  /** The database has the schema-4 facts columns (false only for a read-only open of an older database). */
  private readonly hasFacts: boolean;
  /** The database has the schema-5 sources column (likewise). */
  private readonly hasSources: boolean;
  /** The database has the schema-6 watch_checkpoints table (likewise). */
  private readonly hasCheckpoints: boolean;
  /** Schema 8: per-session tallies kept by appends (migrations/0008_session_tallies.sql). */
  private readonly hasTallies: boolean;
  /** Schema 9: sessions count the appends that changed stored rows (migrations/0009_session_rewrites.sql). */
  private readonly hasRewrites: boolean;
  /** Where each object's records are (schema 7's object_index; records_object before). */
  private readonly objectIndex: ObjectIndex;
  /** Object id → its session (object rows never move). */
  private readonly objectSessions = new Map<number, number>();
  /** Per session: API requests stored without their other source's report yet (model/api-pairing.ts). */
  private readonly unpaired = new Map<number, UnpairedRequests>();
  private readonly statements;
  /** insertRecords' statements by their row count. */
  private readonly insertStatements = new Map<number, Database.Statement>();
  readonly walMissing: 'none' | 'possible' | 'likely';
  /** Opened read-only (asked for, or the file is not writable by this process). */
  readonly readonlyFile: boolean;

  constructor(
    readonly path: string,
    options: OpenOptions = {},
  ) {
    // Looked at before opening: opening creates a -wal (even read-only), and migrating would hide the copy's state.
    const fileState = inspectDatabaseFile(path);
    if (schemaOnlyInMissingWal(fileState)) throw new MissingWalError(path);
    this.walMissing = walMissingLikelihood(fileState);
    if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
    // A file this process may not write (permissions, a read-only mount) is opened read-only: reading commands work,
    // and a write fails with SQLITE_READONLY, which the CLI explains; nothing is ever half-written.
    const readonly = (options.readonly ?? false) || (path !== ':memory:' && existsSync(path) && !writable(path));
    this.db = new Database(path, { readonly, fileMustExist: readonly });
    try {
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('foreign_keys = ON');
      if (options.cacheKiB !== undefined) this.db.pragma(`cache_size = ${-Math.max(64, Math.round(options.cacheKiB))}`);
      refuseTooNew(this.db, path);
      if (!readonly) {
        // Only possible before the first write; an existing database keeps its page size.
        if (options.pageSize !== undefined && (this.db.pragma('page_count', { simple: true }) as number) === 0) this.db.pragma(`page_size = ${options.pageSize}`);
        // WAL lets the TUI read a session while the recorder appends to it.
        this.db.pragma('journal_mode = WAL');
        // Checkpoint every ~4 MiB of WAL whatever the page size (SQLite's default is 1,000 pages).
        this.db.pragma(`wal_autocheckpoint = ${Math.round((4 * 1024 * 1024) / (this.db.pragma('page_size', { simple: true }) as number))}`);
        this.db.pragma('synchronous = NORMAL');
        migrate(this.db, path);
      }
    } catch (error) {
      this.db.close();
      const code = (error as { code?: unknown }).code;
      if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new DatabaseUnreadableError(path, (error as Error).message);
      throw error;
    }
    this.readonlyFile = readonly;
    const schema = this.db.pragma('user_version', { simple: true }) as number;
    this.hasFacts = schema >= 4;
    this.hasSources = schema >= 5;
    this.hasCheckpoints = schema >= 6;
    this.hasTallies = schema >= 8;
    this.hasRewrites = schema >= 9;
    this.objectIndex = new ObjectIndex(this.db, schema >= 7);
    this.statements = this.prepareStatements();
  }

  private prepareStatements() {
    const db = this.db;
    return {
      insertSession: db.prepare(
        `INSERT INTO sessions (name, source, cluster, context, started_at, tool_version, config, created_at)
         VALUES (@name, @source, @cluster, @context, @startedAt, @toolVersion, @config, @createdAt)`,
      ),
      sessionById: db.prepare<[number], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
      sessionByName: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE name = ?'),
      allSessions: db.prepare<[], SessionRow>('SELECT * FROM sessions ORDER BY id'),
      setNextSeq: db.prepare<[number, number]>('UPDATE sessions SET next_seq = ? WHERE id = ?'),
      nextSeq: db.prepare<[number], { next_seq: number }>('SELECT next_seq FROM sessions WHERE id = ?'),
      findObject: db.prepare<[number, string, string, string, string, string], { id: number }>(
        'SELECT id FROM objects WHERE session_id = ? AND api_group = ? AND kind = ? AND namespace = ? AND name = ? AND uid = ?',
      ),
      newestObjectByName: db.prepare<[number, string, string, string, string], { id: number }>(
        "SELECT id FROM objects WHERE session_id = ? AND api_group = ? AND kind = ? AND namespace = ? AND name = ? AND uid <> '' ORDER BY id DESC LIMIT 1",
      ),
      insertObject: db.prepare(
        `INSERT INTO objects (session_id, api_group, version, resource, kind, namespace, name, uid)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      objectById: db.prepare<[number], ObjectRow>('SELECT * FROM objects WHERE id = ?'),
      // The row of a request whose other source's report arrived later: it becomes the pair (same seq, same object).
      mergeApiRow: db.prepare<[string, string | null, string | null, string, string | null, number, number]>(
        this.hasSources
          ? "UPDATE records SET origin = ?, observed_at = ?, resource_version = ?, payload = ?, sources = ? WHERE session_id = ? AND seq = ? AND kind = 'api'"
          : 'SELECT ?, ?, ?, ?, ?, ?, ?',
      ),
      dropAnalyses: db.prepare<[number]>('DELETE FROM analyses WHERE session_id = ?'),
      noteRewrite: db.prepare<[number, number]>(
        this.hasRewrites ? 'UPDATE sessions SET rewrites = rewrites + 1, rewritten_from_seq = ? WHERE id = ?' : 'SELECT ?, ?',
      ),
      insertFacts: db.prepare<[number, string]>(this.hasFacts ? 'INSERT INTO version_facts (session_id, facts) VALUES (?, ?)' : 'SELECT ?, ?'),
      factsById: db.prepare<[number], { facts: string }>(this.hasFacts ? 'SELECT facts FROM version_facts WHERE id = ?' : 'SELECT NULL AS facts WHERE ? IS NULL'),
      rowFacts: db.prepare<[number, number], { facts_flags: number; facts_id: number | null; observed_generation: number | null; spec_hash: number | null }>(
        this.hasFacts
          ? `SELECT ${FACTS_COLUMNS} FROM records WHERE session_id = ? AND seq = ?`
          : 'SELECT 0 AS facts_flags, NULL AS facts_id, NULL AS observed_generation, NULL AS spec_hash WHERE ? IS NOT NULL AND ? IS NOT NULL',
      ),
      addToTally: db.prepare<[number, string, number, string | null, string | null, number, number]>(
        this.hasTallies
          ? // Scalar min()/max() are NULL when either side is: a NULL side keeps the other.
            `INSERT INTO session_tallies (session_id, kind, records, first_observed_at, last_observed_at, clock_skewed, payload_chars) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (session_id, kind) DO UPDATE SET
               records = records + excluded.records,
               first_observed_at = min(coalesce(first_observed_at, excluded.first_observed_at), coalesce(excluded.first_observed_at, first_observed_at)),
               last_observed_at = max(coalesce(last_observed_at, excluded.last_observed_at), coalesce(excluded.last_observed_at, last_observed_at)),
               clock_skewed = clock_skewed + excluded.clock_skewed,
               payload_chars = payload_chars + excluded.payload_chars`
          : 'SELECT ?, ?, ?, ?, ?, ?, ?',
      ),
      tallies: db.prepare<[number], { kind: RecordKind; records: number; first: string | null; last: string | null; skewed: number; chars: number }>(
        this.hasTallies
          ? 'SELECT kind, records, first_observed_at AS first, last_observed_at AS last, clock_skewed AS skewed, payload_chars AS chars FROM session_tallies WHERE session_id = ?'
          : "SELECT '' AS kind, 0 AS records, NULL AS first, NULL AS last, 0 AS skewed, 0 AS chars WHERE ? IS NULL",
      ),
      insertChunk: db.prepare<[number, number, Buffer]>('INSERT INTO chunks (session_id, encoding, data) VALUES (?, ?, ?)'),
      chunkById: db.prepare<[number], { encoding: number; data: Buffer }>('SELECT encoding, data FROM chunks WHERE id = ?'),
      recordBySeq: db.prepare<[number, number], RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE session_id = ? AND seq = ?`),
      rawRecordBySeq: db.prepare<[number, number], RawRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE session_id = ? AND seq = ?`).raw(true),
      bodyAt: db.prepare<[number, number], { body_kind: number; chunk_id: number; body_offset: number; body_length: number }>(
        'SELECT body_kind, chunk_id, body_offset, body_length FROM records WHERE session_id = ? AND seq = ?',
      ),
      markPartial: db.prepare<[string, number]>('UPDATE sessions SET partial = 1, problems = ? WHERE id = ?'),
      endSession: db.prepare<[string | null, number]>('UPDATE sessions SET ended_at = ? WHERE id = ?'),
      deleteSession: db.prepare<[number]>('DELETE FROM sessions WHERE id = ?'),
      upsertCheckpoint: db.prepare<[number, string, string, number, string]>(
        this.hasCheckpoints
          ? `INSERT INTO watch_checkpoints (session_id, watch, resource_version, through_seq, committed_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (session_id, watch) DO UPDATE SET resource_version = excluded.resource_version, through_seq = excluded.through_seq, committed_at = excluded.committed_at`
          : 'SELECT ?, ?, ?, ?, ?',
      ),
      checkpoints: db.prepare<[number], { watch: string; resource_version: string; through_seq: number; committed_at: string }>(
        this.hasCheckpoints
          ? 'SELECT watch, resource_version, through_seq, committed_at FROM watch_checkpoints WHERE session_id = ? ORDER BY watch'
          : "SELECT '' AS watch, '' AS resource_version, 0 AS through_seq, '' AS committed_at WHERE ? IS NULL",
      ),
    };
  }

  // ---- sessions ------------------------------------------------------------------------------------------------

  createSession(session: NewSession): SessionInfo {
    const createdAt = new Date().toISOString();
    const result = this.statements.insertSession.run({
      name: session.name,
      source: session.source,
      cluster: session.cluster,
      context: session.context,
      startedAt: session.startedAt ?? null,
      toolVersion: session.toolVersion,
      config: JSON.stringify(session.config),
      createdAt,
    });
    return this.sessionInfo(this.statements.sessionById.get(Number(result.lastInsertRowid))!);
  }

  findSession(nameOrId: string): SessionInfo | undefined {
    const row =
      this.statements.sessionByName.get(nameOrId) ??
      (/^\d+$/.test(nameOrId) ? this.statements.sessionById.get(Number(nameOrId)) : undefined);
    return row ? this.sessionInfo(row) : undefined;
  }

  private sessionInfo(row: SessionRow): SessionInfo {
    return {
      id: row.id,
      name: row.name,
      source: row.source as SessionInfo['source'],
      cluster: row.cluster,
      context: row.context,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      toolVersion: row.tool_version,
      config: JSON.parse(row.config) as Record<string, unknown>,
      partial: row.partial === 1,
      problems: JSON.parse(row.problems) as string[],
      createdAt: row.created_at,
    };
  }

  listSessions(): SessionSummary[] {
    // Counted by model/objects.ts, as `check` and the exports count: object rows, uid-less ones joining their name's.
    // Every object row has records: rows are only created by the append that writes a record naming them, in its
    // transaction, and records are only ever deleted with their whole session.
    const objectRows = this.db.prepare<[number], { group: string; kind: string; namespace: string; name: string; uid: string }>(
      `SELECT api_group AS "group", kind, namespace, name, uid FROM objects o WHERE o.session_id = ?`,
    );
    const chunkBytes = this.db.prepare<[number], { bytes: number }>('SELECT coalesce(sum(length(data)), 0) AS bytes FROM chunks WHERE session_id = ?');
    return this.statements.allSessions.all().map((row) => {
      const tally = this.hasTallies ? this.talliesOf(row.id) : this.scannedTallies(row.id);
      return {
        ...this.sessionInfo(row),
        recordCount: tally.recordCount,
        countsByKind: tally.countsByKind,
        objectCount: countObjects(objectRows.iterate(row.id)),
        firstObservedAt: tally.first,
        lastObservedAt: tally.last,
        clockSkewedRecords: tally.skewed,
        // 40 bytes a row approximates SQLite's record header, key and index entries.
        bytesOnDisk: tally.recordCount ? tally.payloadChars + 40 * tally.recordCount + chunkBytes.get(row.id)!.bytes : 0,
      };
    });
  }

  /** A session's tallies as its appends kept them (schema 8). */
  private talliesOf(sessionId: number): SessionTotals {
    const totals: SessionTotals = { recordCount: 0, countsByKind: {}, first: null, last: null, skewed: 0, payloadChars: 0 };
    for (const t of this.statements.tallies.all(sessionId)) {
      totals.countsByKind[t.kind] = t.records;
      totals.recordCount += t.records;
      totals.skewed += t.skewed;
      totals.payloadChars += t.chars;
      if (t.first !== null && (totals.first === null || t.first < totals.first)) totals.first = t.first;
      if (t.last !== null && (totals.last === null || t.last > totals.last)) totals.last = t.last;
    }
    return totals;
  }

  /** The same counted from the records: a database older than schema 8 opened read-only has no tallies. */
  private scannedTallies(sessionId: number): SessionTotals {
    const countsByKind: Partial<Record<RecordKind, number>> = {};
    let recordCount = 0;
    for (const { kind, n } of this.db.prepare<[number], { kind: RecordKind; n: number }>('SELECT kind, count(*) AS n FROM records WHERE session_id = ? GROUP BY kind').all(sessionId)) {
      countsByKind[kind] = n;
      recordCount += n;
    }
    // A record flagged for its client's clock (model/clock-skew.ts: only payload rows can carry it) does not make
    // the span; instr first, so json_extract runs only on the rare row that may hold the flag.
    const span = this.db
      .prepare<[number], { first: string | null; last: string | null; skewed: number | null; chars: number | null }>(
        `SELECT min(CASE WHEN ${clockSkewed} THEN NULL ELSE observed_at END) AS first,
                max(CASE WHEN ${clockSkewed} THEN NULL ELSE observed_at END) AS last,
                sum(${clockSkewed}) AS skewed, sum(coalesce(length(payload), 0)) AS chars
         FROM records WHERE session_id = ?`,
      )
      .get(sessionId)!;
    return { recordCount, countsByKind, first: span.first, last: span.last, skewed: span.skewed ?? 0, payloadChars: span.chars ?? 0 };
  }

  markPartial(sessionId: number, problems: readonly string[]): void {
    const existing = this.requireSessionRow(sessionId);
    // Keep the first problems: they are the ones a user fixes first; the count says how many there were.
    const merged = [...(JSON.parse(existing.problems) as string[]), ...problems].slice(0, 100);
    this.statements.markPartial.run(JSON.stringify(merged), sessionId);
  }

  endSession(sessionId: number, endedAt: string | null): void {
    this.requireSessionRow(sessionId);
    this.statements.endSession.run(endedAt, sessionId);
  }

  deleteSession(sessionId: number): void {
    this.requireSessionRow(sessionId);
    // records.object_id has no index since schema 7 (object_index holds that): with foreign keys on, deleting each
    // object row would scan every record of the database for children. The records go first, so none is left.
    const foreignKeys = this.db.pragma('foreign_keys', { simple: true }) as number;
    this.db.pragma('foreign_keys = OFF');
    try {
      this.db.transaction(() => {
        // Deleting children first keeps the cascade from walking them object by object.
        this.db.prepare('DELETE FROM records WHERE session_id = ?').run(sessionId);
        if (this.objectIndex.present) this.db.prepare('DELETE FROM object_index WHERE session_id = ?').run(sessionId);
        this.db.prepare('DELETE FROM chunks WHERE session_id = ?').run(sessionId);
        this.db.prepare('DELETE FROM objects WHERE session_id = ?').run(sessionId);
        this.db.prepare('DELETE FROM analyses WHERE session_id = ?').run(sessionId);
        if (this.hasFacts) this.db.prepare('DELETE FROM version_facts WHERE session_id = ?').run(sessionId);
        if (this.hasCheckpoints) this.db.prepare('DELETE FROM watch_checkpoints WHERE session_id = ?').run(sessionId);
        if (this.hasTallies) this.db.prepare('DELETE FROM session_tallies WHERE session_id = ?').run(sessionId);
        this.statements.deleteSession.run(sessionId);
      })();
    } finally {
      if (foreignKeys) this.db.pragma('foreign_keys = ON');
    }
    this.objectSessions.clear();
    this.objectIndex.forget();
    this.tips.clear();
    this.tipChars = 0;
    this.unpaired.delete(sessionId);
    this.objectIds.clear();
    this.chunkCache.clear();
    this.factsIds.clear();
    this.factsById.clear();
  }

  private requireSessionRow(sessionId: number): SessionRow {
    const row = this.statements.sessionById.get(sessionId);
    if (!row) throw new Error(`session ${sessionId} does not exist`);
    return row;
  }

  // ---- appending -----------------------------------------------------------------------------------------------

  append(sessionId: number, records: readonly SessionRecord[], checkpoints: readonly CheckpointUpdate[] = []): AppendResult {
    for (const checkpoint of checkpoints) {
      if (!Number.isInteger(checkpoint.record) || checkpoint.record < 0 || checkpoint.record >= records.length) {
        throw new Error(`checkpoint for ${checkpoint.watch} names record ${checkpoint.record} of an append of ${records.length}`);
      }
    }
    if (checkpoints.length && !this.hasCheckpoints) throw new Error(`${this.path} has no watch_checkpoints table (schema < 6): open it read-write to migrate it`);
    if (records.length === 0) {
      const next = this.requireSessionRow(sessionId).next_seq;
      return { firstSeq: next, lastSeq: next - 1, count: 0, merged: 0, changedFromSeq: null };
    }
    const touchedTips = new Map<number, Tip | undefined>();
    let unpaired = this.unpaired.get(sessionId);
    if (!unpaired) {
      // A recorder rotating segments appends to one session at a time: older sessions' waiting lists can go.
      if (this.unpaired.size >= MAX_PAIRING_SESSIONS) this.unpaired.delete(this.unpaired.keys().next().value!);
      this.unpaired.set(sessionId, (unpaired = new UnpairedRequests()));
    }
    const run = this.db.transaction(() => {
      const firstSeq = this.nextSeq(sessionId);
      const pending: PendingRow[] = [];
      /** This append's API rows by seq: a partner may be among them. */
      const apiRows = new Map<number, { record: ApiRequestRecord; row: PendingRow }>();
      let pendingBodies = 0;
      let seq = firstSeq;
      let merged = 0;
      let changedStored = false;
      let changedFromSeq: number | null = null;
      /** The seq each record got (a merged one: its partner's), for the checkpoints' through_seq. */
      const seqs: number[] = [];
      const tallies = new TallyChanges();
      for (const record of records) {
        const partner = record.record === 'api' ? unpaired.pair(record, seq) : undefined;
        if (partner !== undefined && record.record === 'api') {
          if (this.mergeInto(sessionId, partner, record, apiRows, tallies)) {
            changedStored = true;
            changedFromSeq = Math.min(changedFromSeq ?? partner, partner);
          }
          merged += 1;
          seqs.push(partner);
          continue;
        }
        seqs.push(seq);
        const row = this.toRow(sessionId, seq, record, touchedTips);
        pending.push(row);
        if (record.record === 'api') apiRows.set(seq, { record, row });
        if (row.body !== undefined && ++pendingBodies >= MAX_CHUNK_BODIES) {
          this.writeRows(sessionId, pending.splice(0), tallies);
          pendingBodies = 0;
        }
        seq += 1;
      }
      this.writeRows(sessionId, pending, tallies);
      this.statements.setNextSeq.run(seq, sessionId);
      if (this.hasTallies) for (const [kind, t] of tallies.byKind) this.statements.addToTally.run(sessionId, kind, t.records, t.first, t.last, t.clockSkewed, t.payloadChars);
      this.objectIndex.flush(sessionId, firstSeq, seq);
      // Same transaction as the rows: the resume point moves exactly when the records that carry it are committed.
      if (checkpoints.length) {
        const committedAt = new Date().toISOString();
        for (const checkpoint of checkpoints) {
          this.statements.upsertCheckpoint.run(sessionId, checkpoint.watch, checkpoint.resourceVersion, seqs[checkpoint.record]!, committedAt);
        }
      }
      // A stored record changed without the session growing: findings cached through its last seq are stale, and a
      // reader in another process that read the row must read it again.
      if (changedStored) {
        this.statements.dropAnalyses.run(sessionId);
        this.statements.noteRewrite.run(changedFromSeq!, sessionId);
      }
      return { firstSeq, lastSeq: seq - 1, count: seq - firstSeq, merged, changedFromSeq };
    });
    try {
      return run();
    } catch (error) {
      // The transaction rolled back: restore the tips it changed and forget object ids it created. The pairing index
      // may name rows that were never written: forget it (requests stored before simply stay unpaired).
      for (const [objectId, previous] of touchedTips) this.setTip(objectId, previous);
      this.objectIds.clear();
      this.factsIds.clear();
      this.unpaired.delete(sessionId);
      throw error;
    }
  }

  /**
   * Makes the stored request at `seq` the pair of it and `record` (the same request from the other source). The row
   * keeps its seq and its object; it takes the merged record's origin, time, RV and payload. Returns true when the
   * row was already in the table before this append.
   */
  private mergeInto(sessionId: number, seq: number, record: ApiRequestRecord, apiRows: Map<number, { record: ApiRequestRecord; row: PendingRow }>, tallies: TallyChanges): boolean {
    const local = apiRows.get(seq);
    let stored = local?.record;
    let storedPayload = local ? (local.row.values[Col.payload] as string | null) : null;
    if (!stored) {
      const row = this.statements.recordBySeq.get(sessionId, seq);
      if (!row || row.kind !== 'api' || row.payload === null) throw new Error(`record ${seq} of session ${sessionId} is not the API request the pairing index says: the database is damaged`);
      stored = JSON.parse(row.payload) as ApiRequestRecord;
      storedPayload = row.payload;
    }
    const merged = mergePair(stored, record);
    const payload = JSON.stringify(merged);
    const sources = merged.sources!.join(',');
    const rv = merged.resourceVersionAfter ?? null;
    if (local) local.record = merged;
    if (local && !local.row.written) {
      const values = local.row.values;
      values[Col.origin] = merged.origin;
      values[Col.observedAt] = merged.observedAt;
      values[Col.resourceVersion] = rv;
      values[Col.payload] = payload;
      values[Col.sources] = sources;
      return false;
    }
    this.statements.mergeApiRow.run(merged.origin, merged.observedAt, rv, payload, sources, sessionId, seq);
    tallies.replace('api', storedPayload, payload, merged.observedAt);
    return local === undefined;
  }

  /** Writes the bodies of `rows` as one compressed chunk, then the rows pointing into it. */
  private writeRows(sessionId: number, rows: readonly PendingRow[], tallies: TallyChanges): void {
    const parts: string[] = [];
    let offset = 0;
    let chunkId: number | null = null;
    for (const row of rows) {
      if (row.body === undefined) continue;
      row.values[Col.bodyOffset] = offset;
      row.values[Col.bodyLength] = row.body.length;
      parts.push(row.body);
      offset += row.body.length;
    }
    if (parts.length) {
      const text = parts.join('');
      const { encoding, data } = compressChunk(text);
      chunkId = Number(this.statements.insertChunk.run(sessionId, encoding, data).lastInsertRowid);
      // Not cached for reading: an appender (the recorder) rarely reads back, and 32 chunks of text were megabytes of
      // its resident memory. A read decompresses what it needs.
    }
    for (const row of rows) {
      if (row.body !== undefined) row.values[Col.chunkId] = chunkId;
      tallies.add(row.values[2] as string, row.values[Col.observedAt] as string | null, row.values[Col.payload] as string | null);
    }
    this.insertRows(rows);
  }

  /**
   * INSERTs `rows` several to a statement: each statement run crosses into SQLite and steps its program once, which
   * for one row of 19 values was most of what a row cost to write (docs/recorder.md, "The CPU near its floor").
   */
  private insertRows(rows: readonly PendingRow[]): void {
    let at = 0;
    while (at < rows.length) {
      const n = Math.min(ROWS_PER_INSERT, rows.length - at);
      const values: unknown[] = [];
      for (let i = at; i < at + n; i += 1) {
        const row = rows[i]!;
        for (const value of row.values) values.push(value);
        row.written = true;
      }
      this.insertRecords(n).run(values);
      at += n;
    }
  }

  /** The INSERT of `n` records, prepared once per count. */
  private insertRecords(n: number): Database.Statement {
    let statement = this.insertStatements.get(n);
    if (!statement) {
      const one = `(${new Array<string>(RECORD_INSERT_VALUES).fill('?').join(', ')})`;
      statement = this.db.prepare(`${INSERT_RECORD_SQL} VALUES ${new Array<string>(n).fill(one).join(', ')}`);
      this.insertStatements.set(n, statement);
    }
    return statement;
  }

  /** The row's column values in INSERT_RECORD_SQL's order; body columns are filled by writeRows. */
  private toRow(sessionId: number, seq: number, record: SessionRecord, touchedTips: Map<number, Tip | undefined>): PendingRow {
    const payload = (r: SessionRecord) => JSON.stringify({ ...r, seq: undefined });
    const row = (kind: string, objectId: number | null, type: string | null, rv: string | null, generation: number | null, json: string | null): unknown[] => [
      sessionId, seq, kind, record.origin, record.observedAt, objectId, type, rv, generation, json, BodyKind.none, null, null, null, 0, null, null, null,
      record.record === 'api' && record.sources ? record.sources.join(',') : null,
    ];
    switch (record.record) {
      case 'watch': {
        if (record.name === null || record.object === null || record.uid === null) {
          return { values: row('watch', null, record.type, record.resourceVersion, record.generation, payload(record)) };
        }
        const objectId = this.objectId(sessionId, record);
        if (!touchedTips.has(objectId)) touchedTips.set(objectId, this.tips.get(objectId));
        const { kind, text, facts, factsId } = this.encode(sessionId, objectId, record);
        const values = row('watch', objectId, record.type, record.resourceVersion, record.generation, null);
        values[10] = kind;
        values[14] =
          FactsFlag.present |
          (facts.statusWrite ? FactsFlag.statusWrite : 0) |
          (facts.statusChanged !== null ? FactsFlag.statusChangedKnown : 0) |
          (facts.statusChanged ? FactsFlag.statusChanged : 0) |
          (facts.leaderRecord !== undefined ? FactsFlag.leaderRecordKnown : 0) |
          (facts.leaderRecord ? FactsFlag.leaderRecord : 0);
        values[15] = factsId;
        values[16] = facts.observedGeneration;
        values[17] = facts.specHash;
        return { values, body: text };
      }
      case 'marker':
        return { values: row('marker', null, record.marker, record.resourceVersion ?? null, null, payload(record)) };
      case 'reconcile':
        return { values: row('reconcile', this.objectId(sessionId, record.object), record.result, record.observedResourceVersion ?? null, record.observedGeneration ?? null, payload(record)) };
      case 'reconcile-start':
        return { values: row('reconcile-start', this.objectId(sessionId, record.object), 'started', record.observedResourceVersion ?? null, record.observedGeneration ?? null, payload(record)) };
      case 'delivery':
        return { values: row('delivery', this.objectId(sessionId, record.object), record.handler, record.resourceVersion, null, payload(record)) };
      case 'api':
        return { values: row('api', this.objectId(sessionId, record.object), record.verb, record.resourceVersionAfter ?? null, null, payload(record)) };
    }
  }

  /** The id of the shared part of `facts`, inserting it the first time this store sees it. */
  private factsId(sessionId: number, facts: SharedVersionFacts): number {
    const text = sharedFactsText(facts);
    const key = `${sessionId}\u0000${text}`;
    let id = this.factsIds.get(key);
    if (id === undefined) {
      // A value seen before the cache was cleared is inserted again: a few duplicate rows, never a wrong answer.
      id = Number(this.statements.insertFacts.run(sessionId, text).lastInsertRowid);
      if (this.factsIds.size >= MAX_CACHED_FACTS) this.factsIds.clear();
      this.factsIds.set(key, id);
    }
    return id;
  }

  private objectId(sessionId: number, ref: ObjectRef | WatchEventRecord): number {
    const namespace = ref.namespace ?? '';
    const uid = ref.uid ?? '';
    const name = ref.name ?? '';
    const key = `${sessionId}\u0000${ref.group}\u0000${ref.kind}\u0000${namespace}\u0000${name}\u0000${uid}`;
    const cached = this.objectIds.get(key);
    if (cached !== undefined) return cached;
    // A record that names no uid (an audit DELETE by name, a Metadata-level audit line) is about the newest object
    // of that name: filing it under a uid-less row would split one object's history in two.
    let id = uid === '' && name !== '' ? this.statements.newestObjectByName.get(sessionId, ref.group, ref.kind, namespace, name)?.id : undefined;
    id ??= this.statements.findObject.get(sessionId, ref.group, ref.kind, namespace, name, uid)?.id;
    if (id === undefined) {
      const result = this.statements.insertObject.run(sessionId, ref.group, ref.version, ref.resource ?? null, ref.kind, namespace, name, uid);
      id = Number(result.lastInsertRowid);
      // A new object of this name: uid-less records from now on are about it, not the one cached before.
      if (uid !== '') this.objectIds.delete(`${sessionId}\u0000${ref.group}\u0000${ref.kind}\u0000${namespace}\u0000${name}\u0000`);
    }
    if (this.objectIds.size > MAX_CACHED_TIPS) this.objectIds.clear();
    this.objectIds.set(key, id);
    return id;
  }

  /**
   * Encodes a watch record's object against the object's tip (delta or keyframe) and computes its facts against the
   * newest version that did not arrive late (the patch says what changed when that is the tip).
   */
  private encode(sessionId: number, objectId: number, record: WatchEventRecord): { kind: BodyKind; text: string; facts: VersionFacts; factsId: number } {
    const object = record.object!;
    const tip = this.tips.get(objectId) ?? this.tipFromDisk(objectId);
    const encoded = encodeBody(tip?.body, object as Json, tip?.keyframeBytes ?? 0, !tip || tip.versionsSinceKeyframe + 1 >= KEYFRAME_INTERVAL);
    const keyframe = encoded.kind === BodyKind.keyframe;
    // Late: an older resourceVersion than the newest stored (an audit or ingest record learned after the watch).
    const rvNum = numericRV(record.resourceVersion);
    const base = tip?.factsBase;
    const late = base !== undefined && !Number.isNaN(rvNum) && !Number.isNaN(base.rvNum) && rvNum < base.rvNum;
    const from = late ? null : (base ?? null);
    const change = !from
      ? null
      : from.object === (tip!.body as KubeObject) && encoded.patch
        ? { specChanged: patchTouches(encoded.patch, '/spec'), statusChanged: patchTouches(encoded.patch, '/status') }
        : versionChangeOf(from.object, object);
    const facts = versionFacts(from, object, change, record.observedAt === null);
    // Most versions share the previous one's writer, finalizers and owner: reuse its id without serialising them.
    const factsId = from?.factsId != null && sameSharedFacts(from.facts, facts) ? from.factsId : this.factsId(sessionId, facts);
    this.setTip(objectId, {
      body: object as Json,
      versionsSinceKeyframe: keyframe ? 0 : tip!.versionsSinceKeyframe + 1,
      keyframeBytes: keyframe ? encoded.text.length : tip!.keyframeBytes,
      factsBase: late ? base : { object, facts, rvNum, factsId },
    });
    return { kind: encoded.kind, text: encoded.text, facts, factsId };
  }

  /** The tip of an object the cache no longer holds (or a session resumed by a new process), rebuilt from disk. */
  private tipFromDisk(objectId: number): Tip | undefined {
    const sessionId = this.sessionOfObject(objectId);
    const boundary = this.indexBoundary(sessionId);
    const lastBody = this.objectIndex.last(sessionId, objectId, Number.MAX_SAFE_INTEGER, boundary, BodyMask.body);
    if (!lastBody) return undefined;
    const last = { seq: lastBody.seq, session_id: sessionId, resource_version: this.statements.recordBySeq.get(sessionId, lastBody.seq)!.resource_version };
    const keyframeRow = this.objectIndex.last(sessionId, objectId, last.seq, boundary, BodyMask.keyframe)!;
    const keyframe = { seq: keyframeRow.seq, body_length: this.statements.bodyAt.get(sessionId, keyframeRow.seq)!.body_length };
    const body = this.rebuild(objectId, last.seq) as KubeObject;
    const row = this.statements.rowFacts.get(last.session_id, last.seq);
    const facts = row && row.facts_flags & FactsFlag.present ? this.factsOfRow(row.facts_flags, row.facts_id, row.observed_generation, row.spec_hash) : undefined;
    return {
      body: body as Json,
      versionsSinceKeyframe: this.objectIndex.rows(sessionId, objectId, keyframe.seq + 1, Number.MAX_SAFE_INTEGER, boundary, BodyMask.body).length,
      keyframeBytes: keyframe.body_length,
      // A row written before schema 4 has no facts: compute them from its body (attribution then has no base).
      factsBase: { object: body, facts: facts ?? versionFacts(null, body, null, false), rvNum: numericRV(last.resource_version), factsId: facts ? row!.facts_id : null },
    };
  }

  /** A stored row's facts: its columns plus the shared part, parsed once per id. */
  private factsOfRow(flags: number, factsId: number | null, observedGeneration: number | null, specHash: number | null): VersionFacts {
    const shared = this.sharedFacts(factsId!);
    // Listed field by field: a spread here cost more than the rest of the row.
    return {
      writer: shared.writer,
      deletionTimestamp: shared.deletionTimestamp,
      finalizers: shared.finalizers,
      suppress: shared.suppress,
      owner: shared.owner,
      time: shared.time,
      observedGeneration,
      specHash: specHash ?? 0,
      statusWrite: (flags & FactsFlag.statusWrite) !== 0,
      statusChanged: flags & FactsFlag.statusChangedKnown ? (flags & FactsFlag.statusChanged) !== 0 : null,
      leaderRecord: flags & FactsFlag.leaderRecordKnown ? (flags & FactsFlag.leaderRecord) !== 0 : undefined,
    };
  }

  private sharedFacts(id: number): SharedVersionFacts {
    let shared = this.factsById.get(id);
    if (!shared) {
      const row = this.statements.factsById.get(id);
      if (!row) throw new Error(`version facts ${id} are missing: the database is damaged`);
      try {
        shared = parseSharedFacts(row.facts);
      } catch (error) {
        throw new Error(`version facts ${id} are unreadable (${(error as Error).message}): the database is damaged`, { cause: error });
      }
      if (this.factsById.size >= MAX_CACHED_FACTS) this.factsById.clear();
      this.factsById.set(id, shared);
    }
    return shared;
  }

  private setTip(objectId: number, tip: Tip | undefined): void {
    const old = this.tips.get(objectId);
    if (old) {
      this.tipChars -= old.keyframeBytes;
      this.tips.delete(objectId);
    }
    if (!tip) return;
    // Evict the least recently written: Map iterates in insertion order, and every write re-inserts.
    while (this.tips.size > 0 && (this.tips.size >= MAX_CACHED_TIPS || this.tipChars + tip.keyframeBytes > MAX_CACHED_TIP_CHARS)) {
      const [oldestId, oldest] = this.tips.entries().next().value!;
      this.tipChars -= oldest.keyframeBytes;
      this.tips.delete(oldestId);
    }
    this.tips.set(objectId, tip);
    this.tipChars += tip.keyframeBytes;
  }

  private cacheChunk(id: number, text: string): void {
    if (this.chunkCache.size >= CHUNK_CACHE_SIZE) this.chunkCache.delete(this.chunkCache.keys().next().value!);
    this.chunkCache.set(id, text);
  }

  private bodyText(row: RecordRow): string {
    return this.chunkText(row.chunk_id!, row.body_offset!, row.body_length!);
  }

  private chunkText(id: number, offset: number, length: number): string {
    let text = this.chunkCache.get(id);
    if (text === undefined) {
      const chunk = this.statements.chunkById.get(id);
      if (!chunk) throw new Error(`chunk ${id} is missing: the database is damaged`);
      text = decompressChunk(chunk.encoding, chunk.data);
      this.cacheChunk(id, text);
    }
    return text.slice(offset, offset + length);
  }

  /** The object body as of the watch record at `seq`: nearest keyframe, then the deltas after it. */
  private rebuild(objectId: number, seq: number): unknown {
    const sessionId = this.sessionOfObject(objectId);
    const boundary = this.indexBoundary(sessionId);
    const keyframe = this.objectIndex.last(sessionId, objectId, seq, boundary, BodyMask.keyframe);
    if (!keyframe) throw new Error(`object ${objectId} has no keyframe at or before seq ${seq}: the database is damaged`);
    let body: unknown;
    for (const { seq: bodySeq } of this.objectIndex.rows(sessionId, objectId, keyframe.seq, seq, boundary, BodyMask.body)) {
      const row = this.statements.recordBySeq.get(sessionId, bodySeq);
      if (!row) throw new Error(`record ${bodySeq} of session ${sessionId} is missing: the session was deleted while being read`);
      body = decodeBody(row.body_kind, this.bodyText(row), body);
    }
    return body;
  }

  /** The session an object row belongs to (cached: object rows never move). */
  private sessionOfObject(objectId: number): number {
    let sessionId = this.objectSessions.get(objectId);
    if (sessionId === undefined) {
      const row = this.statements.objectById.get(objectId) as (ObjectRow & { session_id: number }) | undefined;
      if (!row) throw new Error(`object ${objectId} is missing: the session was deleted while being read`);
      sessionId = row.session_id;
      if (this.objectSessions.size >= MAX_CACHED_TIPS) this.objectSessions.clear();
      this.objectSessions.set(objectId, sessionId);
    }
    return sessionId;
  }

  /** The session's next seq, read once per lookup: where object_index ends (object-index.ts). */
  private indexBoundary(sessionId: number): number {
    return this.nextSeq(sessionId);
  }

  /** The session's next seq alone: every append and object lookup reads it, and the whole row costs more (problems, config). */
  private nextSeq(sessionId: number): number {
    const row = this.statements.nextSeq.get(sessionId);
    if (!row) throw new Error(`session ${sessionId} does not exist`);
    return row.next_seq;
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  /** SQL for `filter` on `records r`; `seqs`: the seq range the read covers (object lookups then visit only it). */
  private filterSql(sessionId: number, filter: RecordFilter | undefined, params: unknown[], seqs: { from?: number; to?: number } = {}): string {
    if (!filter) return '';
    const clauses: string[] = [];
    if (filter.kinds?.length) {
      clauses.push(`r.kind IN (${filter.kinds.map(() => '?').join(',')})`);
      params.push(...filter.kinds);
    }
    if (filter.types?.length) {
      clauses.push(`r.type IN (${filter.types.map(() => '?').join(',')})`);
      params.push(...filter.types);
    }
    if (filter.origins?.length) {
      const origin = `r.origin IN (${filter.origins.map(() => '?').join(',')})`;
      params.push(...filter.origins);
      if (this.hasSources) {
        // A request both sources reported is found under either (migrations/0005_api_sources.sql).
        clauses.push(`(${origin} OR (r.sources IS NOT NULL AND (${filter.origins.map(() => "instr(',' || r.sources || ',', ?) > 0").join(' OR ')})))`);
        params.push(...filter.origins.map((o) => `,${o},`));
      } else clauses.push(origin);
    }
    if (filter.objectId !== undefined) {
      clauses.push(this.objectIndex.seqCondition(sessionId, [filter.objectId], this.indexBoundary(sessionId), params, seqs));
    }
    const objectClauses: string[] = [];
    const objectParams: unknown[] = [];
    if (filter.objectKind !== undefined) {
      objectClauses.push('o.kind = ? COLLATE NOCASE');
      objectParams.push(filter.objectKind);
    }
    if (filter.namespace !== undefined) {
      objectClauses.push('o.namespace = ?');
      objectParams.push(filter.namespace);
    }
    if (filter.name !== undefined) {
      objectClauses.push('o.name = ?');
      objectParams.push(filter.name);
    }
    if (filter.uid !== undefined) {
      objectClauses.push('o.uid = ?');
      objectParams.push(filter.uid);
    }
    if (objectClauses.length) {
      const objectsWhere = `o.session_id = ? AND ${objectClauses.join(' AND ')}`;
      // A name or uid names a few objects: list their ids so SQLite reads their records through object_index (one
      // seek per bucket, object-index.ts) instead of scanning the whole session for them (measured: 900 ms -> 0.2 ms
      // on a 1,000,000-record session with records_object, the index schema 7 replaced).
      const ids =
        filter.name !== undefined || filter.uid !== undefined
          ? this.db.prepare<unknown[], { id: number }>(`SELECT o.id FROM objects o WHERE ${objectsWhere} LIMIT 65`).all(sessionId, ...objectParams)
          : undefined;
      if (ids && ids.length <= 64) {
        clauses.push(ids.length ? this.objectIndex.seqCondition(sessionId, ids.map((row) => row.id), this.indexBoundary(sessionId), params, seqs) : '0');
      } else {
        clauses.push(`r.object_id IN (SELECT o.id FROM objects o WHERE ${objectsWhere})`);
        params.push(sessionId, ...objectParams);
      }
    }
    return clauses.map((clause) => ` AND ${clause}`).join('');
  }

  records(sessionId: number, options: ReadOptions = {}): IterableIterator<StoredRecord> {
    const params: unknown[] = [sessionId, options.fromSeq ?? 0, options.toSeq ?? Number.MAX_SAFE_INTEGER];
    const where = this.filterSql(sessionId, options.filter, params, { from: options.fromSeq, to: options.toSeq });
    const withObjects = options.withObjects ?? true;
    const lazy = withObjects === 'lazy';
    const columns = lazy ? (this.hasFacts ? LAZY_FACTS_COLUMNS : LAZY_NO_FACTS_COLUMNS) : RECORD_COLUMNS;
    const statement = this.db
      .prepare<unknown[], RawRow | LazyRow>(`SELECT ${columns} FROM records r WHERE r.session_id = ? AND r.seq >= ? AND r.seq <= ?${where} ORDER BY r.seq`)
      .raw(true);
    // Within a seq range every version of an object is read in order, so a delta always applies to the version read
    // just before it; only filters that drop some of an object's watch events break that chain.
    const filter = options.filter;
    const mayHaveSkipped = Boolean(filter?.types?.length || filter?.origins?.length || (filter?.kinds?.length && !filter.kinds.includes('watch')));
    const bodies = options.bodies;
    const carried = bodies ? { bodies, lastBodySeqs: bodies.beginRead(options.fromSeq ?? 1, mayHaveSkipped) } : undefined;
    const read = lazy ? this.lazyReader(sessionId, mayHaveSkipped, carried) : this.reader(withObjects === true, mayHaveSkipped, carried);
    const rows = (lazy && this.readInParallel(sessionId, options) ? parallelRows({ path: this.path, sql: statement.source, params }) : statement.iterate(...params)) as IterableIterator<
      RawRow & LazyRow
    >;
    const track = bodies && !mayHaveSkipped ? bodies : undefined;
    function* generate(): IterableIterator<StoredRecord> {
      if (!track) {
        for (const row of rows) yield read(row);
        return;
      }
      for (const row of rows) {
        const record = read(row);
        track.readRow(record.seq);
        yield record;
      }
    }
    return generate();
  }

  /**
   * Whether a lazy read goes through a worker thread (parallel-read.ts): when asked, else for long reads of a database
   * file. Starting the worker costs tens of milliseconds; below some 50,000 records it does not pay.
   */
  private readInParallel(sessionId: number, options: ReadOptions): boolean {
    if (this.path === ':memory:' || this.path === '') return false;
    if (options.parallel !== undefined) return options.parallel;
    const last = Math.min(this.lastSeq(sessionId), options.toSeq ?? Number.MAX_SAFE_INTEGER);
    return last - (options.fromSeq ?? 1) + 1 >= PARALLEL_READ_MIN_RECORDS;
  }

  /**
   * What both readers share: object rows by id, and decoding a body from the previous one. A body is rebuilt from the
   * object's previous body when that one was decoded and is the version just before it, else from the nearest
   * keyframe.
   */
  private readState(mayHaveSkipped: boolean, carried?: CarriedBodies) {
    const objectRows: { get(id: number): ObjectRow | undefined; set(id: number, row: ObjectRow): void } = (carried?.bodies.objectRows as BoundedMap<ObjectRow> | undefined) ?? new Map<number, ObjectRow>();
    /**
     * Per object: the seq of the body row read just before (when no row of the object can have been skipped), from
     * the reads before this one too when it continues them (DecodedBodies.beginRead).
     */
    const previousBodySeq: SeqsByObject = carried?.lastBodySeqs ?? new Map<number, number>();
    /** Per object: the newest body decoded so far, the base for the next delta (from earlier reads too, if carried). */
    const decoded: Pick<DecodedBodies, 'get' | 'set'> = carried?.bodies ?? new Map<number, { seq: number; body: unknown }>();
    const objectRow = (id: number): ObjectRow => {
      let row = objectRows.get(id);
      if (!row) {
        row = this.statements.objectById.get(id)!;
        objectRows.set(id, row);
      }
      return row;
    };
    /** Call once per body row, in read order: the seq of the object's previous body row in this read. */
    const previousOf = (objectId: number, seq: number): number | undefined => {
      if (mayHaveSkipped) return undefined;
      const previous = previousBodySeq.get(objectId);
      previousBodySeq.set(objectId, seq);
      return previous;
    };
    const decode = (objectId: number, seq: number, bodyKind: number, chunkId: number, offset: number, length: number, previousSeq: number | undefined): unknown => {
      const known = decoded.get(objectId);
      if (known?.seq === seq) return known.body;
      let body: unknown;
      if (bodyKind === BodyKind.keyframe) {
        body = decodeBody(bodyKind, this.chunkText(chunkId, offset, length), undefined);
      } else {
        // When rows may have been skipped, or the known body is an earlier read's, ask the database which body comes
        // just before (one index lookup).
        const before = known && (previousSeq ?? (mayHaveSkipped || carried ? this.lastBodySeqBefore(objectId, seq) : undefined));
        body = known && before === known.seq ? decodeBody(bodyKind, this.chunkText(chunkId, offset, length), known.body) : this.rebuild(objectId, seq);
      }
      if (!known || known.seq < seq) decoded.set(objectId, { seq, body });
      return body;
    };
    return { objectRow, previousOf, decode };
  }

  /** The seq of the object's body row just before `seq`. */
  private lastBodySeqBefore(objectId: number, seq: number): number | undefined {
    const sessionId = this.sessionOfObject(objectId);
    return this.objectIndex.last(sessionId, objectId, seq - 1, this.indexBoundary(sessionId), BodyMask.body)?.seq;
  }

  /** Turns rows into records; `withObjects` decodes every watch record's body, else leaves it null. */
  private reader(withObjects: boolean, mayHaveSkipped: boolean, carried?: CarriedBodies): (row: RawRow) => StoredRecord {
    const { objectRow, previousOf, decode } = this.readState(mayHaveSkipped, carried);
    return (row) => {
      const [seq, kind, origin, observedAt, objectId, type, resourceVersion, generation, payload, bodyKind, chunkId, bodyOffset, bodyLength] = row;
      if (kind !== 'watch' || objectId === null) return { ...(JSON.parse(payload!) as SessionRecord), seq } as StoredRecord;
      const object = objectRow(objectId);
      const body = withObjects && bodyKind !== BodyKind.none ? decode(objectId, seq, bodyKind, chunkId!, bodyOffset!, bodyLength!, previousOf(objectId, seq)) : null;
      return {
        record: 'watch',
        seq,
        observedAt,
        origin: word(origin) as WatchEventRecord['origin'],
        group: object.api_group,
        version: object.version,
        resource: object.resource ?? '',
        kind: object.kind,
        type: word(type!) as WatchEventRecord['type'],
        namespace: object.namespace === '' ? null : object.namespace,
        name: object.name,
        uid: object.uid === '' ? null : object.uid,
        resourceVersion: resourceVersion!,
        generation,
        object: body as KubeObject | null,
      };
    };
  }

  /**
   * Turns rows into records with lazy bodies: `object` stays null, and each watch record carries its version's facts
   * and `loadObject()`, which finds and decodes the body when called. `kreplay check` reads the facts of every
   * version and the bodies of a few; decoding every body was most of its time.
   */
  private lazyReader(sessionId: number, mayHaveSkipped: boolean, carried?: CarriedBodies): (row: LazyRow) => StoredRecord {
    const { objectRow, previousOf, decode } = this.readState(mayHaveSkipped, carried);
    // The row says where the body is: a query per body (a read transaction of its own, outside a statement's) cost
    // more than decoding it, on a long check.
    const load = (objectId: number, seq: number, bodyKind: number, chunkId: number, offset: number, length: number, previousSeq: number | undefined): KubeObject | null => {
      try {
        return decode(objectId, seq, bodyKind, chunkId, offset, length, previousSeq) as KubeObject;
      } catch (error) {
        // A missing chunk of a session that is gone is not damage: retention deleted it after the row was read.
        if (!this.statements.sessionById.get(sessionId)) throw new Error(`record ${seq} of session ${sessionId} is missing: the session was deleted while being read`, { cause: error });
        throw error;
      }
    };
    // A closure made here would hold the whole row (V8 keeps one context for every closure of a function): the fold
    // keeps each object's newest loader, and 10,000 rows were ~3 MB of a recorder's heap. It gets its numbers only.
    const loader =
      (objectId: number, seq: number, bodyKind: number, chunkId: number, offset: number, length: number, previousSeq: number | undefined) =>
      () =>
        load(objectId, seq, bodyKind, chunkId, offset, length, previousSeq);
    return (row) => {
      const [seq, kind, origin, observedAt, objectId, type, resourceVersion, generation, payload, flags] = row;
      if (kind !== 'watch' || objectId === null) return (row[16] as StoredRecord | null | undefined) ?? parsePayload(payload!, seq);
      const object = objectRow(objectId);
      const factsFlags = flags >> 2;
      const hasBody = (flags & 3) !== BodyKind.none;
      const previousSeq = hasBody ? previousOf(objectId, seq) : undefined;
      return {
        record: 'watch',
        seq,
        observedAt,
        origin: word(origin) as WatchEventRecord['origin'],
        group: object.api_group,
        version: object.version,
        resource: object.resource ?? '',
        kind: object.kind,
        type: word(type!) as WatchEventRecord['type'],
        namespace: object.namespace === '' ? null : object.namespace,
        name: object.name,
        uid: object.uid === '' ? null : object.uid,
        resourceVersion: resourceVersion!,
        generation,
        object: null,
        facts: factsFlags & FactsFlag.present ? this.factsOfRow(factsFlags, row[10], row[11], row[12]) : undefined,
        loadObject: hasBody ? loader(objectId, seq, flags & 3, row[13]!, row[14]!, row[15]!, previousSeq) : undefined,
      };
    };
  }

  page(sessionId: number, options: PageOptions): StoredRecord[] {
    const params: unknown[] = [sessionId];
    let bound = '';
    if (options.afterSeq !== undefined) {
      bound = ' AND r.seq > ?';
      params.push(options.afterSeq);
    } else if (options.beforeSeq !== undefined) {
      bound = ' AND r.seq < ?';
      params.push(options.beforeSeq);
    }
    const where = this.filterSql(sessionId, options.filter, params, {
      from: options.afterSeq !== undefined ? options.afterSeq + 1 : undefined,
      to: options.afterSeq === undefined && options.beforeSeq !== undefined ? options.beforeSeq - 1 : undefined,
    });
    const descending = options.afterSeq === undefined && options.beforeSeq !== undefined;
    params.push(options.limit);
    const rows = this.db
      .prepare<unknown[], RawRow>(`SELECT ${RECORD_COLUMNS} FROM records r WHERE r.session_id = ?${bound}${where} ORDER BY r.seq ${descending ? 'DESC' : 'ASC'} LIMIT ?`)
      .raw(true)
      .all(...params);
    if (descending) rows.reverse();
    const reader = this.reader(options.withObjects ?? false, true);
    return rows.map(reader);
  }

  record(sessionId: number, seq: number): StoredRecord | undefined {
    const row = this.statements.rawRecordBySeq.get(sessionId, seq);
    return row ? this.reader(true, true)(row) : undefined;
  }

  recordCount(sessionId: number, filter?: RecordFilter): number {
    const params: unknown[] = [sessionId];
    const where = this.filterSql(sessionId, filter, params);
    return this.db.prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM records r WHERE r.session_id = ?${where}`).get(...params)!.n;
  }

  indexOfSeq(sessionId: number, seq: number, filter?: RecordFilter): number {
    const params: unknown[] = [sessionId, seq];
    const where = this.filterSql(sessionId, filter, params);
    return this.db
      .prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM records r WHERE r.session_id = ? AND r.seq < ?${where}`)
      .get(...params)!.n;
  }

  objectAt(sessionId: number, seq: number): KubeObject | undefined {
    const row = this.statements.recordBySeq.get(sessionId, seq);
    if (!row || row.object_id === null || row.body_kind === BodyKind.none) return undefined;
    return this.rebuild(row.object_id, seq) as KubeObject;
  }

  objects(sessionId: number): ObjectSummary[] {
    return this.db
      .prepare<[number], ObjectRow & { record_count: number; version_count: number; first_seq: number; last_seq: number; last_type: string | null }>(
        // One pass over the session's records grouped by object (records.object_id has no index of its own).
        `SELECT o.*, a.record_count, a.version_count, a.first_seq, a.last_seq,
                (SELECT w.type FROM records w WHERE w.session_id = o.session_id AND w.seq = a.last_watch_seq) AS last_type
         FROM (SELECT object_id, count(*) AS record_count, sum(body_kind <> 0) AS version_count, min(seq) AS first_seq,
                      max(seq) AS last_seq, max(CASE WHEN kind = 'watch' THEN seq END) AS last_watch_seq
               FROM records WHERE session_id = ? AND object_id IS NOT NULL GROUP BY object_id) a
         JOIN objects o ON o.id = a.object_id
         ORDER BY o.api_group, o.kind, o.namespace, o.name, a.first_seq`,
      )
      .all(sessionId)
      .map((row) => ({
        objectId: row.id,
        group: row.api_group,
        version: row.version,
        resource: row.resource,
        kind: row.kind,
        namespace: row.namespace === '' ? null : row.namespace,
        name: row.name,
        uid: row.uid === '' ? null : row.uid,
        recordCount: row.record_count,
        versionCount: row.version_count,
        firstSeq: row.first_seq,
        lastSeq: row.last_seq,
        lastEventType: row.last_type,
      }));
  }

  objectHistory(sessionId: number, uid: string): StoredRecord[] {
    return [...this.records(sessionId, { filter: { uid, kinds: ['watch'] } })];
  }

  cachedAnalysis(sessionId: number, optionsKey: string): string | undefined {
    const row = this.db
      .prepare<[number, string], { through_seq: number; tool_version: string; findings: string }>(
        'SELECT through_seq, tool_version, findings FROM analyses WHERE session_id = ? AND options_key = ?',
      )
      .get(sessionId, optionsKey);
    if (!row || row.tool_version !== toolVersion || row.through_seq !== this.lastSeq(sessionId)) return undefined;
    return row.findings;
  }

  saveAnalysis(sessionId: number, optionsKey: string, throughSeq: number, findingsJson: string): void {
    this.db
      .prepare(
        `INSERT INTO analyses (session_id, options_key, through_seq, tool_version, created_at, findings) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (session_id, options_key) DO UPDATE SET through_seq = excluded.through_seq, tool_version = excluded.tool_version,
           created_at = excluded.created_at, findings = excluded.findings`,
      )
      .run(sessionId, optionsKey, throughSeq, toolVersion, new Date().toISOString(), findingsJson);
  }

  watchCheckpoints(sessionId: number): StoredCheckpoint[] {
    return this.statements.checkpoints
      .all(sessionId)
      .map((row) => ({ watch: row.watch, resourceVersion: row.resource_version, throughSeq: row.through_seq, committedAt: row.committed_at }));
  }

  lastSeq(sessionId: number): number {
    return this.requireSessionRow(sessionId).next_seq - 1;
  }

  settledThrough(sessionId: number, now: number): number {
    const last = this.lastSeq(sessionId);
    const waiting = this.unpaired.get(sessionId)?.oldestWaiting(now);
    return waiting === undefined ? last : Math.min(last, waiting - 1);
  }

  progress(sessionId: number): SessionProgress {
    // One row, one statement: the last seq and the rewrites are of the same commit.
    const row = this.requireSessionRow(sessionId);
    return {
      lastSeq: row.next_seq - 1,
      rewrites: this.hasRewrites ? { count: row.rewrites!, fromSeq: row.rewritten_from_seq ?? null } : null,
      ended: row.ended_at !== null,
    };
  }

  snapshot(outPath: string): void {
    // VACUUM INTO reads one consistent snapshot (a read transaction) while a writer keeps appending, and writes a
    // self-contained file in rollback mode: no -wal to forget (sqlite.org/lang_vacuum.html#vacuuminto).
    this.db.prepare('VACUUM INTO ?').run(outPath);
  }

  async copySession(sessionId: number, outPath: string): Promise<void> {
    this.requireSessionRow(sessionId);
    if (existsSync(outPath)) throw new Error(`${outPath} already exists`);
    const whole = `${outPath}.whole`;
    // SQLite's online backup copies a few pages per step and yields between steps (better-sqlite3 runs it
    // asynchronously): the writer commits in between, and writes this connection makes meanwhile are carried into
    // the copy, which ends consistent (sqlite.org/backup.html). The other sessions are then deleted from the copy.
    await this.db.backup(whole);
    try {
      const copy = new SqliteSessionStore(whole);
      let alone = false;
      try {
        const others = copy.db.prepare<[number], { id: number }>('SELECT id FROM sessions WHERE id != ?').all(sessionId);
        // The usual sidecar case, one recording: the backup is the answer (no compaction on the caller's thread).
        alone = others.length === 0;
        if (!alone) {
          for (const other of others) copy.deleteSession(other.id);
          copy.snapshot(outPath);
        } else copy.db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        copy.close();
      }
      if (alone) renameSync(whole, outPath);
    } finally {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${whole}${suffix}`, { force: true });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
