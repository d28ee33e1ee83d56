import {
  nameKey,
  writeVerbs,
  type ApiRequestRecord,
  type DeliveryRecord,
  type MarkerRecord,
  type ObjectRef,
  type ReconcileRecord,
  type StoredRecord,
  type WatchEventRecord,
} from '../model/index.js';
import { managedFieldsListOf } from '../model/version-facts.js';
import {
  annotationOf,
  attributeWriter,
  controllerOwnerOf,
  deletionTimestampOf,
  finalizersOf,
  generationOf,
  metadataOf,
  observedGenerationOf,
  type ManagerTimes,
} from './object-meta.js';
import { compareRV, rvNumber } from './rv.js';
import {
  HeldVersion,
  RecentSet,
  isViewOrigin,
  type BodySource,
  type AnnotationTag,
  type Delivered,
  type DeliveryClass,
  type Fact,
  type GapCause,
  type ObjectState,
  type PendingVersion,
  type RecordAnnotation,
  type StreamState,
  type Version,
  type VersionSource,
} from './state.js';
import { objectTime, parseTime } from './time.js';
import { suppressAnnotation } from '../model/check-config.js';

/**
 * The fold: reads a session's records one at a time, in seq order, and keeps just enough state to say what each
 * record meant for the watcher's view (new version, relist item, re-delivery, duplicate, tombstone, ...). It emits
 * Facts that the detectors observe. Memory is bounded by the live objects (plus a bounded graveyard of deleted
 * ones), never by the session length, so a million-record session streams through.
 *
 * The model of "the watcher" is client-go's reflector + DeltaFIFO (k8s.io/client-go tools/cache/reflector.go,
 * delta_fifo.go): it lists, then watches from the list's resourceVersion; a 410 Gone forces a relist; the relist
 * replaces the store and every key missing from the new list is delivered as a Deleted delta carrying
 * cache.DeletedFinalStateUnknown (DeltaFIFO.Replace). The recorder writes exactly that loop as records: list items
 * (origin 'relist') between list-started/list-finished markers, watch events (origin 'watch') between
 * watch-started/watch-closed, and a 'gone' marker for the 410.
 */

export interface FoldOptions {
  /** Collect per-record annotations for the TUI (a map seq → annotations). Off for `check`. */
  annotate?: boolean;
  /** How many deleted objects to remember (for late duplicates and NotFound after deletion). */
  graveyardSize?: number;
  /** Deliveries remembered per object to recognise re-deliveries. */
  deliveryMemory?: number;
}

export interface FoldStats {
  records: number;
  byRecord: Record<StoredRecord['record'], number>;
  objects: number;
  liveObjects: number;
  peakLiveObjects: number;
  lists: number;
  relists: number;
  watchRestarts: number;
  staleResumes: number;
  gones: number;
  tombstones: number;
  duplicates: number;
  redeliveries: number;
  resyncs: number;
  firstTime: string | null;
  lastTime: string | null;
}

export interface FoldState {
  /** Live objects by uid. */
  readonly objects: Map<string, ObjectState>;
  /** nameKey → uid of the live object with that name. */
  readonly byName: Map<string, string>;
  /** Recently deleted objects, oldest first, bounded. */
  readonly graveyard: Map<string, ObjectState>;
  readonly gravesByName: Map<string, string>;
  readonly streams: Map<string, StreamState>;
  /** group/Kind → plural resource, learned from watch records. */
  readonly resourceByKind: Map<string, string>;
  /** group/Kind whose objects carry status.observedGeneration. */
  readonly observedGenerationKinds: Set<string>;
  /** group/Kind that reconcile records name. */
  readonly reconciledKinds: Set<string>;
  /** The session clock: the newest time any record told (epoch ms). */
  now: number | null;
  first: number | null;
  readonly annotations: Map<number, RecordAnnotation[]> | null;
  readonly stats: FoldStats;
}

/** A watch record's body, or its loader when the store read it with lazy bodies. */
function bodyOf(record: StoredRecord & { record: 'watch' }): BodySource {
  return record.loadObject ?? record.object;
}

export function kindKey(ref: { group: string; kind: string }): string {
  return `${ref.group}/${ref.kind}`;
}

type Stored<T> = T & { seq: number };

export class Fold {
  readonly state: FoldState;
  private facts: Fact[] = [];
  private release: Version[] = [];
  private readonly graveyardSize: number;
  private readonly deliveryMemory: number;

  constructor(options: FoldOptions = {}) {
    this.graveyardSize = options.graveyardSize ?? 20_000;
    this.deliveryMemory = options.deliveryMemory ?? 32;
    this.state = {
      objects: new Map(),
      byName: new Map(),
      graveyard: new Map(),
      gravesByName: new Map(),
      streams: new Map(),
      resourceByKind: new Map(),
      observedGenerationKinds: new Set(),
      reconciledKinds: new Set(),
      now: null,
      first: null,
      annotations: options.annotate ? new Map() : null,
      stats: {
        records: 0,
        byRecord: { watch: 0, marker: 0, reconcile: 0, delivery: 0, api: 0 },
        objects: 0,
        liveObjects: 0,
        peakLiveObjects: 0,
        lists: 0,
        relists: 0,
        watchRestarts: 0,
        staleResumes: 0,
        gones: 0,
        tombstones: 0,
        duplicates: 0,
        redeliveries: 0,
        resyncs: 0,
        firstTime: null,
        lastTime: null,
      },
    };
  }

  /** Folds one record in and returns what it meant. The returned facts are valid until the next call. */
  evolve(record: StoredRecord): Fact[] {
    if (this.release.length) {
      for (const version of this.release) version.object = null;
      this.release = [];
    }
    // A new array per record: cheaper than truncating one (a runtime call), and callers may keep it.
    this.facts = [];
    const state = this.state;
    state.stats.records++;
    state.stats.byRecord[record.record]++;
    const time = this.tick(record);
    switch (record.record) {
      case 'watch':
        if (record.type === 'BOOKMARK') this.onBookmark(record);
        else if (isViewOrigin(record.origin)) this.onView(record, time);
        else this.onKnownVersion(record, time);
        break;
      case 'marker':
        this.onMarker(record);
        break;
      case 'reconcile':
        this.onReconcile(record);
        break;
      case 'api':
        this.onApi(record);
        break;
      case 'delivery':
        this.onHandler(record);
        break;
    }
    state.stats.liveObjects = state.objects.size;
    if (state.objects.size > state.stats.peakLiveObjects) state.stats.peakLiveObjects = state.objects.size;
    return this.facts;
  }

  /** Fills the derived statistics; call once after the last record. */
  finish(): FoldState {
    const state = this.state;
    state.stats.firstTime = state.first === null ? null : new Date(state.first).toISOString();
    state.stats.lastTime = state.now === null ? null : new Date(state.now).toISOString();
    return state;
  }

  /** Objects by uid, live or recently deleted. */
  objectByUid(uid: string): ObjectState | undefined {
    return this.state.objects.get(uid) ?? this.state.graveyard.get(uid);
  }

  /** The object a reference names: by uid when it has one, else the live (or most recently deleted) one by name. */
  resolve(ref: ObjectRef): ObjectState | undefined {
    if (ref.uid) {
      const byUid = this.objectByUid(ref.uid);
      if (byUid) return byUid;
    }
    const key = nameKey(ref);
    const uid = this.state.byName.get(key) ?? this.state.gravesByName.get(key);
    return uid === undefined ? undefined : this.objectByUid(uid);
  }

  private annotate(seq: number, tag: AnnotationTag, note: string, uid?: string): void {
    const annotations = this.state.annotations;
    if (!annotations) return;
    const list = annotations.get(seq);
    const entry: RecordAnnotation = uid === undefined ? { tag, note } : { tag, note, uid };
    if (list) list.push(entry);
    else annotations.set(seq, [entry]);
  }

  /** Advances the session clock; returns the record's own time (for watch records: observedAt, else metadata). */
  private tick(record: StoredRecord): number | null {
    let time = parseTime(record.record === 'reconcile' ? record.finishedAt : record.observedAt);
    if (time === null && record.record === 'watch') time = record.facts ? record.facts.time : objectTime(record.loadObject ? record.loadObject() : record.object);
    if (time === null) return null;
    const state = this.state;
    if (state.now === null || time > state.now) state.now = time;
    if (state.first === null || time < state.first) state.first = time;
    return time;
  }

  // ---------------------------------------------------------------- streams

  private streamKeyOf(live: boolean, group: string, resource: string, namespace: string | null | undefined): string {
    return `${live ? 'live' : 'import'}|${group}/${resource}|${namespace ?? '*'}`;
  }

  private newStream(key: string, group: string, resource: string, namespace: string | null, implicit: boolean): StreamState {
    if (namespace !== null) this.scopedStreams = true;
    const stream: StreamState = {
      key,
      live: key.startsWith('live|'),
      group,
      resource,
      namespace,
      implicit,
      phase: 'idle',
      complete: false,
      epoch: 0,
      epochStartRVNum: Number.NaN,
      lastRV: null,
      lastRVNum: Number.NaN,
      lastSeq: 0,
      events: 0,
      lists: 0,
      members: new Set(),
      listing: null,
      pendingGap: null,
      staleResume: null,
      resyncSeq: null,
      pending: [],
    };
    this.state.streams.set(key, stream);
    return stream;
  }

  private lastStream: StreamState | null = null;

  /** The stream a watch record belongs to; an implicit one is created for marker-less sources. */
  private streamOfRecord(record: WatchEventRecord): StreamState {
    // Consecutive records are almost always of the same stream: skip the key building then.
    const last = this.lastStream;
    if (last && last.resource === record.resource && last.group === record.group && last.live === (record.origin !== 'import') && (last.namespace === null ? !this.scopedStreams : last.namespace === record.namespace)) {
      return last;
    }
    const stream = this.findStreamOfRecord(record);
    this.lastStream = stream;
    return stream;
  }

  private scopedStreams = false;

  private findStreamOfRecord(record: WatchEventRecord): StreamState {
    const live = record.origin !== 'import';
    const scoped = record.namespace ? this.state.streams.get(this.streamKeyOf(live, record.group, record.resource, record.namespace)) : undefined;
    if (scoped) return scoped;
    const key = this.streamKeyOf(live, record.group, record.resource, null);
    return this.state.streams.get(key) ?? this.newStream(key, record.group, record.resource, null, true);
  }

  private streamOfMarker(marker: MarkerRecord): StreamState | null {
    if (!marker.resource) return null;
    const group = marker.group ?? '';
    const key = this.streamKeyOf(true, group, marker.resource, marker.namespace);
    let stream = this.state.streams.get(key);
    if (!stream) stream = this.newStream(key, group, marker.resource, marker.namespace ?? null, false);
    // A marker proves a recorder drives this stream: it is no longer implicit.
    stream.implicit = false;
    if (marker.kind) this.state.resourceByKind.set(`${group}/${marker.kind}`, marker.resource);
    return stream;
  }

  /** The watched stream that should deliver this object's versions, if any. */
  private streamOfObject(object: ObjectState): StreamState | undefined {
    if (object.streamKey) return this.state.streams.get(object.streamKey);
    const resource = object.ref.resource ?? this.state.resourceByKind.get(kindKey(object.ref));
    if (!resource) return undefined;
    for (const live of [true, false]) {
      const stream =
        (object.ref.namespace ? this.state.streams.get(this.streamKeyOf(live, object.ref.group, resource, object.ref.namespace)) : undefined) ??
        this.state.streams.get(this.streamKeyOf(live, object.ref.group, resource, null));
      if (stream) return stream;
    }
    return undefined;
  }

  private startListing(stream: StreamState, seq: number, initialEvents: boolean, explicit = true): void {
    const prior = stream.lists > 0 || stream.members.size > 0;
    const cause: GapCause | null = stream.pendingGap?.cause ?? (prior ? 'relist' : null);
    const hidden = new Map<string, PendingVersion[]>();
    for (const p of stream.pending) {
      const list = hidden.get(p.uid);
      if (list) list.push(p);
      else hidden.set(p.uid, [p]);
    }
    stream.pending = [];
    stream.listing = { startSeq: seq, initialEvents, explicit, prior, cause, gap: stream.pendingGap, listed: new Set(), changed: [], hidden };
    stream.phase = initialEvents ? 'initial' : 'listing';
    stream.epoch++;
    stream.staleResume = null;
    stream.resyncSeq = null;
    if (prior) this.state.stats.relists++;
    else this.state.stats.lists++;
  }

  /** The list (or the initial events of a watch) is complete: replace the view, as DeltaFIFO.Replace does. */
  private finishListing(stream: StreamState, record: StoredRecord, listRV: string | undefined, computeVanished: boolean): void {
    const listing = stream.listing;
    computeVanished &&= listing?.explicit ?? false;
    stream.listing = null;
    stream.phase = 'watching';
    stream.complete = true;
    stream.lists++;
    if (!listing) return;
    const listRVNum = rvNumber(listRV);
    let maxListed = Number.NaN;
    const vanished: ObjectState[] = [];
    if (computeVanished) {
      for (const uid of stream.members) {
        if (listing.listed.has(uid)) continue;
        const object = this.state.objects.get(uid);
        if (object) vanished.push(object);
      }
    }
    for (const uid of listing.listed) {
      const v = this.state.objects.get(uid)?.view?.rvNum ?? Number.NaN;
      if (!Number.isNaN(v) && (Number.isNaN(maxListed) || v > maxListed)) maxListed = v;
    }
    // Writes known from audit/API records that fell into the gap, attached to the objects that changed across it.
    for (const p of stream.pending) {
      if (Number.isNaN(listRVNum) || p.rvNum <= listRVNum) {
        const list = listing.hidden.get(p.uid);
        if (list) list.push(p);
        else listing.hidden.set(p.uid, [p]);
      }
    }
    stream.pending = Number.isNaN(listRVNum) ? [] : stream.pending.filter((p) => p.rvNum > listRVNum);
    for (const change of listing.changed) {
      const hidden = listing.hidden.get(change.object.uid);
      if (hidden) change.hidden = hidden.filter((p) => (Number.isNaN(change.from.rvNum) || p.rvNum > change.from.rvNum) && (Number.isNaN(change.to.rvNum) || p.rvNum < change.to.rvNum));
    }
    stream.epochStartRVNum = Number.isNaN(listRVNum) ? maxListed : listRVNum;
    if (listRV) {
      stream.lastRV = listRV;
      stream.lastRVNum = listRVNum;
    }
    const gap = listing.gap;
    stream.pendingGap = null;
    if (listing.prior || vanished.length || listing.changed.length) {
      this.facts.push({ type: 'relist', record, stream, cause: listing.cause, gap, changed: listing.changed, vanished });
    }
    for (const object of vanished) {
      stream.members.delete(object.uid);
      object.inView = false;
      this.state.stats.tombstones++;
      this.annotate(
        record.seq,
        'tombstone',
        `${object.ref.kind} ${object.ref.namespace ? `${object.ref.namespace}/` : ''}${object.ref.name} is missing from the list: client-go delivers DeletedFinalStateUnknown`,
        object.uid,
      );
      this.bury(object, record, 'vanished', this.state.now);
    }
  }

  // ---------------------------------------------------------------- objects

  private createObject(ref: ObjectRef, uid: string, seq: number, streamKey: string | null): ObjectState {
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
      delivered: [],
      deliveredMaxRVNum: Number.NEGATIVE_INFINITY,
      deliveredNext: 0,
      versionRVs: new RecentSet(64),
      managerTimes: null,
      suppressAnnotation: undefined,
      owner: null,
      gone: null,
    };
    this.state.objects.set(uid, object);
    this.state.byName.set(object.key, uid);
    this.state.stats.objects++;
    return object;
  }

  private revive(object: ObjectState): void {
    if (!this.state.graveyard.has(object.uid)) return;
    this.state.graveyard.delete(object.uid);
    if (this.state.gravesByName.get(object.key) === object.uid) this.state.gravesByName.delete(object.key);
    object.gone = null;
    this.state.objects.set(object.uid, object);
    this.state.byName.set(object.key, object.uid);
  }

  private bury(object: ObjectState, record: StoredRecord, how: 'deleted' | 'vanished', time: number | null): void {
    object.gone = { seq: record.seq, how, time };
    this.facts.push({ type: 'gone', record, object, how, time });
    const state = this.state;
    if (!state.objects.delete(object.uid)) return;
    if (state.byName.get(object.key) === object.uid) state.byName.delete(object.key);
    state.graveyard.set(object.uid, object);
    state.gravesByName.set(object.key, object.uid);
    if (object.latest) this.release.push(object.latest);
    if (object.view) this.release.push(object.view);
    object.managerTimes = null;
    // Keep a little of a dead object's past: late duplicates of its last deliveries are still recognised.
    if (object.delivered.length > 4) {
      object.delivered = [...object.delivered].sort((a, b) => a.order - b.order).slice(-4);
      object.deliveredNext = 0;
    }
    object.versionRVs = new RecentSet(4);
    for (const d of object.delivered) object.versionRVs.add(d.rv);
    if (object.latest) object.versionRVs.add(object.latest.rv);
    if (state.graveyard.size > this.graveyardSize) {
      const oldest = state.graveyard.keys().next().value as string;
      const dead = state.graveyard.get(oldest)!;
      state.graveyard.delete(oldest);
      if (state.gravesByName.get(dead.key) === oldest) state.gravesByName.delete(dead.key);
    }
  }

  private refOfWatch(record: WatchEventRecord): ObjectRef {
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
  private addVersion(
    record: StoredRecord,
    object: ObjectState,
    input: { rv: string; type: Version['type']; source: VersionSource; body: BodySource; generation: number | null; time: number | null; actor?: string },
  ): Version {
    const rvNum = rvNumber(input.rv);
    const previous = object.latest;
    const late = previous !== null && !Number.isNaN(rvNum) && !Number.isNaN(previous.rvNum) && rvNum < previous.rvNum;
    const facts = record.facts;
    let version: Version;
    if (facts) {
      version = new HeldVersion(
        record.seq, input.rv, rvNum, input.type, input.source, input.generation, facts.observedGeneration, input.time, facts.deletionTimestamp,
        facts.finalizers, facts.writer ?? input.actor ?? null, facts.statusWrite, facts.specHash, facts.statusChanged, input.body,
      );
    } else {
      const body = typeof input.body === 'function' ? input.body() : input.body;
      const attribution = body ? attributeWriter(late ? null : this.managerTimesOf(object), body) : null;
      if (!late && attribution && attribution.times.length) object.managerTimes = attribution.times;
      version = new HeldVersion(
        record.seq, input.rv, rvNum, input.type, input.source, input.generation ?? generationOf(body), observedGenerationOf(body), input.time,
        deletionTimestampOf(body), finalizersOf(body), attribution?.writer ?? input.actor ?? null, attribution?.statusWrite ?? false,
        undefined, undefined, body,
      );
    }
    object.versionRVs.add(input.rv);
    object.lastSeq = record.seq;
    if (!late) {
      // The next version without facts is attributed against this one's managedFields, read from its body if needed.
      if (facts) object.managerTimes = 'latest';
      if (previous && previous !== object.view) this.release.push(previous);
      object.latest = version;
      if (facts) {
        object.suppressAnnotation = facts.suppress ?? undefined;
        object.owner = facts.owner ?? object.owner;
      } else if (version.hasBody) {
        const body = version.object;
        object.suppressAnnotation = annotationOf(body, suppressAnnotation);
        object.owner = controllerOwnerOf(body) ?? object.owner;
      }
      if (version.hasBody && version.observedGeneration !== null) this.state.observedGenerationKinds.add(object.kindKey);
    } else {
      this.release.push(version);
    }
    this.facts.push({ type: 'version', record, object, version, previous: late ? null : previous, late });
    return version;
  }

  /** The managedFields the next version is attributed against. */
  private managerTimesOf(object: ObjectState): ManagerTimes | null {
    const times = object.managerTimes;
    if (times !== 'latest') return times;
    const list = managedFieldsListOf(object.latest?.object);
    return list.length ? list : null;
  }

  // Both scans compare the numeric RV first: RV strings read from the store are fresh, unhashed strings, and
  // comparing them character by character on every delivery was the fold's largest single cost.
  private findDelivered(object: ObjectState, rv: string, rvNum: number, type: string): Delivered | null {
    const ring = object.delivered;
    const numeric = !Number.isNaN(rvNum);
    if (numeric && rvNum > object.deliveredMaxRVNum) return null;
    // Newest first: the ring is circular once full (see recordDelivery).
    const n = ring.length;
    const newest = n < this.deliveryMemory ? n - 1 : (object.deliveredNext + n - 1) % n;
    for (let k = 0; k < n; k++) {
      const d = ring[(newest - k + n) % n]!;
      if ((numeric ? d.rvNum === rvNum : d.rv === rv) && d.type === type && d.rv === rv) return d;
    }
    return null;
  }

  private wasDelivered(object: ObjectState, rv: string, rvNum = rvNumber(rv)): boolean {
    const ring = object.delivered;
    const numeric = !Number.isNaN(rvNum);
    if (numeric && rvNum > object.deliveredMaxRVNum) return false;
    for (const d of ring) if ((numeric ? d.rvNum === rvNum : true) && d.rv === rv) return true;
    return false;
  }

  /** The oldest delivery still remembered. */
  private oldestDelivered(object: ObjectState): Delivered | undefined {
    const ring = object.delivered;
    return ring.length < this.deliveryMemory ? ring[0] : ring[object.deliveredNext];
  }

  /**
   * Remembers one delivery. The ring is circular once it holds `deliveryMemory` entries, and the oldest entry is
   * overwritten in place: one delivery per watch event, and no fact keeps a Delivered past its record.
   */
  private recordDelivery(object: ObjectState, rv: string, rvNum: number, type: string, seq: number, time: number | null, epoch: number): void {
    const ring = object.delivered;
    const order = object.deliveries;
    if (ring.length < this.deliveryMemory) {
      ring.push({ rv, rvNum, type, seq, time, order, epoch });
    } else {
      const slot = object.deliveredNext;
      const d = ring[slot] as { -readonly [K in keyof Delivered]: Delivered[K] };
      d.rv = rv;
      d.rvNum = rvNum;
      d.type = type;
      d.seq = seq;
      d.time = time;
      d.order = order;
      d.epoch = epoch;
      object.deliveredNext = (slot + 1) % ring.length;
    }
    if (rvNum > object.deliveredMaxRVNum) object.deliveredMaxRVNum = rvNum;
  }

  // ---------------------------------------------------------------- watch records

  private onBookmark(record: Stored<WatchEventRecord>): void {
    if (!isViewOrigin(record.origin)) return;
    const stream = this.streamOfRecord(record);
    const annotations = (record.object?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
    if (stream.phase === 'initial') {
      // sendInitialEvents=true ends its initial state with a bookmark annotated k8s.io/initial-events-end
      // (apimachinery pkg/apis/meta/v1/types.go InitialEventsAnnotationKey); client-go then calls Replace.
      if (annotations?.['k8s.io/initial-events-end'] === 'true') this.finishListing(stream, record, record.resourceVersion, true);
      else if (stream.listing) this.endInitialWithoutReplace(stream);
    }
    this.advance(stream, record.seq, record.resourceVersion);
  }

  /** A legacy watch from RV "0"/"" sends synthetic ADDED events and no end marker: no vanish computation. */
  private endInitialWithoutReplace(stream: StreamState): void {
    const listing = stream.listing;
    stream.listing = null;
    stream.phase = 'watching';
    stream.complete = true;
    let max = Number.NaN;
    if (listing) {
      for (const uid of listing.listed) {
        const v = this.state.objects.get(uid)?.view?.rvNum ?? Number.NaN;
        if (!Number.isNaN(v) && (Number.isNaN(max) || v > max)) max = v;
      }
    }
    stream.epochStartRVNum = max;
    stream.pendingGap = null;
  }

  private onView(record: Stored<WatchEventRecord>, time: number | null): void {
    const stream = this.streamOfRecord(record);
    if (stream.events === 0 && stream.implicit && stream.phase === 'idle') {
      // A marker-less stream (kubectl get -w dump): kubectl lists first and prints the items as ADDED, so a
      // stream that starts with ADDED events starts with a full listing.
      if (record.type === 'ADDED') this.startListing(stream, record.seq, true);
      else stream.phase = 'watching';
    }
    stream.events++;
    if (stream.phase === 'initial' && record.type !== 'ADDED') this.endInitialWithoutReplace(stream);
    // List items without list markers: the list ends with the first watch event (no vanish computation then).
    if (record.origin === 'relist' && stream.phase !== 'listing') this.startListing(stream, record.seq, false, false);
    if (record.origin !== 'relist' && stream.phase === 'listing' && stream.listing && !stream.listing.explicit) this.finishListing(stream, record, undefined, false);
    if (stream.phase === 'idle' || stream.phase === 'closed') stream.phase = 'watching';
    const listing = stream.phase === 'listing' || stream.phase === 'initial';

    const uid = record.uid!;
    const rv = record.resourceVersion;
    const rvNum = rvNumber(rv);
    let object = this.objectByUid(uid);
    if (!object) object = this.createObject(this.refOfWatch(record), uid, record.seq, stream.key);
    object.streamKey ??= stream.key;
    const isGrave = object.gone !== null;
    const previous = object.view;
    const original = this.findDelivered(object, rv, rvNum, record.type);

    let classification: DeliveryClass;
    if (listing) {
      classification = previous?.rv === rv ? 'redelivery' : stream.listing?.initialEvents ? 'initial-event' : 'relist';
    } else if (original) {
      if (stream.resyncSeq !== null && previous?.rv === rv) classification = 'resync';
      else if (stream.implicit && record.type === 'ADDED' && previous?.rv === rv) classification = 'redelivery';
      else classification = 'duplicate';
    } else if (previous && !Number.isNaN(rvNum) && !Number.isNaN(previous.rvNum) && rvNum < previous.rvNum) {
      classification = 'out-of-order';
    } else {
      classification = 'new';
    }
    const continuous = previous !== null && !listing && object.viewEpoch === stream.epoch;
    const unseen = classification === 'new' && record.type !== 'ADDED' && stream.complete && object.deliveries === 0;

    switch (classification) {
      case 'new':
        break;
      case 'relist':
        this.annotate(record.seq, 'relist', 'list item');
        break;
      case 'initial-event':
        this.annotate(record.seq, 'initial-event', 'initial state sent by the watch (not a change)');
        break;
      case 'redelivery':
        this.state.stats.redeliveries++;
        this.annotate(record.seq, 'redelivery', 'same version re-delivered by a relist: not a duplicate');
        if (listing) this.annotate(record.seq, 'relist', 'list item');
        break;
      case 'resync':
        this.state.stats.resyncs++;
        this.annotate(record.seq, 'resync', 'informer resync: same version re-delivered on purpose');
        break;
      case 'duplicate':
        this.state.stats.duplicates++;
        this.annotate(record.seq, 'duplicate', `resourceVersion ${rv} was already delivered${original ? ` at seq ${original.seq}` : ''}`);
        break;
      case 'out-of-order':
        this.annotate(record.seq, 'out-of-order', `older than resourceVersion ${previous?.rv} already delivered`);
        break;
    }
    if (unseen) this.annotate(record.seq, 'unseen', `${record.type} for an object the watch never added or listed`);

    const advancing = classification === 'new' || classification === 'relist' || classification === 'initial-event' || classification === 'redelivery';
    let version: Version | null = null;
    if (advancing && isGrave && record.type !== 'DELETED') this.revive(object);
    const isNewVersion = !object.versionRVs.has(rv);

    // The delivery fact goes first: detectors see the watcher's view before the version it carries.
    this.facts.push({ type: 'delivery', record, object, stream, classification, previous, continuous, unseen, original });

    if (isNewVersion) {
      version = this.addVersion(record, object, {
        rv,
        type: record.type as Version['type'],
        source: record.origin,
        body: bodyOf(record),
        generation: record.generation,
        time,
      });
    } else if (advancing) {
      version = object.latest?.rv === rv ? object.latest : this.viewOnlyVersion(record, time);
    }

    if (advancing && version && classification !== 'redelivery') {
      object.deliveries++;
      if (Number.isNaN(object.firstDeliveredRVNum)) object.firstDeliveredRVNum = rvNum;
      this.recordDelivery(object, rv, rvNum, record.type, record.seq, time, stream.epoch);
      if (listing && stream.listing?.prior && previous && previous.rv !== rv && object.inView) {
        stream.listing.changed.push({ object, from: previous, to: version, hidden: [] });
      }
      if (previous && previous !== object.latest && previous !== version) this.release.push(previous);
      object.view = version;
      object.viewEpoch = stream.epoch;
    } else if (advancing && classification === 'redelivery') {
      object.viewEpoch = stream.epoch;
    }
    if (advancing) {
      if (listing) stream.listing?.listed.add(uid);
      if (record.type === 'DELETED') {
        object.inView = false;
        stream.members.delete(uid);
      } else {
        object.inView = true;
        stream.members.add(uid);
      }
    }
    if (record.type === 'DELETED' && advancing && object.gone === null) this.bury(object, record, 'deleted', time);
    if (!listing) this.advance(stream, record.seq, rv);
  }

  /** The watch delivered a version already known from another source: reuse what we know, without a body. */
  private viewOnlyVersion(record: Stored<WatchEventRecord> & Pick<StoredRecord, 'facts' | 'loadObject'>, time: number | null): Version {
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
      false,
      undefined,
      undefined,
      null,
    );
  }

  /** A version learned outside the watch (audit log, ingest): the watch should deliver it too. */
  private onKnownVersion(record: Stored<WatchEventRecord>, time: number | null): void {
    const uid = record.uid!;
    let object = this.objectByUid(uid);
    if (!object) object = this.createObject(this.refOfWatch(record), uid, record.seq, null);
    const rv = record.resourceVersion;
    if (!object.versionRVs.has(rv)) {
      this.addVersion(record, object, {
        rv,
        type: record.type as Version['type'],
        source: record.origin,
        body: bodyOf(record),
        generation: record.generation,
        time,
      });
    }
    if (record.type === 'DELETED') {
      // With no watch on this resource the audit log is the only truth about the deletion.
      if (!this.streamOfObject(object) && object.gone === null) this.bury(object, record, 'deleted', parseTime(record.observedAt));
      return;
    }
    this.expect(object, record.seq, rv, record.origin);
  }

  /**
   * A version that provably exists (from an audit log or an API response) must show up in the watch of its
   * resource: one watch delivers every change in resourceVersion order (apiserver pkg/storage/cacher). Once the
   * same continuous watch delivers anything newer without it, the version was lost.
   */
  private expect(object: ObjectState, seq: number, rv: string, source: VersionSource): void {
    if (this.wasDelivered(object, rv)) return;
    const stream = this.streamOfObject(object);
    if (!stream || stream.phase === 'idle') return;
    const rvNum = rvNumber(rv);
    if (Number.isNaN(rvNum)) return;
    // Older than every delivery still remembered: it may have been delivered and forgotten. Say nothing.
    const oldest = this.oldestDelivered(object);
    if (oldest && object.delivered.length >= this.deliveryMemory && rvNum < oldest.rvNum) return;
    if (!Number.isNaN(stream.epochStartRVNum) && rvNum <= stream.epochStartRVNum) return;
    if (stream.pending.some((p) => p.uid === object.uid && p.rv === rv)) return;
    const pending: PendingVersion = { uid: object.uid, seq, rv, rvNum, source };
    if (stream.phase === 'watching' && !Number.isNaN(stream.epochStartRVNum) && !Number.isNaN(stream.lastRVNum) && stream.lastRVNum > rvNum && stream.lastRV !== null) {
      this.facts.push({ type: 'missed', object, missed: pending, proof: { seq: stream.lastSeq, rv: stream.lastRV }, stream });
      return;
    }
    stream.pending.push(pending);
  }

  /** The stream moved to `rv` (an event or a bookmark): every pending version below it was skipped. */
  private advance(stream: StreamState, seq: number, rv: string): void {
    const rvNum = rvNumber(rv);
    if (Number.isNaN(rvNum)) return;
    if (Number.isNaN(stream.lastRVNum) || rvNum >= stream.lastRVNum) {
      stream.lastRV = rv;
      stream.lastRVNum = rvNum;
      stream.lastSeq = seq;
    }
    if (stream.pending.length === 0 || Number.isNaN(stream.epochStartRVNum)) return;
    const keep: PendingVersion[] = [];
    for (const p of stream.pending) {
      if (p.rvNum > rvNum) {
        keep.push(p);
        continue;
      }
      const object = this.objectByUid(p.uid);
      if (!object || this.wasDelivered(object, p.rv, p.rvNum) || p.rvNum <= stream.epochStartRVNum) continue;
      if (p.rvNum === rvNum) continue;
      this.facts.push({ type: 'missed', object, missed: p, proof: { seq, rv }, stream });
    }
    stream.pending = keep;
  }

  // ---------------------------------------------------------------- markers

  private onMarker(record: Stored<MarkerRecord>): void {
    const stream = this.streamOfMarker(record);
    const streams = stream ? [stream] : [...this.state.streams.values()];
    switch (record.marker) {
      case 'list-started':
        if (stream) this.startListing(stream, record.seq, false);
        break;
      case 'list-finished':
        if (stream) {
          if (!stream.listing) this.startListing(stream, record.seq, false);
          this.finishListing(stream, record, record.resourceVersion, true);
        }
        break;
      case 'watch-started':
        if (stream) this.watchStarted(stream, record);
        break;
      case 'watch-closed':
        if (stream && stream.phase === 'watching') stream.phase = 'closed';
        break;
      case 'gone':
        this.state.stats.gones++;
        for (const s of streams) s.pendingGap = { cause: 'gone', seq: record.seq, resourceVersion: record.resourceVersion };
        this.annotate(record.seq, 'gap', `410 Gone${record.resourceVersion ? `: resourceVersion ${record.resourceVersion} is too old` : ''}; a relist follows`);
        break;
      case 'error':
        for (const s of streams) s.pendingGap ??= { cause: 'error', seq: record.seq };
        break;
      case 'resync':
        for (const s of streams) s.resyncSeq = record.seq;
        break;
      case 'recorder-started':
        for (const s of streams) {
          if (s.events === 0 && s.lists === 0) continue;
          s.pendingGap = { cause: 'recorder-restart', seq: record.seq };
          s.complete = false;
          s.epoch++;
          s.phase = 'idle';
          s.pending = [];
        }
        if (this.state.stats.records > 1) this.annotate(record.seq, 'recorder-gap', 'the recorder restarted: changes while it was down are unknown');
        break;
      case 'recorder-stopped':
        for (const s of streams) s.phase = 'closed';
        break;
      case 'dropped':
      case 'gap':
        for (const s of streams) {
          s.pendingGap ??= { cause: 'dropped', seq: record.seq };
          s.complete = false;
          s.epoch++;
          s.pending = [];
        }
        this.annotate(record.seq, 'recorder-gap', `the recorder lost ${record.count ?? 'some'} record(s): the view is incomplete until the next list`);
        break;
    }
    this.facts.push({ type: 'marker', record, stream });
  }

  private watchStarted(stream: StreamState, record: Stored<MarkerRecord>): void {
    const rv = record.resourceVersion;
    this.state.stats.watchRestarts++;
    stream.resyncSeq = null;
    if (!rv || rv === '0') {
      // RV "" / "0": the server first sends the current state as synthetic ADDED events (a list in disguise).
      this.startListing(stream, record.seq, true);
      return;
    }
    if (stream.lastRV === null) {
      stream.epoch++;
      stream.epochStartRVNum = rvNumber(rv);
    } else if (rv !== stream.lastRV) {
      const order = compareRV(rv, stream.lastRV);
      if (order !== undefined && order < 0) {
        // Resuming from an RV older than one already delivered: the server re-sends the events in between.
        stream.staleResume = { seq: record.seq, rv };
        this.state.stats.staleResumes++;
        this.annotate(record.seq, 'stale-resume', `watch resumed from resourceVersion ${rv} although ${stream.lastRV} was already delivered: events in between come again`);
      } else {
        stream.epoch++;
        stream.epochStartRVNum = rvNumber(rv);
      }
    }
    stream.phase = 'watching';
  }

  // ---------------------------------------------------------------- controller-side records

  private onReconcile(record: Stored<ReconcileRecord>): void {
    this.state.reconciledKinds.add(kindKey(record.object));
    this.facts.push({ type: 'reconcile', record, object: this.resolve(record.object) });
  }

  private onHandler(record: Stored<DeliveryRecord>): void {
    const resync = record.handler === 'update' && record.oldResourceVersion != null && record.oldResourceVersion === record.resourceVersion;
    if (resync) {
      this.state.stats.resyncs++;
      this.annotate(record.seq, 'resync', 'informer resync: UpdateFunc with old and new at the same resourceVersion');
    }
    if (record.tombstone) this.annotate(record.seq, 'tombstone', 'OnDelete received cache.DeletedFinalStateUnknown');
    this.facts.push({ type: 'handler', record, object: this.resolve(record.object), resync });
  }

  private onApi(record: Stored<ApiRequestRecord>): void {
    let object = this.resolve(record.object);
    let version: Version | null = null;
    const ok = record.code >= 200 && record.code < 300;
    if (ok && writeVerbs.includes(record.verb) && record.verb !== 'deletecollection') {
      const body = record.responseObject ?? null;
      const meta = metadataOf(body);
      const isObject = body !== null && body.kind !== 'Status' && typeof meta?.resourceVersion === 'string';
      // A DELETE answers with the object as it was, unless finalizers hold it: then it is the updated object
      // carrying deletionTimestamp (apiserver pkg/registry/generic/registry/store.go Delete).
      const finalDelete = record.verb === 'delete' && !(isObject && deletionTimestampOf(body) && finalizersOf(body).length > 0);
      const uid = (isObject && typeof meta?.uid === 'string' ? meta.uid : undefined) ?? record.object.uid ?? object?.uid;
      if (object && uid && object.uid !== uid && !finalDelete) object = this.objectByUid(uid);
      if (!object && uid && !finalDelete) object = this.createObject(record.object, uid, record.seq, null);
      const rv = isObject ? (meta!.resourceVersion as string) : (record.resourceVersionAfter ?? undefined);
      if (object && !finalDelete) {
        const time = parseTime(record.observedAt);
        if (isObject && rv && !object.versionRVs.has(rv)) {
          version = this.addVersion(record, object, {
            rv,
            type: record.verb === 'create' ? 'ADDED' : 'MODIFIED',
            source: 'api',
            body,
            generation: null,
            time,
            actor: record.actor,
          });
        }
        if (rv) this.expect(object, record.seq, rv, 'api');
      }
      if (object && finalDelete && object.gone === null && !this.streamOfObject(object)) this.bury(object, record, 'deleted', parseTime(record.observedAt));
    }
    this.facts.push({ type: 'api', record, object, version });
  }
}

/** One record in, the facts it produced out: the fold as a plain function over a Fold instance. */
export function evolve(fold: Fold, record: StoredRecord): readonly Fact[] {
  return fold.evolve(record);
}
