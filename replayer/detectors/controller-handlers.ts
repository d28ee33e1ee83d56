import { nameKey, type DeliveryRecord, type StoredRecord } from '../../model/index.js';
import { rvNumber } from '../rv.js';
import type { Fact, ObjectState } from '../state.js';
import { parseTime } from '../time.js';

/**
 * What a controller's own event handlers were given, judged against what a client-go informer can hand them. The
 * SDK reports every handler call as a `delivery` record (sdk/go handler.go: add, update with the old object's
 * resourceVersion, delete, tombstones marked); the fold turns each into a 'handler' fact. This follows one
 * controller's handlers per object and reports the calls no informer makes, for duplicate-event and lost-event.
 *
 * client-go, v0.36 (k8s.io/client-go tools/cache):
 *  - controller.go processDeltas: a delta for an object the informer's store holds is handed to OnUpdate(old, new)
 *    with `old` the stored object, else to OnAdd; Deleted goes to OnDelete. So an object is added before it is
 *    updated or deleted, and an update's old object is the last one the handler was given.
 *  - reflector.go relistResourceVersion / rewatchResourceVersion: after a watch ends the reflector resumes from the
 *    newest resourceVersion it saw, and relists "with a resource version no older than has already been observed";
 *    on 410 it lists at the latest. The server replays nothing it already sent, and a relist never goes back.
 *  - delta_fifo.go Replace / controller.go processReplacedAllInfo: a relist hands every listed object to OnUpdate
 *    (old == new when unchanged, the resync signature; else a jump forward over the versions in between) or OnAdd,
 *    and each object it held that the list lacks to OnDelete as DeletedFinalStateUnknown.
 *  - a resync (SyncAll) hands every cached object to OnUpdate(obj, obj).
 *  - a new process starts with an empty store: its initial list adds every object, at its current version.
 *
 * So, per controller and object, with "newest" the highest resourceVersion its handlers were given:
 *  - redelivered: an add or update at a resourceVersion no newer than the newest (an older one handed as new, or
 *    the same one again), or a delete of an object already handed as deleted. Not: an update with old == new (a
 *    resync); an add at exactly the newest version of an object it holds (what a restarted process's initial list
 *    hands, and it cannot be told from the records: the SDK sends no start marker); an add above the newest (a
 *    restart after a change, or an object re-entering a label-selected watch).
 *  - unseen creation: the first call for an object created after the controller's handlers were already running for
 *    that kind is an update or a delete, never an add.
 *  - missed deletion: the session proves the object deleted at resourceVersion d, the controller's handlers held it,
 *    the same handlers' cache was alive across d (another object of the kind and namespace, held since before the
 *    deletion without a re-add, was then handed an update to a version newer than d: a new process would have
 *    re-added it first), and no delete of the object (plain or tombstone) was ever handed.
 * Not claimed: skipped intermediate versions (a relist jumps over them legitimately; level-based), an update whose
 * old is not the last one handed (a FilteringResourceEventHandler around the reporting wrapper forwards only some
 * updates), objects the handlers never saw at all (a label or field selector may exclude them).
 *
 * A record the SDK sent twice (it retries a batch whose answer was lost) is recognised by its identical content and
 * time, and counted once. One reporting handler per controller name and kind is assumed, as the SDK's WrapEventHandler is documented: two
 * replicas, or two informers, reporting under one name would hand each version twice. Records the SDK dropped, or a
 * recorder restart, make the handlers' history incomplete: everything is forgotten there and judged afresh.
 */

/** A call no informer makes: one of the object's versions handed again. */
export interface Redelivery {
  readonly controller: string;
  readonly record: Stored<DeliveryRecord>;
  readonly object: ObjectState | undefined;
  /** The newest resourceVersion the handlers had already been given for the object, and the call that gave it. */
  readonly newestRV: string;
  readonly newestSeq: number;
  /** The call handed a version older than the newest (history re-sent), not the newest again. */
  readonly older: boolean;
  /** The object was already handed to OnDelete. */
  readonly afterDelete: boolean;
}

/** The first call for an object created while the handlers ran was not an add. */
export interface UnseenCreation {
  readonly controller: string;
  readonly record: Stored<DeliveryRecord>;
  readonly object: ObjectState | undefined;
  readonly creation: { seq: number; rv: string };
  /** The first handler call of this controller for the kind, before the creation. */
  readonly runningSeq: number;
}

/** A deletion the handlers never got, while their cache was alive across it. */
export interface MissedDeletion {
  readonly controller: string;
  readonly object: ObjectState;
  readonly deletion: { seq: number; rv: string };
  /** The last call that handed the object. */
  readonly lastHandedSeq: number;
  readonly lastHandedRV: string | null;
  /** The update of another object that proves the same cache spanned the deletion. */
  readonly proof: { seq: number; rv: string; name: string };
}

type Stored<T> = T & { seq: number };

interface Held {
  newestRVNum: number;
  newestRV: string;
  newestSeq: number;
  deleted: boolean;
  /** The call that (re)started this object's chain in the handlers' cache: its add, or its first call seen. */
  chainSeq: number;
  chainTime: number | null;
  lastSeq: number;
  lastRV: string | null;
  /** The last calls' signatures: a record the SDK sent twice (a batch resent after a lost answer) is one call. */
  recent: string[];
}

/** Calls remembered per object to recognise a resent record. */
const recentCalls = 8;

interface PendingDeletion {
  controller: string;
  object: ObjectState;
  scope: string;
  deletion: { seq: number; rv: string; rvNum: number; time: number | null };
  lastHandedSeq: number;
  lastHandedRV: string | null;
  proof: { seq: number; rv: string; name: string; time: number | null } | null;
}

interface ControllerHandlers {
  /** By uid, else name key. */
  held: Map<string, Held>;
  /** Keys of the held objects handed as deleted, oldest first: forgotten beyond maxDeletedHeld. */
  deleted: Set<string>;
  /** group/Kind → the first handler call for that kind since the last reset. */
  runningSince: Map<string, number>;
}

/** Objects judged per controller; beyond it the oldest deleted ones are forgotten (bounded memory). */
const maxDeletedHeld = 20_000;
const maxCreations = 50_000;
/** A deletion and a chain start closer than this may be in either order: the SDK batches, the recorder flushes. */
const orderSlackMs = 1000;
/** A tombstone is handed right after the relist's updates (processReplacedAllInfo); give it this long. */
const settleMs = 2000;

export interface HandlerJudgement {
  redelivered?(r: Redelivery): void;
  unseenCreation?(u: UnseenCreation): void;
}

/**
 * Follows every controller's handler calls. The analyzer keeps one for every detector that judges them (Shared in
 * detectors/types.ts) and feeds it the facts in `facts` before the detectors see them; detectors listen for the
 * calls as they come (callbacks) and read missed deletions when they report (`missedDeletions`).
 */
export class HandlerHistory {
  static readonly facts: readonly Fact['type'][] = ['handler', 'marker', 'delivery', 'version', 'gone'];
  private readonly judgements: HandlerJudgement[] = [];
  private readonly controllers = new Map<string, ControllerHandlers>();
  /** Creations the session proves, by uid: a live ADDED event, or a create's answer. */
  private readonly creations = new Map<string, { seq: number; rv: string }>();
  private pending: PendingDeletion[] = [];
  private readonly confirmed: MissedDeletion[] = [];
  private lastTime: number | null = null;

  /** Adds a listener for the calls no informer makes, from the next fact on. */
  listen(judgement: HandlerJudgement): void {
    this.judgements.push(judgement);
  }

  observe(fact: Fact): void {
    switch (fact.type) {
      case 'handler':
        this.onHandler(fact.record, fact.object, fact.resync);
        return;
      case 'marker':
        // Records lost (by the SDK or the recorder) or a recorder restart: the handlers' history has a hole.
        if (fact.record.marker === 'dropped' || fact.record.marker === 'recorder-started') this.reset();
        return;
      case 'delivery':
        // A creation seen live by the recorder's watch (not a list item, an initial event or a dump's first state).
        if (fact.record.origin === 'watch' && fact.record.type === 'ADDED' && fact.classification === 'new' && !fact.stream.implicit) this.created(fact.object.uid, fact.record.seq, fact.record.resourceVersion);
        return;
      case 'version':
        if (fact.version.type === 'ADDED' && (fact.version.source === 'api' || fact.version.source === 'audit')) this.created(fact.object.uid, fact.record.seq, fact.version.rv);
        return;
      case 'gone':
        if (fact.how === 'deleted') this.onDeleted(fact.object, fact.record.seq, deletionRV(fact.record), fact.time);
        return;
      default:
        return;
    }
  }

  /** Deletions no handler was given although the cache lived across them; call once every fact is in. */
  missedDeletions(): MissedDeletion[] {
    // As if the session ended now: deletions still waiting are settled in the answer, not in the history (more
    // calls may come, and a later proof is judged then).
    const settled = this.pending.map((p) => this.settled(p)).filter((m): m is MissedDeletion => m !== null);
    return [...this.confirmed, ...settled];
  }

  private created(uid: string, seq: number, rv: string): void {
    if (this.creations.has(uid)) return;
    if (this.creations.size >= maxCreations) this.creations.delete(this.creations.keys().next().value!);
    this.creations.set(uid, { seq, rv });
  }

  private reset(): void {
    for (const p of this.pending) this.settle(p);
    this.pending = [];
    this.controllers.clear();
  }

  private handlersOf(controller: string): ControllerHandlers {
    let c = this.controllers.get(controller);
    if (!c) {
      c = { held: new Map(), deleted: new Set(), runningSince: new Map() };
      this.controllers.set(controller, c);
    }
    return c;
  }

  private onHandler(record: Stored<DeliveryRecord>, object: ObjectState | undefined, resync: boolean): void {
    const time = parseTime(record.observedAt);
    if (time !== null && (this.lastTime === null || time > this.lastTime)) this.lastTime = time;
    const c = this.handlersOf(record.controller);
    const ref = record.object;
    const kind = `${ref.group}/${ref.kind}`;
    if (!c.runningSince.has(kind)) c.runningSince.set(kind, record.seq);
    const runningSeq = c.runningSince.get(kind)!;
    const uid = ref.uid ?? object?.uid ?? null;
    const key = uid ?? nameKey(ref);
    const rv = record.resourceVersion;
    const rvNum = rvNumber(rv);
    const held = c.held.get(key);
    // The SDK retries a batch whose answer it did not get (sdk/go reporter.go): the same call, to the microsecond.
    const signature = callSignature(record);
    if (held) {
      if (held.recent.includes(signature)) return;
      held.recent.push(signature);
      if (held.recent.length > recentCalls) held.recent.shift();
    }

    if (!held) {
      // The handlers' first call for this object. An informer adds before it updates or deletes; the creation
      // happened while its handlers already ran for the kind, so the add cannot have come before the session.
      const creation = uid ? this.creations.get(uid) : undefined;
      if (record.handler !== 'add' && !resync && creation && creation.seq > runningSeq) {
        const unseen: UnseenCreation = { controller: record.controller, record, object, creation, runningSeq };
        for (const j of this.judgements) j.unseenCreation?.(unseen);
      }
      this.hold(c, key, record, rv, rvNum, time, record.handler === 'delete');
      return;
    }

    if (record.handler === 'update' && resync) {
      held.lastSeq = record.seq;
      return;
    }
    if (record.handler === 'delete') {
      if (held.deleted) this.redelivered(record, object, held, false, true);
      else this.advance(held, record, rv, rvNum);
      held.deleted = true;
      held.lastSeq = record.seq;
      this.markDeleted(c, key);
      this.handedDelete(record.controller, uid ?? key);
      return;
    }
    // add or update
    const comparable = !Number.isNaN(rvNum) && !Number.isNaN(held.newestRVNum);
    if (!comparable) {
      this.restartChainIfAdd(held, record, time);
      this.advance(held, record, rv, rvNum);
      held.deleted = false;
      c.deleted.delete(key);
      return;
    }
    if (rvNum < held.newestRVNum || (rvNum === held.newestRVNum && (held.deleted || record.handler === 'update'))) {
      this.redelivered(record, object, held, rvNum < held.newestRVNum, held.deleted);
      held.lastSeq = record.seq;
      held.lastRV = rv;
      return;
    }
    // An add of a held object at its newest version (a restarted process's initial list) or above it (a restart
    // after a change, a label re-entry): a new chain in a fresh cache.
    this.restartChainIfAdd(held, record, time);
    this.advance(held, record, rv, rvNum);
    held.deleted = false;
    c.deleted.delete(key);
    if (record.handler === 'update') this.proveAlive(record, key, held, rv, rvNum, time);
  }

  private hold(c: ControllerHandlers, key: string, record: Stored<DeliveryRecord>, rv: string | null, rvNum: number, time: number | null, deleted: boolean): void {
    c.held.set(key, {
      newestRVNum: Number.isNaN(rvNum) ? Number.NEGATIVE_INFINITY : rvNum,
      newestRV: rv ?? '',
      newestSeq: record.seq,
      deleted,
      chainSeq: record.seq,
      chainTime: time,
      lastSeq: record.seq,
      lastRV: rv,
      recent: [callSignature(record)],
    });
    if (deleted) this.markDeleted(c, key);
  }

  /** Remembers that key was handed as deleted; the oldest deleted objects are forgotten beyond maxDeletedHeld. */
  private markDeleted(c: ControllerHandlers, key: string): void {
    c.deleted.delete(key);
    c.deleted.add(key);
    if (c.deleted.size <= maxDeletedHeld) return;
    const oldest = c.deleted.values().next().value!;
    c.deleted.delete(oldest);
    c.held.delete(oldest);
  }

  private restartChainIfAdd(held: Held, record: Stored<DeliveryRecord>, time: number | null): void {
    if (record.handler !== 'add') return;
    held.chainSeq = record.seq;
    held.chainTime = time;
  }

  private advance(held: Held, record: Stored<DeliveryRecord>, rv: string | null, rvNum: number): void {
    if (!Number.isNaN(rvNum) && rvNum > held.newestRVNum) {
      held.newestRVNum = rvNum;
      held.newestRV = rv!;
      held.newestSeq = record.seq;
    }
    held.lastSeq = record.seq;
    held.lastRV = rv;
  }

  private redelivered(record: Stored<DeliveryRecord>, object: ObjectState | undefined, held: Held, older: boolean, afterDelete: boolean): void {
    const redelivery: Redelivery = { controller: record.controller, record, object, newestRV: held.newestRV, newestSeq: held.newestSeq, older, afterDelete };
    for (const j of this.judgements) j.redelivered?.(redelivery);
  }

  private onDeleted(object: ObjectState, seq: number, rv: string | null, time: number | null): void {
    const rvNum = rvNumber(rv);
    if (Number.isNaN(rvNum)) return;
    const scope = scopeOf(object.ref);
    for (const [controller, c] of this.controllers) {
      const held = c.held.get(object.uid);
      if (!held || held.deleted) continue;
      this.pending.push({ controller, object, scope, deletion: { seq, rv: rv!, rvNum, time }, lastHandedSeq: held.lastSeq, lastHandedRV: held.lastRV, proof: null });
    }
  }

  private handedDelete(controller: string, key: string): void {
    if (this.pending.length === 0) return;
    this.pending = this.pending.filter((p) => p.controller !== controller || p.object.uid !== key);
  }

  /** An update of another object whose chain started before a pending deletion, to a version past it. */
  private proveAlive(record: Stored<DeliveryRecord>, key: string, held: Held, rv: string | null, rvNum: number, time: number | null): void {
    if (this.pending.length === 0) return;
    const scope = scopeOf(record.object);
    for (const p of this.pending) {
      if (p.proof || p.controller !== record.controller || p.scope !== scope || p.object.uid === key) continue;
      if (rvNum <= p.deletion.rvNum) continue;
      const chainBefore = held.chainSeq < p.deletion.seq && (held.chainTime === null || p.deletion.time === null || held.chainTime < p.deletion.time - orderSlackMs);
      if (!chainBefore) continue;
      p.proof = { seq: record.seq, rv: rv!, name: record.object.name, time };
    }
  }

  private settle(p: PendingDeletion): void {
    const missed = this.settled(p);
    if (missed) this.confirmed.push(missed);
  }

  /** The missed deletion a pending one proves, once its proof is old enough; null while it is not (or never). */
  private settled(p: PendingDeletion): MissedDeletion | null {
    if (!p.proof) return null;
    // The tombstone of a relist comes with (just before or after) the updates that prove the cache alive.
    if (p.proof.time !== null && this.lastTime !== null && this.lastTime - p.proof.time < settleMs) return null;
    return {
      controller: p.controller,
      object: p.object,
      deletion: { seq: p.deletion.seq, rv: p.deletion.rv },
      lastHandedSeq: p.lastHandedSeq,
      lastHandedRV: p.lastHandedRV,
      proof: { seq: p.proof.seq, rv: p.proof.rv, name: p.proof.name },
    };
  }
}

/**
 * What makes a handler call the same call again. Joined, not a template literal: a template builds a rope, and
 * comparing ropes walks their pieces on every \`includes\` (12 % of \`kreplay check\` on an hour's session); a joined
 * string is flat. Each part through String(), as the template did (null is "null", not "").
 */
function callSignature(record: Stored<DeliveryRecord>): string {
  return [record.handler, String(record.resourceVersion), String(record.oldResourceVersion ?? ''), String(record.tombstone), String(record.observedAt)].join('|');
}

/** group/Kind/namespace: the objects one namespaced (or cluster-wide) informer of a kind covers together. */
function scopeOf(ref: { group: string; kind: string; namespace?: string | null }): string {
  return `${ref.group}/${ref.kind}/${ref.namespace ?? ''}`;
}

/** The resourceVersion a deletion was stored at: the DELETED event's, or the DELETE's answer. */
function deletionRV(record: StoredRecord): string | null {
  if (record.record === 'watch') return record.resourceVersion;
  if (record.record === 'api') return record.resourceVersionAfter ?? null;
  return null;
}
