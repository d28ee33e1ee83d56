import { apiVersionOf, redactObject, type ApiRequestRecord, type KubeObject, type MarkerKind, type MarkerRecord, type SessionRecord, type WatchEventRecord } from '../model/index.js';
import type { RecordSink } from '../recorder/writer.js';
import { listKey, type ResourceRequest } from '../model/request-info.js';

/**
 * Turns what the proxy delivered to the controller into session records, in the shapes the recorder writes
 * (recorder/watch-supervisor.ts), so the replayer folds them as the controller's own informer view:
 *
 *   LIST (all pages)         → list-started, one ADDED (origin relist) per item, list-finished (the list's RV)
 *   WATCH                    → watch-started (the RV it resumes from; none for sendInitialEvents, which the fold reads
 *                              as a listing), each event (origin watch), list-finished at the initial-events-end
 *                              bookmark, gone / error for an ERROR event, watch-closed at the end
 *   write (and failed read)  → one api record: verb, code, reason, RVs before and after, byController
 *
 * The proxy writes no tombstones: the fold finds what a list no longer holds itself (DeltaFIFO.Replace), exactly as
 * the controller's client-go does. Markers and API records carry origin `proxy`.
 */

export interface ViewRecorderOptions {
  readonly sink: RecordSink;
  /** The controller's name as API records' actor when the request does not impersonate anyone. */
  readonly actor: string;
  readonly redactPaths?: readonly string[];
  readonly now?: () => number;
  /** Discovery: the Kind of a resource, asked once per resource before its first list or watch is recorded. */
  readonly lookupKind?: (group: string, version: string, resource: string) => Promise<string | undefined>;
}

interface PendingList {
  startedAt: string;
  records: SessionRecord[];
  count: number;
  items: KubeObject[];
}

/** The last complete list the controller was given for one list identity: what a stale-list fault serves again. */
export interface ListSnapshot {
  readonly resourceVersion: string;
  readonly kind: string;
  readonly items: readonly KubeObject[];
}

export class ViewRecorder {
  /** group/resource → Kind, learned from everything that passes. */
  private readonly kinds = new Map<string, string>();
  private readonly lists = new Map<string, PendingList>();
  private readonly lookups = new Map<string, Promise<void>>();
  private readonly snapshots = new Map<string, ListSnapshot>();
  private readonly now: () => number;

  constructor(private readonly options: ViewRecorderOptions) {
    this.now = options.now ?? Date.now;
  }

  observedAt(): string {
    return new Date(this.now()).toISOString();
  }

  learnKind(group: string, resource: string, kind: unknown): void {
    if (typeof kind !== 'string' || !kind || kind === 'Status') return;
    const plain = kind.endsWith('List') && kind.length > 4 ? kind.slice(0, -4) : kind;
    this.kinds.set(`${group}/${resource}`, plain);
  }

  /**
   * Makes sure the resource's Kind is known before its first markers are written: the fold learns which stream an
   * object belongs to from the markers' kind (replayer/fold/streams.ts), as it does from the recorder's.
   */
  async resolveKind(request: Pick<ResourceRequest, 'group' | 'version' | 'resource' | 'subresource'>): Promise<void> {
    if (request.subresource || this.kindOf(request.group, request.resource) || !this.options.lookupKind) return;
    const key = `${request.group}/${request.version}/${request.resource}`;
    let pending = this.lookups.get(key);
    if (!pending) {
      pending = this.options
        .lookupKind(request.group, request.version, request.resource)
        .then((kind) => {
          if (kind && !this.kindOf(request.group, request.resource)) this.learnKind(request.group, request.resource, kind);
        })
        .catch(() => undefined);
      this.lookups.set(key, pending);
    }
    await pending;
  }

  kindOf(group: string, resource: string): string | undefined {
    return this.kinds.get(`${group}/${resource}`);
  }

  private closed = false;

  /** After this, records are no longer written (the writer is being closed): a late close is not worth a crash. */
  close(): void {
    this.closed = true;
  }

  private push(records: SessionRecord[]): void {
    if (records.length && !this.closed) this.options.sink.push(records);
  }

  marker(request: Pick<ResourceRequest, 'group' | 'version' | 'resource' | 'namespace'>, marker: MarkerKind, fields: Partial<Pick<MarkerRecord, 'resourceVersion' | 'count' | 'code' | 'message'>> = {}, observedAt = this.observedAt()): MarkerRecord {
    const kind = this.kindOf(request.group, request.resource);
    const record: MarkerRecord = {
      record: 'marker',
      observedAt,
      origin: 'proxy',
      marker,
      group: request.group,
      version: request.version,
      resource: request.resource,
      ...(kind ? { kind } : {}),
      namespace: request.namespace,
    };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) (record as Record<string, unknown>)[key] = value;
    return record;
  }

  mark(request: Pick<ResourceRequest, 'group' | 'version' | 'resource' | 'namespace'>, marker: MarkerKind, fields: Partial<Pick<MarkerRecord, 'resourceVersion' | 'count' | 'code' | 'message'>> = {}): void {
    this.push([this.marker(request, marker, fields)]);
  }

  /** A watch record for one delivered event; undefined (and an error marker) when the object lacks its identity. */
  watchRecord(request: ResourceRequest, type: WatchEventRecord['type'], object: KubeObject, origin: 'watch' | 'relist', observedAt: string): WatchEventRecord | MarkerRecord {
    this.learnKind(request.group, request.resource, object.kind);
    const kind = this.kindOf(request.group, request.resource) ?? request.resource;
    const meta = object.metadata;
    const rv = meta?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (!rv) return this.marker(request, 'error', { message: 'BOOKMARK without a resourceVersion' }, observedAt);
      const annotations = (meta as { annotations?: Record<string, string> }).annotations;
      return {
        record: 'watch',
        observedAt,
        origin,
        group: request.group,
        version: request.version,
        resource: request.resource,
        kind,
        type,
        namespace: request.namespace,
        name: null,
        uid: null,
        resourceVersion: rv,
        generation: null,
        // Only what the fold reads of a bookmark (the initial-events-end annotation).
        object: annotations ? { apiVersion: apiVersionOf(request.group, request.version), kind, metadata: { resourceVersion: rv, annotations } } : null,
      };
    }
    if (!meta?.name || !meta.uid || !rv) {
      return this.marker(request, 'error', { message: `${type} ${origin === 'relist' ? 'list item' : 'event'} without name, uid or resourceVersion: ${JSON.stringify(object).slice(0, 200)}` }, observedAt);
    }
    // List items come without apiVersion/kind: set them, so bodies describe themselves and Secret redaction (which
    // keys on kind) cannot miss a listed Secret.
    const body = object.kind ? object : { ...object, apiVersion: apiVersionOf(request.group, request.version), kind };
    return {
      record: 'watch',
      observedAt,
      origin,
      group: request.group,
      version: request.version,
      resource: request.resource,
      kind,
      type,
      namespace: meta.namespace || null,
      name: meta.name,
      uid: meta.uid,
      resourceVersion: rv,
      generation: Number.isInteger(meta.generation) ? meta.generation! : null,
      object: redactObject(body, this.options.redactPaths ?? []),
    };
  }

  events(records: SessionRecord[]): void {
    this.push(records);
  }

  /**
   * One page of a LIST as delivered. Pages of one list (limit/continue) are gathered and written together once the
   * last page (no continue token) has passed, so the list is contiguous in the session, as the recorder writes it.
   */
  snapshotOf(request: ResourceRequest): ListSnapshot | undefined {
    return this.snapshots.get(listKey(request));
  }

  /** Remembers a complete list as delivered (a LIST's pages, or a watch's initial events). */
  saveSnapshot(request: ResourceRequest, resourceVersion: string | undefined, items: readonly KubeObject[]): void {
    const kind = this.kindOf(request.group, request.resource);
    if (resourceVersion && kind) this.snapshots.set(listKey(request), { resourceVersion, kind, items });
  }

  listPage(request: ResourceRequest, body: { kind?: unknown; metadata?: { resourceVersion?: unknown; continue?: unknown }; items?: unknown }, options: { stale?: boolean } = {}): void {
    const key = listKey(request);
    const observedAt = this.observedAt();
    this.learnKind(request.group, request.resource, body.kind);
    let pending = this.lists.get(key);
    if (!pending || !request.query.get('continue')) {
      pending = { startedAt: observedAt, records: [], count: 0, items: [] };
      this.lists.set(key, pending);
    }
    const items = Array.isArray(body.items) ? (body.items as KubeObject[]) : [];
    for (const item of items) {
      const record = this.watchRecord(request, 'ADDED', item, 'relist', observedAt);
      pending.records.push(record);
      if (record.record === 'watch') pending.count += 1;
      pending.items.push(item);
    }
    const next = typeof body.metadata?.continue === 'string' && body.metadata.continue ? body.metadata.continue : undefined;
    if (next) return;
    this.lists.delete(key);
    const rv = typeof body.metadata?.resourceVersion === 'string' && body.metadata.resourceVersion ? body.metadata.resourceVersion : undefined;
    // A stale answer is not the newest state the controller was given: the next stale list serves the real one.
    if (!options.stale) this.saveSnapshot(request, rv, pending.items);
    this.push([
      this.marker(request, 'list-started', { message: `LIST as delivered to the controller${request.query.get('resourceVersion') ? ` (resourceVersion=${request.query.get('resourceVersion')})` : ''}` }, pending.startedAt),
      ...pending.records,
      this.marker(request, 'list-finished', { resourceVersion: rv, count: pending.count, message: `${pending.count} object(s)` }, observedAt),
    ]);
  }

  /** One API request the controller made (every write; reads only when they failed) and the server's answer. */
  api(
    request: ResourceRequest,
    outcome: { code: number; requestBody: unknown; responseBody: unknown; userAgent: string | undefined; impersonated: string | undefined; observedAt: string },
  ): void {
    const response = isObject(outcome.responseBody) ? (outcome.responseBody as KubeObject & { reason?: unknown; message?: unknown }) : undefined;
    const sent = isObject(outcome.requestBody) ? (outcome.requestBody as KubeObject) : undefined;
    const isStatus = response?.kind === 'Status';
    if (!isStatus) this.learnKind(request.group, request.resource, response?.kind);
    this.learnKind(request.group, request.resource, sent?.kind);
    const kind = this.kindOf(request.group, request.resource) ?? request.resource;
    // A failed create names its object in the Status details (AlreadyExists: details.name), also when its body was
    // protobuf and could not be read.
    const statusName = isStatus ? (response as { details?: { name?: unknown } }).details?.name : undefined;
    const name = request.name ?? (isStatus ? (typeof statusName === 'string' ? statusName : undefined) : response?.metadata?.name) ?? sent?.metadata?.name;
    const responseMeta = isStatus ? undefined : response?.metadata;
    const ok = outcome.code >= 200 && outcome.code < 300;
    const record: ApiRequestRecord = {
      record: 'api',
      observedAt: outcome.observedAt,
      origin: 'proxy',
      actor: outcome.impersonated ?? this.options.actor,
      userAgent: outcome.userAgent ?? null,
      byController: true,
      verb: request.verb,
      object: {
        group: request.group,
        version: request.version,
        resource: request.resource,
        kind,
        namespace: request.namespace,
        // A deletecollection or a create whose body could not be read has no name: `*`, the collection, as the audit
        // importer names a request on a collection (importers/audit.ts).
        name: name || '*',
        uid: responseMeta?.uid ?? sent?.metadata?.uid ?? null,
      },
      subresource: request.subresource,
      code: outcome.code,
      reason: ok ? null : typeof response?.reason === 'string' ? response.reason : null,
      message: ok ? null : typeof response?.message === 'string' ? response.message.slice(0, 500) : null,
      resourceVersionBefore: sent?.metadata?.resourceVersion ?? null,
      resourceVersionAfter: responseMeta?.resourceVersion ?? null,
      responseObject: ok && response && !isStatus ? redactObject(response, this.options.redactPaths ?? []) : null,
    };
    this.push([record]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
