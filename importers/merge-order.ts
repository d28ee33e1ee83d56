import { writeVerbs, type SessionRecord } from '../model/index.js';

/**
 * The order of several files' records in one session: by resourceVersion, as the recorder would have stored them.
 *
 * Every file is in its own order already (a watch dump in delivery order, an audit log in completion order), and
 * that order is kept: the merge only decides which file's next record comes first. resourceVersions are etcd
 * revisions, one per write, shared by every resource of a cluster (apiserver pkg/storage/etcd3/api_object_versioner.go),
 * so a Deployment's version at 812 happened before a Foo's at 813 whichever dump either came from. A record that
 * carries no resourceVersion (an audit log's failed write, a reconcile report) happened after the newest one its
 * own file showed before it, and is ordered by that.
 *
 * The write an audit event records and the watch event of the version it produced share one resourceVersion: the
 * audit record goes first (the request caused the event), so the replayer meets the write and then its version,
 * which is how it joins an audit user to the version's field manager (replayer/controller-identity.ts) and keeps one
 * version of the object (the fold skips a version whose RV it already holds). API requests that the audit log and a
 * kreplay NDJSON file of SDK reports both hold become one record at append, within the pairing window, as the
 * recorder's do (model/api-pairing.ts): the merge keeps their times close together for that.
 *
 * resourceVersions are opaque to clients in principle; a non-numeric one (an aggregated API) orders nothing and
 * the record is ordered by its time, as a record with none.
 */

/** Where one record stands in the merged order. */
export interface OrderKey {
  /** The record's own resourceVersion, or the newest its file showed before it; null before the file showed any. */
  readonly rv: number | null;
  /** The record carries `rv` itself (not inherited from earlier records of its file). */
  readonly own: boolean;
  /** An audit record: before the watch event of the same resourceVersion. */
  readonly audit: boolean;
  /** observedAt in ms, or null. */
  readonly time: number | null;
}

/** The RV as a number, or NaN when it is not a plain decimal integer that fits a double exactly (replayer/rv.ts). */
function numericRV(rv: string | null | undefined): number {
  if (!rv || rv.length > 15 || !/^\d+$/.test(rv)) return Number.NaN;
  return Number(rv);
}

/** The resourceVersion a record itself says it happened at: a watch event's, a successful write's answer. */
export function ownResourceVersion(record: SessionRecord): number {
  if (record.record === 'watch') return numericRV(record.resourceVersion);
  if (record.record === 'api') {
    if (record.code < 200 || record.code >= 300 || !writeVerbs.includes(record.verb)) return Number.NaN;
    return numericRV(record.resourceVersionAfter);
  }
  return Number.NaN;
}

/** Gives each record of one file its key, carrying the newest resourceVersion forward. */
export class FileOrder {
  private newest: number | null = null;

  key(record: SessionRecord): OrderKey {
    const own = ownResourceVersion(record);
    const time = record.observedAt === null ? null : Date.parse(record.observedAt);
    const audit = record.origin === 'audit';
    if (!Number.isNaN(own)) {
      // An audit log is in completion order, which two concurrent writes can invert: the running maximum keeps the
      // keys of one file increasing, so comparing them never reorders the file itself.
      this.newest = this.newest === null ? own : Math.max(this.newest, own);
      return { rv: this.newest, own: own === this.newest, audit, time: Number.isNaN(time) ? null : time };
    }
    return { rv: this.newest, own: false, audit, time: time === null || Number.isNaN(time) ? null : time };
  }
}

/** True when the record keyed `a` goes before the one keyed `b` (from another file); false on a tie. */
export function goesBefore(a: OrderKey, b: OrderKey): boolean {
  if (a.rv !== null && b.rv !== null) {
    if (a.rv !== b.rv) return a.rv < b.rv;
    // At one resourceVersion: what happened at it before what happened after it, the write before its version.
    if (a.own !== b.own) return a.own;
    if (a.audit !== b.audit) return a.audit;
    return a.time !== null && b.time !== null && a.time < b.time;
  }
  if (a.time !== null && b.time !== null) return a.time < b.time;
  // A file's records before it showed any resourceVersion are the earliest it knows of.
  return a.rv === null && b.rv !== null;
}

/** The index of the head that goes first; the earlier file wins a tie, so the command line's order decides. */
export function firstHead(heads: readonly (OrderKey | undefined)[]): number {
  let best = -1;
  for (let i = 0; i < heads.length; i += 1) {
    const head = heads[i];
    if (head === undefined) continue;
    if (best < 0 || goesBefore(head, heads[best]!)) best = i;
  }
  return best;
}
