import { systemComponentOf, type SessionInfo } from '../model/index.js';
import { lowerBound, type FindingsIndex } from './findings-index.js';
import type { ObjectVersion, ReplayDataSource, SessionBounds } from './data-source.js';
import { filterKey, isEmptyFilter, type ViewFilter } from './filter.js';
import type { RowObject, TimelineRow } from './rows.js';

/**
 * The API server's own writes: what kube-apiserver does to itself at start and while it runs (its bootstrap
 * controllers create APIServices, PriorityLevelConfigurations, FlowSchemas, the default ClusterRoles, its identity
 * Lease, a CRD's Established condition). On an audit import they are the first hundreds of records, before anything
 * a controller did. They are told by identity, never by object name: the user kube-apiserver's loopback client
 * authenticates as (`system:apiserver`, apiserver pkg/authentication/user APIServerUser; model/actors.ts knows it
 * as the component "apiserver"), on API requests, and the object versions an audit log holds for those requests
 * (the audit importer stores each right after its request).
 */
export function isApiServerRequest(row: TimelineRow): boolean {
  return row.record === 'api' && systemComponentOf(row.writer) === 'apiserver';
}

/** The version an audit log holds for the request just before it (importers/audit.ts emits them in that order). */
function isVersionOf(row: TimelineRow, request: TimelineRow | undefined): boolean {
  return (
    row.record === 'watch' &&
    row.origin === 'audit' &&
    request !== undefined &&
    request.seq === row.seq - 1 &&
    request.object !== null &&
    row.object !== null &&
    request.object.kind === row.object.kind &&
    request.object.name === row.object.name &&
    request.object.namespace === row.object.namespace
  );
}

/** Rows per read while skipping hidden ones: a bootstrap run is hundreds of records long. */
const scanChunk = 500;

/**
 * A data source that leaves out the rows `hidden` matches, around another: the timeline, positions and counts see
 * only the rest; reading a record, a version or an object's history sees everything (the detail pane still shows an
 * object's whole story).
 */
export class HidingDataSource implements ReplayDataSource {
  private readonly scans = new Map<string, { seqs: number[]; after: number; done: boolean }>();

  constructor(private readonly inner: ReplayDataSource) {}

  /** Whether the timeline leaves the row out: an API server request, or the version the audit log holds for it. */
  private hidden(row: TimelineRow): boolean {
    if (isApiServerRequest(row)) return true;
    if (row.record !== 'watch' || row.origin !== 'audit') return false;
    const before = this.inner.rowsAfter(row.seq - 2, 1, {})[0];
    return before !== undefined && isApiServerRequest(before) && isVersionOf(row, before);
  }

  get session(): SessionInfo {
    return this.inner.session;
  }

  refresh(): boolean {
    return this.inner.refresh?.() ?? false;
  }

  bounds(): SessionBounds {
    return this.inner.bounds();
  }

  rowsAfter(seq: number, limit: number, filter: ViewFilter): TimelineRow[] {
    const out: TimelineRow[] = [];
    let from = seq;
    while (out.length < limit) {
      const rows = this.inner.rowsAfter(from, Math.max(limit, scanChunk), filter);
      for (const row of rows) {
        if (!this.hidden(row)) out.push(row);
        if (out.length === limit) break;
      }
      if (rows.length < Math.max(limit, scanChunk)) break;
      from = rows[rows.length - 1]!.seq;
    }
    return out;
  }

  rowsBefore(seq: number, limit: number, filter: ViewFilter): TimelineRow[] {
    const out: TimelineRow[] = [];
    let to = seq;
    while (out.length < limit) {
      const rows = this.inner.rowsBefore(to, Math.max(limit, scanChunk), filter);
      for (let i = rows.length - 1; i >= 0 && out.length < limit; i--) if (!this.hidden(rows[i]!)) out.push(rows[i]!);
      if (rows.length < Math.max(limit, scanChunk)) break;
      to = rows[0]!.seq;
    }
    return out.reverse();
  }

  /**
   * The hidden rows matching the filter, ascending seqs, computed once per filter (isCheap is false until then).
   * Without a filter only the API requests are scanned (the store answers a record-kind filter from its index), with
   * the record after each hidden one; `scanSome` does that scan a chunk at a time, off the frame, and until it is
   * done this returns what it found so far (positions are then estimates) instead of blocking on a session of a
   * million requests.
   */
  hiddenSeqs(filter: ViewFilter): readonly number[] {
    const scan = this.scanOf(filter);
    if (!scan.done && !(this.background && isEmptyFilter(filter))) while (!this.scanSome(filter, Number.POSITIVE_INFINITY));
    return scan.seqs;
  }

  /** True once the scan of the unfiltered session has been handed to `scanSome` calls (the app's idle loop). */
  private background = false;

  /** Scans up to `rows` more rows for the filter's hidden seqs; true when the scan is complete. */
  scanSome(filter: ViewFilter, rows: number): boolean {
    if (isEmptyFilter(filter) && rows !== Number.POSITIVE_INFINITY) this.background = true;
    const scan = this.scanOf(filter);
    const scanned: ViewFilter = isEmptyFilter(filter) ? { records: ['api'] } : filter;
    let budget = rows;
    while (!scan.done && budget > 0) {
      const page = this.inner.rowsAfter(scan.after, scanChunk, scanned);
      for (const row of page) {
        if (!this.hidden(row)) continue;
        scan.seqs.push(row.seq);
        if (scanned !== filter) {
          const next = this.inner.rowsAfter(row.seq, 1, {})[0];
          if (next && isVersionOf(next, row)) scan.seqs.push(next.seq);
        }
      }
      budget -= page.length;
      if (page.length > 0) scan.after = page[page.length - 1]!.seq;
      if (page.length < scanChunk) scan.done = true;
    }
    return scan.done;
  }

  private scanOf(filter: ViewFilter): { seqs: number[]; after: number; done: boolean } {
    const key = filterKey(filter);
    let scan = this.scans.get(key);
    if (!scan) this.scans.set(key, (scan = { seqs: [], after: 0, done: false }));
    return scan;
  }

  /** True when the row at `seq` is one this source hides. */
  hides(seq: number): boolean {
    const row = this.inner.rowsAfter(seq - 1, 1, {})[0];
    return row !== undefined && row.seq === seq && this.hidden(row);
  }

  count(filter: ViewFilter): number {
    return this.inner.count(filter) - this.hiddenSeqs(filter).length;
  }

  indexOf(seq: number, filter: ViewFilter): number {
    return this.inner.indexOf(seq, filter) - lowerBound(this.hiddenSeqs(filter), seq);
  }

  isCheap(filter: ViewFilter): boolean {
    return this.inner.isCheap(filter) && this.scans.get(filterKey(filter))?.done === true;
  }


  writerOf(row: TimelineRow): string | null {
    return this.inner.writerOf(row);
  }
  cachedWriter(seq: number): string | null | undefined {
    return this.inner.cachedWriter(seq);
  }
  record(seq: number) {
    return this.inner.record(seq);
  }
  versionAt(object: RowObject, seq: number, nearby?: readonly TimelineRow[]): ObjectVersion | undefined {
    return this.inner.versionAt(object, seq, nearby);
  }
  adjacentVersion(object: RowObject, seq: number, direction: 1 | -1): ObjectVersion | undefined {
    return this.inner.adjacentVersion(object, seq, direction);
  }
  versions(object: RowObject, seq: number, direction: 1 | -1, limit: number): ObjectVersion[] {
    return this.inner.versions(object, seq, direction, limit);
  }
  objectRows(object: RowObject, seq: number, direction: 1 | -1, limit: number): TimelineRow[] {
    return this.inner.objectRows(object, seq, direction, limit);
  }
  seqAtTime(ms: number): number | undefined {
    return this.inner.seqAtTime(ms);
  }
  findings(): FindingsIndex | undefined {
    return this.inner.findings();
  }
  setFindings(findings: FindingsIndex): void {
    this.inner.setFindings(findings);
  }
}
