import type { KubeObject, ObjectRef, SessionRecord } from '../../model/index.js';

/**
 * A tiny deterministic discrete-event simulation of a cluster for `kreplay demo`: an API server (resourceVersions
 * from one etcd-like counter, generation bumps on spec changes, managedFields stamped per writer, a bounded event
 * history per resource for watch resumes), the kreplay recorder's watches, and an audit log. The controller and
 * other actors are written on top of it (scenario.ts) as generator processes that yield delays in milliseconds.
 *
 * Pure: time is simulated, randomness comes from a seeded PRNG, iteration orders are insertion orders.
 */

export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly kind: string;
  /** metadata.generation is maintained (spec/status objects); ConfigMaps have none. */
  readonly generation: boolean;
}

export const WEBAPPS: Resource = { group: 'apps.example.com', version: 'v1', resource: 'webapps', kind: 'WebApp', generation: true };
export const DEPLOYMENTS: Resource = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', generation: true };
export const CONFIGMAPS: Resource = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', generation: false };

export interface Actor {
  /** Audit user.username. */
  readonly user: string;
  readonly userAgent: string;
  /** Field manager written into managedFields. */
  readonly manager: string;
  readonly byController: boolean;
}

/** mulberry32: small, fast, good enough for jitter; the demo must be the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = Record<string, unknown>;

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 3339 with milliseconds, as the recorder stamps observedAt. */
export function isoMs(ms: number): string {
  return new Date(ms).toISOString();
}

/** RFC 3339 to the second, as the API server writes metadata and condition times. */
export function isoS(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** fieldsV1 for a value: the set of fields it sets, two levels deep (structured-merge-diff's shape, simplified). */
export function fieldsOf(value: unknown, depth = 2): Json {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth === 0) return {};
  const out: Json = { '.': {} };
  for (const [key, child] of Object.entries(value as Json)) out[`f:${key}`] = fieldsOf(child, depth - 1);
  return out;
}

interface HistoryEntry {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

/** A process yields delays (ms) and returns its outcome. */
export type Process<R = void> = Generator<number, R, void>;

interface Scheduled {
  at: number;
  n: number;
  run: () => void;
}

export interface WriteOptions {
  verb?: 'update' | 'patch';
  subresource?: 'status';
  /** Optimistic concurrency: the write fails with 409 unless the object is still at this resourceVersion. */
  expectRV?: string;
  /** managedFields for this writer; defaults to the fields of the section it wrote. */
  fields?: Json;
}

export interface WriteResult {
  ok: boolean;
  object?: KubeObject;
}

type Listener = (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject, resource: Resource) => void;

export class Sim {
  now: number;
  readonly records: SessionRecord[] = [];
  readonly random: () => number;
  private rv: number;
  private n = 0;
  private queue: Scheduled[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly history = new Map<string, HistoryEntry[]>();
  private readonly listeners: Listener[] = [];
  private uidCounter = 0;

  constructor(start: number, firstRV: number, seed: number) {
    this.now = start;
    this.rv = firstRV;
    this.random = prng(seed);
  }

  // ---- scheduling ----------------------------------------------------------------------------------------------

  at(time: number, run: () => void): void {
    const item = { at: time, n: this.n++, run };
    // Binary insertion keeps the queue ordered by (time, insertion): same-time events run in the order scheduled.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.queue[mid]!;
      if (other.at < item.at || (other.at === item.at && other.n < item.n)) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }

  after(delay: number, run: () => void): void {
    this.at(this.now + delay, run);
  }

  /** Runs a process: each yielded number is a delay in ms before it continues. */
  spawn<R>(process: Process<R>, onDone?: (result: R) => void): void {
    const step = () => {
      const next = process.next();
      if (next.done) onDone?.(next.value);
      else this.after(Math.max(0, next.value), step);
    };
    step();
  }

  runUntil(end: number): void {
    while (this.queue.length && this.queue[0]!.at <= end) {
      const item = this.queue.shift()!;
      this.now = item.at;
      item.run();
    }
    this.now = end;
  }

  /** Uniform jitter in [min, max), whole milliseconds. */
  jitter(min: number, max: number): number {
    return Math.floor(min + this.random() * (max - min));
  }

  // ---- records -------------------------------------------------------------------------------------------------

  emit(record: SessionRecord): void {
    this.records.push(record);
  }

  /** The etcd revision now: what a list or a bookmark reports. */
  get currentRV(): string {
    return String(this.rv);
  }

  uid(): string {
    // Deterministic, UUID-shaped: 8-4-4-4-12 hex from the PRNG.
    this.uidCounter += 1;
    const hex = () => Math.floor(this.random() * 16).toString(16);
    const part = (n: number) => Array.from({ length: n }, hex).join('');
    return `${part(8)}-${part(4)}-4${part(3)}-${'89ab'[Math.floor(this.random() * 4)]}${part(3)}-${part(12)}`;
  }

  // ---- API server ----------------------------------------------------------------------------------------------

  private key(resource: Resource, namespace: string, name: string): string {
    return `${resource.resource}/${namespace}/${name}`;
  }

  get(resource: Resource, namespace: string, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(resource, namespace, name));
    return object ? clone(object) : undefined;
  }

  list(resource: Resource): KubeObject[] {
    return [...this.objects.entries()].filter(([key]) => key.startsWith(`${resource.resource}/`)).map(([, object]) => clone(object));
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Events of a resource after `rv`, as the watch cache replays them to a watch resumed from there. */
  eventsSince(resource: Resource, rv: number): HistoryEntry[] {
    return (this.history.get(resource.resource) ?? []).filter((e) => e.rv > rv);
  }

  private commit(resource: Resource, type: HistoryEntry['type'], object: KubeObject): void {
    const list = this.history.get(resource.resource) ?? [];
    list.push({ rv: Number(object.metadata!.resourceVersion), type, object: clone(object) });
    this.history.set(resource.resource, list);
    for (const listener of this.listeners) listener(type, clone(object), resource);
  }

  private stamp(object: KubeObject, actor: Actor, subresource: string | undefined, fields: Json): void {
    const metadata = object.metadata as Json;
    const entries = (metadata.managedFields as Json[] | undefined) ?? [];
    const time = isoS(this.now);
    const existing = entries.find((e) => e.manager === actor.manager && (e.subresource ?? undefined) === subresource);
    if (existing) {
      existing.time = time;
      existing.fieldsV1 = fields;
    } else {
      entries.push({
        manager: actor.manager,
        operation: 'Update',
        apiVersion: (object.apiVersion as string) ?? 'v1',
        time,
        fieldsType: 'FieldsV1',
        fieldsV1: fields,
        ...(subresource ? { subresource } : {}),
      });
    }
    metadata.managedFields = entries;
  }

  private audit(actor: Actor, verb: 'create' | 'update' | 'patch' | 'delete' | 'get', resource: Resource, namespace: string, name: string, result: { code: number; uid?: string | null; before?: string | null; after?: string | null; subresource?: string; reason?: string; message?: string }): void {
    const object: ObjectRef = { group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind, namespace, name, uid: result.uid ?? null };
    this.emit({
      record: 'api',
      observedAt: isoMs(this.now),
      origin: 'audit',
      actor: actor.user,
      userAgent: actor.userAgent,
      byController: actor.byController,
      verb,
      object,
      subresource: result.subresource ?? null,
      code: result.code,
      reason: result.reason ?? null,
      message: result.message ?? null,
      resourceVersionBefore: result.before ?? null,
      resourceVersionAfter: result.after ?? null,
      auditId: this.uid(),
    });
  }

  create(actor: Actor, resource: Resource, body: KubeObject, options: { silent?: boolean } = {}): KubeObject {
    const object = clone(body);
    const metadata = object.metadata as Json;
    const namespace = metadata.namespace as string;
    const name = metadata.name as string;
    this.rv += 1;
    metadata.uid = this.uid();
    metadata.resourceVersion = String(this.rv);
    metadata.creationTimestamp = isoS(this.now);
    if (resource.generation) metadata.generation = 1;
    const { metadata: _m, status: _s, ...rest } = object as Json;
    this.stamp(object, actor, undefined, { ...fieldsOf(rest), 'f:metadata': fieldsOf({ labels: metadata.labels, annotations: metadata.annotations, finalizers: metadata.finalizers }) });
    // Keys in the order the API server returns them: metadata first.
    const ordered = { apiVersion: object.apiVersion, kind: object.kind, metadata: orderMetadata(metadata), ...rest, ...(object.status ? { status: object.status } : {}) } as KubeObject;
    this.objects.set(this.key(resource, namespace, name), ordered);
    if (!options.silent) this.audit(actor, 'create', resource, namespace, name, { code: 201, uid: metadata.uid as string, after: String(this.rv) });
    this.commit(resource, 'ADDED', ordered);
    return clone(ordered);
  }

  write(actor: Actor, resource: Resource, namespace: string, name: string, mutate: (object: Json) => void, options: WriteOptions = {}): WriteResult {
    const verb = options.verb ?? 'update';
    const current = this.objects.get(this.key(resource, namespace, name));
    if (!current) {
      this.audit(actor, verb, resource, namespace, name, { code: 404, subresource: options.subresource, reason: 'NotFound', message: `${resource.resource}.${resource.group || 'core'} "${name}" not found` });
      return { ok: false };
    }
    const metadata = current.metadata as Json;
    if (options.expectRV !== undefined && options.expectRV !== metadata.resourceVersion) {
      this.audit(actor, verb, resource, namespace, name, {
        code: 409,
        uid: metadata.uid as string,
        before: options.expectRV,
        subresource: options.subresource,
        reason: 'Conflict',
        message: `Operation cannot be fulfilled on ${resource.resource}${resource.group ? `.${resource.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      });
      return { ok: false };
    }
    const next = clone(current) as Json;
    mutate(next);
    // The status subresource ignores everything but status; the main resource ignores status (CRDs with the
    // status subresource enabled, apiextensions-apiserver pkg/registry/customresource/strategy.go).
    if (options.subresource === 'status') {
      for (const key of Object.keys(next)) if (key !== 'status') next[key] = clone((current as Json)[key]);
    } else if ('status' in current) {
      next.status = clone((current as Json).status);
    }
    const nextMeta = next.metadata as Json;
    if (same(next, current)) {
      // A no-op write: the server answers with the unchanged object and no new revision.
      this.audit(actor, verb, resource, namespace, name, { code: 200, uid: metadata.uid as string, before: metadata.resourceVersion as string, after: metadata.resourceVersion as string, subresource: options.subresource });
      return { ok: true, object: clone(current) };
    }
    this.rv += 1;
    if (resource.generation && !same(next.spec, (current as Json).spec)) nextMeta.generation = ((metadata.generation as number) ?? 0) + 1;
    nextMeta.resourceVersion = String(this.rv);
    const section = options.subresource === 'status' ? { status: next.status } : { spec: next.spec, data: next.data };
    this.stamp(next as KubeObject, actor, options.subresource, options.fields ?? fieldsOf(section));
    this.objects.set(this.key(resource, namespace, name), next as KubeObject);
    this.audit(actor, verb, resource, namespace, name, { code: 200, uid: metadata.uid as string, before: options.expectRV ?? null, after: String(this.rv), subresource: options.subresource });
    this.commit(resource, 'MODIFIED', next as KubeObject);
    return { ok: true, object: clone(next as KubeObject) };
  }

  /** DELETE: with finalizers the object only gets a deletionTimestamp (and a generation bump); else it goes. */
  delete(actor: Actor, resource: Resource, namespace: string, name: string): void {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (!current) {
      this.audit(actor, 'delete', resource, namespace, name, { code: 404, reason: 'NotFound', message: `${resource.resource} "${name}" not found` });
      return;
    }
    const metadata = current.metadata as Json;
    this.rv += 1;
    if (Array.isArray(metadata.finalizers) && metadata.finalizers.length) {
      const next = clone(current) as Json;
      const nextMeta = next.metadata as Json;
      nextMeta.deletionTimestamp = isoS(this.now);
      nextMeta.deletionGracePeriodSeconds = 0;
      nextMeta.generation = ((metadata.generation as number) ?? 0) + 1;
      nextMeta.resourceVersion = String(this.rv);
      this.objects.set(key, next as KubeObject);
      this.audit(actor, 'delete', resource, namespace, name, { code: 200, uid: metadata.uid as string, after: String(this.rv) });
      this.commit(resource, 'MODIFIED', next as KubeObject);
      return;
    }
    this.objects.delete(key);
    const gone = clone(current) as Json;
    (gone.metadata as Json).resourceVersion = String(this.rv);
    this.audit(actor, 'delete', resource, namespace, name, { code: 200, uid: metadata.uid as string });
    this.commit(resource, 'DELETED', gone as KubeObject);
  }

  /** A read that failed: audit policies keep those (a 404 loop shows up only this way). */
  getNotFound(actor: Actor, resource: Resource, namespace: string, name: string): void {
    this.audit(actor, 'get', resource, namespace, name, {
      code: 404,
      reason: 'NotFound',
      message: `${resource.resource}${resource.group ? `.${resource.group}` : ''} "${name}" not found`,
    });
  }
}

function orderMetadata(metadata: Json): Json {
  const order = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];
  const out: Json = {};
  for (const key of order) if (metadata[key] !== undefined) out[key] = metadata[key];
  for (const [key, value] of Object.entries(metadata)) if (!(key in out)) out[key] = value;
  return out;
}
