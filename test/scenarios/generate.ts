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
    code?: number;
    level?: 'Metadata' | 'RequestResponse';
    uid?: string;
  }): void {
    const info = kinds[input.kind]!;
    const [namespace, name] = input.name.includes('/') ? input.name.split('/') : [info.namespaced ? 'default' : undefined, input.name];
    this.id++;
    const auditID = `${(0x5f3a0000 + this.id).toString(16)}-9c1d-4e27-b8a4-${String(this.id).padStart(12, '0')}`;
    const prefix = info.group ? `/apis/${info.group}/${info.version}` : `/api/${info.version}`;
    const path = `${prefix}${namespace ? `/namespaces/${namespace}` : ''}/${info.resource}${input.verb === 'create' ? '' : `/${name}`}${input.subresource ? `/${input.subresource}` : ''}`;
    const code = input.code ?? (input.verb === 'create' ? 201 : 200);
    const received = this.cluster.now - 4;
    const level = input.level ?? 'RequestResponse';
    const objectRef: Json = { resource: info.resource, namespace, name, apiGroup: info.group || undefined, apiVersion: info.version };
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
      requestURI: path + (input.verb === 'patch' ? '' : ''),
      verb: input.verb,
      user: { username: input.user, uid: input.user === CONTROLLER_SA ? '6a1b1c2e-3f4d-4e5f-8a9b-0c1d2e3f4a5b' : undefined, groups: input.user.startsWith('system:serviceaccount:') ? ['system:serviceaccounts', `system:serviceaccounts:${input.user.split(':')[2]}`, 'system:authenticated'] : ['system:masters', 'system:authenticated'] },
      sourceIPs: [input.user === CONTROLLER_SA ? '10.244.0.17' : '172.18.0.1'],
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
    if (code < 400 && level === 'RequestResponse' && input.response) done.responseObject = input.response.object;
    done.annotations = { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': input.user === CONTROLLER_SA ? 'RBAC: allowed by ClusterRoleBinding "sample-controller" of ClusterRole "sample-controller" to ServiceAccount "sample-controller/sample-controller"' : '' };
    this.lines.push(JSON.stringify(done));
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
  const st = c.update('Foo', name, fooStatus(f.spec.replicas as number, f.metadata!.generation), { subresource: 'status', manager: 'sample-controller', after: '12ms' });
  s.deliver(st);
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
  s.deliver(c.update('Foo', 'b', fooStatus(2, 2), { subresource: 'status', manager: 'sample-controller', after: '5s' }));
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

// ---------------------------------------------------------------- cluster-wide watches (audit)

const OPERATOR_SA = 'system:serviceaccount:team-a:foo-operator';
const OPERATOR_UA = 'foo-operator/v1.4.0 (linux/amd64) kubernetes/$Format';
const KCM_DEPLOYMENTS = 'system:serviceaccount:kube-system:deployment-controller';
const KCM_UA = 'kube-controller-manager/v1.32.2 (linux/amd64) kubernetes/67a30c0/shared-informers';

/** The operator's day: Foos in team-a, a Deployment per Foo, status, its leader lease; kube-controller-manager's informers. */
function operatorDay(c: Cluster, a: AuditLog, watchNamespace: string | null, extraWatches: () => void): void {
  // kube-controller-manager's shared informers list and watch Deployments in all namespaces: Kubernetes' own.
  const kcmWatch = a.collection({ verb: 'watch', kind: 'Deployment', namespace: null, user: KCM_DEPLOYMENTS, userAgent: KCM_UA });
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
    a.request({ verb: 'update', kind: 'Deployment', name: `team-a/${name.split('/')[1]}`, subresource: 'status', user: KCM_DEPLOYMENTS, userAgent: KCM_UA, requestObject: st.object, response: st });
    const status = c.update('Foo', name, fooStatus(1 + i, 1), { subresource: 'status', manager: 'foo-operator', after: '20ms' });
    a.request({ verb: 'update', kind: 'Foo', name, subresource: 'status', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: status.object, response: status });
  }
  // client-go's reflector ends each watch after a random 5-10 minutes and opens a new one from the last RV.
  c.tick('4m');
  for (const close of watches) close();
  kcmWatch();
  watches = ['Foo', 'Deployment'].map((kind) => a.collection({ verb: 'watch', kind, namespace: watchNamespace, user: OPERATOR_SA, userAgent: OPERATOR_UA }));
  a.collection({ verb: 'watch', kind: 'Deployment', namespace: null, user: KCM_DEPLOYMENTS, userAgent: KCM_UA });
  userWrite(a, 'patch', c.update('Foo', 'team-a/search', scale(4), { manager: 'kubectl-patch', after: '2m' }), 'Foo', 'team-a/search');
  const scaled = c.update('Deployment', 'team-a/search', scale(4), { manager: 'foo-operator', after: '25ms' });
  a.request({ verb: 'update', kind: 'Deployment', name: 'team-a/search', user: OPERATOR_SA, userAgent: OPERATOR_UA, requestObject: scaled.object, response: scaled });
  const rolled = c.update('Deployment', 'team-a/search', (o) => (o.status = { observedGeneration: 2, replicas: 4, readyReplicas: 4 }), { subresource: 'status', manager: 'kube-controller-manager', after: '3s' });
  a.request({ verb: 'update', kind: 'Deployment', name: 'team-a/search', subresource: 'status', user: KCM_DEPLOYMENTS, userAgent: KCM_UA, requestObject: rolled.object, response: rolled });
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
ndjsonReconcileLag();
ndjsonCleanBurst();
ndjsonHungReconcile();
auditClusterWideWatch();
auditCleanNamespacedWatch();
