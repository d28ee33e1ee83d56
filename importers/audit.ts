import { z } from 'zod';
import {
  apiVerbs,
  parseApiVersion,
  redactObject,
  writeVerbs,
  type ApiRequestRecord,
  type ApiVerb,
  type KubeObject,
  type WatchEventRecord,
} from '../model/index.js';
import { CompactIdSet, type AuditIdSet } from './audit-id-set.js';
import { JsonValueSplitter } from './json-splitter.js';
import { builtinKind, guessKind } from './kinds.js';
import { checkedRecord, isPlainObject, parseJson, SkipCounter, type ImportParser, type ParseEvent } from './parser.js';

/**
 * Imports kube-apiserver audit events (audit.k8s.io/v1 `Event`, apiserver `pkg/apis/audit/v1/types.go`): the JSON
 * lines `--audit-log-path` writes, and the `EventList` bodies an audit webhook receives (one per line, or a whole
 * file; pretty-printed or not).
 *
 * - Only the final stage of a request counts: `ResponseComplete`, or `Panic` (the server crashed serving it, a
 *   500). `RequestReceived` and `ResponseStarted` repeat the same request and are skipped.
 * - Writes (create, update, patch, delete, deletecollection) become `api` records. Reads (get, list, watch) when
 *   they failed (a 404 GET loop is how a NotFound retry shows), and lists and watches across all namespaces (how a
 *   cluster-wide informer shows). Other successful reads, non-resource requests (`/healthz`, discovery) and dry-run
 *   requests are skipped and counted.
 * - At the RequestResponse level the server's answer is an object version: it also becomes a `watch` record
 *   (origin 'audit') right after the `api` record, so the session holds the object's versions. A Status answer is
 *   never a version (a Deployment DELETE answers with a Status; a Pod DELETE with the pod).
 * - A request on a collection (list, watch, deletecollection, a create whose name the server generates) names no
 *   object: its `api` record uses the name `*` (`collectionName`), which no Kubernetes object can have.
 */

export interface AuditOptions {
  /** The controller's user (`system:serviceaccount:ns:name`): its requests get `byController: true`. */
  controller?: string;
  /** Extra dotted paths to redact on every object, as the recorder's `redaction.paths` (Secret data always is). */
  redact?: readonly string[];
  /**
   * auditIDs already imported: an event with one of them is skipped as a duplicate, and every imported event's
   * auditID is added. Defaults to a new set, which dedupes within the input; pass the session's own to import
   * into a session that may already hold some of the events (`import --append`).
   */
  seenAuditIds?: AuditIdSet;
}

/** The skip reason for an event whose auditID was already imported. */
export const duplicateAuditReason = 'duplicate audit events (an auditID already imported)';

/** The object name of requests on a collection. Not a valid object name, so it never collides with one. */
export const collectionName = '*';

const auditStages = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;

const AuditUser = z.looseObject({ username: z.string().optional() });

/** The fields of an audit Event the importer reads; everything else is ignored. */
export const AuditEvent = z.looseObject({
  auditID: z.string().min(1),
  stage: z.enum(auditStages),
  requestURI: z.string().optional(),
  verb: z.string().min(1),
  user: AuditUser,
  impersonatedUser: AuditUser.nullable().optional(),
  userAgent: z.string().optional(),
  objectRef: z
    .looseObject({
      resource: z.string().optional(),
      namespace: z.string().optional(),
      name: z.string().optional(),
      uid: z.string().optional(),
      apiGroup: z.string().optional(),
      apiVersion: z.string().optional(),
      resourceVersion: z.string().optional(),
      subresource: z.string().optional(),
    })
    .optional(),
  responseStatus: z
    .looseObject({
      code: z.number().int().optional(),
      status: z.string().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
    })
    .optional(),
  requestObject: z.unknown().optional(),
  responseObject: z.unknown().optional(),
  requestReceivedTimestamp: z.string().optional(),
  stageTimestamp: z.string().optional(),
  /** audit.k8s.io/v1alpha1 and v1beta1 wrote `timestamp`; old logs converted to v1 still carry it. */
  timestamp: z.string().optional(),
  metadata: z.looseObject({ creationTimestamp: z.string().optional() }).optional(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

const readVerbs: ReadonlySet<string> = new Set(['get', 'list', 'watch']);
/** Request bodies that are not the object: never a source for the resource's kind. */
const notObjectKinds: ReadonlySet<string> = new Set(['Status', 'DeleteOptions', 'Eviction', 'Binding', 'Scale', 'Table', 'PartialObjectMetadata']);

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function metadataOf(object: Record<string, unknown> | undefined): Record<string, unknown> {
  return object && isPlainObject(object.metadata) ? object.metadata : {};
}

/**
 * The watch event type a write's returned object stands for (apiserver `pkg/registry/generic/registry/store.go`):
 * - DELETE answers with the object; if finalizers or a grace period hold it, it still exists (Pod graceful
 *   deletion, finalizers): MODIFIED; otherwise it is the final state: DELETED.
 * - UPDATE/PATCH that removes the last finalizer of an object whose deletion was requested with no grace
 *   period deletes it (`ShouldDeleteDuringUpdate`): DELETED.
 * - a 201 (create, or create-on-update/apply) is ADDED.
 */
function versionType(verb: ApiVerb, code: number, object: Record<string, unknown>): WatchEventRecord['type'] {
  const metadata = metadataOf(object);
  const finalizers = Array.isArray(metadata.finalizers) ? metadata.finalizers.length : 0;
  const grace = typeof metadata.deletionGracePeriodSeconds === 'number' ? metadata.deletionGracePeriodSeconds : 0;
  const deleting = typeof metadata.deletionTimestamp === 'string';
  if (verb === 'delete' || verb === 'deletecollection') return finalizers > 0 || grace > 0 ? 'MODIFIED' : 'DELETED';
  if (verb === 'create' || code === 201) return 'ADDED';
  if (deleting && finalizers === 0 && grace === 0) return 'DELETED';
  return 'MODIFIED';
}

export function createAuditParser(options: AuditOptions = {}): ImportParser {
  const splitter = new JsonValueSplitter();
  const skipped = new SkipCounter();
  const redactPaths = options.redact ?? [];
  /** Kinds seen on objects in this log, by `group/resource`: better than any table for CRDs. */
  const learnedKinds = new Map<string, string>();
  // One request has one ResponseComplete (or Panic) event: the same auditID again is the same event again (a log
  // imported twice, logs that overlap, a webhook batch re-sent). Only imported events are remembered.
  const seenAuditIds = options.seenAuditIds ?? new CompactIdSet();

  function learnKind(group: string, resource: string, object: unknown): void {
    if (!isPlainObject(object) || typeof object.kind !== 'string' || typeof object.apiVersion !== 'string') return;
    if (notObjectKinds.has(object.kind) || object.kind.endsWith('List')) return;
    if (parseApiVersion(object.apiVersion).group !== group) return;
    learnedKinds.set(`${group}/${resource}`, object.kind);
  }

  function kindOf(group: string, resource: string): string {
    return learnedKinds.get(`${group}/${resource}`) ?? builtinKind(group, resource) ?? guessKind(resource);
  }

  function versionRecord(
    verb: ApiVerb,
    code: number,
    resource: string,
    object: Record<string, unknown>,
    observedAt: string | null,
    line: number,
  ): ParseEvent | undefined {
    const metadata = metadataOf(object);
    if (typeof object.apiVersion !== 'string' || typeof object.kind !== 'string' || !stringOrNull(metadata.uid) || !stringOrNull(metadata.resourceVersion)) {
      skipped.add('response objects without uid or resourceVersion');
      return undefined;
    }
    const { group, version } = parseApiVersion(object.apiVersion);
    const record: WatchEventRecord = {
      record: 'watch',
      observedAt,
      origin: 'audit',
      group,
      version,
      resource,
      kind: object.kind,
      type: versionType(verb, code, object),
      namespace: stringOrNull(metadata.namespace),
      name: stringOrNull(metadata.name),
      uid: stringOrNull(metadata.uid),
      resourceVersion: metadata.resourceVersion as string,
      generation: typeof metadata.generation === 'number' ? metadata.generation : null,
      object: redactObject(object as KubeObject, redactPaths),
    };
    return checkedRecord(record, line);
  }

  function onEvent(value: Record<string, unknown>, line: number): ParseEvent[] {
    const parsed = AuditEvent.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return [{ kind: 'problem', line, problem: `audit event ${issue.path.join('.') || '(root)'}: ${issue.message}` }];
    }
    const event = parsed.data;
    if (event.stage === 'RequestReceived' || event.stage === 'ResponseStarted') {
      skipped.add(`${event.stage} stages (the ResponseComplete of the same request counts)`);
      return [];
    }
    const ref = event.objectRef;
    if (!ref?.resource) {
      skipped.add('non-resource requests (discovery, /healthz, ...)');
      return [];
    }
    if (!(apiVerbs as readonly string[]).includes(event.verb)) {
      skipped.add(`requests with verb "${event.verb}"`);
      return [];
    }
    const verb = event.verb as ApiVerb;
    if (event.requestURI && /[?&]dryRun=/.test(event.requestURI)) {
      skipped.add('dry-run requests (nothing was persisted)');
      return [];
    }
    const responseObject = isPlainObject(event.responseObject) ? event.responseObject : undefined;
    const responseStatusObject = responseObject?.kind === 'Status' ? responseObject : undefined;
    // The audit filter always fills responseStatus at ResponseComplete (apiserver pkg/endpoints/filters/audit.go);
    // the one exception is a connection closed before any status, which that filter itself records as a 200.
    const code =
      event.responseStatus?.code ??
      (typeof responseStatusObject?.code === 'number' ? responseStatusObject.code : undefined) ??
      (event.stage === 'Panic' ? 500 : 200);
    // A successful list or watch across all namespaces is kept: it is how a controller's cluster-wide informer shows
    // (cluster-wide-watch). They are few (one list per informer start or relist, one watch every 5-10 minutes:
    // client-go tools/cache/reflector.go minWatchTimeout); gets and namespaced lists and watches are many.
    const clusterWide = (verb === 'list' || verb === 'watch') && !ref.namespace;
    if (readVerbs.has(verb) && code < 400 && !clusterWide) {
      skipped.add('successful reads (get, and list and watch in one namespace)');
      return [];
    }

    const group = ref.apiGroup ?? '';
    const resource = ref.resource;
    const subresource = stringOrNull(ref.subresource);
    const objectResponse = responseObject && !responseStatusObject ? responseObject : undefined;
    const version = stringOrNull(ref.apiVersion) ?? (typeof objectResponse?.apiVersion === 'string' ? parseApiVersion(objectResponse.apiVersion).version : null);
    if (!version) return [{ kind: 'problem', line, problem: `audit event ${event.auditID}: objectRef has no apiVersion` }];
    if (subresource === null || subresource === 'status') {
      learnKind(group, resource, objectResponse);
      if (verb === 'create' || verb === 'update') learnKind(group, resource, event.requestObject);
    }
    const kind = kindOf(group, resource);

    const requestMetadata = isPlainObject(event.requestObject) ? metadataOf(event.requestObject) : {};
    const preconditions = isPlainObject(event.requestObject) && isPlainObject(event.requestObject.preconditions) ? event.requestObject.preconditions : {};
    // A List (deletecollection) has ListMeta: its resourceVersion is not any object's.
    const responseMetadata = objectResponse && !Array.isArray(objectResponse.items) ? metadataOf(objectResponse) : {};
    const actor = event.impersonatedUser?.username || event.user.username || '';
    const observedAt = event.stageTimestamp ?? event.timestamp ?? event.requestReceivedTimestamp ?? event.metadata?.creationTimestamp ?? null;
    const status = event.responseStatus ?? responseStatusObject;
    if (seenAuditIds.has(event.auditID)) {
      skipped.add(duplicateAuditReason);
      return [];
    }
    seenAuditIds.add(event.auditID);

    const api: ApiRequestRecord = {
      record: 'api',
      observedAt,
      origin: 'audit',
      actor,
      userAgent: event.userAgent ?? null,
      byController: options.controller !== undefined && actor === options.controller,
      verb,
      object: {
        group,
        version,
        resource,
        kind,
        namespace: stringOrNull(ref.namespace),
        name: stringOrNull(ref.name) ?? stringOrNull(responseMetadata.name) ?? collectionName,
        // A DELETE answered with a Status names the deleted object's uid in its details (metav1.StatusDetails).
        uid: stringOrNull(ref.uid) ?? stringOrNull(responseMetadata.uid) ?? stringOrNull(isPlainObject(responseStatusObject?.details) ? responseStatusObject.details.uid : undefined),
      },
      subresource,
      code,
      reason: code >= 400 ? (stringOrNull(status?.reason) ?? null) : null,
      message: code >= 400 ? (stringOrNull(status?.message) ?? null) : null,
      // The RV the client based its write on: the request body's, which the audit filter also copies into
      // objectRef at every level (apiserver pkg/audit/request.go LogRequestObject), or a delete's precondition.
      resourceVersionBefore: stringOrNull(requestMetadata.resourceVersion) ?? stringOrNull(ref.resourceVersion) ?? stringOrNull(preconditions.resourceVersion),
      resourceVersionAfter: stringOrNull(responseMetadata.resourceVersion),
      auditId: event.auditID,
    };
    const events: ParseEvent[] = [checkedRecord(api, line)];

    // The object versions the write produced, when the log holds them (level RequestResponse).
    if (code < 400 && objectResponse && (writeVerbs as readonly string[]).includes(verb)) {
      if (verb === 'deletecollection') {
        // The answer is a List of the deleted objects; typed lists leave kind and apiVersion off their items.
        const itemKind = typeof objectResponse.kind === 'string' ? objectResponse.kind.replace(/List$/, '') : kind;
        for (const item of Array.isArray(objectResponse.items) ? objectResponse.items : []) {
          if (!isPlainObject(item)) continue;
          const typed = { kind: itemKind, apiVersion: objectResponse.apiVersion, ...item };
          const version = versionRecord(verb, code, resource, typed, observedAt, line);
          if (version) events.push(version);
        }
      } else if (subresource === null || objectResponse.kind === kind) {
        // A subresource answers with the parent object (status) or with something else (scale: a Scale).
        const version = versionRecord(verb, code, resource, objectResponse, observedAt, line);
        if (version) events.push(version);
      }
    }
    return events;
  }

  function onValue(text: string, line: number): ParseEvent[] {
    const parsed = parseJson(text, line);
    if (!parsed.ok) return [parsed.event];
    const value = parsed.value;
    if (!isPlainObject(value)) return [{ kind: 'problem', line, problem: 'not a JSON object', malformed: true }];
    if (Array.isArray(value.items)) {
      // An EventList envelope (audit webhook body): its items were streamed before it.
      skipped.add('EventList envelopes');
      return [];
    }
    if (typeof value.type === 'string' && isPlainObject(value.object)) {
      return [{ kind: 'problem', line, problem: 'this is a watch event: import kubectl watch dumps with --format kubectl-watch', malformed: true }];
    }
    if (typeof value.record === 'string' && 'origin' in value) {
      return [{ kind: 'problem', line, problem: 'this is a kreplay NDJSON record: import it with --format ndjson', malformed: true }];
    }
    if (value.kind === undefined && typeof value.auditID !== 'string') {
      return [{ kind: 'problem', line, problem: 'not an audit event: no kind and no auditID', malformed: true }];
    }
    const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : '';
    if (value.kind !== undefined && (value.kind !== 'Event' || !apiVersion.startsWith('audit.k8s.io/'))) {
      return [{ kind: 'problem', line, problem: `not an audit event: kind ${String(value.kind)}, apiVersion ${apiVersion || '(none)'}`, malformed: true }];
    }
    return onEvent(value, line);
  }

  function handle(events: ReturnType<JsonValueSplitter['push']>): ParseEvent[] {
    const out: ParseEvent[] = [];
    for (const event of events) {
      if (event.kind === 'error') out.push({ kind: 'problem', line: event.line, problem: event.problem, malformed: true });
      else out.push(...onValue(event.text, event.line));
    }
    return out;
  }

  return {
    push: (chunk) => handle(splitter.push(chunk)),
    end: () => handle(splitter.end()),
    skipped: () => skipped.toJSON(),
  };
}
