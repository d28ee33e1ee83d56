import type {
  ApiRequestRecord,
  DeliveryRecord,
  KubeObject,
  MarkerRecord,
  ObjectRef,
  Origin,
  ReconcileRecord,
  ReconcileStartRecord,
  StoredRecord,
  WatchEventRecord,
} from '../model/index.js';
import type { ManagerTimes, OwnerRef } from './object-meta.js';
import type { Deliveries } from './fold/deliveries.js';

/** Where a version of an object was learned: a watch record's origin, or an API request's response. */
export type VersionSource = Origin | 'api';

/** Origins that make up the watcher's view: what a client-go reflector would have put into its store. */
export const viewOrigins: ReadonlySet<Origin> = new Set<Origin>(['watch', 'relist', 'import']);

/** viewOrigins.has, without hashing the origin string of every record. */
export function isViewOrigin(origin: Origin): boolean {
  return origin === 'watch' || origin === 'relist' || origin === 'import';
}

/** How a version's writer is known: a managedFields manager, or (audit policies that omit managedFields) the audit user. */
export type WriterSource = 'managedFields' | 'audit-user';

/** One version of one object: a compact summary, plus the body while it is the newest. */
export interface Version {
  readonly seq: number;
  readonly rv: string;
  /** The RV as a number, NaN when it is not numeric (see rv.ts). */
  readonly rvNum: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly source: VersionSource;
  readonly generation: number | null;
  readonly observedGeneration: number | null;
  /** Epoch ms: observedAt, else the object's own newest managedFields time; null when nothing tells. */
  readonly time: number | null;
  readonly deletionTimestamp: string | null;
  readonly finalizers: readonly string[];
  /** The field manager that wrote it (managedFields), or the API actor; null when unknown. */
  readonly writer: string | null;
  /** Where `writer` came from: the object's managedFields, or the audit user of the write it answered. */
  readonly writerVia: WriterSource | null;
  /** The writer's managedFields entry is for the status subresource. */
  readonly statusWrite: boolean;
  /** The version has a body (reading `object` may still cost a decode: ask this first when a body is optional). */
  readonly hasBody: boolean;
  /** Fingerprint of `.spec` from the version's facts; undefined when only the body can tell (specHashOf). */
  readonly specHash: number | undefined;
  /** Whether `.status` changed since the object's previous version, from the facts; undefined when only bodies can tell. */
  readonly statusChanged: boolean | null | undefined;
  /** The body holds a leader-election record (model/version-facts.ts), from the facts; undefined when only the body can tell. */
  readonly leaderRecord: boolean | undefined;
  /**
   * The body, decoded on first read when it came from the store. The fold drops it once a newer version exists, so
   * detectors must not keep it, and should read it only when they need to look inside.
   */
  object: KubeObject | null;
}

/** A version's body: the object itself, or a loader that decodes it on first read (a store read with lazy bodies). */
export type BodySource = KubeObject | (() => KubeObject | null) | null;

/** The fold's Version: `object` decodes the body on first read, so nothing is decoded until a detector looks. */
export class HeldVersion implements Version {
  private body: BodySource;
  constructor(
    readonly seq: number,
    readonly rv: string,
    readonly rvNum: number,
    readonly type: 'ADDED' | 'MODIFIED' | 'DELETED',
    readonly source: VersionSource,
    readonly generation: number | null,
    readonly observedGeneration: number | null,
    readonly time: number | null,
    readonly deletionTimestamp: string | null,
    readonly finalizers: readonly string[],
    readonly writer: string | null,
    readonly writerVia: WriterSource | null,
    readonly statusWrite: boolean,
    readonly specHash: number | undefined,
    readonly statusChanged: boolean | null | undefined,
    readonly leaderRecord: boolean | undefined,
    body: BodySource,
  ) {
    this.body = body;
  }
  get hasBody(): boolean {
    return this.body !== null;
  }
  get object(): KubeObject | null {
    if (typeof this.body === 'function') this.body = this.body();
    return this.body;
  }
  /** Setting null releases the body (and whatever the loader holds). */
  set object(value: KubeObject | null) {
    this.body = value;
  }
}

/** One delivery by the watcher, kept in a short per-object ring to recognise re-deliveries. */
export interface Delivered {
  readonly rv: string;
  readonly rvNum: number;
  readonly type: string;
  readonly seq: number;
  readonly time: number | null;
  /** Position among this object's deliveries: "older" means "delivered earlier". */
  readonly order: number;
  readonly epoch: number;
}

/** How the watcher's view classified one watch record. */
export const deliveryClasses = ['new', 'relist', 'redelivery', 'initial-event', 'resync', 'duplicate', 'out-of-order'] as const;
export type DeliveryClass = (typeof deliveryClasses)[number];

/** Why a stream's view was rebuilt from a list. */
export const gapCauses = ['gone', 'error', 'relist', 'recorder-restart', 'dropped'] as const;
export type GapCause = (typeof gapCauses)[number];

export interface GapInfo {
  cause: GapCause;
  seq: number;
  resourceVersion?: string | undefined;
}

/** Per-object state of the fold, keyed by uid: a re-created object with the same name is a new ObjectState. */
export interface ObjectState {
  readonly uid: string;
  ref: ObjectRef;
  /** group/Kind/namespace/name: the name identity shared by every incarnation. */
  key: string;
  /** group/Kind (fold.ts kindKey). */
  kindKey: string;
  streamKey: string | null;
  firstSeq: number;
  lastSeq: number;
  /** The newest version known from any source. */
  latest: Version | null;
  /** The newest version the watcher delivered. */
  view: Version | null;
  viewEpoch: number;
  /** In the watcher's cache right now. */
  inView: boolean;
  deliveries: number;
  firstDeliveredRVNum: number;
  /** The last deliveries, a ring in no particular order once full (each slot has its `order`): fold/deliveries.ts. */
  delivered: Deliveries;
  /** Recent RVs of versions from any source, to emit each version once. */
  versionRVs: RecentSet;
  /** The managedFields the next version is attributed against; 'latest': those of `latest`'s body (its facts came from the store). */
  managerTimes: ManagerTimes | null | 'latest';
  /** The `kreplay.dev/suppress` annotation on the newest version, if any. */
  suppressAnnotation: string | undefined;
  owner: OwnerRef | null;
  gone: { seq: number; how: 'deleted' | 'vanished'; time: number | null } | null;
}

/** A watched resource: one list+watch loop of the recorder (or one imported dump). */
export interface StreamState {
  readonly key: string;
  /** Recorder-driven (watch/relist origins) rather than an imported dump. */
  readonly live: boolean;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | null;
  /** No markers: an imported dump or hand-written records; the whole stream is one implicit watch. */
  implicit: boolean;
  phase: 'idle' | 'listing' | 'initial' | 'watching' | 'closed';
  /** The view holds every object of the stream: a list completed (or an implicit stream starts with ADDED events). */
  complete: boolean;
  /** `complete` as it was when the recorder restarted: a watch resumed where it stopped keeps it (relists.ts). */
  completeBeforeRestart: boolean;
  /** Bumped whenever the stream stops being one continuous history (relist, resume from an unknown RV, drops). */
  epoch: number;
  /** The RV the current epoch started from (list RV or watch resume RV); NaN when unknown. */
  epochStartRVNum: number;
  lastRV: string | null;
  lastRVNum: number;
  lastSeq: number;
  events: number;
  lists: number;
  members: Set<string>;
  listing: ListingState | null;
  pendingGap: GapInfo | null;
  staleResume: { seq: number; rv: string } | null;
  resyncSeq: number | null;
  /** Versions known from audit/API records that this stream should deliver. */
  pending: PendingVersion[];
}

export interface ListingState {
  startSeq: number;
  initialEvents: boolean;
  /** Started by a list-started marker (or a watch from RV 0): the end of the list is known, so vanished objects are too. */
  explicit: boolean;
  /** True when the stream had a view before this list: the list is a relist and may hide changes. */
  prior: boolean;
  cause: GapCause | null;
  gap: GapInfo | null;
  listed: Set<string>;
  changed: RelistChange[];
  /** Known versions the gap swallowed, by uid. */
  hidden: Map<string, PendingVersion[]>;
}

export interface PendingVersion {
  uid: string;
  seq: number;
  rv: string;
  rvNum: number;
  source: VersionSource;
}

export interface RelistChange {
  object: ObjectState;
  from: Version;
  to: Version;
  /** Writes known from audit/API records between from and to that the watch never delivered. */
  hidden: PendingVersion[];
}

/** Tags the TUI can show on a record. */
export const annotationTags = [
  'relist',
  'redelivery',
  'initial-event',
  'resync',
  'duplicate',
  'out-of-order',
  'unseen',
  'tombstone',
  'stale-resume',
  'gap',
  'recorder-gap',
  'resumed',
] as const;
export type AnnotationTag = (typeof annotationTags)[number];

export interface RecordAnnotation {
  tag: AnnotationTag;
  note: string;
  /** The object it is about, when the record is not itself about one object (list-finished, markers). */
  uid?: string;
}

type Stored<T> = T & { seq: number };

/** What one record meant, as the fold understood it. Detectors observe these, in order. */
export type Fact =
  | {
      type: 'delivery';
      record: Stored<WatchEventRecord>;
      object: ObjectState;
      stream: StreamState;
      classification: DeliveryClass;
      /** The watcher's previous version of this object. */
      previous: Version | null;
      /** previous was delivered in the same continuous watch as this record. */
      continuous: boolean;
      /** A MODIFIED/DELETED of an object the complete view never had. */
      unseen: boolean;
      /** For duplicates and re-deliveries: the earlier delivery of the same version, when still remembered. */
      original: Delivered | null;
    }
  | { type: 'version'; record: StoredRecord; object: ObjectState; version: Version; previous: Version | null; late: boolean }
  | { type: 'gone'; record: StoredRecord; object: ObjectState; how: 'deleted' | 'vanished'; time: number | null }
  | {
      type: 'relist';
      record: StoredRecord;
      stream: StreamState;
      cause: GapCause | null;
      gap: GapInfo | null;
      changed: RelistChange[];
      vanished: ObjectState[];
    }
  | { type: 'missed'; object: ObjectState; missed: PendingVersion; proof: { seq: number; rv: string }; stream: StreamState }
  | { type: 'reconcile'; record: Stored<ReconcileRecord>; object: ObjectState | undefined }
  | { type: 'reconcile-start'; record: Stored<ReconcileStartRecord>; object: ObjectState | undefined }
  | { type: 'api'; record: Stored<ApiRequestRecord>; object: ObjectState | undefined; version: Version | null }
  | { type: 'handler'; record: Stored<DeliveryRecord>; object: ObjectState | undefined; resync: boolean }
  | { type: 'marker'; record: Stored<MarkerRecord>; stream: StreamState | null };

/**
 * A set of resourceVersions (or other short strings) that remembers only its newest `capacity` members: memory per
 * object stays constant. Numeric RVs are compared as numbers, and the usual question, "is this new RV one I have
 * seen?", is answered by the largest number seen without a scan: RVs of one object mostly grow.
 */
export class RecentSet {
  private readonly keys: (string | number)[] = [];
  private next = 0;
  private max = Number.NEGATIVE_INFINITY;
  constructor(private readonly capacity: number) {}
  has(value: string): boolean {
    const key = setKey(value);
    if (typeof key === 'number' && key > this.max) return false;
    const keys = this.keys;
    for (let i = keys.length - 1; i >= 0; i--) if (keys[i] === key) return true;
    return false;
  }
  add(value: string): void {
    if (this.has(value)) return;
    const key = setKey(value);
    if (typeof key === 'number' && key > this.max) this.max = key;
    if (this.keys.length < this.capacity) {
      this.keys.push(key);
    } else {
      this.keys[this.next] = key;
      this.next = (this.next + 1) % this.capacity;
    }
  }
}

let lastText: string | undefined;
let lastKey: string | number = '';

/** A decimal RV without leading zeros as its number (so "12" and "012" stay distinct), anything else as itself. */
function setKey(value: string): string | number {
  // One version's RV is looked up several times in a row (the fold, then detectors): remember the last answer.
  if (value === lastText) return lastKey;
  lastText = value;
  lastKey = computeSetKey(value);
  return lastKey;
}

function computeSetKey(value: string): string | number {
  if (value.length === 0 || value.length > 15 || (value.charCodeAt(0) === 48 && value.length > 1)) return value;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return value;
  }
  return Number(value);
}
