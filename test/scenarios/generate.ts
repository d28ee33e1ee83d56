/**
 * Regenerates the input files of the labelled scenarios (`npx tsx test/scenarios/generate.ts`). Each scenario is a
 * script of what a cluster and a controller did, played against the fake API server in replayer/testing/builder.ts
 * (which follows kube-apiserver's resourceVersion, generation, managedFields and finalizer rules), and written in
 * the format its real producer writes:
 *
 *   - session.ndjson: what `kreplay record` writes (docs/format.md): list/watch markers, relist items, watch
 *     events, the controller's reconcile and handler reports from the SDK, API records.
 *   - watch.json: `kubectl get <res> -w --output-watch-events -o json --show-managed-fields`, pretty-printed
 *     events back to back, no times but the objects' own.
 *   - audit.log: kube-apiserver `--audit-log-path` output: one audit.k8s.io/v1 Event per line, a RequestReceived
 *     and a ResponseComplete stage per request, level RequestResponse for the resources of interest.
 *
 * The expected findings (expected.json) are written by hand from the story each script tells, never generated.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject, SessionRecord } from '../../model/index.js';
import { Cluster, kinds, SessionBuilder, type WatchEvent } from '../../replayer/testing/builder.js';

const root = dirname(fileURLToPath(import.meta.url));

type Json = Record<string, unknown>;
type Spec = Record<string, unknown>;

const CONTROLLER_SA = 'system:serviceaccount:sample-controller:sample-controller';
const CONTROLLER_UA = 'sample-controller/v0.0.0 (linux/amd64) kubernetes/$Format';
const ADMIN = 'kubernetes-admin';

function write(name: string, file: string, text: string): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, file), text);
}

function ndjson(name: string, s: SessionBuilder): void {
  write(name, 'session.ndjson', s.records.map(({ seq: _seq, ...r }) => JSON.stringify(r)).join('\n') + '\n');
}

/** What `kubectl get -w --output-watch-events -o json` prints: each event pretty-printed with 4 spaces. */
class KubectlDump {
  private readonly events: WatchEvent[] = [];
  print(event: WatchEvent): WatchEvent {
    this.events.push(JSON.parse(JSON.stringify(event)) as WatchEvent);
    return event;
  }
  text(): string {
    return this.events.map((e) => JSON.stringify({ type: e.type, object: e.object }, null, 4)).join('\n') + '\n';
  }
}

/** The groups kube-apiserver's authenticators give a user (service account tokens, node certificates, admins). */
function groupsOf(user: string): string[] {
  if (user.startsWith('system:serviceaccount:')) return ['system:serviceaccounts', `system:serviceaccounts:${user.split(':')[2]}`, 'system:authenticated'];
  if (user.startsWith('system:node:')) return ['system:nodes', 'system:authenticated'];
  if (user === 'system:kube-scheduler' || user === 'system:kube-controller-manager') return ['system:authenticated'];
  if (user === ADMIN) return ['system:masters', 'system:authenticated'];
  return ['developers', 'system:authenticated'];
}

/** kube-apiserver's audit log: RequestReceived + ResponseComplete per request. */
class AuditLog {
  private readonly lines: string[] = [];
  private id = 0;
  constructor(private readonly cluster: Cluster) {}

  private micro(ms: number): string {
    return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${String((this.id * 37) % 1000).padStart(3, '0')}Z`);
  }

  request(input: {
    verb: 'create' | 'update' | 'patch' | 'delete' | 'get';
    kind: string;
    name: string;
    user: string;
    userAgent: string;
    subresource?: string;
    requestObject?: unknown;
    response?: WatchEvent | null;
    /** The server's answer when it is not the watch event's object (Cluster.lastResponse). */
    responseObject?: unknown;
    code?: number;
    level?: 'Metadata' | 'RequestResponse';
    uid?: string;
    /** Extra query string, e.g. `?fieldManager=kubectl-patch`. */
    query?: string;
    /**
     * Log only RequestReceived now; the returned function logs ResponseComplete when called. The audit log is written
     * as requests finish, so a slow response lands after requests that started (and were stored) later.
     */
    holdCompletion?: boolean;
  }): () => void {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : [info.namespaced ? 'default' : undefined, input.name];
    this.id++;
    const auditID = `${(0x5f3a0000 + this.id).toString(16)}-9c1d-4e27-b8a4-${String(this.id).padStart(12, '0')}`;
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const scope = namespace ? `/namespaces/${namespace}` : '';
    const path = `${prefix}${scope}/${info.resource}${input.verb === 'create' && !input.subresource ? '' : `/${name}`}${input.subresource ? `/${input.subresource}` : ''}`;
    const code = input.code ?? (input.verb === 'create' ? 201 : 200);
    const received = this.cluster.now - 4;
    const level = input.level ?? 'RequestResponse';
    const objectRef: Json = { resource: info.resource, namespace: info.namespaced ? namespace : undefined, name, apiGroup: info.group || undefined, apiVersion: info.version };
    if (!info.group) delete objectRef.apiGroup;
    if (!namespace) delete objectRef.namespace;
    const reqMeta = ((input.requestObject as Json | undefined)?.metadata as Json | undefined) ?? {};
    if (reqMeta.uid ?? input.uid) objectRef.uid = reqMeta.uid ?? input.uid;
    if (reqMeta.resourceVersion) objectRef.resourceVersion = reqMeta.resourceVersion;
    if (input.subresource) objectRef.subresource = input.subresource;
    const base: Json = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID,
      stage: 'RequestReceived',
      requestURI: path + (input.query ?? ''),
      verb: input.verb,
      user: { username: input.user, uid: input.user === CONTROLLER_SA ? '6a1b1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b' : undefined, groups: groupsOf(input.user) },
      sourceIPs: [input.user.startsWith('system:serviceaccount:') && !input.user.includes(':kube-system:') ? '10.244.0.17' : input.user.startsWith('system:') ? '172.18.0.2' : '172.18.0.1'],
      userAgent: input.userAgent,
      objectRef,
      requestReceivedTimestamp: this.micro(received),
      stageTimestamp: this.micro(received),
    };
    if (level === 'RequestResponse' && input.requestObject !== undefined) base.requestObject = input.requestObject;
    this.lines.push(JSON.stringify(base));
    const done: Json = { ...base, stage: 'ResponseComplete', stageTimestamp: this.micro(this.cluster.now + 2) };
    if (code < 400) done.responseStatus = { metadata: {}, code };
    else {
      const reason = code === 404 ? 'NotFound' : code === 409 ? 'Conflict' : 'InternalError';
      const message =
        code === 404
          ? `${info.resource}${info.group ? `.${info.group}` : ''} "${name}" not found`
          : `Operation cannot be fulfilled on ${info.resource}${info.group ? `.${info.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`;
      done.responseStatus = { metadata: {}, status: 'Failure', message, reason, details: { name, group: info.group, kind: info.resource }, code };
      if (level === 'RequestResponse') done.responseObject = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details: { name, group: info.group, kind: info.resource }, code };
    }
    if (code < 400 && level === 'RequestResponse' && (input.responseObject ?? input.response)) done.responseObject = input.responseObject ?? input.response!.object;
    done.annotations = { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': input.user === CONTROLLER_SA ? 'RBAC: allowed by ClusterRoleBinding "sample-controller" of ClusterRole "sample-controller" to ServiceAccount "sample-controller/sample-controller"' : '' };
    const complete = () => {
      done.stageTimestamp = this.micro(this.cluster.now + 2);
      this.lines.push(JSON.stringify(done));
    };
    if (input.holdCompletion) return complete;
    this.lines.push(JSON.stringify(done));
    return () => undefined;
  }

  /**
   * A LIST, or a WATCH opened now (RequestReceived, ResponseStarted: a long-running request) and closed by the
   * returned function (ResponseComplete, when the server ends it: client-go asks for a 5-10 minute timeout). A
   * request in all namespaces has no namespace in its objectRef (apiserver pkg/endpoints/request RequestInfo).
   */
  collection(input: { verb: 'list' | 'watch'; kind: string; namespace: string | null; user: string; userAgent: string; resourceVersion?: string }): () => void {
    const info = kinds[input.kind]!;
    this.id++;
    const auditID = `${(0x7c2b0000 + this.id).toString(16)}-4b1e-4f3a-9d2c-${String(this.id).padStart(12, '0')}`;
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const query = input.verb === 'watch' ? `?allowWatchBookmarks=true&resourceVersion=${input.resourceVersion ?? this.cluster.revision}&timeoutSeconds=437&watch=true` : '?limit=500&resourceVersion=0';
    const objectRef: Json = { resource: info.resource, apiVersion: info.version };
    if (info.group) objectRef.apiGroup = info.group;
    if (input.namespace) objectRef.namespace = input.namespace;
    const received = this.cluster.now;
    const base: Json = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID,
      stage: 'RequestReceived',
      requestURI: `${prefix}${input.namespace ? `/namespaces/${input.namespace}` : ''}/${info.resource}${query}`,
      verb: input.verb,
      user: { username: input.user, groups: input.user.startsWith('system:serviceaccount:') ? ['system:serviceaccounts', `system:serviceaccounts:${input.user.split(':')[2]}`, 'system:authenticated'] : ['system:authenticated'] },
      sourceIPs: ['10.244.0.23'],
      userAgent: input.userAgent,
      objectRef,
      requestReceivedTimestamp: this.micro(received),
      stageTimestamp: this.micro(received),
    };
    this.lines.push(JSON.stringify(base));
    const complete = () => this.lines.push(JSON.stringify({ ...base, stage: 'ResponseComplete', stageTimestamp: this.micro(this.cluster.now), responseStatus: { metadata: {}, code: 200 } }));
    if (input.verb === 'list') {
      complete();
      return () => undefined;
    }
    this.lines.push(JSON.stringify({ ...base, stage: 'ResponseStarted', stageTimestamp: this.micro(received + 1), responseStatus: { metadata: {}, code: 200 } }));
    return complete;
  }

  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

const foo = (replicas: number, deploymentName: string): Spec => ({ deploymentName, replicas });
const scale = (n: number) => (o: Json) => ((o.spec as Spec).replicas = n);
const fooStatus = (available: number, observedGeneration?: number) => (o: Json) =>
  (o.status = observedGeneration === undefined ? { availableReplicas: available } : { availableReplicas: available, observedGeneration });

function deploymentFor(c: Cluster, fooName: string, replicas: number): WatchEvent {
  const owner = c.get('Foo', fooName)!;
  const name = (owner as Json & { spec: Spec }).spec.deploymentName as string;
  return c.create(
    'Deployment',
    name,
    {
      labels: { app: 'nginx', controller: fooName },
      ownerReferences: [{ apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', name: fooName, uid: owner.metadata!.uid, controller: true, blockOwnerDeletion: true }],
      spec: { replicas, selector: { matchLabels: { app: 'nginx', controller: fooName } }, template: { metadata: { labels: { app: 'nginx', controller: fooName } }, spec: { containers: [{ name: 'nginx', image: 'nginx:latest' }] } } },
    },
    { manager: 'sample-controller', after: '15ms' },
  );
}

/**
 * sample-controller's happy path for one Foo, as the recorder sees it: the user applies the Foo; the informer
 * delivers it, Reconcile creates the Deployment and writes Foo status with observedGeneration.
 */
function reconcileFoo(c: Cluster, s: SessionBuilder, name: string, options: { deliver?: boolean } = {}): void {
  const started = c.now;
  const f = c.get('Foo', name) as (KubeObject & { spec: Spec }) | undefined;
  if (!f) return;
  const dep = c.get('Deployment', f.spec.deploymentName as string);
  if (!dep) {
    const d = deploymentFor(c, name, f.spec.replicas as number);
    if (options.deliver !== false) s.deliver(d);
  } else if ((dep as Json & { spec: Spec }).spec.replicas !== f.spec.replicas) {
    const d = c.update('Deployment', f.spec.deploymentName as string, scale(f.spec.replicas as number), { manager: 'sample-controller', after: '10ms' });
    if (options.deliver !== false) s.deliver(d);
  }
  // An UpdateStatus that changes nothing is answered at the same resourceVersion with no event: deliver only a change.
  const status = fooStatus(f.spec.replicas as number, f.metadata!.generation);
  const probe: Json = {};
  status(probe);
  if (JSON.stringify(probe.status) !== JSON.stringify(f.status)) {
    s.deliver(c.update('Foo', name, status, { subresource: 'status', manager: 'sample-controller', after: '12ms' }));
  }
  s.reconcile({ kind: 'Foo', name, startedAt: started, duration: `${c.now - started + 3}ms`, observedGeneration: f.metadata!.generation!, observedResourceVersion: f.metadata!.resourceVersion!, controller: 'sample-controller' });
}

/** reconcileFoo as the Go SDK's WrapReconciler reports it: a reconcile-start when the call begins, then its finish. */
function reconcileFooReported(c: Cluster, s: SessionBuilder, name: string): void {
  s.reconcileStart({ kind: 'Foo', name, controller: 'sample-controller', startedAt: c.now });
  reconcileFoo(c, s, name);
}

// ---------------------------------------------------------------- NDJSON (recorder sessions)

/**
 * The controller's UpdateFunc posts every Foo event to a change-log webhook with a plain http.Post before it adds
 * the key to the workqueue: 12 s per call, so client-go queues the later events behind it in the handler's
 * buffer. An autoscaler scales one shard every 5 s; each enqueue comes later than the one before, and the waits
 * grow from 7 s to 84 s. The SDK's own event handler (a separate informer registration) sees every event on time.
 */
function ndjsonReconcileLag(): void {
  const c = new Cluster({ start: '2025-03-25T09:00:00Z', revision: 310_000 });
  const names = Array.from({ length: 12 }, (_, i) => `shard-${String(i + 1).padStart(2, '0')}`);
  for (const name of names) {
    c.create('Foo', name, { spec: foo(1, name) }, { manager: 'kubectl-client-side-apply' });
    reconcileFooQuiet(c, name);
  }
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  s.listAndWatch('Deployment');
  // The controller starts: its initial list adds every Foo and each is reconciled (nothing to change).
  for (const name of names) {
    s.handler({ kind: 'Foo', name, handler: 'add', resourceVersion: c.get('Foo', name)!.metadata!.resourceVersion!, controller: 'sample-controller' });
    c.tick('30ms');
    reconcileFooReported(c, s, name);
  }
  const t0 = c.now;
  type Step = { at: number; what: 'scale' | 'reconcile'; name: string };
  const steps: Step[] = [];
  let handlerFree = t0;
  names.forEach((name, k) => {
    const at = t0 + 5000 * (k + 1);
    steps.push({ at, what: 'scale', name });
    handlerFree = Math.max(at, handlerFree) + 12_000;
    steps.push({ at: handlerFree, what: 'reconcile', name });
  });
  steps.sort((a, b) => a.at - b.at);
  for (const step of steps) {
    c.now = Math.max(c.now, step.at);
    if (step.what === 'scale') {
      const e = s.deliver(c.update('Foo', step.name, scale(3), { manager: 'foo-autoscaler' }));
      s.handler({ kind: 'Foo', name: step.name, handler: 'update', resourceVersion: e.object.metadata!.resourceVersion!, oldResourceVersion: String(Number(e.object.metadata!.resourceVersion!) - 1), controller: 'sample-controller' });
    } else reconcileFooReported(c, s, step.name);
  }
  c.tick('2m');
  s.bookmark('Foo');
  s.bookmark('Deployment');
  s.marker('recorder-stopped');
  ndjson('ndjson-reconcile-lag', s);
}

/**
 * Healthy, busy: a `kubectl apply -f` of 250 Foos lands within 2 s and one worker works them off (~160 ms each, the
 * last one 40 s after it was created); a backup Foo's reconcile calls a snapshot API that takes 40 s, within its
 * 45 s deadline; afterwards a user scales Foos now and then and each is reconciled within milliseconds.
 */
function ndjsonCleanBurst(): void {
  const c = new Cluster({ start: '2025-03-26T14:00:00Z', revision: 420_000 });
  c.create('Foo', 'seed', { spec: foo(1, 'seed') }, { manager: 'kubectl-client-side-apply' });
  reconcileFooQuiet(c, 'seed');
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  s.listAndWatch('Deployment');
  s.handler({ kind: 'Foo', name: 'seed', handler: 'add', resourceVersion: c.get('Foo', 'seed')!.metadata!.resourceVersion!, controller: 'sample-controller' });
  reconcileFooReported(c, s, 'seed');
  const names = Array.from({ length: 250 }, (_, i) => `tenant-${String(i + 1).padStart(3, '0')}`);
  c.tick('1m');
  for (const name of names) {
    const e = s.deliver(c.create('Foo', name, { spec: foo(1, name) }, { manager: 'kubectl-client-side-apply', after: '8ms' }));
    s.handler({ kind: 'Foo', name, handler: 'add', resourceVersion: e.object.metadata!.resourceVersion!, controller: 'sample-controller' });
  }
  for (const name of names) {
    reconcileFooReported(c, s, name);
    c.tick('120ms');
  }
  // The backup reconcile: a slow snapshot call with a deadline, done in 40 s.
  const backup = s.deliver(c.create('Foo', 'backup-nightly', { spec: foo(1, 'backup-nightly') }, { manager: 'kubectl-client-side-apply', after: '30s' }));
  s.handler({ kind: 'Foo', name: 'backup-nightly', handler: 'add', resourceVersion: backup.object.metadata!.resourceVersion!, controller: 'sample-controller' });
  const started = c.now + 5;
  s.reconcileStart({ kind: 'Foo', name: 'backup-nightly', controller: 'sample-controller', startedAt: started });
  c.now = started + 40_000;
  s.deliver(deploymentFor(c, 'backup-nightly', 1));
  s.deliver(c.update('Foo', 'backup-nightly', fooStatus(1, 1), { subresource: 'status', manager: 'sample-controller', after: '10ms' }));
  s.reconcile({ kind: 'Foo', name: 'backup-nightly', startedAt: started, duration: `${c.now - started + 2}ms`, observedGeneration: 1, observedResourceVersion: backup.object.metadata!.resourceVersion!, controller: 'sample-controller' });
  for (let i = 0; i < 8; i++) {
    const name = names[i * 29]!;
    const e = s.deliver(c.update('Foo', name, scale(2 + (i % 3)), { manager: 'kubectl-edit', after: '40s' }));
    s.handler({ kind: 'Foo', name, handler: 'update', resourceVersion: e.object.metadata!.resourceVersion!, oldResourceVersion: String(Number(e.object.metadata!.resourceVersion!) - 1), controller: 'sample-controller' });
    c.tick('4ms');
    reconcileFooReported(c, s, name);
  }
  c.tick('30s');
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-clean-reconcile-burst', s);
}

/**
 * Two workers. billing's reconcile calls the payment provider with an http.Client that has no Timeout, under a
 * context without a deadline; the provider accepts the connection and never answers, so the call never returns and
 * the session ends 6 minutes later with it still running. ledger's reconcile retries a flaky dependency in a loop
 * without a deadline and returns after 2m50s. The other worker keeps reconciling web and api as users edit them.
 */
function ndjsonHungReconcile(): void {
  const c = new Cluster({ start: '2025-03-27T11:00:00Z', revision: 530_000 });
  const names = ['billing', 'ledger', 'web', 'api'];
  for (const name of names) {
    c.create('Foo', name, { spec: foo(1, name) }, { manager: 'kubectl-client-side-apply' });
    reconcileFooQuiet(c, name);
  }
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  s.listAndWatch('Deployment');
  for (const name of names) {
    c.tick('25ms');
    reconcileFooReported(c, s, name);
  }
  c.tick('30s');
  s.reconcileStart({ kind: 'Foo', name: 'billing', controller: 'sample-controller', startedAt: c.now });
  c.tick('5s');
  const ledgerStart = c.now;
  s.reconcileStart({ kind: 'Foo', name: 'ledger', controller: 'sample-controller', startedAt: ledgerStart });
  for (let i = 0; i < 8; i++) {
    const name = i % 2 === 0 ? 'web' : 'api';
    if (i === 4) {
      // ledger finally returns, after 2m50s, having written nothing new.
      c.now = ledgerStart + 170_000;
      s.reconcile({ kind: 'Foo', name: 'ledger', startedAt: ledgerStart, duration: '2m50s', controller: 'sample-controller' });
    }
    s.deliver(c.update('Foo', name, scale(2 + i), { manager: 'kubectl-edit', after: '40s' }));
    c.tick('3ms');
    reconcileFooReported(c, s, name);
  }
  c.tick('20s');
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-hung-reconcile', s);
}

function ndjsonClean(): void {
  const c = new Cluster({ start: '2025-03-04T09:00:00Z', revision: 48_120 });
  c.create('Foo', 'example-foo', { spec: foo(1, 'example-foo') }, { manager: 'kubectl-client-side-apply' });
  reconcileFooQuiet(c, 'example-foo');
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  s.listAndWatch('Deployment');
  s.deliver(c.create('Foo', 'web', { spec: foo(2, 'web') }, { manager: 'kubectl-client-side-apply', after: '20s' }));
  s.handler({ kind: 'Foo', name: 'web', handler: 'add', resourceVersion: String(c.revision) });
  reconcileFoo(c, s, 'web');
  s.deliver(c.update('Foo', 'web', scale(3), { manager: 'kubectl-edit', after: '40s' }));
  reconcileFoo(c, s, 'web');
  c.tick('30s');
  s.bookmark('Foo');
  s.bookmark('Deployment');
  // The informer's periodic resync re-delivers what it has: UpdateFunc with old.RV == new.RV.
  const web = c.get('Foo', 'web')!;
  s.handler({ kind: 'Foo', name: 'web', handler: 'update', resourceVersion: web.metadata!.resourceVersion!, oldResourceVersion: web.metadata!.resourceVersion! });
  s.reconcile({ kind: 'Foo', name: 'web', controller: 'sample-controller' });
  // A 410 on the watch after compaction; the relist finds exactly what the watch had.
  s.marker('watch-closed', 'Foo');
  s.marker('gone', 'Foo', { code: 410, resourceVersion: '48121', message: 'too old resource version: 48121 (48127)' });
  s.listAndWatch('Foo');
  // Delete a Foo: GC deletes the Deployment through its ownerReference.
  s.deliver(c.delete('Foo', 'example-foo', { manager: 'kubectl-client-side-apply', after: '25s' }));
  s.handler({ kind: 'Foo', name: 'example-foo', handler: 'delete', resourceVersion: String(c.revision) });
  s.reconcile({ kind: 'Foo', name: 'example-foo', result: 'success', observedGeneration: null, observedResourceVersion: null, controller: 'sample-controller' });
  s.deliver(c.delete('Deployment', 'example-foo', { after: '1s' }));
  c.tick('20s');
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-clean-sample-controller', s);
}

/** Brings an existing Foo to its reconciled state without recording (before the session starts). */
function reconcileFooQuiet(c: Cluster, name: string): void {
  const f = c.get('Foo', name) as KubeObject & { spec: Spec };
  deploymentFor(c, name, f.spec.replicas as number);
  c.update('Foo', name, fooStatus(f.spec.replicas as number, f.metadata!.generation), { subresource: 'status', manager: 'sample-controller', after: '15ms' });
}

function ndjsonStaleResume(): void {
  const c = new Cluster({ start: '2025-03-04T11:20:00Z', revision: 91_004 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'alpha', { spec: foo(1, 'alpha') }, { after: '2s' }));
  const resumeFrom = String(c.revision);
  reconcileFoo(c, s, 'alpha', { deliver: false });
  s.deliver(c.create('Foo', 'beta', { spec: foo(2, 'beta') }, { after: '3s' }));
  reconcileFoo(c, s, 'beta', { deliver: false });
  const replay = s.records.filter((r) => r.record === 'watch' && r.origin === 'watch' && Number(r.resourceVersion) > Number(resumeFrom)).map((r) => r as SessionRecord & { record: 'watch' });
  // The recorder's connection drops; a buggy resume uses the RV of an old event instead of the newest one.
  s.marker('watch-closed', 'Foo', { message: 'http2: client connection lost' });
  s.marker('watch-started', 'Foo', { resourceVersion: resumeFrom });
  for (const r of replay) s.deliver({ type: r.type as WatchEvent['type'], object: r.object! });
  s.deliver(c.update('Foo', 'alpha', scale(2), { after: '10s' }));
  reconcileFoo(c, s, 'alpha', { deliver: false });
  ndjson('ndjson-stale-resume-duplicates', s);
}

function ndjson410Gap(): void {
  const c = new Cluster({ start: '2025-03-05T02:00:00Z', revision: 220_310 });
  for (const n of ['orders', 'payments', 'search', 'cart']) {
    c.create('Foo', n, { spec: foo(2, n) }, { after: '1s' });
    reconcileFooQuiet(c, n);
  }
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.reconcile({ kind: 'Foo', name: 'orders', controller: 'sample-controller' });
  s.deliver(c.update('Foo', 'cart', scale(3), { after: '30s' }));
  reconcileFoo(c, s, 'cart');
  s.marker('watch-closed', 'Foo', { message: 'unexpected EOF' });
  const resume = String(c.revision);
  // Disconnected for 7 minutes (API server restart): when the watch resumes, its RV has been compacted.
  c.update('Foo', 'payments', scale(4), { manager: 'kubectl-edit', after: '2m' });
  c.update('Foo', 'payments', fooStatus(4, 2), { subresource: 'status', manager: 'sample-controller', after: '20ms' });
  c.delete('Foo', 'search', { after: '1m' });
  c.delete('Foo', 'orders', { after: '1m' });
  c.tick('3m');
  s.marker('watch-started', 'Foo', { resourceVersion: resume });
  s.marker('gone', 'Foo', { code: 410, resourceVersion: resume, message: `too old resource version: ${resume} (${c.revision - 1})` });
  s.listAndWatch('Foo');
  // The controller reconciles "orders" (its delete handler unwraps tombstones) but drops "search".
  c.tick('40ms');
  s.reconcile({ kind: 'Foo', name: 'orders', result: 'success', observedGeneration: null, observedResourceVersion: null, controller: 'sample-controller' });
  s.reconcile({ kind: 'Foo', name: 'payments', controller: 'sample-controller' });
  c.tick('30s');
  s.bookmark('Foo');
  ndjson('ndjson-410-relist-gap', s);
}

function ndjsonStuckFinalizer(): void {
  const c = new Cluster({ start: '2025-03-06T14:00:00Z', revision: 5_660 });
  const s = new SessionBuilder(c).listAndWatch('Database');
  const fin = 'db.example.com/backup-cleanup';
  for (const n of ['billing', 'analytics']) {
    s.deliver(c.create('Database', n, { spec: { engine: 'postgres', size: '20Gi' } }, { manager: 'kubectl-client-side-apply', after: '5s' }));
    s.deliver(c.update('Database', n, (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'db-operator', after: '30ms' }));
    s.deliver(c.update('Database', n, (o) => (o.status = { phase: 'Ready', observedGeneration: 1 }), { subresource: 'status', manager: 'db-operator', after: '2s' }));
    s.reconcile({ kind: 'Database', name: n, controller: 'db-operator' });
  }
  // analytics is deleted and cleaned up in 40 s; billing's backup bucket cleanup fails forever.
  s.deliver(c.delete('Database', 'analytics', { manager: 'kubectl', after: '1m' }));
  s.reconcile({ kind: 'Database', name: 'analytics', controller: 'db-operator', result: 'requeue-after', requeueAfterMs: 30_000 });
  s.deliver(c.removeFinalizer('Database', 'analytics', fin, { manager: 'db-operator', after: '40s' }));
  s.deliver(c.delete('Database', 'billing', { manager: 'kubectl', after: '10s' }));
  let backoff = 5;
  for (let i = 0; i < 12; i++) {
    c.tick(`${backoff}ms`);
    s.reconcile({ kind: 'Database', name: 'billing', controller: 'db-operator', result: 'error', errorReason: 'other' });
    backoff = Math.min(backoff * 2, 60_000);
  }
  c.tick('9m');
  s.bookmark('Database');
  ndjson('ndjson-stuck-finalizer', s);
}

function ndjsonHotLoop(): void {
  const c = new Cluster({ start: '2025-03-07T08:00:00Z', revision: 771_200 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'ticker', { spec: foo(1, 'ticker') }, { after: '1s' }));
  s.deliver(c.create('Foo', 'calm', { spec: foo(1, 'calm') }, { after: '1s' }));
  reconcileFoo(c, s, 'calm');
  // Every reconcile of "ticker" stamps status.lastSyncTime; the status write triggers the next reconcile.
  for (let i = 0; i < 45; i++) {
    const started = c.now;
    s.deliver(
      c.update('Foo', 'ticker', (o) => (o.status = { availableReplicas: 1, observedGeneration: 1, lastSyncTime: c.iso(c.now + 5) }), { subresource: 'status', manager: 'sample-controller', after: '1500ms' }),
    );
    void started;
    s.reconcile({ kind: 'Foo', name: 'ticker', startedAt: c.now + 8, duration: '9ms', controller: 'sample-controller' });
  }
  ndjson('ndjson-hot-loop-status-timestamp', s);
}

function ndjsonNotFound(): void {
  const c = new Cluster({ start: '2025-03-08T16:30:00Z', revision: 30_100 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'temp', { spec: foo(1, 'temp') }, { after: '1s' }));
  reconcileFoo(c, s, 'temp');
  s.deliver(c.create('Foo', 'keep', { spec: foo(1, 'keep') }, { after: '1s' }));
  reconcileFoo(c, s, 'keep');
  s.deliver(c.delete('Foo', 'temp', { manager: 'kubectl', after: '20s' }));
  // Reconcile returns err for IsNotFound: the rate limiter retries with 5ms, 10ms, 20ms ... backoff.
  let backoff = 5;
  for (let i = 0; i < 9; i++) {
    c.tick(`${backoff}ms`);
    s.api({ kind: 'Foo', name: 'temp', verb: 'get', code: 404, actor: CONTROLLER_SA });
    s.reconcile({ kind: 'Foo', name: 'temp', result: 'error', errorReason: 'NotFound', observedGeneration: null, observedResourceVersion: null, controller: 'sample-controller' });
    backoff *= 2;
  }
  ndjson('ndjson-notfound-retry', s);
}

function ndjsonStaleRead(): void {
  const c = new Cluster({ start: '2025-03-09T10:00:00Z', revision: 64_000 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'api', { spec: foo(1, 'api') }, { after: '1s' }));
  reconcileFoo(c, s, 'api');
  const old = c.get('Foo', 'api')!;
  s.deliver(c.update('Foo', 'api', scale(5), { manager: 'kubectl-edit', after: '10s' }));
  // The worker reads from a second, lagging informer: 8 s after the change it still sees the old version.
  for (let i = 0; i < 3; i++) {
    c.tick('8s');
    s.reconcile({ kind: 'Foo', name: 'api', observedResourceVersion: old.metadata!.resourceVersion!, observedGeneration: old.metadata!.generation!, controller: 'sample-controller' });
  }
  reconcileFoo(c, s, 'api');
  ndjson('ndjson-stale-read', s);
}

function ndjsonUnreconciled(): void {
  const c = new Cluster({ start: '2025-03-10T12:00:00Z', revision: 12_500 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.listAndWatch('ConfigMap');
  s.deliver(c.create('Foo', 'frontend', { spec: foo(2, 'frontend') }, { after: '1s' }));
  reconcileFoo(c, s, 'frontend');
  s.deliver(c.create('Foo', 'backend', { spec: foo(2, 'backend') }, { after: '1s' }));
  reconcileFoo(c, s, 'backend');
  // The controller's only worker blocks on a call without timeout: nothing is reconciled any more.
  s.deliver(c.update('Foo', 'backend', scale(6), { manager: 'kubectl-edit', after: '30s' }));
  s.deliver(c.create('ConfigMap', 'backend-config', { data: { LOG_LEVEL: 'debug' } }, { after: '1m' }));
  s.deliver(c.update('ConfigMap', 'backend-config', (o) => (o.data = { LOG_LEVEL: 'info' }), { after: '2m' }));
  c.tick('2m');
  s.bookmark('Foo');
  ndjson('ndjson-unreconciled', s);
}

function ndjsonStatusRace(): void {
  const c = new Cluster({ start: '2025-03-11T09:00:00Z', revision: 88_800 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'checkout', { spec: foo(2, 'checkout') }, { after: '1s' }));
  reconcileFoo(c, s, 'checkout');
  // A reconcile reads generation 1, the user scales (generation 2) meanwhile, then status is patched for 1.
  const started = c.now + 1000;
  c.tick('1s');
  s.deliver(c.update('Foo', 'checkout', scale(4), { manager: 'kubectl-edit', after: '40ms' }));
  s.deliver(c.update('Foo', 'checkout', (o) => (o.status = { availableReplicas: 2, observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True' }] }), { subresource: 'status', manager: 'sample-controller', after: '60ms' }));
  s.reconcile({ kind: 'Foo', name: 'checkout', startedAt: started, duration: '110ms', observedGeneration: 1, observedResourceVersion: String(c.revision - 2), controller: 'sample-controller' });
  reconcileFoo(c, s, 'checkout');
  // Lost update: the controller Updates the whole "ledger" Foo from its cache copy right after the user's edit.
  s.deliver(c.create('Foo', 'ledger', { spec: foo(1, 'ledger') }, { after: '5s' }));
  reconcileFoo(c, s, 'ledger');
  s.deliver(c.update('Foo', 'ledger', scale(3), { manager: 'kubectl-edit', after: '20s' }));
  s.deliver(
    c.update(
      'Foo',
      'ledger',
      (o) => {
        (o.spec as Spec).replicas = 1;
        (o.metadata as Json).labels = { 'sample-controller/managed': 'true' };
      },
      { manager: 'sample-controller', after: '30ms' },
    ),
  );
  // Conflict storm on "orders": Update retried five times with the same stale body.
  s.deliver(c.create('Foo', 'orders', { spec: foo(1, 'orders') }, { after: '5s' }));
  reconcileFoo(c, s, 'orders');
  for (let i = 0; i < 5; i++) {
    c.tick('200ms');
    s.api({ kind: 'Foo', name: 'orders', verb: 'update', code: 409, actor: CONTROLLER_SA, resourceVersionBefore: String(c.revision - 3) });
    s.reconcile({ kind: 'Foo', name: 'orders', result: 'error', errorReason: 'Conflict', controller: 'sample-controller' });
  }
  ndjson('ndjson-status-spec-race', s);
}

function ndjsonLostEvents(): void {
  const c = new Cluster({ start: '2025-03-12T07:00:00Z', revision: 401_000 });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  s.deliver(c.create('Foo', 'gateway', { spec: foo(1, 'gateway') }, { after: '1s' }));
  reconcileFoo(c, s, 'gateway');
  // Two spec changes in a row; the watch (behind an overloaded proxy) delivers only the second.
  c.update('Foo', 'gateway', scale(2), { manager: 'kubectl-edit', after: '30s' });
  s.deliver(c.update('Foo', 'gateway', scale(3), { manager: 'kubectl-edit', after: '2s' }));
  reconcileFoo(c, s, 'gateway');
  // A Foo whose ADDED never arrived: the first the watch shows of it is a MODIFIED.
  c.create('Foo', 'ghost', { spec: foo(1, 'ghost') }, { after: '10s' });
  s.deliver(c.update('Foo', 'ghost', (o) => (o.status = { availableReplicas: 0, observedGeneration: 1 }), { subresource: 'status', manager: 'sample-controller', after: '50ms' }));
  c.tick('10s');
  s.bookmark('Foo');
  ndjson('ndjson-lost-events', s);
}

/** Hard negatives for the view's bookkeeping: recorder restarts, dropped records, WatchList, resyncs. */
function ndjsonCleanRecorderGaps(): void {
  const c = new Cluster({ start: '2025-03-21T07:00:00Z', revision: 310_000 });
  for (const n of ['a', 'b', 'c']) {
    c.create('Foo', n, { spec: foo(1, n) }, { after: '1s' });
    reconcileFooQuiet(c, n);
  }
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  s.reconcile({ kind: 'Foo', name: 'a', controller: 'sample-controller' });
  s.deliver(c.update('Foo', 'b', scale(2), { manager: 'kubectl-edit', after: '20s' }));
  reconcileFoo(c, s, 'b');
  s.bookmark('Foo');
  // A normal watch timeout: the watch resumes from the bookmark's resourceVersion, nothing is missed or repeated.
  s.marker('watch-closed', 'Foo');
  s.marker('watch-started', 'Foo', { resourceVersion: String(c.revision) });
  // The recorder is restarted; while it is down "c" is deleted and "a" edited.
  s.marker('recorder-stopped');
  c.delete('Foo', 'c', { after: '1m' });
  c.update('Foo', 'a', scale(3), { manager: 'kubectl-edit', after: '10s' });
  c.update('Foo', 'a', fooStatus(3, 2), { subresource: 'status', manager: 'sample-controller', after: '20ms' });
  c.tick('1m');
  s.marker('recorder-started');
  // Streaming list (WatchList): the initial state arrives as ADDED events, closed by the initial-events-end bookmark.
  s.marker('watch-started', 'Foo', { resourceVersion: '' });
  for (const object of c.list('Foo')) s.deliver({ type: 'ADDED', object });
  s.push({
    record: 'watch',
    observedAt: new Date(c.now).toISOString(),
    origin: 'watch',
    group: 'samplecontroller.k8s.io',
    version: 'v1alpha1',
    resource: 'foos',
    kind: 'Foo',
    type: 'BOOKMARK',
    namespace: null,
    name: null,
    uid: null,
    resourceVersion: String(c.revision),
    generation: null,
    object: { kind: 'Foo', apiVersion: 'samplecontroller.k8s.io/v1alpha1', metadata: { resourceVersion: String(c.revision), annotations: { 'k8s.io/initial-events-end': 'true' } } },
  });
  // An informer resync re-delivers the cache; the recorder notes it.
  c.tick('10m');
  s.marker('resync', 'Foo');
  for (const object of c.list('Foo')) s.handler({ kind: 'Foo', name: object.metadata!.name!, handler: 'update', resourceVersion: object.metadata!.resourceVersion!, oldResourceVersion: object.metadata!.resourceVersion! });
  // The recorder's buffer overflowed once: what follows is incomplete until the next list.
  s.marker('dropped', undefined, { count: 2 });
  c.create('Foo', 'd', { spec: foo(1, 'd') }, { after: '5s' });
  s.deliver(c.update('Foo', 'd', fooStatus(1, 1), { subresource: 'status', manager: 'sample-controller', after: '20ms' }));
  s.reconcile({ kind: 'Foo', name: 'd', controller: 'sample-controller' });
  s.deliver(c.update('Foo', 'b', (o) => (o.status = { availableReplicas: 2, observedGeneration: 2, conditions: [{ type: 'Ready', status: 'True' }] }), { subresource: 'status', manager: 'sample-controller', after: '5s' }));
  c.tick('20s');
  s.bookmark('Foo');
  ndjson('ndjson-clean-recorder-gaps', s);
}

// ---------------------------------------------------------------- kubectl watch dumps

function kubectlCleanBigRollout(): void {
  const c = new Cluster({ start: '2025-03-22T10:00:00Z', revision: 8_000 });
  const k = new KubectlDump();
  const template = (image: string) => ({ metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image }] } });
  k.print(c.create('Deployment', 'api', { labels: { app: 'api' }, spec: { replicas: 15, selector: { matchLabels: { app: 'api' } }, template: template('api:1.0') } }, { manager: 'helm' }));
  const rollout = (generation: number) => {
    // kube-controller-manager writes status as pods become ready: many writes a minute, each with new counts.
    for (let ready = 0; ready <= 15; ready++) {
      k.print(
        c.update(
          'Deployment',
          'api',
          (o) =>
            (o.status = {
              observedGeneration: generation,
              replicas: 15,
              updatedReplicas: ready,
              readyReplicas: ready,
              availableReplicas: ready,
              conditions: [
                { type: 'Available', status: ready >= 11 ? 'True' : 'False', lastUpdateTime: c.iso(), lastTransitionTime: c.iso(), reason: ready >= 11 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' },
                { type: 'Progressing', status: 'True', lastUpdateTime: c.iso(), reason: ready === 15 ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' },
              ],
            }),
          { subresource: 'status', manager: 'kube-controller-manager', after: '3s' },
        ),
      );
    }
  };
  rollout(1);
  k.print(c.update('Deployment', 'api', (o) => ((o.spec as Json).template = template('api:1.1')), { manager: 'helm', after: '2m' }));
  rollout(2);
  write('kubectl-clean-big-rollout', 'watch.json', k.text());
}

function kubectlClean(): void {
  const c = new Cluster({ start: '2025-03-13T10:00:00Z', revision: 3_200 });
  const k = new KubectlDump();
  k.print(c.create('Deployment', 'web', { labels: { app: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } } }, { manager: 'kubectl-client-side-apply' }));
  const statusStep = (ready: number, gen: number) =>
    k.print(
      c.update('Deployment', 'web', (o) => (o.status = { observedGeneration: gen, replicas: 2, updatedReplicas: 2, readyReplicas: ready, availableReplicas: ready, conditions: [{ type: 'Available', status: ready === 2 ? 'True' : 'False', reason: ready === 2 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable' }] }), {
        subresource: 'status',
        manager: 'kube-controller-manager',
        after: '2s',
      }),
    );
  statusStep(0, 1);
  statusStep(1, 1);
  statusStep(2, 1);
  k.print(c.update('Deployment', 'web', (o) => (((o.spec as Json).template as Json).spec = { containers: [{ name: 'web', image: 'nginx:1.28' }] }), { manager: 'kubectl-set', after: '3m' }));
  statusStep(1, 2);
  statusStep(2, 2);
  k.print(c.create('Deployment', 'worker', { labels: { app: 'worker' }, spec: { replicas: 1, selector: { matchLabels: { app: 'worker' } }, template: { metadata: { labels: { app: 'worker' } }, spec: { containers: [{ name: 'worker', image: 'busybox:1.36' }] } } } }, { manager: 'kubectl-client-side-apply', after: '1m' }));
  k.print(c.update('Deployment', 'worker', (o) => (o.status = { observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1 }), { subresource: 'status', manager: 'kube-controller-manager', after: '3s' }));
  k.print(c.delete('Deployment', 'worker', { manager: 'kubectl', after: '2m' }));
  write('kubectl-clean-rollout', 'watch.json', k.text());
}

function kubectlHotLoop(): void {
  const c = new Cluster({ start: '2025-03-13T15:00:00Z', revision: 9_870 });
  const k = new KubectlDump();
  k.print(c.create('Foo', 'metrics', { spec: foo(1, 'metrics') }, { manager: 'kubectl-client-side-apply' }));
  for (let i = 0; i < 25; i++) {
    // Each reconcile rewrites the conditions with a fresh lastTransitionTime.
    k.print(c.update('Foo', 'metrics', (o) => (o.status = { availableReplicas: 1, observedGeneration: 1, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: c.iso(c.now + 0) }] }), { subresource: 'status', manager: 'sample-controller', after: '2s' }));
  }
  write('kubectl-hot-loop', 'watch.json', k.text());
}

function kubectlStuckFinalizer(): void {
  const c = new Cluster({ start: '2025-03-14T09:00:00Z', revision: 17_000 });
  const k = new KubectlDump();
  const fin = 'samplecontroller.k8s.io/deployment-cleanup';
  k.print(c.create('Foo', 'legacy', { spec: foo(1, 'legacy') }, { manager: 'kubectl-client-side-apply' }));
  k.print(c.update('Foo', 'legacy', (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'sample-controller', after: '1s' }));
  k.print(c.update('Foo', 'legacy', fooStatus(1, 1), { subresource: 'status', manager: 'sample-controller', after: '1s' }));
  k.print(c.create('Foo', 'current', { spec: foo(1, 'current') }, { manager: 'kubectl-client-side-apply', after: '5s' }));
  k.print(c.update('Foo', 'current', fooStatus(1, 1), { subresource: 'status', manager: 'sample-controller', after: '1s' }));
  k.print(c.delete('Foo', 'legacy', { manager: 'kubectl', after: '1m' }));
  for (let i = 0; i < 4; i++) k.print(c.update('Foo', 'current', scale(i + 2), { manager: 'kubectl-edit', after: '3m' }));
  for (let i = 0; i < 1; i++) k.print(c.update('Foo', 'current', fooStatus(5, 5), { subresource: 'status', manager: 'sample-controller', after: '1s' }));
  write('kubectl-stuck-finalizer', 'watch.json', k.text());
}

function kubectlLostGeneration(): void {
  const c = new Cluster({ start: '2025-03-15T11:00:00Z', revision: 55_400 });
  const k = new KubectlDump();
  k.print(c.create('Foo', 'search', { spec: foo(1, 'search') }, { manager: 'kubectl-client-side-apply' }));
  k.print(c.update('Foo', 'search', fooStatus(1, 1), { subresource: 'status', manager: 'sample-controller', after: '1s' }));
  c.update('Foo', 'search', scale(2), { manager: 'kubectl-edit', after: '1m' });
  c.update('Foo', 'search', scale(3), { manager: 'kubectl-edit', after: '5s' });
  k.print(c.update('Foo', 'search', scale(4), { manager: 'kubectl-edit', after: '5s' }));
  k.print(c.update('Foo', 'search', fooStatus(4, 4), { subresource: 'status', manager: 'sample-controller', after: '1s' }));
  write('kubectl-lost-generation', 'watch.json', k.text());
}

// ---------------------------------------------------------------- audit logs

/** What a client sends on create: no uid, resourceVersion, generation, managedFields or status (server-set). */
function createBody(object: KubeObject): Json {
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, managedFields: _m, ...metadata } = object.metadata as Json;
  const { status: _s, ...rest } = object as Json;
  return { ...rest, metadata };
}

function requestBody(verb: 'create' | 'update' | 'patch' | 'delete', event: WatchEvent): unknown {
  if (verb === 'delete') return { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' };
  if (verb === 'create') return createBody(event.object);
  // kubectl patch/scale sends a merge patch of the fields it changes.
  if (verb === 'patch') return { spec: (event.object as Json).spec };
  return event.object;
}

function userWrite(a: AuditLog, verb: 'create' | 'update' | 'patch' | 'delete', event: WatchEvent, kind: string, name: string, user = ADMIN, userAgent = 'kubectl/v1.32.2 (linux/amd64) kubernetes/67a30c0', subresource?: string): WatchEvent {
  a.request({ verb, kind, name, user, userAgent, subresource, requestObject: requestBody(verb, event), response: event });
  return event;
}

function controllerStatus(c: Cluster, a: AuditLog, name: string, mutate: (o: Json) => void, after = '20ms'): WatchEvent {
  const before = c.get('Foo', name)!;
  const event = c.update('Foo', name, mutate, { subresource: 'status', manager: 'sample-controller', after });
  a.request({ verb: 'update', kind: 'Foo', name, user: CONTROLLER_SA, userAgent: CONTROLLER_UA, subresource: 'status', requestObject: { ...event.object, metadata: { ...event.object.metadata, resourceVersion: before.metadata!.resourceVersion } }, response: event });
  return event;
}

function auditClean(): void {
  const c = new Cluster({ start: '2025-03-16T13:00:00Z', revision: 140_000 });
  const a = new AuditLog(c);
  userWrite(a, 'create', c.create('Foo', 'shop', { spec: foo(2, 'shop') }, { manager: 'kubectl-client-side-apply' }), 'Foo', 'shop');
  // The controller probes for its Deployment (404), creates it, then writes status.
  a.request({ verb: 'get', kind: 'Deployment', name: 'shop', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, code: 404 });
  const dep = deploymentFor(c, 'shop', 2);
  a.request({ verb: 'create', kind: 'Deployment', name: 'shop', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: createBody(dep.object), response: dep });
  controllerStatus(c, a, 'shop', fooStatus(2, 1));
  userWrite(a, 'patch', c.update('Foo', 'shop', scale(3), { manager: 'kubectl-patch', after: '2m' }), 'Foo', 'shop');
  // One conflict (the status write raced the informer), resolved by re-reading.
  c.tick('15ms');
  a.request({ verb: 'update', kind: 'Foo', name: 'shop', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, subresource: 'status', code: 409, requestObject: { ...c.get('Foo', 'shop')!, metadata: { ...c.get('Foo', 'shop')!.metadata, resourceVersion: String(c.revision - 1) } } });
  const d2 = c.update('Deployment', 'shop', scale(3), { manager: 'sample-controller', after: '10ms' });
  a.request({ verb: 'update', kind: 'Deployment', name: 'shop', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: d2.object, response: d2 });
  controllerStatus(c, a, 'shop', fooStatus(3, 2));
  userWrite(a, 'delete', c.delete('Foo', 'shop', { manager: 'kubectl', after: '3m' }), 'Foo', 'shop');
  write('audit-clean', 'audit.log', a.text());
}

/** A busy but healthy cluster: leader-election lease renewals, a rollout, GC, Events, a 404 racing a deletion. */
function auditCleanBusy(): void {
  const c = new Cluster({ start: '2025-03-23T12:00:00Z', revision: 900_000 });
  const a = new AuditLog(c);
  const lease = c.create('Lease', 'sample-controller/sample-controller-leader', { spec: { holderIdentity: 'sample-controller-7d9f_1', leaseDurationSeconds: 15, acquireTime: c.iso(), renewTime: c.iso() } }, { manager: 'sample-controller' });
  a.request({ verb: 'create', kind: 'Lease', name: 'sample-controller/sample-controller-leader', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: createBody(lease.object), response: lease });
  userWrite(a, 'create', c.create('Foo', 'shop', { spec: foo(10, 'shop') }, { manager: 'kubectl-client-side-apply', after: '1s' }), 'Foo', 'shop');
  const dep = deploymentFor(c, 'shop', 10);
  a.request({ verb: 'create', kind: 'Deployment', name: 'shop', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: createBody(dep.object), response: dep });
  controllerStatus(c, a, 'shop', fooStatus(0, 1));
  for (let i = 0; i < 60; i++) {
    // RetryPeriod 2 s: the leader renews its lease (client-go tools/leaderelection).
    const renewed = c.update('Lease', 'sample-controller/sample-controller-leader', (o) => ((o.spec as Json).renewTime = c.iso(c.now + 2000).replace('Z', '.000000Z')), { manager: 'sample-controller', after: '2s' });
    a.request({ verb: 'update', kind: 'Lease', name: 'sample-controller/sample-controller-leader', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: renewed.object, response: renewed });
    if (i < 10) {
      const ready = i + 1;
      const st = c.update('Deployment', 'shop', (o) => (o.status = { observedGeneration: 1, replicas: 10, readyReplicas: ready, availableReplicas: ready, updatedReplicas: ready, conditions: [{ type: 'Progressing', status: 'True', lastUpdateTime: c.iso() }] }), { subresource: 'status', manager: 'kube-controller-manager', after: '300ms' });
      a.request({ verb: 'update', kind: 'Deployment', name: 'shop', subresource: 'status', user: 'system:serviceaccount:kube-system:deployment-controller', userAgent: 'kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/system:serviceaccount:kube-system:deployment-controller', requestObject: st.object, response: st });
      controllerStatus(c, a, 'shop', fooStatus(ready, 1), '50ms');
    }
  }
  // The user deletes the Foo; the controller's in-flight status update loses the race once, then it stops.
  userWrite(a, 'delete', c.delete('Foo', 'shop', { manager: 'kubectl', after: '5s' }), 'Foo', 'shop');
  c.tick('20ms');
  a.request({ verb: 'update', kind: 'Foo', name: 'shop', subresource: 'status', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, code: 404 });
  const gcDelete = c.delete('Deployment', 'shop', { after: '1s' });
  a.request({ verb: 'delete', kind: 'Deployment', name: 'shop', user: 'system:serviceaccount:kube-system:generic-garbage-collector', userAgent: 'kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/system:serviceaccount:kube-system:generic-garbage-collector', requestObject: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background', preconditions: { uid: gcDelete.object.metadata!.uid } }, response: gcDelete });
  write('audit-clean-busy-cluster', 'audit.log', a.text());
}

function auditNotFound(): void {
  const c = new Cluster({ start: '2025-03-17T08:00:00Z', revision: 77_700 });
  const a = new AuditLog(c);
  userWrite(a, 'create', c.create('Foo', 'batch-7', { spec: foo(1, 'batch-7') }, { manager: 'kubectl-client-side-apply' }), 'Foo', 'batch-7');
  controllerStatus(c, a, 'batch-7', fooStatus(1, 1));
  const last = c.get('Foo', 'batch-7')!;
  userWrite(a, 'delete', c.delete('Foo', 'batch-7', { manager: 'kubectl', after: '1m' }), 'Foo', 'batch-7');
  // The controller keeps writing status of the deleted Foo: every attempt is a 404, retried with backoff.
  let backoff = 5;
  for (let i = 0; i < 8; i++) {
    c.tick(`${backoff}ms`);
    a.request({ verb: 'update', kind: 'Foo', name: 'batch-7', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, subresource: 'status', code: 404, requestObject: { ...last, status: { availableReplicas: 0, observedGeneration: 1 } } });
    backoff *= 2;
  }
  write('audit-notfound-retry', 'audit.log', a.text());
}

function auditConflicts(): void {
  const c = new Cluster({ start: '2025-03-18T17:00:00Z', revision: 501_000 });
  const a = new AuditLog(c);
  userWrite(a, 'create', c.create('Foo', 'inventory', { spec: foo(1, 'inventory') }, { manager: 'kubectl-client-side-apply' }), 'Foo', 'inventory');
  controllerStatus(c, a, 'inventory', fooStatus(1, 1));
  const stale = c.get('Foo', 'inventory')!;
  userWrite(a, 'patch', c.update('Foo', 'inventory', scale(2), { manager: 'kubectl-patch', after: '30s' }), 'Foo', 'inventory');
  for (let i = 0; i < 6; i++) {
    c.tick('300ms');
    a.request({ verb: 'update', kind: 'Foo', name: 'inventory', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, code: 409, requestObject: { ...stale, metadata: { ...stale.metadata, labels: { tier: 'backend' } } } });
  }
  write('audit-conflict-storm', 'audit.log', a.text());
}

function auditHotLoop(): void {
  const c = new Cluster({ start: '2025-03-19T06:00:00Z', revision: 23_000 });
  const a = new AuditLog(c);
  userWrite(a, 'create', c.create('Foo', 'poller', { spec: foo(1, 'poller') }, { manager: 'kubectl-client-side-apply' }), 'Foo', 'poller');
  for (let i = 0; i < 30; i++) controllerStatus(c, a, 'poller', (o) => (o.status = { availableReplicas: 1, observedGeneration: 1, lastPolled: c.iso(c.now) }), '1s');
  write('audit-hot-loop', 'audit.log', a.text());
}

function auditStuckFinalizer(): void {
  const c = new Cluster({ start: '2025-03-20T10:00:00Z', revision: 64_100 });
  const a = new AuditLog(c);
  const fin = 'samplecontroller.k8s.io/deployment-cleanup';
  userWrite(a, 'create', c.create('Foo', 'archive', { spec: foo(1, 'archive') }, { manager: 'kubectl-client-side-apply' }), 'Foo', 'archive');
  const withFinalizer = c.update('Foo', 'archive', (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'sample-controller', after: '20ms' });
  a.request({ verb: 'update', kind: 'Foo', name: 'archive', user: CONTROLLER_SA, userAgent: CONTROLLER_UA, requestObject: withFinalizer.object, response: withFinalizer });
  controllerStatus(c, a, 'archive', fooStatus(1, 1));
  userWrite(a, 'delete', c.delete('Foo', 'archive', { manager: 'kubectl', after: '1m' }), 'Foo', 'archive');
  // Life goes on: another Foo is created and updated over the next 12 minutes; the finalizer never goes.
  userWrite(a, 'create', c.create('Foo', 'fresh', { spec: foo(1, 'fresh') }, { manager: 'kubectl-client-side-apply', after: '2m' }), 'Foo', 'fresh');
  controllerStatus(c, a, 'fresh', fooStatus(1, 1));
  for (let i = 0; i < 3; i++) {
    userWrite(a, 'patch', c.update('Foo', 'fresh', scale(i + 2), { manager: 'kubectl-patch', after: '3m' }), 'Foo', 'fresh');
    controllerStatus(c, a, 'fresh', fooStatus(i + 2, i + 2));
  }
  write('audit-stuck-finalizer', 'audit.log', a.text());
}

// ---------------------------------------------------------------- more stories (issue 13: findings people believe)

/** A kubebuilder operator's identity: its service account, and the user agent client-go builds from its binary. */
const WIDGET_SA = 'system:serviceaccount:widget-system:widget-controller-manager';
const WIDGET_UA = 'manager/v0.0.0 (linux/amd64) kubernetes/$Format';
const WEB_SA = 'system:serviceaccount:web-system:web-operator';
const WEB_UA = 'web-operator/v0.0.0 (linux/amd64) kubernetes/$Format';
const KUBECTL_UA = 'kubectl/v1.36.0 (linux/amd64) kubernetes/8b1f5c4';
const KCM_UA = (sa: string) => `kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/2f3d9c1/system:serviceaccount:kube-system:${sa}`;
const kcm = (sa: string) => `system:serviceaccount:kube-system:${sa}`;
const NODE = 'system:node:worker-1';
const KUBELET_UA = 'kubelet/v1.36.3 (linux/amd64) kubernetes/2f3d9c1';

type Verb = 'create' | 'update' | 'patch' | 'delete' | 'get';

/**
 * One request as the audit log shows it: `event` is what the write did (for the session's version order) and the
 * answer is what the server said (Cluster.lastResponse). `body` is the request body the client sent.
 */
function logWrite(
  c: Cluster,
  a: AuditLog,
  input: { verb: Verb; kind: string; name: string; user: string; ua: string; subresource?: string; body: unknown; query?: string; level?: 'Metadata' | 'RequestResponse'; hold?: boolean },
): () => void {
  return a.request({ verb: input.verb, kind: input.kind, name: input.name, user: input.user, userAgent: input.ua, subresource: input.subresource, requestObject: input.body, responseObject: c.lastResponse, query: input.query, level: input.level, holdCompletion: input.hold });
}

/** A client-go PUT: the whole object as the client holds it, with the resourceVersion it read. */
function put(c: Cluster, a: AuditLog, kind: string, name: string, user: string, ua: string, mutate: (o: Json) => void, options: { subresource?: 'status'; manager: string; after?: string }): WatchEvent {
  const before = c.get(kind, name)!;
  const event = c.update(kind, name, mutate, { manager: options.manager, subresource: options.subresource, after: options.after });
  const sent = JSON.parse(JSON.stringify(c.lastResponse)) as Json;
  const { managedFields: _m, ...meta } = sent.metadata as Json;
  sent.metadata = { ...meta, resourceVersion: before.metadata!.resourceVersion };
  logWrite(c, a, { verb: 'update', kind, name, user, ua, subresource: options.subresource, body: sent });
  return event;
}

function create(c: Cluster, a: AuditLog, kind: string, name: string, user: string, ua: string, body: Parameters<Cluster['create']>[2], manager: string, after?: string): WatchEvent {
  const event = c.create(kind, name, body, { manager, after });
  logWrite(c, a, { verb: 'create', kind, name, user, ua, body: createBody(event.object) });
  return event;
}

// (a) hot loops where every write changes something

/** kubectl watch of Widgets: the operator bumps status.reconcileCount on every reconcile; its own write is its next trigger. */
function kubectlHotLoopCounter(): void {
  const c = new Cluster({ start: '2025-04-02T09:00:00Z', revision: 412_300 });
  const k = new KubectlDump();
  k.print(c.create('Widget', 'cache', { spec: { size: 3, engine: 'redis' } }, { manager: 'kubectl-client-side-apply' }));
  k.print(c.create('Widget', 'store', { spec: { size: 1, engine: 'redis' } }, { manager: 'kubectl-client-side-apply', after: '1s' }));
  // "store" converges: one status write per spec change.
  k.print(c.update('Widget', 'store', (o) => (o.status = { observedGeneration: 1, phase: 'Ready', reconcileCount: 1 }), { subresource: 'status', manager: 'manager', after: '300ms' }));
  for (let i = 1; i <= 40; i++) {
    // Reconcile of "cache": nothing to do but the counter goes up, and the status update wakes the controller again.
    k.print(c.update('Widget', 'cache', (o) => (o.status = { observedGeneration: 1, phase: 'Ready', reconcileCount: i }), { subresource: 'status', manager: 'manager', after: '250ms' }));
    if (i === 12) k.print(c.update('Widget', 'store', (o) => ((o.spec as Json).size = 2), { manager: 'kubectl-edit', after: '50ms' }));
    if (i === 13) k.print(c.update('Widget', 'store', (o) => (o.status = { observedGeneration: 2, phase: 'Ready', reconcileCount: 2 }), { subresource: 'status', manager: 'manager', after: '40ms' }));
  }
  write('kubectl-hot-loop-status-counter', 'watch.json', k.text());
}

/** Audit log: the operator stamps status.lastSyncTime on every reconcile of Widget "feed"; it renews its Lease meanwhile. */
function auditHotLoopLastSyncTime(): void {
  const c = new Cluster({ start: '2025-04-03T14:00:00Z', revision: 88_000 });
  const a = new AuditLog(c);
  create(c, a, 'Lease', 'widget-system/widget-operator-leader', WIDGET_SA, WIDGET_UA, { spec: { holderIdentity: 'widget-controller-manager-5d8c7_0b1e', leaseDurationSeconds: 15, acquireTime: c.iso(), renewTime: c.iso(), leaseTransitions: 0 } }, 'manager');
  create(c, a, 'Widget', 'feed', ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'kafka' } }, 'kubectl-client-side-apply', '3s');
  let nextRenew = c.now + 2000;
  for (let i = 0; i < 50; i++) {
    c.tick('1200ms');
    if (c.now >= nextRenew) {
      put(c, a, 'Lease', 'widget-system/widget-operator-leader', WIDGET_SA, WIDGET_UA, (o) => ((o.spec as Json).renewTime = new Date(c.now).toISOString().replace('Z', '000Z')), { manager: 'manager' });
      nextRenew += 2000;
    }
    put(c, a, 'Widget', 'feed', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, conditions: [{ type: 'Synced', status: 'True', reason: 'Synced', lastTransitionTime: '2025-04-03T14:00:04Z' }], lastSyncTime: c.iso() }), { subresource: 'status', manager: 'manager', after: '15ms' });
  }
  write('audit-hot-loop-last-sync-time', 'audit.log', a.text());
}

/** The operator's desired NodePort Service: no nodePort (it wants "any"), the clusterIP copied because it is immutable. */
function desiredService(current: Json): (o: Json) => void {
  return (o) => {
    o.spec = {
      type: 'NodePort',
      clusterIP: (current.spec as Json).clusterIP,
      selector: { app: 'rabbitmq', 'rabbitmq.com/cluster': 'rabbit' },
      ports: [{ name: 'management', port: 15672, targetPort: 15672, protocol: 'TCP' }],
    };
  };
}

/**
 * kubectl watch of Services on a v1.18 cluster (nodePorts re-allocated on update): the operator re-writes Service
 * "rabbit-ui" whenever it differs from its desired one, which omits nodePort, so each write gets a new nodePort and
 * wakes the operator again (~7 writes a second). Its ClusterIP Service "rabbit" is written once.
 */
function kubectlHotLoopNodePort(): void {
  const c = new Cluster({ start: '2025-04-04T11:00:00Z', revision: 30_500, nodePortsOnUpdate: 'reallocate' });
  const k = new KubectlDump();
  k.print(c.create('Service', 'rabbit', { labels: { app: 'rabbitmq' }, spec: { selector: { app: 'rabbitmq' }, ports: [{ name: 'amqp', port: 5672 }] } }, { manager: 'rabbitmq-operator' }));
  k.print(c.create('Service', 'rabbit-ui', { labels: { app: 'rabbitmq' }, spec: { type: 'NodePort', selector: { app: 'rabbitmq', 'rabbitmq.com/cluster': 'rabbit' }, ports: [{ name: 'management', port: 15672 }] } }, { manager: 'rabbitmq-operator', after: '20ms' }));
  for (let i = 0; i < 60; i++) k.print(c.update('Service', 'rabbit-ui', desiredService(c.get('Service', 'rabbit-ui') as Json), { manager: 'rabbitmq-operator', after: '140ms' }));
  write('kubectl-hot-loop-service-nodeport', 'watch.json', k.text());
}

/** The same operator bug on the audit path: every PUT omits nodePort and is answered with a new one. */
function auditHotLoopNodePort(): void {
  const c = new Cluster({ start: '2025-04-04T15:00:00Z', revision: 71_900, nodePortsOnUpdate: 'reallocate' });
  const a = new AuditLog(c);
  const sa = 'system:serviceaccount:rabbitmq-system:rabbitmq-cluster-operator';
  const ua = 'manager/v0.0.0 (linux/amd64) kubernetes/$Format';
  create(c, a, 'Service', 'rabbit-ui', sa, ua, { labels: { app: 'rabbitmq' }, spec: { type: 'NodePort', selector: { app: 'rabbitmq', 'rabbitmq.com/cluster': 'rabbit' }, ports: [{ name: 'management', port: 15672 }] } }, 'manager');
  for (let i = 0; i < 40; i++) put(c, a, 'Service', 'rabbit-ui', sa, ua, desiredService(c.get('Service', 'rabbit-ui') as Json), { manager: 'manager', after: '150ms' });
  write('audit-hot-loop-service-nodeport', 'audit.log', a.text());
}

// (b) a converging rollout: the operator, kube-controller-manager and the kubelet interleave, then all stop

function auditCleanOperatorRollout(): void {
  const c = new Cluster({ start: '2025-04-05T10:00:00Z', revision: 1_204_000 });
  const a = new AuditLog(c);
  const labels = { app: 'shop' };
  const template = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: 'shop', image }], terminationGracePeriodSeconds: 10 } });
  create(c, a, 'Lease', 'web-system/web-operator-leader', WEB_SA, WEB_UA, { spec: { holderIdentity: 'web-operator-7c9d_1f2a', leaseDurationSeconds: 15, acquireTime: c.iso(), renewTime: c.iso(), leaseTransitions: 0 } }, 'web-operator');
  let lastRenew = c.now;
  const renew = () => {
    while (c.now - lastRenew >= 2000) {
      lastRenew += 2000;
      put(c, a, 'Lease', 'web-system/web-operator-leader', WEB_SA, WEB_UA, (o) => ((o.spec as Json).renewTime = new Date(lastRenew).toISOString().replace('Z', '000Z')), { manager: 'web-operator' });
    }
  };
  create(c, a, 'Website', 'shop', ADMIN, KUBECTL_UA, { spec: { replicas: 3, image: 'shop:1.0' } }, 'kubectl-client-side-apply', '2s');
  create(c, a, 'Deployment', 'shop', WEB_SA, WEB_UA, { labels, ownerReferences: [{ apiVersion: 'web.example.com/v1', kind: 'Website', name: 'shop', uid: c.get('Website', 'shop')!.metadata!.uid, controller: true, blockOwnerDeletion: true }], spec: { replicas: 3, selector: { matchLabels: labels }, template: template('shop:1.0') } }, 'web-operator', '30ms');
  let siteReady = -1;
  let siteGen = 1;
  let siteUpdated = -1;
  /** The operator mirrors the Deployment's status into the Website's whenever it changes. */
  const operatorStatus = () => {
    const d = c.get('Deployment', 'shop') as Json;
    const st = (d.status as Json | undefined) ?? {};
    const ready = (st.readyReplicas as number | undefined) ?? 0;
    const updated = (st.updatedReplicas as number | undefined) ?? 0;
    const gen = c.get('Website', 'shop')!.metadata!.generation!;
    if (ready === siteReady && updated === siteUpdated && gen === siteGen) return;
    siteReady = ready;
    siteUpdated = updated;
    siteGen = gen;
    put(c, a, 'Website', 'shop', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: gen, readyReplicas: ready, updatedReplicas: updated, conditions: [{ type: 'Ready', status: ready === 3 && updated === 3 ? 'True' : 'False', reason: ready === 3 && updated === 3 ? 'RolloutComplete' : 'Progressing' }] }), { subresource: 'status', manager: 'web-operator', after: '25ms' });
  };
  operatorStatus();
  let podSeq = 0;
  const rsPods = new Map<string, string[]>();
  const newRS = (hash: string, image: string, replicas: number) => {
    const name = `shop-${hash}`;
    create(c, a, 'ReplicaSet', name, kcm('deployment-controller'), KCM_UA('deployment-controller'), { labels: { ...labels, 'pod-template-hash': hash }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', uid: c.get('Deployment', 'shop')!.metadata!.uid, controller: true, blockOwnerDeletion: true }], spec: { replicas, selector: { matchLabels: { ...labels, 'pod-template-hash': hash } }, template: template(image) } }, 'kube-controller-manager', '20ms');
    rsPods.set(name, []);
    return name;
  };
  const deploymentStatus = (gen: number, replicas: number, updated: number, ready: number) => {
    renew();
    const mutate = (o: Json) => (o.status = { observedGeneration: gen, replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready, conditions: [{ type: 'Available', status: ready >= 2 ? 'True' : 'False' }, { type: 'Progressing', status: 'True', reason: updated === 3 && ready === 3 ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated' }] });
    // The deployment controller writes status only when it differs (syncRolloutStatus).
    if (c.wouldChange('Deployment', 'shop', mutate)) put(c, a, 'Deployment', 'shop', kcm('deployment-controller'), KCM_UA('deployment-controller'), mutate, { subresource: 'status', manager: 'kube-controller-manager', after: '15ms' });
    operatorStatus();
  };
  const rsStatus = (rs: string, ready: number) => {
    const replicas = rsPods.get(rs)!.length;
    const mutate = (o: Json) => (o.status = { observedGeneration: (o.metadata as Json).generation, replicas, fullyLabeledReplicas: replicas, readyReplicas: ready, availableReplicas: ready });
    if (c.wouldChange('ReplicaSet', rs, mutate)) put(c, a, 'ReplicaSet', rs, kcm('replicaset-controller'), KCM_UA('replicaset-controller'), mutate, { subresource: 'status', manager: 'kube-controller-manager', after: '10ms' });
  };
  /** The ReplicaSet controller creates a pod, the scheduler binds it, the kubelet starts it (status patches). */
  const startPod = (rs: string, image: string): string => {
    const name = `${rs}-${['x7k2p', 'q9m4d', 'b3n8s', 'h5t6w', 'z2c9r', 'f4v7j'][podSeq++]}`;
    create(c, a, 'Pod', name, kcm('replicaset-controller'), KCM_UA('replicaset-controller'), { labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: c.get('ReplicaSet', rs)!.metadata!.uid, controller: true, blockOwnerDeletion: true }], spec: { containers: [{ name: 'shop', image }], terminationGracePeriodSeconds: 10 }, status: { phase: 'Pending', qosClass: 'BestEffort' } }, 'kube-controller-manager', '10ms');
    rsPods.get(rs)!.push(name);
    // pods/binding answers with a Status; the pod gets spec.nodeName (the binding writes it, as kube-scheduler).
    c.update('Pod', name, (o) => ((o.spec as Json).nodeName = 'worker-1'), { manager: 'kube-scheduler', after: '30ms' });
    a.request({ verb: 'create', kind: 'Pod', name, subresource: 'binding', user: 'system:kube-scheduler', userAgent: 'kube-scheduler/v1.36.3 (linux/amd64) kubernetes/2f3d9c1/scheduler', requestObject: { kind: 'Binding', apiVersion: 'v1', metadata: { name, namespace: 'default' }, target: { kind: 'Node', name: 'worker-1' } }, responseObject: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } });
    return name;
  };
  const kubeletStatus = (pod: string, phase: string, ready: boolean, after: string) => {
    c.update('Pod', pod, (o) => (o.status = { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], containerStatuses: [{ name: 'shop', ready, started: ready, restartCount: 0, state: ready ? { running: { startedAt: c.iso() } } : { waiting: { reason: 'ContainerCreating' } } }], qosClass: 'BestEffort' }), { subresource: 'status', manager: 'kubelet', after });
    logWrite(c, a, { verb: 'patch', kind: 'Pod', name: pod, user: NODE, ua: KUBELET_UA, subresource: 'status', body: { status: (c.lastResponse as Json).status } });
  };
  // First rollout: three pods come up one after another.
  const rs1 = newRS('6f9c8d7b45', 'shop:1.0', 3);
  deploymentStatus(1, 0, 0, 0);
  const pods1 = [startPod(rs1, 'shop:1.0'), startPod(rs1, 'shop:1.0'), startPod(rs1, 'shop:1.0')];
  rsStatus(rs1, 0);
  deploymentStatus(1, 3, 3, 0);
  for (const [i, pod] of pods1.entries()) {
    kubeletStatus(pod, 'Pending', false, '400ms');
    kubeletStatus(pod, 'Running', true, `${1500 + i * 700}ms`);
    rsStatus(rs1, i + 1);
    deploymentStatus(1, 3, 3, i + 1);
  }
  // The user moves the Website to a new image: the operator rolls the Deployment; one new pod up, one old pod down.
  c.tick('40s');
  renew();
  const patched = c.update('Website', 'shop', (o) => ((o.spec as Json).image = 'shop:1.1'), { manager: 'kubectl-patch' });
  logWrite(c, a, { verb: 'patch', kind: 'Website', name: 'shop', user: ADMIN, ua: KUBECTL_UA, body: { spec: { image: 'shop:1.1' } }, query: '?fieldManager=kubectl-patch' });
  void patched;
  put(c, a, 'Deployment', 'shop', WEB_SA, WEB_UA, (o) => ((o.spec as Json).template = template('shop:1.1')), { manager: 'web-operator', after: '20ms' });
  operatorStatus();
  const rs2 = newRS('84b5d9c6f1', 'shop:1.1', 1);
  deploymentStatus(2, 4, 1, 3);
  const old = [...pods1];
  for (let step = 1; step <= 3; step++) {
    renew();
    const pod = step === 1 ? startPod(rs2, 'shop:1.1') : (put(c, a, 'ReplicaSet', rs2, kcm('deployment-controller'), KCM_UA('deployment-controller'), (o) => ((o.spec as Json).replicas = step), { manager: 'kube-controller-manager', after: '20ms' }), startPod(rs2, 'shop:1.1'));
    rsStatus(rs2, step - 1);
    kubeletStatus(pod, 'Pending', false, '500ms');
    kubeletStatus(pod, 'Running', true, '2s');
    rsStatus(rs2, step);
    deploymentStatus(2, 4, step, 3);
    // Scale the old ReplicaSet down by one; its pod terminates gracefully and the kubelet removes it.
    put(c, a, 'ReplicaSet', rs1, kcm('deployment-controller'), KCM_UA('deployment-controller'), (o) => ((o.spec as Json).replicas = 3 - step), { manager: 'kube-controller-manager', after: '20ms' });
    const victim = old.shift()!;
    c.delete('Pod', victim, { after: '15ms' });
    logWrite(c, a, { verb: 'delete', kind: 'Pod', name: victim, user: kcm('replicaset-controller'), ua: KCM_UA('replicaset-controller'), body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', propagationPolicy: 'Background' } });
    rsPods.set(rs1, rsPods.get(rs1)!.filter((p) => p !== victim));
    rsStatus(rs1, 3 - step);
    deploymentStatus(2, 3 + (step < 3 ? 1 : 0), step, 3);
    kubeletStatus(victim, 'Running', false, '3s');
    c.delete('Pod', victim, { gracePeriodSeconds: 0, after: '1s' });
    logWrite(c, a, { verb: 'delete', kind: 'Pod', name: victim, user: NODE, ua: KUBELET_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1', gracePeriodSeconds: 0, preconditions: { uid: c.lastResponse!.metadata!.uid } } });
  }
  deploymentStatus(2, 3, 3, 3);
  // Converged: only the Lease renewals go on for two minutes.
  c.tick('2m');
  renew();
  write('audit-clean-operator-rollout', 'audit.log', a.text());
}

// (c) leader election on the three lock kinds

/** client-go's LeaderElectionRecord in the `control-plane.alpha.kubernetes.io/leader` annotation (resourcelock). */
function leaderAnnotation(holder: string, acquire: string, renew: string, transitions = 0): Record<string, string> {
  return { 'control-plane.alpha.kubernetes.io/leader': JSON.stringify({ holderIdentity: holder, leaseDurationSeconds: 15, acquireTime: acquire, renewTime: renew, leaderTransitions: transitions }) };
}

interface Lock {
  kind: 'Lease' | 'ConfigMap' | 'Endpoints';
  name: string;
  holder: string;
  manager: string;
  user: string;
  ua: string;
}

function createLock(c: Cluster, lock: Lock): WatchEvent {
  if (lock.kind === 'Lease') return c.create('Lease', lock.name, { spec: { holderIdentity: lock.holder, leaseDurationSeconds: 15, acquireTime: c.iso(c.now).replace('Z', '.000000Z'), renewTime: c.iso(c.now).replace('Z', '.000000Z'), leaseTransitions: 0 } }, { manager: lock.manager });
  // ConfigMap and Endpoints locks carry nothing but the annotation (no data, no subsets).
  return c.create(lock.kind, lock.name, { annotations: leaderAnnotation(lock.holder, c.iso(), c.iso()) }, { manager: lock.manager });
}

function renewLock(c: Cluster, lock: Lock, acquired: string): WatchEvent {
  if (lock.kind === 'Lease') return c.update('Lease', lock.name, (o) => ((o.spec as Json).renewTime = new Date(c.now).toISOString().replace('Z', '000Z')), { manager: lock.manager });
  return c.update(lock.kind, lock.name, (o) => (((o.metadata as Json).annotations as Json) = leaderAnnotation(lock.holder, acquired, c.iso())), { manager: lock.manager });
}

/**
 * The locks of an older controller-runtime (`configmapsleases` and `endpointsleases` multilocks: the ConfigMap or
 * Endpoints record and a Lease, both renewed every RetryPeriod of 2 s) and of kube-controller-manager, for 4 minutes,
 * while the operator under debug also does its real work.
 */
const leaderLocks: Lock[] = [
  { kind: 'ConfigMap', name: 'web-system/web-operator-leader', holder: 'web-operator-7c9d_1f2a', manager: 'web-operator', user: WEB_SA, ua: WEB_UA },
  { kind: 'Lease', name: 'web-system/web-operator-leader', holder: 'web-operator-7c9d_1f2a', manager: 'web-operator', user: WEB_SA, ua: WEB_UA },
  { kind: 'Endpoints', name: 'backup-system/backup-operator-lock', holder: 'backup-operator-6b4f_9e0c', manager: 'backup-operator', user: 'system:serviceaccount:backup-system:backup-operator', ua: 'backup-operator/v0.0.0 (linux/amd64) kubernetes/$Format' },
  { kind: 'Lease', name: 'backup-system/backup-operator-lock', holder: 'backup-operator-6b4f_9e0c', manager: 'backup-operator', user: 'system:serviceaccount:backup-system:backup-operator', ua: 'backup-operator/v0.0.0 (linux/amd64) kubernetes/$Format' },
  { kind: 'Lease', name: 'kube-system/kube-controller-manager', holder: 'control-plane_5a7e1c2b-93f0-4d8e-a6b1-0f2c3d4e5f60', manager: 'kube-controller-manager', user: 'system:kube-controller-manager', ua: 'kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/2f3d9c1/leader-election' },
];

function leaderElectionStory(c: Cluster, onWrite: (lock: Lock | null, event: WatchEvent, verb: Verb) => void): void {
  const acquired = new Map<Lock, string>();
  for (const lock of leaderLocks) {
    acquired.set(lock, c.iso());
    onWrite(lock, createLock(c, lock), 'create');
    c.tick('7ms');
  }
  onWrite(null, c.create('Website', 'blog', { spec: { replicas: 1, image: 'blog:2.3' } }, { manager: 'kubectl-client-side-apply', after: '1s' }), 'create');
  for (let t = 0; t < 90; t++) {
    c.tick('1960ms');
    for (const lock of leaderLocks) {
      onWrite(lock, renewLock(c, lock, acquired.get(lock)!), 'update');
      c.tick('8ms');
    }
    if (t === 1) onWrite(null, c.update('Website', 'blog', (o) => (o.status = { observedGeneration: 1, readyReplicas: 0 }), { subresource: 'status', manager: 'web-operator' }), 'update');
    if (t === 5) onWrite(null, c.update('Website', 'blog', (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator' }), 'update');
    if (t === 60) onWrite(null, c.update('Website', 'blog', (o) => ((o.spec as Json).replicas = 2), { manager: 'kubectl-edit' }), 'update');
    if (t === 61) onWrite(null, c.update('Website', 'blog', (o) => (o.status = { observedGeneration: 2, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator' }), 'update');
    if (t === 64) onWrite(null, c.update('Website', 'blog', (o) => (o.status = { observedGeneration: 2, readyReplicas: 2 }), { subresource: 'status', manager: 'web-operator' }), 'update');
  }
}

function ndjsonCleanLeaderElection(): void {
  const c = new Cluster({ start: '2025-04-06T08:00:00Z', revision: 640_000 });
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  for (const kind of ['Lease', 'ConfigMap', 'Endpoints', 'Website']) s.listAndWatch(kind);
  leaderElectionStory(c, (_lock, event) => s.deliver(event));
  c.tick('30s');
  s.bookmark('Lease');
  s.marker('recorder-stopped');
  ndjson('ndjson-clean-leader-election-locks', s);
}

function auditCleanLeaderElection(): void {
  const c = new Cluster({ start: '2025-04-06T12:00:00Z', revision: 720_000 });
  const a = new AuditLog(c);
  leaderElectionStory(c, (lock, event, verb) => {
    const object = event.object as Json;
    const writer = lock ? lock.user : ((object.metadata as Json).managedFields as Json[]).at(-1)!.manager === 'web-operator' ? WEB_SA : ADMIN;
    const ua = lock?.ua ?? (writer === WEB_SA ? WEB_UA : KUBECTL_UA);
    const status = !lock && ((object.metadata as Json).managedFields as Json[]).at(-1)!.subresource === 'status';
    const sent = JSON.parse(JSON.stringify(object)) as Json;
    delete (sent.metadata as Json).managedFields;
    logWrite(c, a, { verb, kind: object.kind as string, name: `${(object.metadata as Json).namespace as string}/${(object.metadata as Json).name as string}`, user: writer, ua, subresource: status ? 'status' : undefined, body: verb === 'create' ? createBody(event.object) : sent });
  });
  write('audit-clean-leader-election-locks', 'audit.log', a.text());
}

/** kubectl get leases -A -w: three holders renewing for 3 minutes, and one leader change (the old pod was killed). */
function kubectlCleanLeaderLease(): void {
  const c = new Cluster({ start: '2025-04-07T16:00:00Z', revision: 98_100 });
  const k = new KubectlDump();
  const locks = leaderLocks.filter((l) => l.kind === 'Lease');
  const acquired = new Map<Lock, string>();
  for (const lock of locks) {
    acquired.set(lock, c.iso());
    k.print(createLock(c, lock));
  }
  for (let t = 0; t < 90; t++) {
    c.tick('2s');
    for (const lock of locks) {
      if (lock.manager === 'web-operator' && t >= 40 && t < 48) continue; // the leader's pod is gone; the lease expires
      if (lock.manager === 'web-operator' && t === 48) {
        // A new replica acquires the expired lease.
        k.print(c.update('Lease', lock.name, (o) => {
          const spec = o.spec as Json;
          spec.holderIdentity = 'web-operator-7c9d_8e3b';
          spec.acquireTime = new Date(c.now).toISOString().replace('Z', '000Z');
          spec.renewTime = spec.acquireTime;
          spec.leaseTransitions = 1;
        }, { manager: lock.manager }));
        continue;
      }
      k.print(renewLock(c, lock, acquired.get(lock)!));
    }
  }
  write('kubectl-clean-leader-lease', 'watch.json', k.text());
}

// (d) Kubernetes' own finalizers, held for a long time for good reasons

/**
 * A recorder session (PVCs, Pods, Namespaces, Databases): the user deletes PVC data-db-0 while Pod db-0 still mounts
 * it, so pvc-protection holds it for half an hour; then namespace "shop" is deleted: the namespace controller deletes
 * the Database (db-operator removes its finalizer in 8 s), the Pod (grace period 600 s, a database draining), and
 * once the Pod is gone the PVC; then it finalizes the Namespace and deletes it, 10 minutes after the DELETE.
 */
function ndjsonSystemFinalizers(): void {
  const c = new Cluster({ start: '2025-04-08T09:00:00Z', revision: 55_000 });
  c.create('Namespace', 'shop', { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' }, labels: { 'kubernetes.io/metadata.name': 'shop' } }, { manager: 'kubectl-create' });
  c.create('Database', 'shop/db', { spec: { engine: 'postgres', storage: '10Gi' }, finalizers: ['db.example.com/backup'] }, { manager: 'kubectl-client-side-apply', after: '2s' });
  c.update('Database', 'shop/db', (o) => (o.status = { phase: 'Ready', observedGeneration: 1 }), { subresource: 'status', manager: 'db-operator', after: '20s' });
  c.create('PersistentVolumeClaim', 'shop/data-db-0', { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } }, storageClassName: 'standard', volumeName: 'pvc-4b1d2c3e' }, finalizers: ['kubernetes.io/pvc-protection'], status: { phase: 'Bound' } }, { manager: 'kube-controller-manager', after: '1s' });
  c.create('Pod', 'shop/db-0', { labels: { app: 'db' }, spec: { nodeName: 'worker-1', terminationGracePeriodSeconds: 600, containers: [{ name: 'postgres', image: 'postgres:16' }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }] }, status: { phase: 'Running' } }, { manager: 'kube-controller-manager', after: '1s' });
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  for (const kind of ['Namespace', 'PersistentVolumeClaim', 'Pod', 'Database']) s.listAndWatch(kind);
  // The user deletes the claim by mistake: it stays Terminating while db-0 runs.
  s.deliver(c.delete('PersistentVolumeClaim', 'shop/data-db-0', { after: '1m' }));
  for (let i = 0; i < 6; i++) s.deliver(c.update('Database', 'shop/db', (o) => (o.status = { phase: 'Ready', observedGeneration: 1, lastBackup: c.iso() }), { subresource: 'status', manager: 'db-operator', after: '5m' }));
  // Half an hour later the whole namespace goes.
  s.deliver(c.delete('Namespace', 'shop', { manager: 'kubectl', after: '1m' }));
  s.deliver(c.update('Namespace', 'shop', (o) => ((o.status as Json).conditions = [{ type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: databases.db.example.com has 1 resource instances, pods. has 1 resource instances' }]), { subresource: 'status', manager: 'kube-controller-manager', after: '2s' }));
  s.deliver(c.delete('Database', 'shop/db', { manager: 'kube-controller-manager', after: '100ms' }));
  s.deliver(c.delete('Pod', 'shop/db-0', { manager: 'kube-controller-manager', after: '50ms' }));
  s.deliver(c.removeFinalizer('Database', 'shop/db', 'db.example.com/backup', { manager: 'db-operator', after: '8s' }));
  // The kubelet stops postgres after it drains (just under the 600 s grace) and removes the pod.
  s.deliver(c.update('Pod', 'shop/db-0', (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '3s' }));
  s.deliver(c.update('Pod', 'shop/db-0', (o) => (o.status = { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '9m40s' }));
  s.deliver(c.delete('Pod', 'shop/db-0', { gracePeriodSeconds: 0, after: '1s' }));
  // No Pod uses the claim any more: the pvc-protection controller lets it go.
  s.deliver(c.removeFinalizer('PersistentVolumeClaim', 'shop/data-db-0', 'kubernetes.io/pvc-protection', { manager: 'kube-controller-manager', after: '2s' }));
  s.deliver(c.update('Namespace', 'shop', (o) => ((o.status as Json).conditions = [{ type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' }]), { subresource: 'status', manager: 'kube-controller-manager', after: '5s' }));
  s.deliver(c.finalizeNamespace('shop', { after: '1s' }));
  s.deliver(c.delete('Namespace', 'shop', { manager: 'kube-controller-manager', after: '100ms' }));
  c.tick('1m');
  s.bookmark('Namespace');
  s.marker('recorder-stopped');
  ndjson('ndjson-system-finalizers', s);
}

/** kubectl get pvc -w: a claim deleted while its StatefulSet pod keeps running; still Terminating 40 minutes later. */
function kubectlSystemFinalizerPvc(): void {
  const c = new Cluster({ start: '2025-04-09T13:00:00Z', revision: 204_700 });
  const k = new KubectlDump();
  const claim = (n: number) => ({ spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'standard', volumeName: `pvc-9e8d7c6${n}` }, finalizers: ['kubernetes.io/pvc-protection'], labels: { app: 'kafka' } });
  for (let n = 0; n < 3; n++) {
    k.print(c.create('PersistentVolumeClaim', `data-kafka-${n}`, claim(n), { manager: 'kube-controller-manager', after: '1s' }));
    k.print(c.update('PersistentVolumeClaim', `data-kafka-${n}`, (o) => (o.status = { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '5Gi' } }), { subresource: 'status', manager: 'kube-controller-manager', after: '2s' }));
  }
  k.print(c.delete('PersistentVolumeClaim', 'data-kafka-2', { manager: 'kubectl', after: '3m' }));
  // The kafka operator keeps resizing the other claims (spec changes) over the next 40 minutes.
  for (let i = 0; i < 4; i++) {
    for (const n of [0, 1]) k.print(c.update('PersistentVolumeClaim', `data-kafka-${n}`, (o) => (((o.spec as Json).resources as Json).requests = { storage: `${6 + i}Gi` }), { manager: 'kafka-operator', after: '10m' }));
  }
  write('kubectl-system-finalizer-pvc', 'watch.json', k.text());
}

// (e) finalizer removal on the audit path, as kube-apiserver answers it

const WEB_FIN = 'web.example.com/cleanup';

/** A Website and its ConfigMap, both holding the operator's finalizer (added by a PATCH), deleted by the user. */
function websiteWithFinalizers(c: Cluster, a: AuditLog): void {
  create(c, a, 'Website', 'blog', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'blog:2.3' } }, 'kubectl-client-side-apply');
  c.update('Website', 'blog', (o) => ((o.metadata as Json).finalizers = [WEB_FIN]), { manager: 'web-operator', after: '30ms' });
  logWrite(c, a, { verb: 'patch', kind: 'Website', name: 'blog', user: WEB_SA, ua: WEB_UA, body: { metadata: { finalizers: [WEB_FIN], resourceVersion: String(c.revision - 1) } } });
  create(c, a, 'ConfigMap', 'blog-config', WEB_SA, WEB_UA, { data: { 'site.yaml': 'title: blog\n' }, finalizers: [WEB_FIN], ownerReferences: [{ apiVersion: 'web.example.com/v1', kind: 'Website', name: 'blog', uid: c.get('Website', 'blog')!.metadata!.uid, controller: true }] }, 'web-operator', '20ms');
  put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '2s' });
  // The user deletes both (kubectl delete website blog; kubectl delete cm blog-config).
  c.delete('Website', 'blog', { after: '1m' });
  logWrite(c, a, { verb: 'delete', kind: 'Website', name: 'blog', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  c.delete('ConfigMap', 'blog-config', { after: '500ms' });
  logWrite(c, a, { verb: 'delete', kind: 'ConfigMap', name: 'blog-config', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
}

/** Another Website lives on for 12 minutes (spec edits, status), so a held finalizer would have had time to show. */
function lifeGoesOn(c: Cluster, a: AuditLog): void {
  create(c, a, 'Website', 'docs', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'docs:1.0' } }, 'kubectl-client-side-apply', '1m');
  put(c, a, 'Website', 'docs', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '2s' });
  for (let i = 0; i < 4; i++) {
    c.update('Website', 'docs', (o) => ((o.spec as Json).replicas = i + 2), { manager: 'kubectl-patch', after: '3m' });
    logWrite(c, a, { verb: 'patch', kind: 'Website', name: 'docs', user: ADMIN, ua: KUBECTL_UA, body: { spec: { replicas: i + 2 } }, query: '?fieldManager=kubectl-patch' });
    put(c, a, 'Website', 'docs', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: i + 2, readyReplicas: i + 2 }), { subresource: 'status', manager: 'web-operator', after: '3s' });
  }
}

/**
 * The operator cleans up within seconds and PATCHes its finalizer away (controller-runtime's merge patch with the
 * optimistic lock); kube-apiserver deletes each object in that step and answers at the previous resourceVersion
 * with no finalizers. The operator's next look (an uncached GET) and the user's `kubectl get` are 404.
 */
function auditCleanFinalizerReleased(): void {
  const c = new Cluster({ start: '2025-04-10T10:00:00Z', revision: 333_000 });
  const a = new AuditLog(c);
  websiteWithFinalizers(c, a);
  for (const [kind, name, after] of [['Website', 'blog', '4s'], ['ConfigMap', 'blog-config', '300ms']] as const) {
    const rv = c.get(kind, name)!.metadata!.resourceVersion!;
    c.removeFinalizer(kind, name, WEB_FIN, { manager: 'web-operator', after });
    logWrite(c, a, { verb: 'patch', kind, name, user: WEB_SA, ua: WEB_UA, body: { metadata: { finalizers: null, resourceVersion: rv } } });
  }
  c.tick('200ms');
  a.request({ verb: 'get', kind: 'Website', name: 'blog', user: WEB_SA, userAgent: WEB_UA, code: 404 });
  c.tick('20s');
  a.request({ verb: 'get', kind: 'ConfigMap', name: 'blog-config', user: ADMIN, userAgent: KUBECTL_UA, code: 404 });
  lifeGoesOn(c, a);
  write('audit-clean-finalizer-released', 'audit.log', a.text());
}

/** The same, but the operator's cleanup fails: it never removes its finalizers (it only logs errors, no writes). */
function auditStuckFinalizerNeverReleased(): void {
  const c = new Cluster({ start: '2025-04-10T15:00:00Z', revision: 334_500 });
  const a = new AuditLog(c);
  websiteWithFinalizers(c, a);
  lifeGoesOn(c, a);
  write('audit-stuck-finalizer-never-released', 'audit.log', a.text());
}

// (f) stale status on the audit path

/**
 * Widget "api" is provisioning (Ready=False, observedGeneration 1). The operator reconciles it from its gen-1 cache
 * copy while the user bumps the spec to generation 2; it merge-patches status (no resourceVersion: no conflict)
 * with observedGeneration 1 and Ready=True — Ready, written after the spec it describes was replaced. The next
 * reconcile sets observedGeneration 2 a second later. "web" gets the same statuses, each before its spec changes.
 */
function auditStaleStatus(): void {
  const c = new Cluster({ start: '2025-04-11T09:00:00Z', revision: 91_200 });
  const a = new AuditLog(c);
  const ready = (gen: number, isReady: boolean) => (o: Json) =>
    (o.status = { observedGeneration: gen, conditions: [{ type: 'Ready', status: isReady ? 'True' : 'False', reason: isReady ? 'Available' : 'Provisioning', observedGeneration: gen }] });
  const statusPatch = (name: string, gen: number, isReady = true) => {
    c.update('Widget', name, ready(gen, isReady), { subresource: 'status', manager: 'manager', after: '30ms' });
    logWrite(c, a, { verb: 'patch', kind: 'Widget', name, user: WIDGET_SA, ua: WIDGET_UA, subresource: 'status', body: { status: (c.lastResponse as Json).status } });
  };
  const userPatch = (name: string, size: number) => {
    c.update('Widget', name, (o) => ((o.spec as Json).size = size), { manager: 'kubectl-patch', after: '1m' });
    logWrite(c, a, { verb: 'patch', kind: 'Widget', name, user: ADMIN, ua: KUBECTL_UA, body: { spec: { size } }, query: '?fieldManager=kubectl-patch' });
  };
  for (const name of ['api', 'web']) {
    create(c, a, 'Widget', name, ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'nginx' } }, 'kubectl-client-side-apply', '1s');
    statusPatch(name, 1, false);
  }
  // web: Ready for generation 1, then the spec change, then status for 2: all in order.
  c.tick('20s');
  statusPatch('web', 1);
  userPatch('web', 2);
  statusPatch('web', 2, false);
  c.tick('15s');
  statusPatch('web', 2);
  // api: a reconcile that read generation 1 finds it provisioned; its Ready=True patch lands after the spec moved to 2.
  userPatch('api', 3);
  statusPatch('api', 1);
  c.tick('1s');
  statusPatch('api', 2, false);
  c.tick('15s');
  statusPatch('api', 2);
  write('audit-stale-status', 'audit.log', a.text());
}

// (g) NotFound retried by a service-account controller; kubectl users get single 404s

function auditNotFoundRetryServiceAccount(): void {
  const c = new Cluster({ start: '2025-04-12T17:00:00Z', revision: 602_000 });
  const a = new AuditLog(c);
  for (const name of ['tmp', 'keep']) {
    create(c, a, 'Widget', name, ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'nginx' } }, 'kubectl-client-side-apply', '1s');
    put(c, a, 'Widget', name, WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '40ms' });
  }
  // Two people look for Widgets that do not exist (a typo, one already gone): one 404 each.
  c.tick('30s');
  a.request({ verb: 'get', kind: 'Widget', name: 'kepe', user: 'alice', userAgent: KUBECTL_UA, code: 404 });
  c.delete('Widget', 'tmp', { after: '1m' });
  logWrite(c, a, { verb: 'delete', kind: 'Widget', name: 'tmp', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  c.tick('2s');
  a.request({ verb: 'get', kind: 'Widget', name: 'tmp', user: 'bob', userAgent: KUBECTL_UA, code: 404 });
  // The operator reads "tmp" with its uncached client and returns the NotFound error: requeued with backoff.
  let backoff = 5;
  for (let i = 0; i < 10; i++) {
    c.tick(`${backoff}ms`);
    a.request({ verb: 'get', kind: 'Widget', name: 'tmp', user: WIDGET_SA, userAgent: WIDGET_UA, code: 404 });
    backoff *= 2;
  }
  // "keep" goes on normally.
  c.update('Widget', 'keep', (o) => ((o.spec as Json).size = 2), { manager: 'kubectl-patch', after: '1m' });
  logWrite(c, a, { verb: 'patch', kind: 'Widget', name: 'keep', user: ADMIN, ua: KUBECTL_UA, body: { spec: { size: 2 } }, query: '?fieldManager=kubectl-patch' });
  put(c, a, 'Widget', 'keep', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '40ms' });
  write('audit-notfound-retry-service-account', 'audit.log', a.text());
}

// ---------------------------------------------------------------- context, not alarms: other actors' troubles

/**
 * The operator under debug (web-operator) releases its own finalizer in seconds; a ConfigMap protected by another
 * operator's finalizer (backup-operator, whose cleanup is failing) stays Terminating for 15 minutes.
 */
function auditStuckFinalizerOtherController(): void {
  const c = new Cluster({ start: '2025-04-13T08:00:00Z', revision: 12_400 });
  const a = new AuditLog(c);
  const backupSA = 'system:serviceaccount:backup-system:backup-operator';
  const backupUA = 'backup-operator/v0.0.0 (linux/amd64) kubernetes/$Format';
  const backupFin = 'backup.example.com/protect';
  websiteWithFinalizers(c, a);
  for (const [kind, name, after] of [['Website', 'blog', '3s'], ['ConfigMap', 'blog-config', '200ms']] as const) {
    const rv = c.get(kind, name)!.metadata!.resourceVersion!;
    c.removeFinalizer(kind, name, WEB_FIN, { manager: 'web-operator', after });
    logWrite(c, a, { verb: 'patch', kind, name, user: WEB_SA, ua: WEB_UA, body: { metadata: { finalizers: null, resourceVersion: rv } } });
  }
  create(c, a, 'ConfigMap', 'blog-backup', ADMIN, KUBECTL_UA, { data: { schedule: '0 3 * * *' } }, 'kubectl-client-side-apply', '30s');
  c.update('ConfigMap', 'blog-backup', (o) => ((o.metadata as Json).finalizers = [backupFin]), { manager: 'backup-operator', after: '40ms' });
  logWrite(c, a, { verb: 'patch', kind: 'ConfigMap', name: 'blog-backup', user: backupSA, ua: backupUA, body: { metadata: { finalizers: [backupFin] } } });
  c.delete('ConfigMap', 'blog-backup', { after: '1m' });
  logWrite(c, a, { verb: 'delete', kind: 'ConfigMap', name: 'blog-backup', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  lifeGoesOn(c, a);
  write('audit-stuck-finalizer-other-controller', 'audit.log', a.text());
}

/**
 * The operator under debug ignores NotFound (one 404 after the deletion, then nothing). Others keep asking: Argo CD's
 * application controller refreshes the deleted Widget six times, and someone runs `watch kubectl get widget tmp`
 * (a 404 every 2 s for 40 s).
 */
function auditNotFoundOtherClients(): void {
  const c = new Cluster({ start: '2025-04-13T12:00:00Z', revision: 45_600 });
  const a = new AuditLog(c);
  const argoSA = 'system:serviceaccount:argocd:argocd-application-controller';
  const argoUA = 'argocd-application-controller/v2.13.1+af54ef8 (linux/amd64) kubernetes/$Format';
  create(c, a, 'Widget', 'tmp', ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'nginx' } }, 'kubectl-client-side-apply');
  put(c, a, 'Widget', 'tmp', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '40ms' });
  c.delete('Widget', 'tmp', { after: '2m' });
  logWrite(c, a, { verb: 'delete', kind: 'Widget', name: 'tmp', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  c.tick('30ms');
  a.request({ verb: 'get', kind: 'Widget', name: 'tmp', user: WIDGET_SA, userAgent: WIDGET_UA, code: 404 });
  for (let i = 0; i < 20; i++) {
    c.tick('2s');
    a.request({ verb: 'get', kind: 'Widget', name: 'tmp', user: 'carol', userAgent: KUBECTL_UA, code: 404 });
    if (i % 3 === 0) a.request({ verb: 'get', kind: 'Widget', name: 'tmp', user: argoSA, userAgent: argoUA, code: 404 });
  }
  write('audit-notfound-other-clients', 'audit.log', a.text());
}

// ---------------------------------------------------------------- more leader-election locks, one kind per dump

/** kubectl get cm -n ingress-nginx -w: an older ingress controller's ConfigMap lock renewed every 2 s; its config edited twice. */
function kubectlCleanLeaderConfigMap(): void {
  const c = new Cluster({ start: '2025-04-14T10:00:00Z', revision: 5_900 });
  const k = new KubectlDump();
  const lock: Lock = { kind: 'ConfigMap', name: 'ingress-nginx/ingress-controller-leader', holder: 'ingress-nginx-controller-7f8b9c6d5-x2k4p', manager: 'nginx-ingress-controller', user: '', ua: '' };
  k.print(c.create('ConfigMap', 'ingress-nginx/ingress-nginx-controller', { data: { 'use-forwarded-headers': 'false' } }, { manager: 'helm' }));
  const acquired = c.iso();
  k.print(createLock(c, lock));
  for (let t = 0; t < 90; t++) {
    c.tick('2s');
    k.print(renewLock(c, lock, acquired));
    if (t === 30) k.print(c.update('ConfigMap', 'ingress-nginx/ingress-nginx-controller', (o) => (o.data = { 'use-forwarded-headers': 'true' }), { manager: 'helm', after: '300ms' }));
    if (t === 70) k.print(c.update('ConfigMap', 'ingress-nginx/ingress-nginx-controller', (o) => (o.data = { 'use-forwarded-headers': 'true', 'proxy-body-size': '8m' }), { manager: 'helm', after: '300ms' }));
  }
  write('kubectl-clean-leader-configmap', 'watch.json', k.text());
}

/**
 * kubectl get ep -n metallb-system -w: an older operator's Endpoints lock renewed every 2 s, next to the Endpoints of
 * its webhook Service, which kube-controller-manager rewrites as its pods come and go.
 */
function kubectlCleanLeaderEndpoints(): void {
  const c = new Cluster({ start: '2025-04-14T15:00:00Z', revision: 77_000 });
  const k = new KubectlDump();
  const lock: Lock = { kind: 'Endpoints', name: 'metallb-system/metallb-operator-lock', holder: 'metallb-operator-6d9f8b7c4-q8w2e', manager: 'metallb-operator', user: '', ua: '' };
  const acquired = c.iso();
  k.print(createLock(c, lock));
  k.print(c.create('Endpoints', 'metallb-system/webhook-service', { labels: { app: 'metallb' } }, { manager: 'kube-controller-manager', after: '1s' }));
  const subsets = (ips: string[]) => (o: Json) => (o.subsets = ips.length ? [{ addresses: ips.map((ip) => ({ ip, nodeName: 'worker-1', targetRef: { kind: 'Pod', namespace: 'metallb-system', name: `controller-${ip.split('.')[3]}` } })), ports: [{ port: 9443, protocol: 'TCP' }] }] : undefined);
  const pods = [['10.244.1.7'], ['10.244.1.7', '10.244.1.9'], ['10.244.1.9'], ['10.244.1.9', '10.244.1.12'], ['10.244.1.12']];
  for (let t = 0; t < 90; t++) {
    c.tick('2s');
    k.print(renewLock(c, lock, acquired));
    if (t % 15 === 3 && pods.length) k.print(c.update('Endpoints', 'metallb-system/webhook-service', subsets(pods.shift()!), { manager: 'kube-controller-manager', after: '500ms' }));
  }
  write('kubectl-clean-leader-endpoints', 'watch.json', k.text());
}

// ---------------------------------------------------------------- periodic, not hot

/** kubectl watch of Widgets: the operator requeues every 30 s (RequeueAfter) and stamps status.lastCheckTime: 40 writes in 20 minutes. */
function kubectlCleanPeriodicStatus(): void {
  const c = new Cluster({ start: '2025-04-15T07:00:00Z', revision: 19_300 });
  const k = new KubectlDump();
  k.print(c.create('Widget', 'probe', { spec: { size: 1, engine: 'http' } }, { manager: 'kubectl-client-side-apply' }));
  for (let i = 0; i < 40; i++) k.print(c.update('Widget', 'probe', (o) => (o.status = { observedGeneration: 1, phase: 'Ready', lastCheckTime: c.metaTime() }), { subresource: 'status', manager: 'manager', after: i === 0 ? '1s' : '30s' }));
  write('kubectl-clean-periodic-status', 'watch.json', k.text());
}

// ---------------------------------------------------------------- what real audit policies and kubectl sessions look like

/**
 * The audit policy most clusters inherit (kube-up's, GKE's) logs ConfigMaps and Secrets at level Metadata only:
 * the operator's `configmapsleases` lock shows as a bare `update configmaps web-operator-leader 200` every 2 s,
 * no bodies, while the Lease renewed with it is logged in full. Three minutes, beside normal work.
 */
function auditCleanLeaderConfigMapMetadataLevel(): void {
  const c = new Cluster({ start: '2025-04-16T09:00:00Z', revision: 3_300_000 });
  const a = new AuditLog(c);
  const cmLock = leaderLocks[0]!;
  const leaseLock = leaderLocks[1]!;
  const acquired = c.iso();
  for (const lock of [cmLock, leaseLock]) {
    const event = createLock(c, lock);
    logWrite(c, a, { verb: 'create', kind: lock.kind, name: lock.name, user: lock.user, ua: lock.ua, body: createBody(event.object), level: lock.kind === 'ConfigMap' ? 'Metadata' : 'RequestResponse' });
  }
  create(c, a, 'Website', 'blog', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'blog:2.3' } }, 'kubectl-client-side-apply', '1s');
  const cm = c.create('ConfigMap', 'blog-config', { data: { 'site.yaml': 'title: blog\n' } }, { manager: 'web-operator', after: '30ms' });
  logWrite(c, a, { verb: 'create', kind: 'ConfigMap', name: 'blog-config', user: WEB_SA, ua: WEB_UA, body: createBody(cm.object), level: 'Metadata' });
  put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 0 }), { subresource: 'status', manager: 'web-operator', after: '20ms' });
  for (let t = 0; t < 90; t++) {
    c.tick('1990ms');
    for (const lock of [cmLock, leaseLock]) {
      const before = c.get(lock.kind, lock.name)!;
      renewLock(c, lock, acquired);
      const sent = JSON.parse(JSON.stringify(c.lastResponse)) as Json;
      sent.metadata = { ...(sent.metadata as Json), managedFields: undefined, resourceVersion: before.metadata!.resourceVersion };
      logWrite(c, a, { verb: 'update', kind: lock.kind, name: lock.name, user: lock.user, ua: lock.ua, body: sent, level: lock.kind === 'ConfigMap' ? 'Metadata' : 'RequestResponse' });
      c.tick('5ms');
    }
    if (t === 3) put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '20ms' });
    if (t === 50) {
      c.update('Website', 'blog', (o) => ((o.spec as Json).image = 'blog:2.4'), { manager: 'kubectl-patch', after: '100ms' });
      logWrite(c, a, { verb: 'patch', kind: 'Website', name: 'blog', user: ADMIN, ua: KUBECTL_UA, body: { spec: { image: 'blog:2.4' } }, query: '?fieldManager=kubectl-patch' });
      const before = c.get('ConfigMap', 'blog-config')!;
      c.update('ConfigMap', 'blog-config', (o) => (o.data = { 'site.yaml': 'title: blog\nversion: 2.4\n' }), { manager: 'web-operator', after: '30ms' });
      logWrite(c, a, { verb: 'update', kind: 'ConfigMap', name: 'blog-config', user: WEB_SA, ua: WEB_UA, body: { metadata: { name: 'blog-config', namespace: 'default', resourceVersion: before.metadata!.resourceVersion } }, level: 'Metadata' });
      put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 2, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '20ms' });
    }
  }
  write('audit-clean-leader-configmap-metadata-level', 'audit.log', a.text());
}

/**
 * The operator cannot reconcile Website "shop" (its DNS provider answers 503) and requeues with backoff; each
 * failure records a Warning Event, and client-go's EventCorrelator PATCHes the same Event with count + 1 and a new
 * lastTimestamp (tools/record/events_cache.go). 15 failures in under 3 minutes.
 */
function auditCleanEventCountPatches(): void {
  const c = new Cluster({ start: '2025-04-16T14:00:00Z', revision: 808_000 });
  const a = new AuditLog(c);
  create(c, a, 'Website', 'shop', ADMIN, KUBECTL_UA, { spec: { replicas: 2, image: 'shop:1.0', domain: 'shop.example.com' } }, 'kubectl-client-side-apply');
  put(c, a, 'Website', 'shop', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, conditions: [{ type: 'Ready', status: 'False', reason: 'DNSError', message: 'creating record shop.example.com: 503 Service Unavailable' }] }), { subresource: 'status', manager: 'web-operator', after: '200ms' });
  const site = c.get('Website', 'shop')!;
  const eventName = `shop.${(0x17f3a9c2b4d5e6 + 1).toString(16)}`;
  const message = 'creating record shop.example.com: 503 Service Unavailable';
  const first = c.metaTime();
  const ev = c.create('Event', eventName, { data: undefined }, { manager: 'web-operator', after: '5ms' });
  // Events carry their fields at the top level; the fake server's create takes spec/status/data only, so set them.
  c.update('Event', eventName, (o) => Object.assign(o, { involvedObject: { kind: 'Website', namespace: 'default', name: 'shop', uid: site.metadata!.uid, apiVersion: 'web.example.com/v1', resourceVersion: site.metadata!.resourceVersion }, reason: 'ReconcileError', message, source: { component: 'web-operator' }, firstTimestamp: first, lastTimestamp: first, count: 1, type: 'Warning', eventTime: null, reportingComponent: 'web-operator', reportingInstance: '' }), { manager: 'web-operator' });
  void ev;
  logWrite(c, a, { verb: 'create', kind: 'Event', name: eventName, user: WEB_SA, ua: WEB_UA, body: createBody(c.lastResponse!) });
  let backoff = 5;
  for (let n = 2; n <= 15; n++) {
    c.tick(`${backoff}ms`);
    backoff *= 2;
    c.update('Event', eventName, (o) => Object.assign(o, { count: n, lastTimestamp: c.metaTime() }), { manager: 'web-operator', after: '60ms' });
    logWrite(c, a, { verb: 'patch', kind: 'Event', name: eventName, user: WEB_SA, ua: WEB_UA, body: { count: n, lastTimestamp: c.metaTime(), message } });
  }
  write('audit-clean-event-count-patches', 'audit.log', a.text());
}

/**
 * kubectl get widgets -w started on a cluster that has been running for days: the existing Widgets arrive first as
 * ADDED, in name order (not resourceVersion order), with old managedFields times. "gamma" has been Terminating for
 * 3 minutes and the operator finishes its cleanup 20 s into the dump; "omega" has been Terminating for 2 hours with
 * the operator's finalizer (why the user opened the dump) and is still there when it ends, 5 minutes later.
 */
function kubectlStartedMidLife(): void {
  const c = new Cluster({ start: '2025-04-14T06:00:00Z', revision: 2_000_000 });
  const fin = 'widgets.acme.io/cleanup';
  const born = (name: string, after: string) => {
    c.create('Widget', name, { spec: { size: 1, engine: 'nginx' } }, { manager: 'kubectl-client-side-apply', after });
    c.update('Widget', name, (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'manager', after: '50ms' });
    c.update('Widget', name, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' });
  };
  born('alpha', '1s');
  born('omega', '20h');
  born('gamma', '1d');
  born('beta', '1h');
  born('delta', '30m');
  c.delete('Widget', 'omega', { after: '2h' });
  c.update('Widget', 'alpha', (o) => ((o.spec as Json).size = 3), { manager: 'kubectl-edit', after: '1h55m' });
  c.update('Widget', 'alpha', (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '1s' });
  c.delete('Widget', 'gamma', { after: '2m' });
  c.tick('3m');
  const k = new KubectlDump();
  for (const object of c.list('Widget').sort((x, y) => x.metadata!.name!.localeCompare(y.metadata!.name!))) k.print({ type: 'ADDED', object });
  k.print(c.removeFinalizer('Widget', 'gamma', fin, { manager: 'manager', after: '20s' }));
  k.print(c.update('Widget', 'beta', (o) => ((o.spec as Json).size = 2), { manager: 'kubectl-edit', after: '1m' }));
  k.print(c.update('Widget', 'beta', (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' }));
  k.print(c.create('Widget', 'epsilon', { spec: { size: 1, engine: 'nginx' } }, { manager: 'kubectl-client-side-apply', after: '1m' }));
  k.print(c.update('Widget', 'epsilon', (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'manager', after: '50ms' }));
  k.print(c.update('Widget', 'epsilon', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' }));
  k.print(c.update('Widget', 'delta', (o) => ((o.spec as Json).engine = 'caddy'), { manager: 'kubectl-edit', after: '2m' }));
  k.print(c.update('Widget', 'delta', (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' }));
  write('kubectl-started-mid-life', 'watch.json', k.text());
}

/**
 * Audit lines are written as responses finish, so a slow answer lands after a request that started and was stored
 * later. The operator's status PUT of Widget "api" (stored first, generation 1) is logged after the user's spec
 * PATCH (stored second, generation 2); then the operator reconciles generation 2. The same happens across two
 * objects ("web", "db").
 */
function auditCleanOutOfOrderCompletions(): void {
  const c = new Cluster({ start: '2025-04-17T11:00:00Z', revision: 61_000 });
  const a = new AuditLog(c);
  for (const name of ['api', 'web', 'db']) {
    create(c, a, 'Widget', name, ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'nginx' } }, 'kubectl-client-side-apply', '1s');
    put(c, a, 'Widget', name, WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, phase: 'Provisioning' }), { subresource: 'status', manager: 'manager', after: '40ms' });
  }
  // api: the status PUT is stored, its response is slow; the user's PATCH is stored and answered meanwhile.
  c.tick('30s');
  const before = c.get('Widget', 'api')!;
  c.update('Widget', 'api', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager' });
  const sent = { ...(JSON.parse(JSON.stringify(c.lastResponse)) as Json), metadata: { ...before.metadata, managedFields: undefined } };
  const slow = logWrite(c, a, { verb: 'update', kind: 'Widget', name: 'api', user: WIDGET_SA, ua: WIDGET_UA, subresource: 'status', body: sent, hold: true });
  c.update('Widget', 'api', (o) => ((o.spec as Json).size = 2), { manager: 'kubectl-patch', after: '5ms' });
  logWrite(c, a, { verb: 'patch', kind: 'Widget', name: 'api', user: ADMIN, ua: KUBECTL_UA, body: { spec: { size: 2 } }, query: '?fieldManager=kubectl-patch' });
  c.tick('35ms');
  slow();
  put(c, a, 'Widget', 'api', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '300ms' });
  // web and db: two status writes, the first one's answer logged second.
  c.tick('10s');
  const webBefore = c.get('Widget', 'web')!;
  c.update('Widget', 'web', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager' });
  const slowWeb = logWrite(c, a, { verb: 'update', kind: 'Widget', name: 'web', user: WIDGET_SA, ua: WIDGET_UA, subresource: 'status', body: { ...(JSON.parse(JSON.stringify(c.lastResponse)) as Json), metadata: { ...webBefore.metadata, managedFields: undefined } }, hold: true });
  put(c, a, 'Widget', 'db', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '3ms' });
  c.tick('20ms');
  slowWeb();
  write('audit-clean-out-of-order-completions', 'audit.log', a.text());
}

/**
 * `kubectl delete deployment shop --cascade=foreground`: the API server adds foregroundDeletion; the garbage collector
 * deletes the ReplicaSet in the foreground too, then its pods, which drain for 10 minutes (grace 600 s); as each
 * dependent goes the collector removes the owner's foregroundDeletion (a PATCH answered at the previous
 * resourceVersion). The operator under debug (web-operator) only reports on its Website meanwhile.
 */
function auditSystemFinalizerForeground(): void {
  const c = new Cluster({ start: '2025-04-18T10:00:00Z', revision: 440_000 });
  const a = new AuditLog(c);
  const gc = kcm('generic-garbage-collector');
  const gcUA = KCM_UA('generic-garbage-collector');
  const labels = { app: 'shop' };
  create(c, a, 'Deployment', 'shop', ADMIN, KUBECTL_UA, { labels, spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'shop', image: 'shop:1.0' }], terminationGracePeriodSeconds: 600 } } } }, 'kubectl-client-side-apply');
  create(c, a, 'ReplicaSet', 'shop-6f9c8d7b45', kcm('deployment-controller'), KCM_UA('deployment-controller'), { labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'shop', uid: c.get('Deployment', 'shop')!.metadata!.uid, controller: true, blockOwnerDeletion: true }], spec: { replicas: 2, selector: { matchLabels: labels } } }, 'kube-controller-manager', '20ms');
  const pods = ['shop-6f9c8d7b45-k2x9p', 'shop-6f9c8d7b45-w7m4q'];
  for (const pod of pods) create(c, a, 'Pod', pod, kcm('replicaset-controller'), KCM_UA('replicaset-controller'), { labels, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'shop-6f9c8d7b45', uid: c.get('ReplicaSet', 'shop-6f9c8d7b45')!.metadata!.uid, controller: true, blockOwnerDeletion: true }], spec: { nodeName: 'worker-1', containers: [{ name: 'shop', image: 'shop:1.0' }], terminationGracePeriodSeconds: 600 }, status: { phase: 'Running' } }, 'kube-controller-manager', '15ms');
  create(c, a, 'Website', 'blog', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'blog:2.3' } }, 'kubectl-client-side-apply', '10s');
  put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '2s' });
  const foreground = { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Foreground' };
  c.delete('Deployment', 'shop', { propagationPolicy: 'Foreground', after: '1m' });
  logWrite(c, a, { verb: 'delete', kind: 'Deployment', name: 'shop', user: ADMIN, ua: KUBECTL_UA, body: foreground });
  c.delete('ReplicaSet', 'shop-6f9c8d7b45', { propagationPolicy: 'Foreground', after: '50ms' });
  logWrite(c, a, { verb: 'delete', kind: 'ReplicaSet', name: 'shop-6f9c8d7b45', user: gc, ua: gcUA, body: foreground });
  for (const pod of pods) {
    c.delete('Pod', pod, { after: '30ms' });
    logWrite(c, a, { verb: 'delete', kind: 'Pod', name: pod, user: gc, ua: gcUA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  }
  // The operator keeps reporting on its own Website while the pods drain.
  for (let i = 0; i < 3; i++) put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1, lastBackup: c.metaTime() }), { subresource: 'status', manager: 'web-operator', after: '3m' });
  c.tick('50s');
  for (const pod of pods) {
    c.delete('Pod', pod, { gracePeriodSeconds: 0, after: '2s' });
    logWrite(c, a, { verb: 'delete', kind: 'Pod', name: pod, user: NODE, ua: KUBELET_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', gracePeriodSeconds: 0 } });
  }
  for (const [kind, name] of [['ReplicaSet', 'shop-6f9c8d7b45'], ['Deployment', 'shop']] as const) {
    const rv = c.get(kind, name)!.metadata!.resourceVersion!;
    c.removeFinalizer(kind, name, 'foregroundDeletion', { manager: 'kube-controller-manager', after: '1s' });
    logWrite(c, a, { verb: 'patch', kind, name, user: gc, ua: gcUA, body: { metadata: { finalizers: null, resourceVersion: rv, uid: c.lastResponse!.metadata!.uid } } });
  }
  c.tick('2m');
  put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1, lastBackup: c.metaTime() }), { subresource: 'status', manager: 'web-operator' });
  write('audit-system-finalizer-foreground', 'audit.log', a.text());
}

/**
 * kubectl get pods -w during a rolling update of a database with a 10-minute grace period: old pods show as
 * Terminating (deletionTimestamp in the future, no finalizers) until the kubelet removes them; one pod sits on a
 * node that stopped reporting and stays Terminating for the rest of the dump. Nobody holds a finalizer.
 */
function kubectlCleanGracefulPods(): void {
  const c = new Cluster({ start: '2025-04-19T08:00:00Z', revision: 515_000 });
  const k = new KubectlDump();
  const pod = (name: string, node: string, image: string) =>
    c.create('Pod', name, { labels: { app: 'pg' }, spec: { nodeName: node, terminationGracePeriodSeconds: 600, containers: [{ name: 'pg', image }] }, status: { phase: 'Pending' } }, { manager: 'kube-controller-manager' });
  const running = (name: string, after: string) => c.update('Pod', name, (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), { subresource: 'status', manager: 'kubelet', after });
  for (const [name, node] of [['pg-0', 'worker-1'], ['pg-1', 'worker-2'], ['pg-2', 'worker-3']] as const) {
    k.print(pod(name, node, 'postgres:15'));
    k.print(running(name, '20s'));
  }
  // StatefulSet rolling update, highest ordinal first: delete, drain, recreate with the new image.
  for (const [name, node] of [['pg-2', 'worker-3'], ['pg-1', 'worker-2']] as const) {
    k.print(c.delete('Pod', name, { manager: 'kube-controller-manager', after: '1m' }));
    k.print(c.update('Pod', name, (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '2s' }));
    k.print(c.update('Pod', name, (o) => (o.status = { phase: 'Succeeded', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '8m30s' }));
    k.print(c.delete('Pod', name, { gracePeriodSeconds: 0, after: '1s' }));
    k.print(pod(name, node, 'postgres:16'));
    k.print(running(name, '25s'));
  }
  // worker-1 stops reporting: pg-0's deletion is never confirmed by its kubelet.
  k.print(c.delete('Pod', 'pg-0', { manager: 'kube-controller-manager', after: '1m' }));
  for (const name of ['pg-1', 'pg-2']) k.print(c.update('Pod', name, (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], podIP: `10.244.${name.at(-1)}.5` }), { subresource: 'status', manager: 'kubelet', after: '15m' }));
  write('kubectl-clean-graceful-pods', 'watch.json', k.text());
}

// ---------------------------------------------------------------- near misses a careless detector would flag

/**
 * The operator adds a label to Deployment "api" with client-go's RetryOnConflict, re-reading before every attempt,
 * while kube-controller-manager writes the Deployment's status as 20 pods become ready: three 409s, each on a fresh
 * resourceVersion, then success. Contention, not a stale retry.
 */
function auditCleanConflictsWithFreshReads(): void {
  const c = new Cluster({ start: '2025-04-20T09:00:00Z', revision: 2_700_000 });
  const a = new AuditLog(c);
  const labels = { app: 'api' };
  create(c, a, 'Deployment', 'api', ADMIN, KUBECTL_UA, { labels, spec: { replicas: 20, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'api', image: 'api:3.1' }] } } } }, 'kubectl-client-side-apply');
  const status = (ready: number) => (o: Json) => (o.status = { observedGeneration: 1, replicas: 20, updatedReplicas: 20, readyReplicas: ready, availableReplicas: ready });
  let ready = 0;
  const kcmStatus = () => put(c, a, 'Deployment', 'api', kcm('deployment-controller'), KCM_UA('deployment-controller'), status(++ready), { subresource: 'status', manager: 'kube-controller-manager', after: '90ms' });
  for (let i = 0; i < 5; i++) kcmStatus();
  for (let attempt = 0; attempt < 4; attempt++) {
    // GET (fresh copy), then PUT with its resourceVersion.
    const fresh = c.get('Deployment', 'api')!;
    c.tick('8ms');
    if (attempt < 3) {
      kcmStatus();
      a.request({ verb: 'update', kind: 'Deployment', name: 'api', user: WEB_SA, userAgent: WEB_UA, code: 409, requestObject: { ...fresh, metadata: { ...fresh.metadata, managedFields: undefined, labels: { ...labels, 'web.example.com/managed': 'true' } } } });
    } else {
      put(c, a, 'Deployment', 'api', WEB_SA, WEB_UA, (o) => ((o.metadata as Json).labels = { ...labels, 'web.example.com/managed': 'true' }), { manager: 'web-operator', after: '5ms' });
    }
  }
  while (ready < 20) kcmStatus();
  write('audit-clean-conflicts-with-fresh-reads', 'audit.log', a.text());
}

/**
 * Every reconcile (a 1-minute RequeueAfter), the operator looks up an optional Secret "blog-tls-override" that nobody
 * ever created: a 404 each time, for 12 minutes, handled as "use the default certificate".
 */
function auditCleanOptionalProbes(): void {
  const c = new Cluster({ start: '2025-04-20T13:00:00Z', revision: 150_000 });
  const a = new AuditLog(c);
  create(c, a, 'Website', 'blog', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'blog:2.3', tls: true } }, 'kubectl-client-side-apply');
  for (let i = 0; i < 12; i++) {
    c.tick(i === 0 ? '50ms' : '1m');
    a.request({ verb: 'get', kind: 'Secret', name: 'blog-tls-override', user: WEB_SA, userAgent: WEB_UA, code: 404 });
    if (i === 0) put(c, a, 'Website', 'blog', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1, certificate: 'default' }), { subresource: 'status', manager: 'web-operator', after: '20ms' });
  }
  write('audit-clean-optional-probes', 'audit.log', a.text());
}

/**
 * Deleting a Widget bumps its generation (the deletionTimestamp), not its spec: the operator's last status write,
 * phase Deleting with observedGeneration 1, is not stale; it removes its finalizer 20 s later.
 */
function auditCleanStatusDuringDeletion(): void {
  const c = new Cluster({ start: '2025-04-20T16:00:00Z', revision: 73_300 });
  const a = new AuditLog(c);
  const fin = 'widgets.acme.io/cleanup';
  create(c, a, 'Widget', 'old', ADMIN, KUBECTL_UA, { spec: { size: 1, engine: 'nginx' } }, 'kubectl-client-side-apply');
  c.update('Widget', 'old', (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'manager', after: '40ms' });
  logWrite(c, a, { verb: 'patch', kind: 'Widget', name: 'old', user: WIDGET_SA, ua: WIDGET_UA, body: { metadata: { finalizers: [fin], resourceVersion: String(c.revision - 1) } } });
  put(c, a, 'Widget', 'old', WIDGET_SA, WIDGET_UA, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' });
  c.delete('Widget', 'old', { after: '5m' });
  logWrite(c, a, { verb: 'delete', kind: 'Widget', name: 'old', user: ADMIN, ua: KUBECTL_UA, body: { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/__internal', propagationPolicy: 'Background' } });
  c.update('Widget', 'old', (o) => (o.status = { observedGeneration: 1, phase: 'Deleting' }), { subresource: 'status', manager: 'manager', after: '40ms' });
  logWrite(c, a, { verb: 'patch', kind: 'Widget', name: 'old', user: WIDGET_SA, ua: WIDGET_UA, subresource: 'status', body: { status: { phase: 'Deleting' } } });
  const rv = c.get('Widget', 'old')!.metadata!.resourceVersion!;
  c.removeFinalizer('Widget', 'old', fin, { manager: 'manager', after: '20s' });
  logWrite(c, a, { verb: 'patch', kind: 'Widget', name: 'old', user: WIDGET_SA, ua: WIDGET_UA, body: { metadata: { finalizers: null, resourceVersion: rv } } });
  write('audit-clean-status-during-deletion', 'audit.log', a.text());
}

/**
 * The converging rollout on the watch path: a recorder session watching Websites, Deployments, ReplicaSets and Pods.
 * The operator's Website status follows the Deployment's, which follows the pods'; 3 replicas, then an image change;
 * everything stops once converged.
 */
function ndjsonCleanOperatorRollout(): void {
  const c = new Cluster({ start: '2025-04-21T10:00:00Z', revision: 930_000 });
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  for (const kind of ['Website', 'Deployment', 'ReplicaSet', 'Pod']) s.listAndWatch(kind);
  const labels = { app: 'shop' };
  const template = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: 'shop', image }], terminationGracePeriodSeconds: 10 } });
  s.deliver(c.create('Website', 'shop', { spec: { replicas: 3, image: 'shop:1.0' } }, { manager: 'kubectl-client-side-apply', after: '1s' }));
  s.deliver(c.create('Deployment', 'shop', { labels, spec: { replicas: 3, selector: { matchLabels: labels }, template: template('shop:1.0') } }, { manager: 'web-operator', after: '30ms' }));
  const site = (gen: number, ready: number, updated: number) => {
    const mutate = (o: Json) => (o.status = { observedGeneration: gen, readyReplicas: ready, updatedReplicas: updated, conditions: [{ type: 'Ready', status: ready === 3 && updated === 3 ? 'True' : 'False' }] });
    if (c.wouldChange('Website', 'shop', mutate)) s.deliver(c.update('Website', 'shop', mutate, { subresource: 'status', manager: 'web-operator', after: '20ms' }));
  };
  const dep = (gen: number, replicas: number, updated: number, ready: number) => {
    const mutate = (o: Json) => (o.status = { observedGeneration: gen, replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready });
    if (c.wouldChange('Deployment', 'shop', mutate)) s.deliver(c.update('Deployment', 'shop', mutate, { subresource: 'status', manager: 'kube-controller-manager', after: '15ms' }));
    site(c.get('Website', 'shop')!.metadata!.generation!, ready, updated);
  };
  const rs = (name: string, replicas: number, ready: number) => {
    const mutate = (o: Json) => (o.status = { observedGeneration: (o.metadata as Json).generation, replicas, readyReplicas: ready, availableReplicas: ready });
    if (c.wouldChange('ReplicaSet', name, mutate)) s.deliver(c.update('ReplicaSet', name, mutate, { subresource: 'status', manager: 'kube-controller-manager', after: '10ms' }));
  };
  const newPod = (owner: string, name: string, image: string) => {
    s.deliver(c.create('Pod', name, { labels, spec: { containers: [{ name: 'shop', image }], terminationGracePeriodSeconds: 10 }, status: { phase: 'Pending' } }, { manager: 'kube-controller-manager', after: '10ms' }));
    s.deliver(c.update('Pod', name, (o) => ((o.spec as Json).nodeName = 'worker-1'), { manager: 'kube-scheduler', after: '30ms' }));
    s.deliver(c.update('Pod', name, (o) => (o.status = { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '400ms' }));
    void owner;
  };
  const podReady = (name: string, after: string) => s.deliver(c.update('Pod', name, (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), { subresource: 'status', manager: 'kubelet', after }));
  site(1, 0, 0);
  s.deliver(c.create('ReplicaSet', 'shop-6f9c8d7b45', { labels, spec: { replicas: 3, selector: { matchLabels: labels }, template: template('shop:1.0') } }, { manager: 'kube-controller-manager', after: '20ms' }));
  dep(1, 0, 0, 0);
  const old = ['shop-6f9c8d7b45-x7k2p', 'shop-6f9c8d7b45-q9m4d', 'shop-6f9c8d7b45-b3n8s'];
  for (const p of old) newPod('shop-6f9c8d7b45', p, 'shop:1.0');
  rs('shop-6f9c8d7b45', 3, 0);
  dep(1, 3, 3, 0);
  old.forEach((p, i) => {
    podReady(p, `${1500 + i * 600}ms`);
    rs('shop-6f9c8d7b45', 3, i + 1);
    dep(1, 3, 3, i + 1);
  });
  // The image changes: one new pod up, one old pod down, three times.
  s.deliver(c.update('Website', 'shop', (o) => ((o.spec as Json).image = 'shop:1.1'), { manager: 'kubectl-patch', after: '45s' }));
  s.deliver(c.update('Deployment', 'shop', (o) => ((o.spec as Json).template = template('shop:1.1')), { manager: 'web-operator', after: '20ms' }));
  site(2, 3, 0);
  s.deliver(c.create('ReplicaSet', 'shop-84b5d9c6f1', { labels, spec: { replicas: 1, selector: { matchLabels: labels }, template: template('shop:1.1') } }, { manager: 'kube-controller-manager', after: '20ms' }));
  dep(2, 4, 0, 3);
  const fresh = ['shop-84b5d9c6f1-h5t6w', 'shop-84b5d9c6f1-z2c9r', 'shop-84b5d9c6f1-f4v7j'];
  fresh.forEach((p, i) => {
    if (i > 0) s.deliver(c.update('ReplicaSet', 'shop-84b5d9c6f1', (o) => ((o.spec as Json).replicas = i + 1), { manager: 'kube-controller-manager', after: '20ms' }));
    newPod('shop-84b5d9c6f1', p, 'shop:1.1');
    rs('shop-84b5d9c6f1', i + 1, i);
    podReady(p, '2s');
    rs('shop-84b5d9c6f1', i + 1, i + 1);
    dep(2, 4, i + 1, 4);
    s.deliver(c.update('ReplicaSet', 'shop-6f9c8d7b45', (o) => ((o.spec as Json).replicas = 2 - i), { manager: 'kube-controller-manager', after: '20ms' }));
    const victim = old[i]!;
    s.deliver(c.delete('Pod', victim, { manager: 'kube-controller-manager', after: '15ms' }));
    rs('shop-6f9c8d7b45', 2 - i, 2 - i);
    dep(2, i === 2 ? 3 : 4, i + 1, 3);
    s.deliver(c.update('Pod', victim, (o) => (o.status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }), { subresource: 'status', manager: 'kubelet', after: '3s' }));
    s.deliver(c.delete('Pod', victim, { gracePeriodSeconds: 0, after: '1s' }));
  });
  dep(2, 3, 3, 3);
  c.tick('2m');
  for (const kind of ['Website', 'Deployment', 'ReplicaSet', 'Pod']) s.bookmark(kind);
  s.marker('recorder-stopped');
  ndjson('ndjson-clean-operator-rollout', s);
}

// ---------------------------------------------------------------- loops that flap, and loops through a child

/**
 * kubectl watch of Widgets: each reconcile of "queue" patches status.phase to Reconciling at its start and to Ready
 * at its end; without a generation predicate each status update is a new event, so it reconciles again: the phase
 * flaps between the same two states, 30 times each, about 4 writes a second.
 */
function kubectlHotLoopPhaseFlapping(): void {
  const c = new Cluster({ start: '2025-04-22T10:00:00Z', revision: 67_800 });
  const k = new KubectlDump();
  k.print(c.create('Widget', 'queue', { spec: { size: 2, engine: 'rabbitmq' } }, { manager: 'kubectl-client-side-apply' }));
  k.print(c.create('Widget', 'steady', { spec: { size: 1, engine: 'rabbitmq' } }, { manager: 'kubectl-client-side-apply', after: '2s' }));
  k.print(c.update('Widget', 'steady', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '200ms' }));
  for (let i = 0; i < 30; i++) {
    k.print(c.update('Widget', 'queue', (o) => (o.status = { observedGeneration: 1, phase: 'Reconciling' }), { subresource: 'status', manager: 'manager', after: '40ms' }));
    k.print(c.update('Widget', 'queue', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '210ms' }));
  }
  write('kubectl-hot-loop-phase-flapping', 'watch.json', k.text());
}

/**
 * Audit log: the operator renders Website "news"'s ConfigMap with a generated-at annotation on every reconcile and
 * owns that ConfigMap (Owns(&ConfigMap{})), so each write of the child requeues the parent: 45 PUTs in 30 s, nothing
 * else touching either object, while kube-controller-manager keeps writing unrelated Deployments' status.
 */
function auditHotLoopChildConfigMap(): void {
  const c = new Cluster({ start: '2025-04-22T15:00:00Z', revision: 1_550_000 });
  const a = new AuditLog(c);
  create(c, a, 'Website', 'news', ADMIN, KUBECTL_UA, { spec: { replicas: 1, image: 'news:4.0' } }, 'kubectl-client-side-apply');
  const owner = [{ apiVersion: 'web.example.com/v1', kind: 'Website', name: 'news', uid: c.get('Website', 'news')!.metadata!.uid, controller: true, blockOwnerDeletion: true }];
  create(c, a, 'ConfigMap', 'news-site', WEB_SA, WEB_UA, { data: { 'site.yaml': 'title: news\n' }, annotations: { 'web.example.com/generated-at': c.iso() }, ownerReferences: owner }, 'web-operator', '30ms');
  put(c, a, 'Website', 'news', WEB_SA, WEB_UA, (o) => (o.status = { observedGeneration: 1, readyReplicas: 1 }), { subresource: 'status', manager: 'web-operator', after: '20ms' });
  const labels = { app: 'other' };
  create(c, a, 'Deployment', 'other', ADMIN, KUBECTL_UA, { labels, spec: { replicas: 30, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'other', image: 'other:1' }] } } } }, 'kubectl-client-side-apply', '1s');
  let ready = 0;
  for (let i = 0; i < 45; i++) {
    put(c, a, 'ConfigMap', 'news-site', WEB_SA, WEB_UA, (o) => ((o.metadata as Json).annotations = { 'web.example.com/generated-at': new Date(c.now + 650).toISOString() }), { manager: 'web-operator', after: '650ms' });
    if (i % 3 === 0 && ready < 30) {
      ready += 2;
      put(c, a, 'Deployment', 'other', kcm('deployment-controller'), KCM_UA('deployment-controller'), (o) => (o.status = { observedGeneration: 1, replicas: 30, updatedReplicas: 30, readyReplicas: ready, availableReplicas: ready }), { subresource: 'status', manager: 'kube-controller-manager', after: '100ms' });
    }
  }
  write('audit-hot-loop-child-configmap', 'audit.log', a.text());
}

// ---------------------------------------------------------------- the same bugs and near misses in other formats

/** kubectl watch of Widgets: "cache" is Ready=False at generation 1; the user moves it to 2; a reconcile of 1 then writes Ready=True with observedGeneration 1. */
function kubectlStaleStatus(): void {
  const c = new Cluster({ start: '2025-04-23T09:00:00Z', revision: 33_100 });
  const k = new KubectlDump();
  const st = (gen: number, ready: boolean) => (o: Json) => (o.status = { observedGeneration: gen, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: ready ? 'Available' : 'Provisioning' }] });
  k.print(c.create('Widget', 'cache', { spec: { size: 1, engine: 'redis' } }, { manager: 'kubectl-client-side-apply' }));
  k.print(c.update('Widget', 'cache', st(1, false), { subresource: 'status', manager: 'manager', after: '100ms' }));
  k.print(c.update('Widget', 'cache', (o) => ((o.spec as Json).size = 3), { manager: 'kubectl-edit', after: '40s' }));
  k.print(c.update('Widget', 'cache', st(1, true), { subresource: 'status', manager: 'manager', after: '200ms' }));
  k.print(c.update('Widget', 'cache', st(2, false), { subresource: 'status', manager: 'manager', after: '1s' }));
  k.print(c.update('Widget', 'cache', st(2, true), { subresource: 'status', manager: 'manager', after: '30s' }));
  write('kubectl-stale-status', 'watch.json', k.text());
}

/**
 * kubectl watch of Widgets: the operator adds its finalizer with server-side apply (manager widget-operator,
 * operation Apply, a patch of metadata.finalizers only); "legacy" is deleted and the finalizer stays for 15 minutes.
 */
function kubectlStuckFinalizerServerSideApply(): void {
  const c = new Cluster({ start: '2025-04-23T13:00:00Z', revision: 88_400 });
  const k = new KubectlDump();
  const fin = 'widgets.acme.io/cleanup';
  for (const name of ['legacy', 'current']) {
    k.print(c.create('Widget', name, { spec: { size: 1, engine: 'nginx' } }, { manager: 'kubectl', operation: 'Apply', after: '1s' }));
    k.print(c.update('Widget', name, (o) => ((o.metadata as Json).finalizers = [fin]), { manager: 'widget-operator', operation: 'Apply', after: '50ms' }));
    k.print(c.update('Widget', name, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'widget-operator', operation: 'Apply', after: '1s' }));
  }
  k.print(c.delete('Widget', 'legacy', { after: '2m' }));
  for (let i = 0; i < 3; i++) {
    k.print(c.update('Widget', 'current', (o) => ((o.spec as Json).size = i + 2), { manager: 'kubectl', operation: 'Apply', after: '5m' }));
    k.print(c.update('Widget', 'current', (o) => (o.status = { observedGeneration: i + 2, phase: 'Ready' }), { subresource: 'status', manager: 'widget-operator', operation: 'Apply', after: '2s' }));
  }
  write('kubectl-stuck-finalizer-server-side-apply', 'watch.json', k.text());
}

/**
 * An HA control plane: the recorder restarts and its first list (resourceVersion "0", served from the watch cache of
 * a lagging second API server) is older than what it had recorded before the restart; the watch from that list's RV
 * then sends the newer versions again. A fresh client has no memory of the first run: nothing is duplicated for it.
 */
function ndjsonCleanRestartStaleList(): void {
  const c = new Cluster({ start: '2025-04-24T07:00:00Z', revision: 4_410_000 });
  for (const n of ['a', 'b']) {
    c.create('Foo', n, { spec: foo(1, n) }, { after: '1s' });
    reconcileFooQuiet(c, n);
  }
  const s = new SessionBuilder(c);
  s.marker('recorder-started');
  s.listAndWatch('Foo');
  const lagging = c.list('Foo');
  const laggingRV = String(c.revision);
  const changes = [c.update('Foo', 'a', scale(2), { manager: 'kubectl-edit', after: '20s' }), c.update('Foo', 'a', fooStatus(2, 2), { subresource: 'status', manager: 'sample-controller', after: '30ms' })];
  for (const e of changes) s.deliver(e);
  s.marker('recorder-stopped');
  c.tick('30s');
  s.marker('recorder-started');
  s.marker('list-started', 'Foo');
  for (const object of lagging) s.deliver({ type: 'ADDED', object }, 'relist');
  s.marker('list-finished', 'Foo', { resourceVersion: laggingRV, count: lagging.length });
  s.marker('watch-started', 'Foo', { resourceVersion: laggingRV });
  for (const e of changes) s.deliver(e);
  s.deliver(c.update('Foo', 'b', scale(3), { manager: 'kubectl-edit', after: '10s' }));
  s.deliver(c.update('Foo', 'b', fooStatus(3, 2), { subresource: 'status', manager: 'sample-controller', after: '30ms' }));
  c.tick('20s');
  s.bookmark('Foo');
  ndjson('ndjson-clean-restart-stale-list', s);
}

/**
 * kubectl get widgets -w --watch-only: no initial listing, so the dump starts with MODIFIED events of Widgets that
 * existed long before; one is deleted, one re-created under the same name (a new uid).
 */
function kubectlCleanWatchOnly(): void {
  const c = new Cluster({ start: '2025-04-25T08:00:00Z', revision: 702_000 });
  for (const name of ['api', 'web', 'db']) {
    c.create('Widget', name, { spec: { size: 1, engine: 'nginx' } }, { manager: 'kubectl-client-side-apply', after: '3h' });
    c.update('Widget', name, (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' });
  }
  const k = new KubectlDump();
  k.print(c.update('Widget', 'web', (o) => ((o.spec as Json).size = 2), { manager: 'kubectl-edit', after: '10m' }));
  k.print(c.update('Widget', 'web', (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' }));
  k.print(c.update('Widget', 'db', (o) => (o.status = { observedGeneration: 1, phase: 'Degraded' }), { subresource: 'status', manager: 'manager', after: '1m' }));
  k.print(c.delete('Widget', 'db', { after: '2m' }));
  k.print(c.create('Widget', 'db', { spec: { size: 1, engine: 'postgres' } }, { manager: 'kubectl-client-side-apply', after: '30s' }));
  k.print(c.update('Widget', 'db', (o) => (o.status = { observedGeneration: 1, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '3s' }));
  k.print(c.update('Widget', 'api', (o) => ((o.spec as Json).engine = 'caddy'), { manager: 'kubectl-edit', after: '4m' }));
  k.print(c.update('Widget', 'api', (o) => (o.status = { observedGeneration: 2, phase: 'Ready' }), { subresource: 'status', manager: 'manager', after: '2s' }));
  write('kubectl-clean-watch-only', 'watch.json', k.text());
}

// ---------------------------------------------------------------- cluster-wide watches (audit)

const OPERATOR_SA = 'system:serviceaccount:team-a:foo-operator';
const OPERATOR_UA = 'foo-operator/v1.4.0 (linux/amd64) kubernetes/$Format';
const KCM_DEPLOYMENTS = 'system:serviceaccount:kube-system:deployment-controller';
const KCM_INFORMERS_UA = 'kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/shared-informers';

/** The operator's day: Foos in team-a, a Deployment per Foo, status, its leader lease; kube-controller-manager's informers. */
function operatorDay(c: Cluster, a: AuditLog, watchNamespace: string | null, extraWatches: () => void): void {
  // kube-controller-manager's shared informers list and watch Deployments in all namespaces: Kubernetes' own.
  const kcmWatch = a.collection({ verb: 'watch', kind: 'Deployment', namespace: null, user: KCM_DEPLOYMENTS, userAgent: KCM_INFORMERS_UA });
  c.tick('20s');
  // The operator starts: its manager's cache lists and watches Foos and Deployments.
  const open = () => {
    for (const kind of ['Foo', 'Deployment']) a.collection({ verb: 'list', kind, namespace: watchNamespace, user: OPERATOR_SA, userAgent: OPERATOR_UA });
    return ['Foo', 'Deployment'].map((kind) => a.collection({ verb: 'watch', kind, namespace: watchNamespace, user: OPERATOR_SA, userAgent: OPERATOR_UA }));
  };
  let watches = open();
  extraWatches();
  const lease = c.create('Lease', 'team-a/foo-operator-leader', { spec: { holderIdentity: 'foo-operator-6c7d_1', leaseDurationSeconds: 15, acquireTime: c.iso(), renewTime: c.iso() } }, { manager: 'foo-operator', after: '2s' });
  a.request({ verb: 'create', kind: 'Lease', name: 'team-a/foo-operator-leader', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: createBody(lease.object), response: lease });
  for (const [i, name] of ['team-a/checkout', 'team-a/search', 'team-a/cart'].entries()) {
    userWrite(a, 'create', c.create('Foo', name, { spec: foo(1 + i, name.split('/')[1]!) }, { manager: 'kubectl-client-side-apply', after: '1m' }), 'Foo', name);
    const dep = c.create('Deployment', `team-a/${name.split('/')[1]}`, { spec: { replicas: 1 + i } }, { manager: 'foo-operator', after: '30ms' });
    a.request({ verb: 'create', kind: 'Deployment', name: `team-a/${name.split('/')[1]}`, user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: createBody(dep.object), response: dep });
    const st = c.update('Deployment', `team-a/${name.split('/')[1]}`, (o) => (o.status = { observedGeneration: 1, replicas: 1 + i, readyReplicas: 1 + i }), { subresource: 'status', manager: 'kube-controller-manager', after: '2s' });
    a.request({ verb: 'update', kind: 'Deployment', name: `team-a/${name.split('/')[1]}`, subresource: 'status', user: KCM_DEPLOYMENTS, userAgent: KCM_INFORMERS_UA, requestObject: st.object, response: st });
    const status = c.update('Foo', name, fooStatus(1 + i, 1), { subresource: 'status', manager: 'foo-operator', after: '20ms' });
    a.request({ verb: 'update', kind: 'Foo', name, subresource: 'status', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: status.object, response: status });
  }
  // client-go's reflector ends each watch after a random 5-10 minutes and opens a new one from the last RV.
  c.tick('4m');
  for (const close of watches) close();
  kcmWatch();
  watches = ['Foo', 'Deployment'].map((kind) => a.collection({ verb: 'watch', kind, namespace: watchNamespace, user: OPERATOR_SA, userAgent: OPERATOR_UA }));
  a.collection({ verb: 'watch', kind: 'Deployment', namespace: null, user: KCM_DEPLOYMENTS, userAgent: KCM_INFORMERS_UA });
  userWrite(a, 'patch', c.update('Foo', 'team-a/search', scale(4), { manager: 'kubectl-patch', after: '2m' }), 'Foo', 'team-a/search');
  const scaled = c.update('Deployment', 'team-a/search', scale(4), { manager: 'foo-operator', after: '25ms' });
  a.request({ verb: 'update', kind: 'Deployment', name: 'team-a/search', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: scaled.object, response: scaled });
  const rolled = c.update('Deployment', 'team-a/search', (o) => (o.status = { observedGeneration: 2, replicas: 4, readyReplicas: 4 }), { subresource: 'status', manager: 'kube-controller-manager', after: '3s' });
  a.request({ verb: 'update', kind: 'Deployment', name: 'team-a/search', subresource: 'status', user: KCM_DEPLOYMENTS, userAgent: KCM_INFORMERS_UA, requestObject: rolled.object, response: rolled });
  const status = c.update('Foo', 'team-a/search', fooStatus(4, 2), { subresource: 'status', manager: 'foo-operator', after: '20ms' });
  a.request({ verb: 'update', kind: 'Foo', name: 'team-a/search', subresource: 'status', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: status.object, response: status });
  c.tick('3m');
  for (const close of watches) close();
}

/**
 * helm installs foo-operator with the scaffold's RBAC: a ClusterRole and a ClusterRoleBinding. Its manager is
 * created without cache.Options.DefaultNamespaces, so it lists and watches Foos and Deployments in every
 * namespace, while the only Foos it ever manages (and its leader lease) are in team-a.
 */
function auditClusterWideWatch(): void {
  const c = new Cluster({ start: '2025-03-28T15:00:00Z', revision: 610_000 });
  const a = new AuditLog(c);
  const helm = 'Helm/3.14.2';
  const role = c.create('ClusterRole', 'foo-operator', {
    fields: {
      rules: [
        { apiGroups: ['samplecontroller.k8s.io'], resources: ['foos'], verbs: ['get', 'list', 'watch', 'update', 'patch'] },
        { apiGroups: ['samplecontroller.k8s.io'], resources: ['foos/status'], verbs: ['get', 'update', 'patch'] },
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
      ],
    },
  }, { manager: 'helm' });
  a.request({ verb: 'create', kind: 'ClusterRole', name: 'foo-operator', user: ADMIN, userAgent: helm, requestObject: createBody(role.object), response: role });
  const binding = c.create('ClusterRoleBinding', 'foo-operator', {
    fields: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'foo-operator' }, subjects: [{ kind: 'ServiceAccount', name: 'foo-operator', namespace: 'team-a' }] },
  }, { manager: 'helm', after: '40ms' });
  a.request({ verb: 'create', kind: 'ClusterRoleBinding', name: 'foo-operator', user: ADMIN, userAgent: helm, requestObject: createBody(binding.object), response: binding });
  operatorDay(c, a, null, () => undefined);
  write('audit-cluster-wide-watch', 'audit.log', a.text());
}

/**
 * The same operator done right: a Role and RoleBinding in team-a, and a cache limited to team-a, so its lists and
 * watches name the namespace. It also lists Namespaces (cluster-scoped, so necessarily cluster-wide) once at start,
 * and kube-controller-manager watches Deployments everywhere, as it must.
 */
function auditCleanNamespacedWatch(): void {
  const c = new Cluster({ start: '2025-03-29T15:00:00Z', revision: 620_000 });
  const a = new AuditLog(c);
  const helm = 'Helm/3.14.2';
  const role = c.create('Role', 'team-a/foo-operator', { fields: { rules: [{ apiGroups: ['samplecontroller.k8s.io', 'apps'], resources: ['foos', 'foos/status', 'deployments'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }] } }, { manager: 'helm' });
  a.request({ verb: 'create', kind: 'Role', name: 'team-a/foo-operator', user: ADMIN, userAgent: helm, requestObject: createBody(role.object), response: role });
  const binding = c.create('RoleBinding', 'team-a/foo-operator', { fields: { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'foo-operator' }, subjects: [{ kind: 'ServiceAccount', name: 'foo-operator', namespace: 'team-a' }] } }, { manager: 'helm', after: '40ms' });
  a.request({ verb: 'create', kind: 'RoleBinding', name: 'team-a/foo-operator', user: ADMIN, userAgent: helm, requestObject: createBody(binding.object), response: binding });
  operatorDay(c, a, 'team-a', () => a.collection({ verb: 'list', kind: 'Namespace', namespace: null, user: OPERATOR_SA, userAgent: OPERATOR_UA }));
  write('audit-clean-namespaced-watch', 'audit.log', a.text());
}

ndjsonClean();
ndjsonStaleResume();
ndjson410Gap();
ndjsonStuckFinalizer();
ndjsonHotLoop();
ndjsonNotFound();
ndjsonStaleRead();
ndjsonUnreconciled();
ndjsonStatusRace();
ndjsonLostEvents();
ndjsonCleanRecorderGaps();
kubectlClean();
kubectlCleanBigRollout();
kubectlHotLoop();
kubectlStuckFinalizer();
kubectlLostGeneration();
auditClean();
auditCleanBusy();
auditNotFound();
auditConflicts();
auditHotLoop();
auditStuckFinalizer();
kubectlHotLoopCounter();
auditHotLoopLastSyncTime();
kubectlHotLoopNodePort();
auditHotLoopNodePort();
auditCleanOperatorRollout();
ndjsonCleanLeaderElection();
auditCleanLeaderElection();
kubectlCleanLeaderLease();
ndjsonSystemFinalizers();
kubectlSystemFinalizerPvc();
auditCleanFinalizerReleased();
auditStuckFinalizerNeverReleased();
auditStaleStatus();
auditNotFoundRetryServiceAccount();
auditStuckFinalizerOtherController();
auditNotFoundOtherClients();
kubectlCleanLeaderConfigMap();
kubectlCleanLeaderEndpoints();
kubectlCleanPeriodicStatus();
auditCleanLeaderConfigMapMetadataLevel();
auditCleanEventCountPatches();
// ---------------------------------------------------------------- the controller's own handler calls (SDK delivery records)

/**
 * A controller's event handlers as the SDK reports them: `cache` is the controller's own idea of each Foo (a
 * hand-rolled loop's map, or an informer's store), so an update's old object is the one it last had.
 */
class HandlerCalls {
  private readonly cache = new Map<string, KubeObject>();
  private readonly uids = new Map<string, string>();
  constructor(
    private readonly s: SessionBuilder,
    readonly controller: string,
  ) {}
  /** Hands one watch event to the handlers the way client-go's processDeltas does (or a loop written like it). */
  hand(event: WatchEvent, options: { tombstone?: boolean } = {}): void {
    const o = event.object;
    const name = o.metadata!.name!;
    const uid = o.metadata!.uid!;
    this.uids.set(name, uid);
    const rv = o.metadata!.resourceVersion!;
    const old = this.cache.get(name);
    if (event.type === 'DELETED') {
      this.cache.delete(name);
      this.s.handler({ kind: 'Foo', name, handler: 'delete', tombstone: options.tombstone ?? false, resourceVersion: options.tombstone && old ? old.metadata!.resourceVersion! : rv, uid, controller: this.controller });
      return;
    }
    this.cache.set(name, o);
    if (old) this.s.handler({ kind: 'Foo', name, handler: 'update', resourceVersion: rv, oldResourceVersion: old.metadata!.resourceVersion!, uid, controller: this.controller });
    else this.s.handler({ kind: 'Foo', name, handler: 'add', resourceVersion: rv, uid, controller: this.controller });
  }
  /** A hand-rolled loop's MODIFIED for an object its map lacks: UpdateFunc with no old object. */
  handUnknown(event: WatchEvent): void {
    const o = event.object;
    this.cache.set(o.metadata!.name!, o);
    this.s.handler({ kind: 'Foo', name: o.metadata!.name!, handler: 'update', resourceVersion: o.metadata!.resourceVersion!, oldResourceVersion: null, uid: o.metadata!.uid!, controller: this.controller });
  }
  /** An informer resync: every cached object to UpdateFunc with old == new. */
  resync(): void {
    for (const [name, o] of this.cache) this.s.handler({ kind: 'Foo', name, handler: 'update', resourceVersion: o.metadata!.resourceVersion!, oldResourceVersion: o.metadata!.resourceVersion!, uid: o.metadata!.uid!, controller: this.controller });
  }
  /** A new process: an empty cache, then its initial list's adds. */
  restart(c: Cluster): void {
    this.cache.clear();
    for (const o of c.list('Foo')) this.hand({ type: 'ADDED', object: o });
  }
  /** A relist after 410 (DeltaFIFO.Replace, processReplacedAllInfo): tombstones for the vanished, then updates and adds. */
  relist(c: Cluster): void {
    const listed = new Map(c.list('Foo').map((o) => [o.metadata!.name!, o]));
    for (const [name, o] of [...this.cache]) if (!listed.has(name)) this.hand({ type: 'DELETED', object: o }, { tombstone: true });
    for (const o of listed.values()) this.hand({ type: 'MODIFIED', object: o });
  }
  has(name: string): boolean {
    return this.cache.has(name);
  }
}

/** The watcher's status write for a Foo, seen by the recorder and by its own watch. */
function watcherStatus(c: Cluster, s: SessionBuilder, name: string, manager: string): WatchEvent {
  const f = c.get('Foo', name) as KubeObject & { spec: Spec };
  return s.deliver(c.update('Foo', name, fooStatus(f.spec.replicas as number, f.metadata!.generation), { subresource: 'status', manager, after: '20ms' }));
}

/**
 * A hand-rolled list/watch loop (plain Watch calls, its own map) resumes, after its connection to the API server
 * dropped, from the resourceVersion of its initial LIST: the server replays every event since, and the handlers are
 * handed the whole history again. The recorder stayed connected. `seed` predates the list and is not replayed.
 */
function ndjsonHandlerStaleResume(): void {
  const c = new Cluster({ start: '2025-04-02T08:00:00Z', revision: 530_000 });
  c.create('Foo', 'seed', { spec: foo(1, 'seed') }, { manager: 'kubectl-client-side-apply' });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  const h = new HandlerCalls(s, 'foo-watcher');
  h.restart(c);
  const listRV = c.revision;
  const live = (e: WatchEvent): WatchEvent => {
    s.deliver(e);
    h.hand(e);
    return e;
  };
  live(c.create('Foo', 'alpha', { spec: foo(1, 'alpha') }, { manager: 'kubectl-client-side-apply', after: '2s' }));
  h.hand(watcherStatus(c, s, 'alpha', 'foo-watcher'));
  live(c.create('Foo', 'beta', { spec: foo(2, 'beta') }, { manager: 'kubectl-client-side-apply', after: '1s' }));
  h.hand(watcherStatus(c, s, 'beta', 'foo-watcher'));
  live(c.update('Foo', 'alpha', scale(3), { manager: 'kubectl-edit', after: '2s' }));
  h.hand(watcherStatus(c, s, 'alpha', 'foo-watcher'));
  live(c.delete('Foo', 'beta', { manager: 'kubectl', after: '2s' }));
  // Disconnected for 5 s: the recorder sees alpha scaled, the loop does not.
  s.deliver(c.update('Foo', 'alpha', scale(4), { manager: 'kubectl-edit', after: '2s' }));
  c.tick('4s');
  // Back, from the list's resourceVersion: every event since is replayed to the loop.
  const replay = s.records.filter((r) => r.record === 'watch' && r.origin === 'watch' && Number(r.resourceVersion) > listRV).map((r) => r as SessionRecord & { record: 'watch' });
  for (const r of replay) h.hand({ type: r.type as WatchEvent['type'], object: r.object! });
  h.hand(watcherStatus(c, s, 'alpha', 'foo-watcher'));
  c.tick('20s');
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-handler-stale-resume', s);
}

/**
 * The same loop written the other way: after the disconnect it LISTs only to learn the current resourceVersion,
 * ignores the items and watches from there. `newcomer`, created while it was away, first reaches its handlers as an
 * update; `doomed`, deleted while it was away, never does. `kept` changed meanwhile too (that skipped version is
 * not claimed: an informer's relist skips it as well); `quiet` never changes.
 */
function ndjsonHandlerResumeFromNow(): void {
  const c = new Cluster({ start: '2025-04-03T13:00:00Z', revision: 610_000 });
  c.create('Foo', 'quiet', { spec: foo(1, 'quiet') }, { manager: 'kubectl-client-side-apply' });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  const h = new HandlerCalls(s, 'foo-watcher');
  h.restart(c);
  const live = (e: WatchEvent): WatchEvent => {
    s.deliver(e);
    h.hand(e);
    return e;
  };
  live(c.create('Foo', 'kept', { spec: foo(1, 'kept') }, { manager: 'kubectl-client-side-apply', after: '1s' }));
  h.hand(watcherStatus(c, s, 'kept', 'foo-watcher'));
  live(c.create('Foo', 'doomed', { spec: foo(2, 'doomed') }, { manager: 'kubectl-client-side-apply', after: '500ms' }));
  h.hand(watcherStatus(c, s, 'doomed', 'foo-watcher'));
  // Disconnected: the recorder sees it all, the loop nothing.
  s.deliver(c.update('Foo', 'kept', scale(4), { manager: 'kubectl-edit', after: '3s' }));
  s.deliver(c.create('Foo', 'newcomer', { spec: foo(5, 'newcomer') }, { manager: 'kubectl-client-side-apply', after: '500ms' }));
  s.deliver(c.delete('Foo', 'doomed', { manager: 'kubectl', after: '500ms' }));
  c.tick('3s');
  // Back from "now": nothing replayed. The next changes reach it.
  live(c.update('Foo', 'kept', scale(6), { manager: 'kubectl-edit', after: '3s' }));
  h.hand(watcherStatus(c, s, 'kept', 'foo-watcher'));
  const n = s.deliver(c.update('Foo', 'newcomer', scale(7), { manager: 'kubectl-edit', after: '3s' }));
  h.handUnknown(n);
  h.hand(watcherStatus(c, s, 'newcomer', 'foo-watcher'));
  c.tick('20s');
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-handler-resume-from-now', s);
}

/**
 * A client-go informer through everything that looks like a duplicate or a loss and is not: resyncs (old == new);
 * a disconnect after which its reflector resumes from the newest resourceVersion (what happened meanwhile arrives in
 * order, nothing twice); a 410 and a relist (an update jumping over versions, a tombstone for an object deleted
 * meanwhile, an add for one created meanwhile); then the process restarts while an object is deleted and another
 * created: its initial list adds what exists at the newest versions and never hears of the deletion. The recorder
 * stays connected throughout; every deletion is reconciled.
 */
function ndjsonCleanInformerDisconnects(): void {
  const c = new Cluster({ start: '2025-04-04T10:00:00Z', revision: 720_000 });
  for (const n of ['one', 'two', 'three']) c.create('Foo', n, { spec: foo(1, n) }, { manager: 'kubectl-client-side-apply' });
  const s = new SessionBuilder(c).listAndWatch('Foo');
  const h = new HandlerCalls(s, 'foo-controller');
  h.restart(c);
  for (const n of ['one', 'two', 'three']) s.reconcile({ kind: 'Foo', name: n, controller: 'foo-controller' });
  const live = (e: WatchEvent): WatchEvent => {
    s.deliver(e);
    h.hand(e);
    return e;
  };
  const reconciled = (name: string): void => {
    c.tick('15ms');
    s.reconcile({ kind: 'Foo', name, controller: 'foo-controller' });
  };
  c.tick('30s');
  h.resync();
  // A disconnect: the reflector resumes from the newest RV; the server sends what it missed, once.
  const missed = [c.update('Foo', 'one', scale(2), { manager: 'kubectl-edit', after: '2s' }), c.create('Foo', 'four', { spec: foo(1, 'four') }, { manager: 'kubectl-client-side-apply', after: '1s' })];
  for (const e of missed) s.deliver(e);
  c.tick('3s');
  for (const e of missed) {
    h.hand(e);
    reconciled(e.object.metadata!.name!);
  }
  c.tick('30s');
  h.resync();
  // The informer's API server restarts (the recorder's does not): 410, relist.
  for (const e of [c.update('Foo', 'two', scale(3), { manager: 'kubectl-edit', after: '1s' }), c.update('Foo', 'two', scale(4), { manager: 'kubectl-edit', after: '1s' }), c.delete('Foo', 'three', { manager: 'kubectl', after: '1s' }), c.create('Foo', 'five', { spec: foo(1, 'five') }, { manager: 'kubectl-client-side-apply', after: '1s' })]) s.deliver(e);
  c.tick('5s');
  h.relist(c);
  for (const n of ['two', 'three', 'five']) reconciled(n);
  c.tick('30s');
  h.resync();
  // The controller restarts; meanwhile four is deleted and six created.
  c.tick('2s');
  s.deliver(c.delete('Foo', 'four', { manager: 'kubectl', after: '1s' }));
  s.deliver(c.create('Foo', 'six', { spec: foo(1, 'six') }, { manager: 'kubectl-client-side-apply', after: '1s' }));
  c.tick('5s');
  h.restart(c);
  for (const o of c.list('Foo')) reconciled(o.metadata!.name!);
  live(c.update('Foo', 'one', scale(5), { manager: 'kubectl-edit', after: '3s' }));
  reconciled('one');
  c.tick('30s');
  h.resync();
  s.bookmark('Foo');
  s.marker('recorder-stopped');
  ndjson('ndjson-clean-informer-disconnects', s);
}

kubectlStartedMidLife();
auditCleanOutOfOrderCompletions();
auditSystemFinalizerForeground();
kubectlCleanGracefulPods();
auditCleanConflictsWithFreshReads();
auditCleanOptionalProbes();
auditCleanStatusDuringDeletion();
ndjsonCleanOperatorRollout();
kubectlHotLoopPhaseFlapping();
auditHotLoopChildConfigMap();
kubectlStaleStatus();
kubectlStuckFinalizerServerSideApply();
ndjsonCleanRestartStaleList();
kubectlCleanWatchOnly();
ndjsonReconcileLag();
ndjsonCleanBurst();
ndjsonHungReconcile();
auditClusterWideWatch();
auditCleanNamespacedWatch();
ndjsonHandlerStaleResume();
ndjsonHandlerResumeFromNow();
ndjsonCleanInformerDisconnects();
