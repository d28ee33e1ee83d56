import { z } from 'zod';
import type { VersionFacts } from './version-facts.js';
import { ApiGroup, ApiVersionName, KindName, NamespaceName, ObjectName, ResourceName, SubresourceName } from './kube-names.js';
import { boundedText, maxIdentifierLength, maxMessageLength, maxReasonLength, maxTokenLength } from './bounded-text.js';
import { ClockSkew } from './clock-skew.js';

/**
 * The records a kreplay session holds. This module is the one source of truth for every boundary:
 * the NDJSON import format, the recorder's ingest protocol and the store all parse through these schemas.
 * The wire form is documented in docs/format.md.
 */

/**
 * `proxy`: written by `kreplay proxy` (docs/proxy.md): its markers (including injected faults) and the API requests
 * it forwarded. The events it delivered keep `watch`/`relist`, so they fold exactly as a recorder's (the session's
 * source, `proxy`, says whose view they are: the controller's own).
 */
export const origins = ['watch', 'relist', 'ingest', 'audit', 'import', 'proxy'] as const;
export const Origin = z.enum(origins);
export type Origin = z.infer<typeof Origin>;

export const watchEventTypes = ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'] as const;
export const WatchEventType = z.enum(watchEventTypes);
export type WatchEventType = z.infer<typeof WatchEventType>;

/** RFC 3339 timestamp as the API server writes them (with or without fractional seconds). */
export const Timestamp = z.iso.datetime({ offset: true, local: false });

/** A resourceVersion is opaque to clients (only the API server may compare them); we keep it as a string. */
export const ResourceVersion = boundedText('a resourceVersion', maxTokenLength, { min: 1 });

/** uids, resourceVersions a reader saw, auditIDs: opaque tokens, bounded and printable. */
const Token = (what: string) => boundedText(what, maxTokenLength, { min: 1 });
/** Who made a request or reported a record: a user name, a controller's reporting name, a User-Agent. */
const Identity = (what: string) => boundedText(what, maxIdentifierLength, { min: 1 });
/** A Status or error message: free text, line breaks allowed. */
const Message = boundedText('a message', maxMessageLength, { lineBreaks: true });

/** A Kubernetes object as JSON. We validate only what kreplay itself reads; everything else is kept verbatim. */
export const KubeObject = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z
    .looseObject({
      name: z.string().optional(),
      namespace: z.string().optional(),
      uid: z.string().optional(),
      resourceVersion: z.string().optional(),
      generation: z.number().int().optional(),
      deletionTimestamp: z.string().optional(),
      finalizers: z.array(z.string()).optional(),
    })
    .optional(),
});
export type KubeObject = z.infer<typeof KubeObject>;

/** Group/version/resource plus kind: enough to name a type to both the API and a person. */
const resourceFields = {
  group: ApiGroup, // '' for the core group
  version: ApiVersionName,
  resource: ResourceName, // plural, lower-case: 'deployments'
  kind: KindName,
};

/** Identifies one object. uid is optional because audit logs and some reports do not carry it. */
export const ObjectRef = z.object({
  group: ApiGroup,
  version: ApiVersionName,
  resource: ResourceName.optional(),
  kind: KindName,
  namespace: NamespaceName.nullable(),
  name: ObjectName,
  uid: Token('a uid').nullable().optional(),
});
export type ObjectRef = z.infer<typeof ObjectRef>;

const common = {
  /** Assigned by the store when the record is appended; ignored on input. */
  seq: z.number().int().positive().optional(),
  /** When kreplay (or the source) saw the record. Null when the source has no time (kubectl watch dumps). */
  observedAt: Timestamp.nullable(),
  origin: Origin,
  /**
   * Set by the recorder when the record's own timestamps were further from its time of receipt than the allowed
   * skew (`server.maxClockSkew`): the record is kept as sent, and its time does not count in the session's span.
   */
  clockSkew: ClockSkew.optional(),
};

export const WatchEventRecord = z
  .object({
    record: z.literal('watch'),
    ...common,
    ...resourceFields,
    type: WatchEventType,
    namespace: NamespaceName.nullable(),
    /** Null only for BOOKMARK events, which carry nothing but a resourceVersion. */
    name: ObjectName.nullable(),
    uid: Token('a uid').nullable(),
    resourceVersion: ResourceVersion,
    generation: z.number().int().nullable(),
    /** The object as the server sent it (Secret data already redacted). Null for BOOKMARK. */
    object: KubeObject.nullable(),
  })
  .superRefine((event, ctx) => {
    if (event.type === 'BOOKMARK') return;
    if (!event.name) ctx.addIssue({ code: 'custom', path: ['name'], message: `a ${event.type} event needs the object's name` });
    if (!event.uid) ctx.addIssue({ code: 'custom', path: ['uid'], message: `a ${event.type} event needs the object's uid` });
    if (!event.object) ctx.addIssue({ code: 'custom', path: ['object'], message: `a ${event.type} event needs the object` });
  });
export type WatchEventRecord = z.infer<typeof WatchEventRecord>;

export const markerKinds = [
  'list-started',
  'list-finished',
  'watch-started',
  'watch-closed',
  'gone',
  'error',
  'recorder-started',
  'recorder-stopped',
  'dropped',
  'gap',
  'resync',
  /** Files added to an existing session by `kreplay import --append`: the message names them, count says how many. */
  'imported',
  /** A fault `kreplay proxy --faults` injected into what the controller saw (docs/proxy.md). */
  'fault',
] as const;
export const MarkerKind = z.enum(markerKinds);
export type MarkerKind = z.infer<typeof MarkerKind>;

/**
 * How a watch started again after the recorder restarted on a session (the marker's `resume`): `resumed` went on
 * from the resourceVersion committed before the restart (nothing missed), `relisted` found that RV too old (410) and
 * listed, `listed` had no committed RV for this watch (new in the config, or a recording from before schema 6).
 */
export const resumeOutcomes = ['resumed', 'relisted', 'listed'] as const;
export const ResumeOutcome = z.enum(resumeOutcomes);
export type ResumeOutcome = z.infer<typeof ResumeOutcome>;

/**
 * Stream markers make the recorder's own life visible: a relist, a watch restart, a 410 or dropped records
 * explain gaps that would otherwise look like controller bugs.
 */
export const MarkerRecord = z.object({
  record: z.literal('marker'),
  ...common,
  marker: MarkerKind,
  /** The resource the marker is about; absent for session-wide markers (recorder-started, dropped). */
  group: ApiGroup.optional(),
  version: ApiVersionName.optional(),
  resource: ResourceName.optional(),
  kind: KindName.optional(),
  namespace: NamespaceName.nullable().optional(),
  /** list-finished: the list's RV; watch-started: the RV it resumed from; gone: the RV that was too old. */
  resourceVersion: boundedText('a resourceVersion', maxTokenLength).optional(),
  /** list-finished: number of items; dropped: number of records lost. */
  count: z.number().int().nonnegative().optional(),
  /** HTTP or Status code (410 for gone). */
  code: z.number().int().optional(),
  message: Message.optional(),
  /** The first watch-started (resumed) or list-started (relisted, listed) of a watch after a recorder restart. */
  resume: ResumeOutcome.optional(),
});
export type MarkerRecord = z.infer<typeof MarkerRecord>;

export const reconcileResults = ['success', 'requeue', 'requeue-after', 'error'] as const;
export const ReconcileResult = z.enum(reconcileResults);
export type ReconcileResult = z.infer<typeof ReconcileResult>;

/** The API Status reasons a controller author branches on (apimachinery pkg/api/errors). */
export const errorReasons = ['NotFound', 'Conflict', 'AlreadyExists', 'Timeout', 'Forbidden', 'Invalid', 'other'] as const;
export const ErrorReason = z.enum(errorReasons);
export type ErrorReason = z.infer<typeof ErrorReason>;

/** One Reconcile() call as the controller reported it (SDK) or as inferred from its API requests. */
export const ReconcileRecord = z
  .object({
    record: z.literal('reconcile'),
    ...common,
    controller: Identity('a controller name'),
    object: ObjectRef,
    startedAt: Timestamp,
    finishedAt: Timestamp,
    /** The resourceVersion/generation of the object the reconcile read from its cache. */
    observedResourceVersion: Token('a resourceVersion').nullable().optional(),
    observedGeneration: z.number().int().nullable().optional(),
    result: ReconcileResult,
    errorReason: ErrorReason.nullable().optional(),
    errorMessage: Message.nullable().optional(),
    requeueAfterMs: z.number().int().nonnegative().nullable().optional(),
  })
  .superRefine((reconcile, ctx) => {
    if (reconcile.result === 'error' && !reconcile.errorReason) {
      ctx.addIssue({ code: 'custom', path: ['errorReason'], message: 'an error result needs an errorReason' });
    }
    if (reconcile.result === 'requeue-after' && reconcile.requeueAfterMs == null) {
      ctx.addIssue({ code: 'custom', path: ['requeueAfterMs'], message: 'a requeue-after result needs requeueAfterMs' });
    }
    if (Date.parse(reconcile.finishedAt) < Date.parse(reconcile.startedAt)) {
      ctx.addIssue({ code: 'custom', path: ['finishedAt'], message: 'finishedAt is before startedAt' });
    }
  });
export type ReconcileRecord = z.infer<typeof ReconcileRecord>;

/**
 * A Reconcile() call that has begun, reported by the SDK when it starts (before the user's code runs). Its finish is
 * the `reconcile` record with the same controller, object and startedAt: client-go's workqueue never hands one key to
 * two workers at once ("Stingy: a single item will not be processed multiple times concurrently", util/workqueue/
 * doc.go), so that triple names one call. A start with no finish by the end of the session is a reconcile still
 * running (hung-reconcile). Sessions from older SDKs have no starts; nothing else depends on them.
 */
export const ReconcileStartRecord = z.object({
  record: z.literal('reconcile-start'),
  ...common,
  controller: Identity('a controller name'),
  object: ObjectRef,
  startedAt: Timestamp,
  /** The resourceVersion/generation of the object the reconcile read from its cache, when the SDK knows it. */
  observedResourceVersion: Token('a resourceVersion').nullable().optional(),
  observedGeneration: z.number().int().nullable().optional(),
});
export type ReconcileStartRecord = z.infer<typeof ReconcileStartRecord>;

export const deliveryHandlers = ['add', 'update', 'delete'] as const;
export const DeliveryHandler = z.enum(deliveryHandlers);
export type DeliveryHandler = z.infer<typeof DeliveryHandler>;

/** An informer event handler call as the controller saw it (client-go ResourceEventHandler). */
export const DeliveryRecord = z.object({
  record: z.literal('delivery'),
  ...common,
  controller: Identity('a controller name'),
  handler: DeliveryHandler,
  /** True when a delete arrived as client-go's cache.DeletedFinalStateUnknown (learned from a relist). */
  tombstone: z.boolean().default(false),
  object: ObjectRef,
  resourceVersion: Token('a resourceVersion').nullable(),
  /** update only: the old object's RV. Equal to resourceVersion on an informer resync. */
  oldResourceVersion: Token('a resourceVersion').nullable().optional(),
});
export type DeliveryRecord = z.infer<typeof DeliveryRecord>;

export const apiVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection', 'get', 'list', 'watch'] as const;
export const ApiVerb = z.enum(apiVerbs);
export type ApiVerb = z.infer<typeof ApiVerb>;
export const writeVerbs: readonly ApiVerb[] = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * One API request and its outcome, from an audit log/webhook or a reporting SDK. Writes are always recorded;
 * reads only when they failed (a 404 GET is how a NotFound retry loop shows up in an audit log).
 */
export const ApiRequestRecord = z.object({
  record: z.literal('api'),
  ...common,
  /** Who made the request (audit user.username, or the impersonated user when impersonating). */
  actor: Identity('an actor (user name)'),
  userAgent: boundedText('a User-Agent', maxIdentifierLength).nullable().optional(),
  /** True when the actor is the controller under study (`--controller` on import, config in the recorder). */
  byController: z.boolean().default(false),
  verb: ApiVerb,
  object: ObjectRef,
  subresource: SubresourceName.nullable().optional(),
  code: z.number().int(),
  /** Status reason on failure: NotFound, Conflict, ... */
  reason: boundedText('a reason', maxReasonLength).nullable().optional(),
  message: Message.nullable().optional(),
  /** The RV the request was based on (from requestObject) and the one it produced (from responseObject). */
  resourceVersionBefore: Token('a resourceVersion').nullable().optional(),
  resourceVersionAfter: Token('a resourceVersion').nullable().optional(),
  /** The object the server returned, when the source had it (audit level RequestResponse). */
  responseObject: KubeObject.nullable().optional(),
  auditId: Token('an auditID').nullable().optional(),
  /** The controller that reported the request through the SDK (its reporting name), when it did. */
  controller: Identity('a controller name').nullable().optional(),
  /**
   * Every source that reported this one request, when more than one did: the audit event and the SDK's report of
   * the same write are stored as one record (model/api-pairing.ts). `origin` is then the authoritative one (audit).
   */
  sources: z.array(Origin).min(2).optional(),
});
export type ApiRequestRecord = z.infer<typeof ApiRequestRecord>;

export const recordKinds = ['watch', 'marker', 'reconcile', 'reconcile-start', 'delivery', 'api'] as const;
export type RecordKind = (typeof recordKinds)[number];

export const SessionRecord = z.discriminatedUnion('record', [
  WatchEventRecord,
  MarkerRecord,
  ReconcileRecord,
  ReconcileStartRecord,
  DeliveryRecord,
  ApiRequestRecord,
]);
export type SessionRecord = z.infer<typeof SessionRecord>;

/** A record as read back from the store: it always has its seq. */
export type StoredRecord = SessionRecord & {
  seq: number;
  /**
   * Watch records read with lazy bodies (`withObjects: 'lazy'`): the version's facts, when the store computed them
   * at append (model/version-facts.ts), so a reader need not decode the body to know them.
   */
  facts?: VersionFacts | undefined;
  /** Watch records read with lazy bodies: `object` is null, and this decodes the body (each call decodes again). */
  loadObject?: (() => KubeObject | null) | undefined;
};

/**
 * A stored record as an append takes it: without the seq the store assigns (a copy into another session or
 * database gets the same seqs when its records are appended in order) and without what a lazy read added.
 */
export function asNewRecord(record: StoredRecord): SessionRecord {
  const { seq: _seq, loadObject: _load, facts: _facts, ...rest } = record;
  return rest as SessionRecord;
}
