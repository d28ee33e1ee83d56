import type {
  ApiRequestRecord,
  ApiVerb,
  DeliveryRecord,
  KubeObject,
  MarkerKind,
  MarkerRecord,
  ObjectRef,
  Origin,
  ReconcileRecord,
  SessionRecord,
  StoredRecord,
  WatchEventRecord,
} from '../../model/index.js';
import { parseApiVersion } from '../../model/index.js';

/**
 * Test support: a tiny fake API server (`Cluster`) that applies writes the way kube-apiserver does, and a
 * `SessionBuilder` that turns what happened into kreplay records. Tests read as given/when/then:
 *
 *   const c = new Cluster();                       // given a cluster
 *   const s = new SessionBuilder(c).listAndWatch('Foo');
 *   const foo = s.deliver(c.create(fooSpec('a')));  // when the watch delivers a create
 *   s.deliver(c.update('Foo', 'default/a', ...));
 *   expect(analyze(s.records).findings)...          // then
 *
 * Server rules it follows (apiserver pkg/registry/generic/registry/store.go and rest/*.go): every write gets the
 * next resourceVersion; metadata.generation (only on kinds whose strategy sets it: workloads and custom resources,
 * not ConfigMaps, Leases, Services, Endpoints, PVCs or Namespaces) starts at 1 and grows by one on every write that
 * changes anything outside metadata and status (status subresource writes never bump it), and once when a
 * deletionTimestamp is set; a DELETE on an object with finalizers only sets deletionTimestamp; managedFields entries
 * are per (manager, operation, subresource) and stamped on each write.
 *
 * `lastResponse` is what the server answered the last write, which is not always what watchers get:
 * - Removing the last finalizer of a deleting object deletes it in the same step (store.go `Update`:
 *   `ShouldDeleteDuringUpdate` → `errEmptiedFinalizers` → `deleteWithoutFinalizers`): the write is answered with
 *   the object as written (finalizers gone) at the *previous* resourceVersion, while watchers get DELETED with a
 *   new resourceVersion carrying the last *stored* state, finalizers still listed (checked on kube-apiserver
 *   v1.36.3, test/fixtures/real/audit-finalizer-removal.log).
 * - A DELETE that removes the object at once is answered with a Status naming its uid (generic registry, the
 *   default `ReturnDeletedObject: false`), except for Pods, which answer with the pod.
 * - Pods are deleted gracefully: a DELETE with a grace period sets deletionTimestamp to now + grace and
 *   deletionGracePeriodSeconds; the kubelet's DELETE with grace 0 removes the pod (pkg/registry/core/pod/strategy.go
 *   CheckGracefulDelete).
 * - A Namespace with `spec.finalizers` (`kubernetes`) is only marked Terminating by a DELETE
 *   (pkg/registry/core/namespace/storage/storage.go); the namespace controller empties it through the `finalize`
 *   subresource once the contents are gone, then DELETEs it again.
 * - Services get a clusterIP and, for NodePort and LoadBalancer, a nodePort per port when omitted, plus the
 *   defaults (protocol, targetPort, sessionAffinity, ipFamilies, traffic policies). On update, an omitted nodePort
 *   is patched back from the stored object by port name since v1.20 (pkg/registry/core/service/storage/storage.go
 *   patchAllocatedValues); before that (pkg/registry/core/service/storage/rest.go updateNodePorts) a port sent
 *   without nodePort got a new one from the allocator. `new Cluster({ nodePortsOnUpdate: 'reallocate' })` plays
 *   the old servers (Sieve's recordings come from v1.18 clusters).
 * A write that changes nothing throws: kube-apiserver stores nothing for it, answers with the object as it was and
 * sends no watch event (storage GuaranteedUpdate returns early when the new object equals the old one), so a script
 * that "writes" it would record an event no server sends. Ask `wouldChange` first where a story's writer checks.
 */

export interface KindInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  /** false for kinds whose registry strategy never sets metadata.generation. */
  generation?: false;
}

export const kinds: Record<string, KindInfo> = {
  Foo: { group: 'samplecontroller.k8s.io', version: 'v1alpha1', resource: 'foos', kind: 'Foo', namespaced: true },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  ConfigMap: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, generation: false },
  Database: { group: 'db.example.com', version: 'v1', resource: 'databases', kind: 'Database', namespaced: true },
  Lease: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true, generation: false },
  Service: { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, generation: false },
  Endpoints: { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true, generation: false },
  PersistentVolumeClaim: { group: '', version: 'v1', resource: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true, generation: false },
  Namespace: { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, generation: false },
  Pod: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true },
  Widget: { group: 'widgets.acme.io', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true },
  Website: { group: 'web.example.com', version: 'v1', resource: 'websites', kind: 'Website', namespaced: true },
  WebApp: { group: 'shop.acme.io', version: 'v1alpha1', resource: 'webapps', kind: 'WebApp', namespaced: true },
  Event: { group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, generation: false },
  Secret: { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, generation: false },
  Node: { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, generation: false },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true, generation: false },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true, generation: false },
  ClusterRole: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false, generation: false },
  ClusterRoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, generation: false },
};

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

export interface WriteOptions {
  manager?: string;
  subresource?: 'status' | 'finalize';
  operation?: 'Update' | 'Apply';
  /** Advance the clock before the write (Go duration). */
  after?: string;
}

type Json = Record<string, unknown>;

function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

export function durationMs(text: string): number {
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms']!;
  return total;
}

/** fieldsV1 for the fields a write touched, the way structured-merge-diff serialises a field set. */
function fieldsOf(object: Json, subresource: string | undefined, finalizers: readonly string[]): Json {
  const set = (value: unknown): Json => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const out: Json = {};
      for (const [k, v] of Object.entries(value as Json)) out[`f:${k}`] = set(v);
      return out;
    }
    return {};
  };
  if (subresource === 'status') return { 'f:status': set(object.status) };
  if (subresource === 'finalize') return { 'f:spec': { 'f:finalizers': {} } };
  const out: Json = {};
  if (object.spec !== undefined) out['f:spec'] = set(object.spec);
  const meta: Json = {};
  const labels = (object.metadata as Json).labels;
  if (labels) meta['f:labels'] = set(labels);
  if (finalizers.length) {
    const f: Json = { '.': {} };
    for (const name of finalizers) f[`v:${JSON.stringify(name)}`] = {};
    meta['f:finalizers'] = f;
  }
  if (Object.keys(meta).length) out['f:metadata'] = meta;
  return out;
}

export class Cluster {
  /** etcd revision: one per write, shared by every resource. */
  revision: number;
  /** The cluster clock, epoch ms. */
  now: number;
  /** What the server answered the last write (see the header: not always what watchers get). */
  lastResponse: KubeObject | null = null;
  private readonly objects = new Map<string, KubeObject>();
  private uids = 0;
  private readonly nodePortsOnUpdate: 'preserve' | 'reallocate';
  /** The service node port allocator's state: a fixed pseudo-random walk over 30000-32767 (the real one is random). */
  private nodePortSeed = 7;
  private clusterIPs = 10;

  constructor(options: { start?: string; revision?: number; nodePortsOnUpdate?: 'preserve' | 'reallocate' } = {}) {
    this.now = Date.parse(options.start ?? '2025-03-01T10:00:00Z');
    this.revision = options.revision ?? 1000;
    this.nodePortsOnUpdate = options.nodePortsOnUpdate ?? 'preserve';
  }

  private allocateNodePort(used: ReadonlySet<number>): number {
    for (;;) {
      this.nodePortSeed = (this.nodePortSeed * 1103515245 + 12345) % 2147483648;
      const port = 30000 + (this.nodePortSeed % 2768);
      if (!used.has(port)) return port;
    }
  }

  private usedNodePorts(): Set<number> {
    const used = new Set<number>();
    for (const o of this.objects.values()) {
      if (o.kind !== 'Service') continue;
      for (const p of (((o as Json).spec as Json | undefined)?.ports as Json[] | undefined) ?? []) if (typeof p.nodePort === 'number') used.add(p.nodePort);
    }
    return used;
  }

  /** A Service's server-assigned fields and defaults (pkg/apis/core/v1/defaults.go, service storage allocators). */
  private defaultService(object: Json, before: Json | undefined): void {
    const spec = (object.spec ??= {}) as Json;
    const old = before?.spec as Json | undefined;
    spec.type ??= 'ClusterIP';
    const needsNodePort = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    if (spec.clusterIP === undefined) spec.clusterIP = (old?.clusterIP as string | undefined) ?? `10.96.${Math.floor(this.clusterIPs / 250)}.${(this.clusterIPs++ % 250) + 1}`;
    spec.clusterIPs ??= [spec.clusterIP];
    spec.sessionAffinity ??= 'None';
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
    if (needsNodePort) spec.externalTrafficPolicy ??= 'Cluster';
    const used = this.usedNodePorts();
    const oldByName = new Map(((old?.ports as Json[] | undefined) ?? []).map((p) => [p.name as string | undefined, p.nodePort as number | undefined]));
    for (const port of (spec.ports as Json[] | undefined) ?? []) {
      port.protocol ??= 'TCP';
      port.targetPort ??= port.port;
      if (!needsNodePort || port.nodePort !== undefined) continue;
      const kept = this.nodePortsOnUpdate === 'preserve' ? oldByName.get(port.name as string | undefined) : undefined;
      port.nodePort = kept ?? this.allocateNodePort(used);
      used.add(port.nodePort as number);
    }
  }

  tick(duration: string): this {
    this.now += durationMs(duration);
    return this;
  }

  iso(ms = this.now): string {
    return new Date(ms).toISOString().replace('.000Z', 'Z');
  }

  /**
   * A metav1.Time as the server writes it (creationTimestamp, deletionTimestamp, managedFields time): RFC 3339 to
   * the second (apimachinery pkg/apis/meta/v1/time.go MarshalJSON). Only MicroTime fields (a Lease's renewTime)
   * carry more.
   */
  metaTime(ms = this.now): string {
    return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  }

  private key(kind: string, name: string): string {
    return `${kind}/${name.includes('/') ? name : `default/${name}`}`;
  }

  get(kind: string, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(kind, name));
    return object ? clone(object) : undefined;
  }

  list(kind: string): KubeObject[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${kind}/`)).map(([, o]) => clone(o));
  }

  private stamp(object: Json, manager: string, operation: string, subresource: string | undefined): void {
    const metadata = object.metadata as Json;
    const entries = ((metadata.managedFields as Json[] | undefined) ?? []).filter((e) => !(e.manager === manager && e.operation === operation && (e.subresource ?? '') === (subresource ?? '')));
    const info = kinds[object.kind as string];
    const mine = subresource ? [] : ((metadata.finalizers as string[] | undefined) ?? []).filter((f) => !this.finalizerOwnedByOther(entries, f));
    const entry: Json = {
      manager,
      operation,
      apiVersion: info ? (info.group ? `${info.group}/${info.version}` : info.version) : (object.apiVersion as string),
      time: this.metaTime(),
      fieldsType: 'FieldsV1',
      fieldsV1: fieldsOf(object, subresource, mine),
    };
    if (subresource) entry.subresource = subresource;
    entries.push(entry);
    metadata.managedFields = entries;
  }

  private finalizerOwnedByOther(entries: Json[], finalizer: string): boolean {
    return entries.some((e) => {
      const f = ((e.fieldsV1 as Json | undefined)?.['f:metadata'] as Json | undefined)?.['f:finalizers'] as Json | undefined;
      return f !== undefined && `v:${JSON.stringify(finalizer)}` in f;
    });
  }

  /** POST: a new object (new uid) with generation 1. */
  create(
    kind: string,
    name: string,
    body: {
      spec?: unknown;
      status?: unknown;
      labels?: Record<string, string>;
      annotations?: Record<string, string>;
      finalizers?: string[];
      ownerReferences?: unknown[];
      data?: unknown;
      /** Other top-level fields (a ClusterRole's rules, a binding's roleRef and subjects). */
      fields?: Record<string, unknown>;
    },
    options: WriteOptions = {},
  ): WatchEvent {
    if (options.after) this.tick(options.after);
    const info = kinds[kind] ?? { group: 'example.com', version: 'v1', resource: `${kind.toLowerCase()}s`, kind, namespaced: true };
    const [namespace, short] = name.includes('/') ? name.split('/') : ['default', name];
    this.revision++;
    this.uids++;
    const uid = `${(this.uids * 2654435761) % 0xffffffff}`.padStart(8, '0').slice(0, 8) + `-6d3a-4c1e-9f2b-${String(this.uids).padStart(12, '0')}`;
    const metadata: Json = {
      name: short,
      namespace: info.namespaced ? namespace : undefined,
      uid,
      resourceVersion: String(this.revision),
      creationTimestamp: this.metaTime(),
    };
    if (!info.namespaced) delete metadata.namespace;
    if (body.data === undefined && body.fields === undefined && info.generation !== false) metadata.generation = 1;
    if (body.labels) metadata.labels = body.labels;
    if (body.annotations) metadata.annotations = body.annotations;
    if (body.finalizers) metadata.finalizers = body.finalizers;
    if (body.ownerReferences) metadata.ownerReferences = body.ownerReferences;
    const object: Json = { apiVersion: info.group ? `${info.group}/${info.version}` : info.version, kind, metadata };
    if (body.spec !== undefined) object.spec = clone(body.spec);
    if (body.data !== undefined) object.data = clone(body.data);
    if (body.status !== undefined) object.status = clone(body.status);
    if (body.fields) Object.assign(object, clone(body.fields));
    if (kind === 'Service') this.defaultService(object, undefined);
    this.stamp(object, options.manager ?? 'kubectl-client-side-apply', options.operation ?? 'Update', undefined);
    this.objects.set(this.key(kind, name), object as KubeObject);
    this.lastResponse = clone(object) as KubeObject;
    return { type: 'ADDED', object: clone(object) as KubeObject };
  }

  /** PUT/PATCH: `mutate` edits a copy; the server assigns RV, generation and managedFields. */
  update(kind: string, name: string, mutate: (object: Json) => void, options: WriteOptions = {}): WatchEvent {
    if (options.after) this.tick(options.after);
    const key = this.key(kind, name);
    const current = this.objects.get(key);
    if (!current) throw new Error(`no ${key}`);
    const next = clone(current) as Json;
    mutate(next);
    const metadata = next.metadata as Json;
    const before = current as Json;
    if (options.subresource === 'status') {
      // The status subresource ignores everything but status (registry strategies' PrepareForUpdate).
      for (const k of Object.keys(next)) if (k !== 'status' && k !== 'metadata') next[k] = clone(before[k]);
      next.metadata = { ...clone(before.metadata as Json) };
    } else if (options.subresource === 'finalize') {
      // A Namespace's finalize subresource changes spec.finalizers only (namespace storage FinalizeREST).
      const finalizers = ((next.spec as Json | undefined)?.finalizers as unknown) ?? [];
      for (const k of Object.keys(next)) if (k !== 'metadata') next[k] = clone(before[k]);
      next.metadata = { ...clone(before.metadata as Json) };
      next.spec = { ...((next.spec as Json | undefined) ?? {}), finalizers };
    } else {
      if (before.status === undefined) delete next.status;
      else next.status = clone(before.status);
      const strip = (o: Json) => JSON.stringify({ ...o, metadata: undefined, status: undefined });
      if (kind === 'Service') this.defaultService(next, before);
      if (strip(next) !== strip(before) && typeof metadata.generation === 'number') metadata.generation = (before.metadata as Json).generation as number + 1;
    }
    if (JSON.stringify({ ...next, metadata: { ...(next.metadata as Json), managedFields: undefined } }) === JSON.stringify({ ...before, metadata: { ...(before.metadata as Json), managedFields: undefined } })) {
      throw new Error(`no-op write of ${key} by ${options.manager ?? 'kubectl-edit'}: kube-apiserver stores nothing and sends no event`);
    }
    this.revision++;
    this.stamp(next, options.manager ?? 'kubectl-edit', options.operation ?? 'Update', options.subresource);
    const nextMeta = next.metadata as Json;
    const finalizers = (nextMeta.finalizers as string[] | undefined) ?? [];
    if (finalizers.length === 0) delete nextMeta.finalizers;
    if (nextMeta.deletionTimestamp && finalizers.length === 0 && ((current.metadata as Json).finalizers as string[] | undefined)?.length) {
      // Deleted during the update: answered as written at the previous RV; watchers get the last stored state.
      this.objects.delete(key);
      this.lastResponse = clone(next) as KubeObject;
      const gone = clone(current) as Json;
      (gone.metadata as Json).resourceVersion = String(this.revision);
      return { type: 'DELETED', object: gone as KubeObject };
    }
    nextMeta.resourceVersion = String(this.revision);
    this.objects.set(key, next as KubeObject);
    this.lastResponse = clone(next) as KubeObject;
    return { type: 'MODIFIED', object: clone(next) as KubeObject };
  }

  /**
   * DELETE: with finalizers only sets deletionTimestamp (and bumps generation); a Pod with a grace period only
   * starts terminating; a Namespace with spec.finalizers turns Terminating; otherwise the object is gone.
   */
  delete(kind: string, name: string, options: WriteOptions & { gracePeriodSeconds?: number; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {}): WatchEvent {
    if (options.after) this.tick(options.after);
    const key = this.key(kind, name);
    const current = this.objects.get(key);
    if (!current) throw new Error(`no ${key}`);
    const next = clone(current) as Json;
    const metadata = next.metadata as Json;
    this.revision++;
    // Foreground and Orphan deletion: the API server itself adds the garbage collector's finalizer
    // (registry/store.go deletionFinalizersForGarbageCollection); it shows in no managedFields entry.
    const gcFinalizer = options.propagationPolicy === 'Foreground' ? 'foregroundDeletion' : options.propagationPolicy === 'Orphan' ? 'orphan' : null;
    if (gcFinalizer && !metadata.deletionTimestamp) metadata.finalizers = [...new Set([...((metadata.finalizers as string[] | undefined) ?? []), gcFinalizer])];
    const grace = kind === 'Pod' ? (options.gracePeriodSeconds ?? ((((next.spec as Json | undefined)?.terminationGracePeriodSeconds as number | undefined) ?? 30))) : 0;
    const namespaceFinalizers = kind === 'Namespace' ? (((next.spec as Json | undefined)?.finalizers as string[] | undefined) ?? []) : [];
    const keeps = ((metadata.finalizers as string[] | undefined) ?? []).length > 0 || namespaceFinalizers.length > 0;
    if (keeps || (grace > 0 && !metadata.deletionTimestamp)) {
      if (!metadata.deletionTimestamp) {
        metadata.deletionTimestamp = this.metaTime(this.now + grace * 1000);
        metadata.deletionGracePeriodSeconds = grace;
        if (typeof metadata.generation === 'number') metadata.generation += 1;
      }
      if (kind === 'Namespace') next.status = { ...((next.status as Json | undefined) ?? {}), phase: 'Terminating' };
      metadata.resourceVersion = String(this.revision);
      this.objects.set(key, next as KubeObject);
      this.lastResponse = clone(next) as KubeObject;
      return { type: 'MODIFIED', object: clone(next) as KubeObject };
    }
    metadata.resourceVersion = String(this.revision);
    this.objects.delete(key);
    const info = kinds[kind];
    this.lastResponse =
      kind === 'Pod'
        ? (clone(next) as KubeObject)
        : ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: metadata.name, group: info?.group || undefined, kind: info?.resource ?? `${kind.toLowerCase()}s`, uid: metadata.uid } } as unknown as KubeObject);
    return { type: 'DELETED', object: clone(next) as KubeObject };
  }

  /** Whether `mutate` changes the stored object (a writer that compares before writing skips it otherwise). */
  wouldChange(kind: string, name: string, mutate: (object: Json) => void): boolean {
    const current = this.objects.get(this.key(kind, name));
    if (!current) return true;
    const next = clone(current) as Json;
    mutate(next);
    return JSON.stringify(next) !== JSON.stringify(current);
  }

  /** The namespace controller, once a terminating Namespace is empty: `finalize` without `kubernetes`. */
  finalizeNamespace(name: string, options: WriteOptions = {}): WatchEvent {
    return this.update('Namespace', name, (o) => ((o.spec as Json).finalizers = []), { manager: 'kube-controller-manager', subresource: 'finalize', ...options });
  }

  removeFinalizer(kind: string, name: string, finalizer: string, options: WriteOptions = {}): WatchEvent {
    return this.update(
      kind,
      name,
      (o) => {
        const m = o.metadata as Json;
        m.finalizers = ((m.finalizers as string[] | undefined) ?? []).filter((f) => f !== finalizer);
      },
      { manager: 'kubectl-patch', ...options },
    );
  }
}

function refOf(object: KubeObject): ObjectRef {
  const { group, version } = parseApiVersion(object.apiVersion ?? 'v1');
  const info = kinds[object.kind ?? ''];
  return {
    group,
    version,
    resource: info?.resource ?? `${(object.kind ?? '').toLowerCase()}s`,
    kind: object.kind ?? '',
    namespace: object.metadata?.namespace ?? null,
    name: object.metadata?.name ?? '',
    uid: object.metadata?.uid ?? null,
  };
}

export function watchRecord(event: WatchEvent, origin: Origin, observedAt: string | null): WatchEventRecord {
  const ref = refOf(event.object);
  return {
    record: 'watch',
    observedAt,
    origin,
    group: ref.group,
    version: ref.version,
    resource: ref.resource!,
    kind: ref.kind,
    type: event.type,
    namespace: ref.namespace,
    name: ref.name,
    uid: ref.uid ?? null,
    resourceVersion: event.object.metadata?.resourceVersion ?? '0',
    generation: event.object.metadata?.generation ?? null,
    object: event.object,
  };
}

/** Builds a session's records in seq order, stamping observedAt from the cluster clock. */
export class SessionBuilder {
  readonly records: StoredRecord[] = [];
  /** Milliseconds the recorder sees an event after the server wrote it. */
  latency = 5;

  constructor(readonly cluster: Cluster) {}

  private at(): string {
    return new Date(this.cluster.now + this.latency).toISOString();
  }

  push(record: SessionRecord): StoredRecord {
    const stored = { ...record, seq: this.records.length + 1 } as StoredRecord;
    this.records.push(stored);
    return stored;
  }

  /** list-started, the current objects as relist items, list-finished; then watch-started from the list RV. */
  listAndWatch(kind: string, options: { origin?: Origin } = {}): this {
    this.list(kind, options);
    return this.watchStarted(kind, String(this.cluster.revision));
  }

  list(kind: string, options: { origin?: Origin } = {}): this {
    this.marker('list-started', kind);
    for (const object of this.cluster.list(kind)) this.push(watchRecord({ type: 'ADDED', object }, options.origin ?? 'relist', this.at()));
    return this.marker('list-finished', kind, { resourceVersion: String(this.cluster.revision), count: this.cluster.list(kind).length });
  }

  watchStarted(kind: string, resourceVersion: string): this {
    return this.marker('watch-started', kind, { resourceVersion });
  }

  marker(marker: MarkerKind, kind?: string, extra: Partial<MarkerRecord> = {}): this {
    const info = kind ? kinds[kind] : undefined;
    const record: MarkerRecord = { record: 'marker', observedAt: this.at(), origin: 'watch', marker, ...extra };
    if (info) Object.assign(record, { group: info.group, version: info.version, resource: info.resource, kind: info.kind });
    this.push(record);
    return this;
  }

  /** The watch delivers an event (as the server sent it). Returns the event for chaining. */
  deliver(event: WatchEvent, origin: Origin = 'watch', options: { observedAt?: string | null } = {}): WatchEvent {
    this.push(watchRecord(event, origin, options.observedAt === undefined ? this.at() : options.observedAt));
    return event;
  }

  bookmark(kind: string, resourceVersion = String(this.cluster.revision)): this {
    const info = kinds[kind]!;
    this.push({
      record: 'watch',
      observedAt: this.at(),
      origin: 'watch',
      group: info.group,
      version: info.version,
      resource: info.resource,
      kind: info.kind,
      type: 'BOOKMARK',
      namespace: null,
      name: null,
      uid: null,
      resourceVersion,
      generation: null,
      object: null,
    });
    return this;
  }

  /** An API request record; `event` gives the object and response of a successful write. */
  api(input: {
    verb: ApiVerb;
    kind: string;
    name: string;
    code?: number;
    actor?: string;
    userAgent?: string;
    byController?: boolean;
    subresource?: string | null;
    event?: WatchEvent;
    withResponse?: boolean;
    resourceVersionBefore?: string | null;
    reason?: string;
    /** The request's namespace; null for a cluster-wide list or watch. Default: from `name`, else 'default'. */
    namespace?: string | null;
    origin?: Origin;
  }): StoredRecord {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : [input.namespace === undefined ? (info.namespaced ? 'default' : null) : input.namespace, input.name];
    const uid = input.event?.object.metadata?.uid ?? this.cluster.get(input.kind, input.name)?.metadata?.uid ?? null;
    const record: ApiRequestRecord = {
      record: 'api',
      observedAt: this.at(),
      origin: input.origin ?? 'audit',
      actor: input.actor ?? 'system:serviceaccount:default:foo-controller',
      ...(input.userAgent ? { userAgent: input.userAgent } : {}),
      byController: input.byController ?? true,
      verb: input.verb,
      object: { group: info.group, version: info.version, resource: info.resource, kind: info.kind, namespace: namespace ?? null, name: name!, uid },
      subresource: input.subresource ?? null,
      code: input.code ?? 200,
      reason: input.reason ?? (input.code === 404 ? 'NotFound' : input.code === 409 ? 'Conflict' : null),
      resourceVersionBefore: input.resourceVersionBefore ?? null,
      resourceVersionAfter: input.event?.object.metadata?.resourceVersion ?? null,
      responseObject: input.withResponse && input.event ? input.event.object : null,
    };
    return this.push(record);
  }

  reconcile(input: {
    kind: string;
    name: string;
    result?: ReconcileRecord['result'];
    errorReason?: ReconcileRecord['errorReason'];
    observedGeneration?: number | null;
    observedResourceVersion?: string | null;
    startedAt?: number;
    duration?: string;
    controller?: string;
    requeueAfterMs?: number;
  }): StoredRecord {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : ['default', input.name];
    const started = input.startedAt ?? this.cluster.now;
    const finished = started + durationMs(input.duration ?? '20ms');
    const object = this.cluster.get(input.kind, input.name);
    const record: ReconcileRecord = {
      record: 'reconcile',
      observedAt: new Date(finished).toISOString(),
      origin: 'ingest',
      controller: input.controller ?? 'foo-controller',
      object: { group: info.group, version: info.version, resource: info.resource, kind: info.kind, namespace: namespace!, name: name!, uid: object?.metadata?.uid ?? null },
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date(finished).toISOString(),
      observedResourceVersion: input.observedResourceVersion === undefined ? (object?.metadata?.resourceVersion ?? null) : input.observedResourceVersion,
      observedGeneration: input.observedGeneration === undefined ? (object?.metadata?.generation ?? null) : input.observedGeneration,
      result: input.result ?? 'success',
      errorReason: input.errorReason ?? null,
      requeueAfterMs: input.requeueAfterMs ?? (input.result === 'requeue-after' ? 30_000 : null),
    };
    return this.push(record);
  }

  /** The SDK's report that a reconcile began (reconcile-start); its finish is `reconcile` with the same startedAt. */
  reconcileStart(input: { kind: string; name: string; startedAt?: number; controller?: string; observedResourceVersion?: string | null }): StoredRecord {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : ['default', input.name];
    const started = input.startedAt ?? this.cluster.now;
    const object = this.cluster.get(input.kind, input.name);
    return this.push({
      record: 'reconcile-start',
      observedAt: new Date(started).toISOString(),
      origin: 'ingest',
      controller: input.controller ?? 'foo-controller',
      object: { group: info.group, version: info.version, resource: info.resource, kind: info.kind, namespace: namespace!, name: name!, uid: object?.metadata?.uid ?? null },
      startedAt: new Date(started).toISOString(),
      observedResourceVersion: input.observedResourceVersion === undefined ? (object?.metadata?.resourceVersion ?? null) : input.observedResourceVersion,
      observedGeneration: object?.metadata?.generation ?? null,
    });
  }

  handler(input: { kind: string; name: string; handler: DeliveryRecord['handler']; tombstone?: boolean; resourceVersion?: string | null; oldResourceVersion?: string | null; uid?: string | null; controller?: string }): StoredRecord {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : ['default', input.name];
    return this.push({
      record: 'delivery',
      observedAt: this.at(),
      origin: 'ingest',
      controller: input.controller ?? 'foo-controller',
      handler: input.handler,
      tombstone: input.tombstone ?? false,
      object: { group: info.group, version: info.version, resource: info.resource, kind: info.kind, namespace: namespace!, name: name!, uid: input.uid ?? null },
      resourceVersion: input.resourceVersion ?? null,
      oldResourceVersion: input.oldResourceVersion ?? null,
    });
  }
}

/** A Foo as sample-controller's CRD defines it. */
export function fooSpec(replicas = 1, deploymentName = 'example-foo'): { deploymentName: string; replicas: number } {
  return { deploymentName, replicas };
}
