import type { ApiRequestRecord, KubeObject, SessionInfo, StoredRecord, WatchEventRecord } from '../model/index.js';
import { changeAuthor, deleterOf } from '../replayer/diff.js';
import { filterKey, isEmptyFilter, storeFilterOf, type StoreFilter, type ViewFilter } from './filter.js';
import { lowerBound, type FindingsIndex } from './findings-index.js';
import { authorLabel, lastWriterLabel, rowMatches, shortActor, toRow, type RowObject, type TimelineRow } from './rows.js';

/**
 * How the TUI reads a session. The components never see the store: a data hook asks this interface for the rows
 * around the cursor, and nothing here loads a whole session. The store-backed implementation below is what
 * `kreplay replay` uses; tests can hand in any other.
 *
 *   store ──page/record/objectAt──▶ StoreDataSource ──rows, versions──▶ TimelineWindow / hooks ──props──▶ components
 *                                        ▲
 *                       findings (computed off the first frame) ──▶ FindingsIndex (badges, finding filter)
 */

/**
 * The part of the store the TUI reads: structurally a subset of store/types.ts SessionStore, declared here so the
 * TUI depends on an interface, not on the store module (STYLE.md: tui imports model and replayer only).
 */
export interface RecordReader {
  page(sessionId: number, options: { afterSeq?: number; beforeSeq?: number; limit: number; filter?: StoreFilter; withObjects?: boolean }): StoredRecord[];
  record(sessionId: number, seq: number): StoredRecord | undefined;
  recordCount(sessionId: number, filter?: StoreFilter): number;
  indexOfSeq(sessionId: number, seq: number, filter?: StoreFilter): number;
  objectAt(sessionId: number, seq: number): KubeObject | undefined;
}

export interface SessionBounds {
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Records in the session. */
  readonly count: number;
  readonly firstTime: string | null;
  readonly lastTime: string | null;
}

export type WatchRecord = WatchEventRecord & { seq: number };

/** One version of an object: the watch record that carried it, with its body. */
export interface ObjectVersion {
  readonly seq: number;
  readonly record: WatchRecord;
  readonly object: KubeObject | null;
}

export interface ReplayDataSource {
  readonly session: SessionInfo;
  bounds(): SessionBounds;
  /** Rows strictly after `seq`, ascending, at most `limit`, matching the filter. */
  rowsAfter(seq: number, limit: number, filter: ViewFilter): TimelineRow[];
  /** Rows strictly before `seq`, ascending, at most `limit`. */
  rowsBefore(seq: number, limit: number, filter: ViewFilter): TimelineRow[];
  /** How many rows match; may be slow on big sessions with filters the store has no index for: call it off the frame. */
  count(filter: ViewFilter): number;
  /** The 0-based position of `seq` among the rows matching the filter; same cost warning as count. */
  indexOf(seq: number, filter: ViewFilter): number;
  /** True when indexOf/count are instant (plain arithmetic), so the hook need not defer them. */
  isCheap(filter: ViewFilter): boolean;
  /**
   * The writer of a watch row, resolved from its body and the previous version's (cached); for a DELETED row the
   * deleter when a DELETE request was recorded, else "last writer: …". Rows of other kinds carry theirs.
   */
  writerOf(row: TimelineRow): string | null;
  /** The writer when already resolved, without reading anything; undefined when not yet known. */
  cachedWriter(seq: number): string | null | undefined;
  record(seq: number): StoredRecord | undefined;
  /** The newest version of the object at or before `seq`; `nearby` rows (already loaded) may hold it. */
  versionAt(object: RowObject, seq: number, nearby?: readonly TimelineRow[]): ObjectVersion | undefined;
  /** The next (1) or previous (-1) version strictly after/before `seq`. */
  adjacentVersion(object: RowObject, seq: number, direction: 1 | -1): ObjectVersion | undefined;
  /** Up to `limit` versions strictly after/before `seq`, in scan order (ascending forward, descending backward). */
  versions(object: RowObject, seq: number, direction: 1 | -1, limit: number): ObjectVersion[];
  /** Every record naming the object (any kind), around `seq`. */
  objectRows(object: RowObject, seq: number, direction: 1 | -1, limit: number): TimelineRow[];
  /** The first record observed at or after the time (epoch ms); the last record when the time is past the end. */
  seqAtTime(ms: number): number | undefined;
  findings(): FindingsIndex | undefined;
  setFindings(findings: FindingsIndex): void;
  /**
   * A session still being written (`replay --follow`): looks for records committed since bounds() was read. True
   * when there are some; bounds, counts and positions are then read afresh.
   */
  refresh?(): boolean;
}

/** Store filter that selects one object: by uid when known, else by kind/namespace/name (audit records). */
export function objectFilter(object: RowObject): StoreFilter {
  return object.uid ? { uid: object.uid } : { objectKind: object.kind, namespace: object.namespace ?? '', name: object.name };
}

const MAX_CACHED_WRITERS = 50_000;
/** Records with bodies, most recently used last: stepping back and forth rebuilds nothing twice. */
const MAX_CACHED_RECORDS = 256;

export class StoreDataSource implements ReplayDataSource {
  private cachedBounds: SessionBounds | undefined;
  private readonly writers = new Map<number, string | null>();
  private readonly recordCache = new Map<number, StoredRecord>();
  private findingsIndex: FindingsIndex | undefined;
  /** Finding filters combined with store fields: the matching seqs, computed once per filter. */
  private readonly seqLists = new Map<string, readonly number[]>();
  private readonly counts = new Map<string, number>();
  /** Seqs are 1..n per session (store/sqlite-store.ts hands them out from sessions.next_seq); checked lazily. */
  private contiguous = true;

  constructor(
    private readonly store: RecordReader,
    readonly session: SessionInfo,
    findings?: FindingsIndex,
  ) {
    this.findingsIndex = findings;
  }

  bounds(): SessionBounds {
    if (!this.cachedBounds) {
      // Two indexed reads, not count(*): the first frame must not scale with the session.
      const first = this.store.page(this.session.id, { afterSeq: 0, limit: 1 })[0];
      const last = this.store.page(this.session.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 1 })[0];
      this.cachedBounds = first && last
        ? { firstSeq: first.seq, lastSeq: last.seq, count: last.seq - first.seq + 1, firstTime: first.observedAt, lastTime: last.observedAt }
        : { firstSeq: 0, lastSeq: 0, count: 0, firstTime: null, lastTime: null };
    }
    return this.cachedBounds;
  }

  /** Confirms the seqs have no holes (one count over the session's index); call it after the first frame. */
  refresh(): boolean {
    const known = this.bounds().lastSeq;
    const last = this.store.page(this.session.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 1 })[0];
    if (!last || last.seq <= known) return false;
    this.cachedBounds = undefined;
    // Counts and finding-filter seq lists were of the shorter session.
    this.counts.clear();
    this.seqLists.clear();
    return true;
  }

  verifyContiguous(): void {
    const bounds = this.bounds();
    const count = this.store.recordCount(this.session.id);
    if (count !== bounds.count) {
      this.contiguous = false;
      this.cachedBounds = { ...bounds, count };
    }
  }

  private seqList(filter: ViewFilter): readonly number[] | undefined {
    if (!filter.findings?.length) return undefined;
    const seqs = this.findingsIndex?.seqsOf(filter.findings) ?? [];
    const storeFilter = storeFilterOf(filter);
    if (!storeFilter) return seqs;
    const key = filterKey(filter);
    let list = this.seqLists.get(key);
    if (!list) {
      list = seqs.filter((seq) => {
        const record = this.store.page(this.session.id, { afterSeq: seq - 1, limit: 1 })[0];
        return record !== undefined && record.seq === seq && rowMatches(toRow(record), storeFilter);
      });
      this.seqLists.set(key, list);
    }
    return list;
  }

  private rowsAt(seqs: readonly number[]): TimelineRow[] {
    const rows: TimelineRow[] = [];
    for (const seq of seqs) {
      const record = this.store.page(this.session.id, { afterSeq: seq - 1, limit: 1 })[0];
      if (record?.seq === seq) rows.push(this.row(record));
    }
    return rows;
  }

  private row(record: StoredRecord): TimelineRow {
    const row = toRow(record);
    if (row.record !== 'watch' || row.writer !== null) return row;
    const writer = this.writers.get(row.seq);
    return writer === undefined ? row : { ...row, writer };
  }

  rowsAfter(seq: number, limit: number, filter: ViewFilter): TimelineRow[] {
    const list = this.seqList(filter);
    if (list) {
      const start = lowerBound(list, seq + 1);
      return this.rowsAt(list.slice(start, start + limit));
    }
    return this.store.page(this.session.id, { afterSeq: seq, limit, ...this.filterOption(filter) }).map((r) => this.row(r));
  }

  rowsBefore(seq: number, limit: number, filter: ViewFilter): TimelineRow[] {
    const list = this.seqList(filter);
    if (list) {
      const end = lowerBound(list, seq);
      return this.rowsAt(list.slice(Math.max(0, end - limit), end));
    }
    return this.store.page(this.session.id, { beforeSeq: seq, limit, ...this.filterOption(filter) }).map((r) => this.row(r));
  }

  private filterOption(filter: ViewFilter): { filter?: StoreFilter } {
    const storeFilter = storeFilterOf(filter);
    return storeFilter ? { filter: storeFilter } : {};
  }

  isCheap(filter: ViewFilter): boolean {
    return (isEmptyFilter(filter) && this.contiguous) || (filter.findings !== undefined && filter.findings.length > 0 && (storeFilterOf(filter) === undefined || this.seqLists.has(filterKey(filter))));
  }

  count(filter: ViewFilter): number {
    if (isEmptyFilter(filter)) return this.bounds().count;
    const list = this.seqList(filter);
    if (list) return list.length;
    const key = filterKey(filter);
    let count = this.counts.get(key);
    if (count === undefined) {
      count = this.store.recordCount(this.session.id, storeFilterOf(filter));
      this.counts.set(key, count);
    }
    return count;
  }

  indexOf(seq: number, filter: ViewFilter): number {
    if (isEmptyFilter(filter) && this.contiguous) return seq - this.bounds().firstSeq;
    const list = this.seqList(filter);
    if (list) return lowerBound(list, seq);
    return this.store.indexOfSeq(this.session.id, seq, storeFilterOf(filter));
  }

  cachedWriter(seq: number): string | null | undefined {
    return this.writers.get(seq);
  }

  writerOf(row: TimelineRow): string | null {
    if (row.record !== 'watch' || row.writer !== null) return row.writer;
    let writer = this.writers.get(row.seq);
    if (writer === undefined) {
      writer = row.object ? this.resolveWriter(row, row.object) : null;
      if (this.writers.size >= MAX_CACHED_WRITERS) this.writers.clear();
      this.writers.set(row.seq, writer);
    }
    return writer;
  }

  /**
   * The writer of a version by the detectors' rule (attributeWriter against the object's previous version: the
   * managedFields entry that moved), and for a DELETED row the user of the DELETE request when one was recorded.
   */
  private resolveWriter(row: TimelineRow, object: RowObject): string | null {
    const cached = this.recordCache.get(row.seq);
    const body = cached?.record === 'watch' ? cached.object : this.store.objectAt(this.session.id, row.seq);
    const previous = this.adjacentVersion(object, row.seq, -1)?.object;
    const author = changeAuthor(body, previous);
    if (row.type !== 'DELETED') return authorLabel(author);
    const deletes = this.store.page(this.session.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 16, filter: { ...objectFilter(object), kinds: ['api'], types: ['delete'] } });
    const deleter = deleterOf(
      { seq: row.seq, observedAt: row.time },
      deletes.filter((r): r is StoredRecord & ApiRequestRecord => r.record === 'api'),
    );
    return deleter ? shortActor(deleter.actor) : lastWriterLabel(author);
  }

  record(seq: number): StoredRecord | undefined {
    const cached = this.recordCache.get(seq);
    if (cached) {
      this.recordCache.delete(seq);
      this.recordCache.set(seq, cached);
      return cached;
    }
    const record = this.store.record(this.session.id, seq);
    if (record) this.remember(record);
    return record;
  }

  private remember(record: StoredRecord): void {
    this.recordCache.set(record.seq, record);
    if (this.recordCache.size > MAX_CACHED_RECORDS) this.recordCache.delete(this.recordCache.keys().next().value!);
  }

  private toVersion(record: StoredRecord | undefined): ObjectVersion | undefined {
    if (!record || record.record !== 'watch') return undefined;
    return { seq: record.seq, record, object: record.object };
  }

  versionAt(object: RowObject, seq: number, nearby?: readonly TimelineRow[]): ObjectVersion | undefined {
    // A reconcile or delivery usually follows its object's watch event closely: find that event among the rows
    // already loaded before asking the store to scan for it.
    if (nearby && object.uid) {
      for (let i = nearby.length - 1; i >= 0; i--) {
        const row = nearby[i]!;
        if (row.seq > seq || row.record !== 'watch' || row.object?.uid !== object.uid) continue;
        const version = this.toVersion(this.record(row.seq));
        if (version) return version;
        break;
      }
    }
    return this.adjacentVersion(object, seq + 1, -1);
  }

  adjacentVersion(object: RowObject, seq: number, direction: 1 | -1): ObjectVersion | undefined {
    return this.versions(object, seq, direction, 1)[0];
  }

  versions(object: RowObject, seq: number, direction: 1 | -1, limit: number): ObjectVersion[] {
    const filter: StoreFilter = { ...objectFilter(object), kinds: ['watch'] };
    const page = this.store.page(this.session.id, { ...(direction === 1 ? { afterSeq: seq } : { beforeSeq: seq }), limit, filter, withObjects: true });
    if (direction === -1) page.reverse();
    if (limit <= 8) for (const record of page) this.remember(record);
    return page.map((r) => this.toVersion(r)).filter((v): v is ObjectVersion => v !== undefined);
  }

  objectRows(object: RowObject, seq: number, direction: 1 | -1, limit: number): TimelineRow[] {
    // By name, not uid: the history of "web" shows a delete-and-recreate, and audit records that carry no uid.
    const filter: StoreFilter = { objectKind: object.kind, namespace: object.namespace ?? '', name: object.name };
    return this.store.page(this.session.id, { ...(direction === 1 ? { afterSeq: seq } : { beforeSeq: seq }), limit, filter }).map((r) => this.row(r));
  }

  seqAtTime(ms: number): number | undefined {
    const { firstSeq, lastSeq } = this.bounds();
    if (lastSeq === 0) return undefined;
    // Records are appended in observation order, so observedAt is monotonic in seq (up to clock steps): bisect.
    // Records without a time (kubectl watch dumps) take the time of the next record that has one.
    const timeAt = (seq: number): number | undefined => {
      for (const record of this.store.page(this.session.id, { afterSeq: seq - 1, limit: 16 })) {
        if (record.observedAt) return Date.parse(record.observedAt);
      }
      return undefined;
    };
    let lo = firstSeq;
    let hi = lastSeq;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const t = timeAt(mid);
      if (t === undefined || t >= ms) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  findings(): FindingsIndex | undefined {
    return this.findingsIndex;
  }

  setFindings(findings: FindingsIndex): void {
    this.findingsIndex = findings;
    this.seqLists.clear();
  }
}
