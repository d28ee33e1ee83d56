import { z } from 'zod';
import type { VersionFacts } from './version-facts.js';

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
export const ResourceVersion = z.string().min(1);

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
  group: z.string(), // '' for the core group
  version: z.string().min(1),
  resource: z.string().min(1), // plural, lower-case: 'deployments'
  kind: z.string().min(1),
};

/** Identifies one object. uid is optional because audit logs and some reports do not carry it. */
export const ObjectRef = z.object({
  group: z.string(),
  version: z.string().min(1),
  resource: z.string().optional(),
  kind: z.string().min(1),
  namespace: z.string().nullable(),
  name: z.string().min(1),
  uid: z.string().nullable().optional(),
});
export type ObjectRef = z.infer<typeof ObjectRef>;

const common = {
  /** Assigned by the store when the record is appended; ignored on input. */
  seq: z.number().int().positive().optional(),
  /** When kreplay (or the source) saw the record. Null when the source has no time (kubectl watch dumps). */
  observedAt: Timestamp.nullable(),
  origin: Origin,
};

export const WatchEventRecord = z
  .object({
    record: z.literal('watch'),
    ...common,
    ...resourceFields,
    type: WatchEventType,
    namespace: z.string().nullable(),
    /** Null only for BOOKMARK events, which carry nothing but a resourceVersion. */
    name: z.string().nullable(),
    uid: z.string().nullable(),
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
  /** A fault `kreplay proxy --faults` injected into what the controller saw (docs/proxy.md). */
  'fault',
] as const;
export const MarkerKind = z.enum(markerKinds);
export type MarkerKind = z.infer<typeof MarkerKind>;

/**
 * Stream markers make the recorder's own life visible: a relist, a watch restart, a 410 or dropped records
 * explain gaps that would otherwise look like controller bugs.
 */
export const MarkerRecord = z.object({
  record: z.literal('marker'),
  ...common,
  marker: MarkerKind,
  /** The resource the marker is about; absent for session-wide markers (recorder-started, dropped). */
  group: z.string().optional(),
  version: z.string().optional(),
  resource: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().nullable().optional(),
  /** list-finished: the list's RV; watch-started: the RV it resumed from; gone: the RV that was too old. */
  resourceVersion: z.string().optional(),
  /** list-finished: number of items; dropped: number of records lost. */
  count: z.number().int().nonnegative().optional(),
  /** HTTP or Status code (410 for gone). */
  code: z.number().int().optional(),
  message: z.string().optional(),
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
    controller: z.string().min(1),
    object: ObjectRef,
    startedAt: Timestamp,
    finishedAt: Timestamp,
    /** The resourceVersion/generation of the object the reconcile read from its cache. */
    observedResourceVersion: z.string().nullable().optional(),
    observedGeneration: z.number().int().nullable().optional(),
    result: ReconcileResult,
    errorReason: ErrorReason.nullable().optional(),
    errorMessage: z.string().nullable().optional(),
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
  controller: z.string().min(1),
  object: ObjectRef,
  startedAt: Timestamp,
  /** The resourceVersion/generation of the object the reconcile read from its cache, when the SDK knows it. */
  observedResourceVersion: z.string().nullable().optional(),
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
  controller: z.string().min(1),
  handler: DeliveryHandler,
  /** True when a delete arrived as client-go's cache.DeletedFinalStateUnknown (learned from a relist). */
  tombstone: z.boolean().default(false),
  object: ObjectRef,
  resourceVersion: z.string().nullable(),
  /** update only: the old object's RV. Equal to resourceVersion on an informer resync. */
  oldResourceVersion: z.string().nullable().optional(),
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
  actor: z.string().min(1),
  userAgent: z.string().nullable().optional(),
  /** True when the actor is the controller under study (`--controller` on import, config in the recorder). */
  byController: z.boolean().default(false),
  verb: ApiVerb,
  object: ObjectRef,
  subresource: z.string().nullable().optional(),
  code: z.number().int(),
  /** Status reason on failure: NotFound, Conflict, ... */
  reason: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  /** The RV the request was based on (from requestObject) and the one it produced (from responseObject). */
  resourceVersionBefore: z.string().nullable().optional(),
  resourceVersionAfter: z.string().nullable().optional(),
  /** The object the server returned, when the source had it (audit level RequestResponse). */
  responseObject: KubeObject.nullable().optional(),
  auditId: z.string().nullable().optional(),
  /** The controller that reported the request through the SDK (its reporting name), when it did. */
  controller: z.string().min(1).nullable().optional(),
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
