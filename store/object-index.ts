import type Database from 'better-sqlite3';

/**
 * Where an object's records are: `object_index` (migrations/0007_object_index.sql), entries ordered by seq bucket
 * first and written a whole bucket at a time, plus the open bucket's records read from `records` by seq.
 *
 * Why not an index on records (object_id, seq): with many objects changing at once, each event's entry lands in its
 * object's part of that index, so each commit dirtied about one 4 KiB page per event (WAL frame + checkpoint write),
 * and disk writes grew with the session to ~16x the bytes stored. Written per bucket, sorted, the entries are
 * appended at the right edge of the tree.
 *
 * Invariant: the buckets of a session below `next_seq >> BUCKET_BITS` are in object_index, and no other. The append
 * that moves next_seq past a bucket's end indexes it in the same transaction. A reader takes the boundary from one
 * read of next_seq and asks the index only below it and `records` only from it: if an append lands meanwhile, the
 * records it indexed are still in `records` above the boundary, so nothing is read twice or missed.
 */
export const BUCKET_BITS = 11;

/** The bucket of a seq (arithmetic, not `>>`: seqs are not bounded to 32 bits). */
export function bucketOf(seq: number): number {
  return Math.floor(seq / 2 ** BUCKET_BITS);
}

/** The first seq of the open bucket: records from here on are not in object_index yet. */
export function tailStart(nextSeq: number): number {
  return Math.floor(nextSeq / 2 ** BUCKET_BITS) * 2 ** BUCKET_BITS;
}

/** Which records.body_kind values a lookup accepts, as a bit mask (bit k: body_kind k). */
export const BodyMask = {
  any: 0b111,
  body: 0b110,
  keyframe: 0b010,
} as const;

/** Open-bucket seqs a filter writes into its SQL, at most; beyond, it scans the open bucket. */
const MAX_LITERAL_SEQS = 64;

export interface IndexedRow {
  seq: number;
  body_kind: number;
}

export class ObjectIndex {
  private readonly statements;

  constructor(
    db: Database.Database,
    /** The database has object_index (schema 7). A read-only open of an older one has records_object instead. */
    readonly present: boolean,
  ) {
    const table = present ? 'object_index' : null;
    this.statements = {
      flush: db.prepare<[number, number, number]>(
        table
          ? `INSERT INTO object_index (session_id, bucket, object_id, seq, body_kind)
             SELECT session_id, seq >> ${BUCKET_BITS}, object_id, seq, body_kind FROM records
             WHERE session_id = ? AND seq >= ? AND seq < ? AND object_id IS NOT NULL ORDER BY 2, 3, 4`
          : 'SELECT ?, ?, ?',
      ),
      // Buckets lo..hi in order, one seek each (a recursive CTE is a loop inside SQLite, not a call per bucket).
      range: db.prepare<[number, number, number, number, number, number, number], IndexedRow>(
        table
          ? `WITH RECURSIVE b(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM b WHERE x < ?)
             SELECT i.seq, i.body_kind FROM b CROSS JOIN object_index i ON i.session_id = ? AND i.bucket = b.x AND i.object_id = ?
             WHERE i.seq >= ? AND i.seq <= ? AND ((? >> i.body_kind) & 1) = 1 ORDER BY i.seq`
          : 'SELECT NULL AS seq, NULL AS body_kind WHERE ? AND ? AND ? AND ? AND ? AND ? AND ? AND 0',
      ),
      // The newest bucket at or below hi holding a matching row: buckets are walked down until one does.
      lastBucket: db.prepare<[number, number, number, number, number], { x: number }>(
        table
          ? `WITH RECURSIVE b(x) AS (SELECT ? UNION ALL SELECT x - 1 FROM b WHERE x > 0)
             SELECT x FROM b WHERE EXISTS (SELECT 1 FROM object_index i WHERE i.session_id = ? AND i.bucket = b.x AND i.object_id = ?
               AND i.seq <= ? AND ((? >> i.body_kind) & 1) = 1) LIMIT 1`
          : 'SELECT NULL AS x WHERE ? AND ? AND ? AND ? AND ? AND 0',
      ),
      lastInBucket: db.prepare<[number, number, number, number, number], IndexedRow>(
        table
          ? `SELECT seq, body_kind FROM object_index WHERE session_id = ? AND bucket = ? AND object_id = ? AND seq <= ?
             AND ((? >> body_kind) & 1) = 1 ORDER BY seq DESC LIMIT 1`
          : 'SELECT NULL AS seq, NULL AS body_kind WHERE ? AND ? AND ? AND ? AND ? AND 0',
      ),
      // Before schema 7: the whole session, through records_object.
      objectRows: db.prepare<[number, number, number, number, number], IndexedRow>(
        `SELECT seq, body_kind FROM records WHERE session_id = ? AND seq >= ? AND seq <= ? AND object_id = ?
         AND ((? >> body_kind) & 1) = 1 ORDER BY seq`,
      ),
      // The open bucket, every object at once (fewer than 2,048 rows).
      tail: db.prepare<[number, number, number], { object_id: number; seq: number; body_kind: number }>(
        'SELECT object_id, seq, body_kind FROM records WHERE session_id = ? AND seq >= ? AND seq < ? AND object_id IS NOT NULL ORDER BY seq',
      ),
    };
  }

  /**
   * The open bucket's rows by object, read once per state of the session: a reader (the TUI, check) looks up many
   * objects between two appends, and reading the open bucket costs about as much as all the bucket seeks together.
   */
  private tailCache: { sessionId: number; nextSeq: number; byObject: Map<number, IndexedRow[]> } | undefined;

  private tailOf(sessionId: number, nextSeq: number, objectId: number): readonly IndexedRow[] {
    let cache = this.tailCache;
    if (cache?.sessionId !== sessionId || cache.nextSeq !== nextSeq) {
      const byObject = new Map<number, IndexedRow[]>();
      // Bounded by nextSeq, the state the boundary was read from: rows appended since belong to a later state.
      for (const row of this.statements.tail.iterate(sessionId, tailStart(nextSeq), nextSeq)) {
        let list = byObject.get(row.object_id);
        if (!list) byObject.set(row.object_id, (list = []));
        list.push({ seq: row.seq, body_kind: row.body_kind });
      }
      this.tailCache = cache = { sessionId, nextSeq, byObject };
    }
    return cache.byObject.get(objectId) ?? [];
  }

  /** Forgets what was read of a session's open bucket (its records were deleted). */
  forget(): void {
    this.tailCache = undefined;
  }

  /** Where the index ends for a session whose next seq is `nextSeq`. */
  private boundary(nextSeq: number): number {
    return tailStart(nextSeq);
  }

  /** Indexes the buckets an append completed: called in its transaction, with next_seq before and after it. */
  flush(sessionId: number, nextSeqBefore: number, nextSeqAfter: number): void {
    if (!this.present) return;
    const from = tailStart(nextSeqBefore);
    const to = tailStart(nextSeqAfter);
    if (to > from) this.statements.flush.run(sessionId, from, to);
  }

  /**
   * The object's records with seq in [from, to] whose body kind `mask` accepts, in seq order, in a session whose next
   * seq is `nextSeq` (read once by the caller: the index holds the buckets below it, the open bucket the rest).
   */
  rows(sessionId: number, objectId: number, from: number, to: number, nextSeq: number, mask: number): IndexedRow[] {
    if (!this.present) return this.statements.objectRows.all(sessionId, from, to, objectId, mask);
    const boundary = this.boundary(nextSeq);
    const out: IndexedRow[] = [];
    if (from < boundary) {
      const hi = Math.min(to, boundary - 1);
      out.push(...this.statements.range.all(bucketOf(from), bucketOf(hi), sessionId, objectId, from, hi, mask));
    }
    if (to >= boundary) {
      for (const row of this.tailOf(sessionId, nextSeq, objectId)) if (row.seq >= from && row.seq <= to && (mask >> row.body_kind) & 1) out.push(row);
    }
    return out;
  }

  /** The object's newest record at or before `atOrBefore` whose body kind `mask` accepts (see rows). */
  last(sessionId: number, objectId: number, atOrBefore: number, nextSeq: number, mask: number): IndexedRow | undefined {
    if (!this.present) return this.statements.objectRows.all(sessionId, 0, atOrBefore, objectId, mask).at(-1);
    const boundary = this.boundary(nextSeq);
    if (atOrBefore >= boundary) {
      const tail = this.tailOf(sessionId, nextSeq, objectId);
      for (let i = tail.length - 1; i >= 0; i -= 1) {
        const row = tail[i]!;
        if (row.seq <= atOrBefore && (mask >> row.body_kind) & 1) return row;
      }
    }
    if (boundary === 0) return undefined;
    const hi = Math.min(atOrBefore, boundary - 1);
    const bucket = this.statements.lastBucket.get(bucketOf(hi), sessionId, objectId, hi, mask);
    return bucket ? this.statements.lastInBucket.get(sessionId, bucket.x, objectId, hi, mask) : undefined;
  }

  /**
   * SQL for "r.seq is a record of one of these objects", for a filtered read of `records r` (see rows): the object
   * ids and the open bucket's seqs are written into the SQL (the caller lists at most a few dozen objects), the
   * bounds are parameters pushed onto `params`.
   */
  seqCondition(sessionId: number, objectIds: readonly number[], nextSeq: number, params: unknown[], seqs: { from?: number | undefined; to?: number | undefined } = {}): string {
    const ids = objectIds.join(',');
    if (!this.present) {
      params.push(sessionId);
      return `r.seq IN (SELECT t.seq FROM records t WHERE t.session_id = ? AND t.object_id IN (${ids}))`;
    }
    const boundary = this.boundary(nextSeq);
    const open = objectIds.flatMap((id) => this.tailOf(sessionId, nextSeq, id).map((row) => `(${row.seq})`));
    // A few open-bucket seqs are cheapest written into the SQL; many (an object changing all the time) cost more to
    // parse than a scan of the open bucket.
    const scan = open.length > MAX_LITERAL_SEQS;
    const tail = scan ? `SELECT t.seq FROM records t WHERE t.session_id = ? AND t.seq >= ? AND t.seq < ? AND t.object_id IN (${ids})` : open.length ? `VALUES ${open.join(',')}` : '';
    const tailParams = scan ? [sessionId, boundary, nextSeq] : [];
    if (boundary === 0) {
      params.push(...tailParams);
      return tail ? `r.seq IN (${tail})` : '0';
    }
    // Only the buckets the read covers: a page of the TUI's object filter reads from its cursor on (or back).
    const first = bucketOf(Math.max(0, seqs.from ?? 0));
    const last = bucketOf(Math.min(boundary - 1, seqs.to ?? Number.MAX_SAFE_INTEGER));
    params.push(first, last, sessionId, ...tailParams);
    return `r.seq IN (WITH RECURSIVE b(x) AS (SELECT ? UNION ALL SELECT x + 1 FROM b WHERE x < ?)
      SELECT i.seq FROM b CROSS JOIN object_index i ON i.session_id = ? AND i.bucket = b.x AND i.object_id IN (${ids})${tail ? ` UNION ALL ${tail}` : ''})`;
  }
}
