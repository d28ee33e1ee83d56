import { sameActor } from './actors.js';
import type { ApiRequestRecord } from './records.js';

/**
 * One write, one record. A controller that reports through the SDK while the API server's audit webhook also feeds
 * the recorder makes every request arrive twice: once as the server saw it (origin audit) and once as the controller
 * saw it (origin ingest). Counted twice, a NotFound retry loop looks twice as long and a hot loop twice as hot. This
 * module decides which two records are the same request and what the one stored record says; the store applies it
 * at append (store/sqlite-store.ts), so the recorder, the importers and a re-import of an old session agree.
 *
 * Two records are one request when they come from the two sources and agree on everything both know: verb, object
 * (group, kind or resource, namespace, name, subresource, uid when both have it), status code, the resourceVersion
 * the write produced when both have it, and time within `pairingWindowMs`. Each record pairs at most once: two
 * identical PATCHes 50 ms apart are two requests, and with both sources they make two pairs. Among several
 * candidates the one with the same response RV wins, else the earliest: one client's requests reach both sources in
 * the order it made them, so the earliest unpaired one is its partner even when the two clocks differ a little.
 */

/**
 * How far apart the two sources' times of one request may be. Audit `stageTimestamp` is the server's clock when it
 * answered; the SDK stamps the report when the call returns, on the controller's clock: the gap is the response's
 * way back plus clock skew between nodes (NTP keeps that well under a second).
 */
export const pairingWindowMs = 2_000;

/**
 * How long, in record time, a request waits for its partner. The webhook's default batch mode holds audit events up
 * to 30 s (`--audit-webhook-batch-max-wait`) before sending them; the SDK sends within 250 ms. Record time, not the
 * clock: the index is a pure function of what was appended.
 */
export const pairingRetainMs = 60_000;

/** Bounds the index on a busy cluster's audit stream: past this, the oldest unpaired requests stop waiting. */
export const maxUnpairedRequests = 20_000;

export type PairingSource = 'audit' | 'ingest';

/** What the index keeps of a stored request: enough to decide, not the record (audit bodies can be large). */
export interface PairingCandidate {
  readonly seq: number;
  readonly source: PairingSource;
  readonly time: number;
  /** verb, group, namespace, name, subresource, code: what must be equal, as one Map key. */
  readonly key: string;
  readonly kind: string;
  readonly resource: string | null;
  readonly uid: string | null;
  readonly rvAfter: string | null;
  readonly actor: string;
  readonly controller: string | null;
  readonly byController: boolean;
}

/** The source a record can be paired as; null for a record that is already a pair, imported, or without a time. */
export function pairingSourceOf(record: ApiRequestRecord): PairingSource | null {
  if (record.sources) return null;
  if (record.origin !== 'audit' && record.origin !== 'ingest') return null;
  return record.observedAt !== null && !Number.isNaN(Date.parse(record.observedAt)) ? record.origin : null;
}

export function pairingCandidate(record: ApiRequestRecord, seq: number): PairingCandidate | null {
  const source = pairingSourceOf(record);
  if (!source) return null;
  const o = record.object;
  return {
    seq,
    source,
    time: Date.parse(record.observedAt!),
    key: [record.verb, o.group, o.namespace ?? '', o.name, record.subresource ?? '', record.code].join('\u0000'),
    kind: o.kind,
    resource: o.resource || null,
    uid: o.uid || null,
    rvAfter: record.resourceVersionAfter || null,
    actor: record.actor,
    controller: record.controller ?? null,
    byController: record.byController,
  };
}

/** Whether two requests are one, seen by both sources (same key assumed: the index only compares within a key). */
export function arePartners(a: PairingCandidate, b: PairingCandidate, windowMs = pairingWindowMs): boolean {
  if (a.source === b.source || a.key !== b.key) return false;
  if (Math.abs(a.time - b.time) > windowMs) return false;
  // Audit kinds are discovery's (recorder) or a guess from the resource (import); the SDK may not send a resource.
  if (a.kind !== b.kind && !(a.resource !== null && a.resource === b.resource)) return false;
  if (a.resource !== null && b.resource !== null && a.resource !== b.resource) return false;
  if (a.uid !== null && b.uid !== null && a.uid !== b.uid) return false;
  if (a.rvAfter !== null && b.rvAfter !== null && a.rvAfter !== b.rvAfter) return false;
  const audit = a.source === 'audit' ? a : b;
  const sdk = audit === a ? b : a;
  // The SDK runs in the controller: its report pairs only with the controller's own request, not with kubectl's
  // PATCH of the same object in the same second. The audit user is the controller when the recorder was told so, or
  // when it is the service account the SDK reports under.
  return audit.byController || sameActor(audit.actor, sdk.actor) || (sdk.controller !== null && sameActor(audit.actor, sdk.controller));
}

/**
 * The one record of a pair. The audit event is the server's account: who (user, user agent), when (the server's
 * clock, the same one the watch's order comes from), what it answered (reason, message, RVs, body). The SDK's adds
 * what only the controller knows: which controller made the request and that it was the controller under debug;
 * the uid when the audit event had none.
 */
export function mergePair(a: ApiRequestRecord, b: ApiRequestRecord): ApiRequestRecord {
  const audit = a.origin === 'audit' ? a : b;
  const sdk = audit === a ? b : a;
  const merged: ApiRequestRecord = {
    ...sdk,
    ...audit,
    object: { ...sdk.object, ...audit.object, resource: audit.object.resource || sdk.object.resource, uid: audit.object.uid || sdk.object.uid },
    byController: audit.byController || sdk.byController,
    controller: sdk.controller ?? sdk.actor,
    sources: ['audit', 'ingest'],
  };
  for (const field of ['userAgent', 'reason', 'message', 'resourceVersionBefore', 'resourceVersionAfter'] as const) {
    if (audit[field] == null && sdk[field] != null) merged[field] = sdk[field];
  }
  if (merged.object.resource === undefined) delete merged.object.resource;
  if (merged.object.uid === undefined) delete merged.object.uid;
  delete merged.seq;
  return merged;
}

/**
 * Requests stored without their partner yet, by key. `pair` either finds the partner of a new request (and forgets
 * it: it has paired) or remembers the new one. Bounded by record time and by count; a request that is forgotten
 * unpaired simply stays a record of one source.
 */
export class UnpairedRequests {
  /** By key, then by source: a request looks only at the other source's, so an audit-only session scans nothing. */
  private readonly byKey = new Map<string, Record<PairingSource, PairingCandidate[]>>();
  /** Insertion order, for eviction; entries already paired are skipped when they reach the front. */
  private queue: PairingCandidate[] = [];
  private head = 0;
  private readonly live = new Set<PairingCandidate>();
  private newest = Number.NEGATIVE_INFINITY;
  /** The sources that offered requests: a request waits for a partner only once the other source has spoken. */
  private readonly sources = new Set<PairingSource>();

  constructor(
    private readonly windowMs = pairingWindowMs,
    private readonly retainMs = pairingRetainMs,
    private readonly maxSize = maxUnpairedRequests,
  ) {}

  get size(): number {
    return this.live.size;
  }

  /** The seq of `record`'s partner, which is forgotten; or undefined, and `record` is remembered under `seq`. */
  pair(record: ApiRequestRecord, seq: number): number | undefined {
    const candidate = pairingCandidate(record, seq);
    if (!candidate) return undefined;
    this.sources.add(candidate.source);
    this.newest = Math.max(this.newest, candidate.time);
    this.evict(this.maxSize);
    const otherSource: PairingSource = candidate.source === 'audit' ? 'ingest' : 'audit';
    let best: PairingCandidate | undefined;
    for (const other of this.byKey.get(candidate.key)?.[otherSource] ?? []) {
      if (!arePartners(candidate, other, this.windowMs)) continue;
      const exact = candidate.rvAfter !== null && candidate.rvAfter === other.rvAfter;
      if (exact) {
        best = other;
        break;
      }
      if (!best || other.time < best.time) best = other;
    }
    if (best) {
      this.remove(best);
      return best.seq;
    }
    this.evict(this.maxSize - 1);
    let lists = this.byKey.get(candidate.key);
    if (!lists) this.byKey.set(candidate.key, (lists = { audit: [], ingest: [] }));
    lists[candidate.source].push(candidate);
    this.queue.push(candidate);
    this.live.add(candidate);
    return undefined;
  }

  /**
   * The seq of the oldest request that a later report may still merge into, or undefined: rows before it can no
   * longer change. Only while both sources report (an SDK-only or audit-only session waits for nothing), and only
   * requests whose time is within the retention time of `now`: one whose partner never comes (a request the audit
   * policy leaves out) holds readers back that long at most. (A partner later still merges; readers start over.)
   */
  oldestWaiting(now: number): number | undefined {
    if (this.sources.size < 2) return undefined;
    for (let i = this.head; i < this.queue.length; i++) {
      const candidate = this.queue[i]!;
      if (this.live.has(candidate) && now - candidate.time <= this.retainMs) return candidate.seq;
    }
    return undefined;
  }

  /** Forgets requests that waited longer than the retention time, and the oldest beyond `room`. */
  private evict(room: number): void {
    while (this.head < this.queue.length) {
      const front = this.queue[this.head]!;
      if (this.live.has(front) && this.live.size <= room && this.newest - front.time <= this.retainMs) break;
      this.head += 1;
      if (this.live.has(front)) this.remove(front);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private remove(candidate: PairingCandidate): void {
    this.live.delete(candidate);
    const lists = this.byKey.get(candidate.key);
    if (!lists) return;
    const list = lists[candidate.source];
    const index = list.indexOf(candidate);
    if (index >= 0) list.splice(index, 1);
    if (lists.audit.length === 0 && lists.ingest.length === 0) this.byKey.delete(candidate.key);
  }
}
