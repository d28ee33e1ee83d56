import { nameKey, type ObjectRef, type StoredRecord, type WatchEventRecord } from '../../model/index.js';
import { isLeaderElectionRecord, managedFieldsListOf } from '../../model/version-facts.js';
import { suppressAnnotation } from '../../model/check-config.js';
import {
  annotationOf,
  attributeWriter,
  controllerOwnerOf,
  deletionTimestampOf,
  finalizersOf,
  generationOf,
  observedGenerationOf,
  type ManagerTimes,
} from '../object-meta.js';
import { rvNumber } from '../rv.js';
import { HeldVersion, RecentSet, type BodySource, type ObjectState, type Version, type VersionSource, type WriterSource } from '../state.js';
import { kindKey, type FoldContext, type Stored } from './context.js';
import { Deliveries } from './deliveries.js';

export interface VersionInput {
  rv: string;
  type: Version['type'];
  source: VersionSource;
  body: BodySource;
  generation: number | null;
  time: number | null;
  actor?: string;
}

/**
 * Each object's history, whatever source told it: the live objects by uid and name, a bounded graveyard of deleted
 * ones (late duplicates, NotFound after deletion), and the versions. Only the newest version and the one in the
 * watcher's view keep a body; the rest are summaries.
 */
export class ObjectHistory {
  constructor(
    private readonly ctx: FoldContext,
    private readonly graveyardSize: number,
  ) {}

  /** Objects by uid, live or recently deleted. */
  byUid(uid: string): ObjectState | undefined {
    return this.ctx.state.objects.get(uid) ?? this.ctx.state.graveyard.get(uid);
  }

  /** The object a reference names: by uid when it has one, else the live (or most recently deleted) one by name. */
  resolve(ref: ObjectRef): ObjectState | undefined {
    if (ref.uid) {
      const byUid = this.byUid(ref.uid);
      if (byUid) return byUid;
    }
    const key = nameKey(ref);
    const uid = this.ctx.state.byName.get(key) ?? this.ctx.state.gravesByName.get(key);
    return uid === undefined ? undefined : this.byUid(uid);
  }

  create(ref: ObjectRef, uid: string, seq: number, streamKey: string | null): ObjectState {
    const object: ObjectState = {
      uid,
      ref: { ...ref, uid },
      key: nameKey(ref),
      kindKey: kindKey(ref),
      streamKey,
      firstSeq: seq,
      lastSeq: seq,
      latest: null,
      view: null,
      viewEpoch: -1,
      inView: false,
      deliveries: 0,
      firstDeliveredRVNum: Number.NaN,
      delivered: new Deliveries(),
      versionRVs: new RecentSet(64),
      managerTimes: null,
      suppressAnnotation: undefined,
      owner: null,
      gone: null,
    };
    const state = this.ctx.state;
    state.objects.set(uid, object);
    state.byName.set(object.key, uid);
    return object;
  }

  revive(object: ObjectState): void {
    const state = this.ctx.state;
    if (!state.graveyard.has(object.uid)) return;
    state.graveyard.delete(object.uid);
    if (state.gravesByName.get(object.key) === object.uid) state.gravesByName.delete(object.key);
    object.gone = null;
    state.objects.set(object.uid, object);
    state.byName.set(object.key, object.uid);
  }

  bury(object: ObjectState, record: StoredRecord, how: 'deleted' | 'vanished', time: number | null): void {
    object.gone = { seq: record.seq, how, time };
    this.ctx.facts.push({ type: 'gone', record, object, how, time });
    const state = this.ctx.state;
    if (!state.objects.delete(object.uid)) return;
    if (state.byName.get(object.key) === object.uid) state.byName.delete(object.key);
    state.graveyard.set(object.uid, object);
    state.gravesByName.set(object.key, object.uid);
    if (object.latest) this.ctx.release.push(object.latest);
    if (object.view) this.ctx.release.push(object.view);
    object.managerTimes = null;
    // Keep a little of a dead object's past: late duplicates of its last deliveries are still recognised.
    object.delivered.keepNewest(4);
    object.versionRVs = new RecentSet(4);
    for (let slot = 0; slot < object.delivered.size; slot++) object.versionRVs.add(object.delivered.rv(slot));
    if (object.latest) object.versionRVs.add(object.latest.rv);
    if (state.graveyard.size > this.graveyardSize) {
      const oldest = state.graveyard.keys().next().value as string;
      const dead = state.graveyard.get(oldest)!;
      state.graveyard.delete(oldest);
      if (state.gravesByName.get(dead.key) === oldest) state.gravesByName.delete(dead.key);
    }
  }

  static refOfWatch(record: WatchEventRecord): ObjectRef {
    return {
      group: record.group,
      version: record.version,
      resource: record.resource,
      kind: record.kind,
      namespace: record.namespace,
      name: record.name!,
      uid: record.uid,
    };
  }

  /**
   * Builds a version; updates the object's newest version unless this one is older (learned late). What the detectors
   * need of it comes from the record's facts when the store computed them, else from the body (model/version-facts.ts:
   * the same functions either way); the body itself stays unread until a detector looks inside.
   */
  addVersion(record: StoredRecord, object: ObjectState, input: VersionInput): Version {
    const rvNum = rvNumber(input.rv);
    const previous = object.latest;
    const late = previous !== null && !Number.isNaN(rvNum) && !Number.isNaN(previous.rvNum) && rvNum < previous.rvNum;
    const facts = record.facts;
    // A version's kind is the object's own (its body's, or discovery's): it corrects a kind an audit log had to guess.
    if (record.record === 'watch' && record.kind !== object.ref.kind) {
      object.ref = { ...object.ref, kind: record.kind };
      object.kindKey = kindKey(object.ref);
    }
    let version: Version;
    if (facts) {
      version = new HeldVersion(
        record.seq, input.rv, rvNum, input.type, input.source, input.generation, facts.observedGeneration, input.time, facts.deletionTimestamp,
        facts.finalizers, facts.writer ?? input.actor ?? null, writerVia(facts.writer, input.actor), facts.statusWrite, facts.specHash, facts.statusChanged,
        facts.leaderRecord, input.body,
      );
    } else {
      const body = typeof input.body === 'function' ? input.body() : input.body;
      const attribution = body ? attributeWriter(late ? null : this.managerTimesOf(object), body) : null;
      if (!late && attribution && attribution.times.length) object.managerTimes = attribution.times;
      version = new HeldVersion(
        record.seq, input.rv, rvNum, input.type, input.source, input.generation ?? generationOf(body), observedGenerationOf(body), input.time,
        deletionTimestampOf(body), finalizersOf(body), attribution?.writer ?? input.actor ?? null, writerVia(attribution?.writer, input.actor),
        attribution?.statusWrite ?? false,
        undefined, undefined, isLeaderElectionRecord(body), body,
      );
    }
    object.versionRVs.add(input.rv);
    object.lastSeq = record.seq;
    if (!late) {
      // The next version without facts is attributed against this one's managedFields, read from its body if needed.
      if (facts) object.managerTimes = 'latest';
      if (previous && previous !== object.view) this.ctx.release.push(previous);
      object.latest = version;
      if (facts) {
        object.suppressAnnotation = facts.suppress ?? undefined;
        object.owner = facts.owner ?? object.owner;
      } else if (version.hasBody) {
        const body = version.object;
        object.suppressAnnotation = annotationOf(body, suppressAnnotation);
        object.owner = controllerOwnerOf(body) ?? object.owner;
      }
      if (version.hasBody && version.observedGeneration !== null) this.ctx.state.observedGenerationKinds.add(object.kindKey);
    } else {
      this.ctx.release.push(version);
    }
    this.ctx.facts.push({ type: 'version', record, object, version, previous: late ? null : previous, late });
    return version;
  }

  /** The watch delivered a version already known from another source: reuse what we know, without a body. */
  viewOnlyVersion(record: Stored<WatchEventRecord> & Pick<StoredRecord, 'facts' | 'loadObject'>, time: number | null): Version {
    const facts = record.facts;
    const body = facts ? null : record.loadObject ? record.loadObject() : record.object;
    return new HeldVersion(
      record.seq,
      record.resourceVersion,
      rvNumber(record.resourceVersion),
      record.type as Version['type'],
      record.origin,
      record.generation,
      facts ? facts.observedGeneration : observedGenerationOf(body),
      time,
      facts ? facts.deletionTimestamp : deletionTimestampOf(body),
      facts ? facts.finalizers : finalizersOf(body),
      null,
      null,
      false,
      undefined,
      undefined,
      facts ? facts.leaderRecord : isLeaderElectionRecord(body),
      null,
    );
  }

  /** The managedFields the next version is attributed against. */
  private managerTimesOf(object: ObjectState): ManagerTimes | null {
    const times = object.managerTimes;
    if (times !== 'latest') return times;
    const list = managedFieldsListOf(object.latest?.object);
    return list.length ? list : null;
  }
}

function writerVia(manager: string | null | undefined, actor: string | undefined): WriterSource | null {
  if (manager) return 'managedFields';
  return actor ? 'audit-user' : null;
}
