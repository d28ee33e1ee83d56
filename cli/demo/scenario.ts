import type { DeliveryRecord, KubeObject, MarkerRecord, NewSession, ObjectRef, ReconcileRecord, ReconcileStartRecord, SessionRecord, WatchEventRecord } from '../../model/index.js';
import { collectionName } from '../../importers/index.js';
import { CONFIGMAPS, DEPLOYMENTS, Sim, WEBAPPS, clone, fieldsOf, isoMs, isoS, type Actor, type Process, type Resource } from './sim.js';

/**
 * The bundled demo: fifteen minutes of a "web-operator" (a controller-runtime operator that turns WebApp objects,
 * group apps.example.com, into a Deployment and a ConfigMap each) on a small cluster, as the kreplay recorder would
 * have recorded it: list → watch → bookmarks, audit records of every write, and the operator's own reconcile
 * (start and finish) and event-handler reports. Mostly healthy traffic (scale-ups, image rollouts, a new app), with
 * one incident per finding kind woven in:
 *
 *  T+0:21  campaign-operator, a second small operator that writes only marketing/campaign-schedule, lists and
 *          watches ConfigMaps in all namespaces (audit records; it does not report through the SDK). Not flagged
 *          yet: cluster-wide-watch judges only the controller under debug, and web-operator's apps span shop and
 *          marketing, so it must not fire for web-operator                  (→ cluster-wide-watch, see below)
 *  T+1:10  storefront scaled 3 → 5 (healthy rollout)             T+1:50  checkout image bump by Argo CD (healthy)
 *  T+2:20  api-gateway created (healthy)
 *  T+3:00  the Deployment watch resumes from a stale resourceVersion          → duplicate-event
 *  T+4:00  legacy-portal deleted; the operator never removes its finalizer    → stuck-finalizer
 *  T+5:00  the node running the recorder and the operator loses the API server for 85 s; meanwhile blog is scaled
 *          and tmp-preview deleted; WebApp watches come back with 410 Gone and relist
 *                                                                             → lost-event (blog), dfsu-gap
 *          (tmp-preview's tombstone reaches OnDelete, which drops it: its Deployment and ConfigMap leak)
 *  T+7:20  catalog: a slow reconcile writes status for generation 3 after generation 4 landed; the next one
 *          retries a Deployment update with the same stale object: 5 × 409     → status-spec-race
 *  T+8:00  search gets a health check; the operator rewrites status.health.lastHeartbeatTime every 2.5 s
 *                                                                             → hot-loop
 *  T+9:10  checkout: the WebApp informer lags 4 s; a ConfigMap edit triggers a reconcile on the old spec
 *                                                                             → stale-read
 *  T+10:00 promo-banner deleted; the operator returns NotFound as an error and retries with backoff
 *                                                                             → notfound-retry
 *  T+11:00 storefront config change (healthy)
 *  T+11:05 a CI job adds an OpenTelemetry endpoint to five apps, one every 16 s; the WebApp UpdateFunc posts each
 *          spec change to a change-log service that is down, synchronously (22 s a call), so the informer's
 *          notifications and the reconciles fall further behind                → reconcile-lag
 *  T+12:00 docs domain change, dropped by the operator's update predicate      → unreconciled
 *  T+13:10 api-gateway image bump (healthy)
 *  T+13:30 a checkout pod restarts; its reconcile calls the payment provider with no timeout and no deadline, and
 *          never returns (the operator runs 2 workers, so the rest carries on)  → hung-reconcile
 *  T+14:00 blog scaled back (healthy)
 *
 * cluster-wide-watch needs the controller it judges to have touched one namespace, and the analysis takes every
 * SDK-reporting controller (webapp here) as the one under debug; campaign-operator's requests fire it only once the
 * detector judges another controller by its own writes.
 *
 * Deterministic: same records every run (seeded PRNG, simulated clock).
 */

export const DEMO_SESSION_NAME = 'demo';
export const DEMO_START = Date.parse('2026-11-24T14:02:10.000Z');
export const DEMO_DURATION_MS = 15 * 60_000;
const CONTROLLER = 'webapp';
const FINALIZER = 'apps.example.com/dns-cleanup';
const MANAGED_BY = 'web-operator';

const operator: Actor = {
  user: 'system:serviceaccount:web-operator-system:web-operator-controller-manager',
  userAgent: 'web-operator/v0.9.3 (linux/amd64) kubernetes/$Format',
  manager: 'web-operator',
  byController: true,
};
const kcm: Actor = {
  user: 'system:serviceaccount:kube-system:deployment-controller',
  userAgent: 'kube-controller-manager/v1.31.2 (linux/amd64) kubernetes/5864a46/system:serviceaccount:kube-system:deployment-controller',
  manager: 'kube-controller-manager',
  byController: false,
};
const alice: Actor = { user: 'alice@example.com', userAgent: 'kubectl/v1.31.2 (darwin/arm64) kubernetes/5864a46', manager: 'kubectl-edit', byController: false };
const argocd: Actor = {
  user: 'system:serviceaccount:argocd:argocd-application-controller',
  userAgent: 'argocd-application-controller/v2.13.1+af54ef8 (linux/amd64)',
  manager: 'argocd-controller',
  byController: false,
};
const bootstrap: Actor = { user: 'system:admin', userAgent: 'kubectl/v1.31.2', manager: 'kubectl-create', byController: false };
/**
 * The marketing team's small campaign-operator: it keeps marketing/campaign-schedule in step with the campaign
 * calendar. Its manager was built without cache.Options.DefaultNamespaces, so its ConfigMap informer lists and
 * watches every namespace. It does not report through the kreplay SDK: only the audit webhook shows it.
 */
const campaignOperator: Actor = {
  user: 'system:serviceaccount:marketing:campaign-operator',
  userAgent: 'campaign-operator/v0.3.1 (linux/amd64) kubernetes/$Format',
  manager: 'campaign-operator',
  byController: false,
};
/** A CI job that rolls a setting out to every WebApp with kubectl patch. */
const otelRollout: Actor = { user: 'system:serviceaccount:platform-ci:otel-rollout', userAgent: 'kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46', manager: 'kubectl-patch', byController: false };

type Json = Record<string, unknown>;

interface WebAppSpec {
  image: string;
  replicas: number;
  domain: string;
  config: Record<string, string>;
  tls?: { enabled: boolean; issuer: string };
  healthCheck?: { enabled: boolean; path: string; intervalSeconds: number };
}

const initialApps: { namespace: string; name: string; team: string; spec: WebAppSpec; finalizer?: boolean }[] = [
  { namespace: 'shop', name: 'storefront', team: 'shop', spec: { image: 'ghcr.io/example/storefront:2.14.1', replicas: 3, domain: 'shop.example.com', config: { LOG_LEVEL: 'info', CACHE_TTL: '300' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } },
  { namespace: 'shop', name: 'checkout', team: 'payments', spec: { image: 'ghcr.io/example/checkout:4.2.0', replicas: 3, domain: 'pay.example.com', config: { LOG_LEVEL: 'info', PSP_TIMEOUT_MS: '2500' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } },
  { namespace: 'shop', name: 'catalog', team: 'shop', spec: { image: 'ghcr.io/example/catalog:1.9.3', replicas: 3, domain: 'catalog.example.com', config: { LOG_LEVEL: 'info' } } },
  { namespace: 'shop', name: 'search', team: 'discovery', spec: { image: 'ghcr.io/example/search:0.31.0', replicas: 2, domain: 'search.example.com', config: { LOG_LEVEL: 'warn', INDEX: 'products-v7' } } },
  { namespace: 'shop', name: 'legacy-portal', team: 'shop', finalizer: true, spec: { image: 'ghcr.io/example/legacy-portal:0.9.12', replicas: 1, domain: 'portal.example.com', config: { LOG_LEVEL: 'debug' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } },
  { namespace: 'shop', name: 'promo-banner', team: 'marketing', spec: { image: 'ghcr.io/example/promo-banner:1.0.4', replicas: 1, domain: 'promo.example.com', config: { CAMPAIGN: 'black-friday' } } },
  { namespace: 'shop', name: 'tmp-preview', team: 'shop', spec: { image: 'ghcr.io/example/storefront:2.15.0-rc.1', replicas: 1, domain: 'preview.shop.example.com', config: { LOG_LEVEL: 'debug' } } },
  { namespace: 'marketing', name: 'blog', team: 'marketing', spec: { image: 'ghcr.io/example/blog:3.3.0', replicas: 2, domain: 'blog.example.com', config: { LOG_LEVEL: 'info' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } },
  { namespace: 'marketing', name: 'docs', team: 'marketing', spec: { image: 'ghcr.io/example/docs:5.0.2', replicas: 2, domain: 'docs.example.com', config: { LOG_LEVEL: 'info' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } },
];

// ---- object shapes --------------------------------------------------------------------------------------------

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A pod-template-hash-like suffix (k8s uses this alphabet: no vowels, no look-alike digits). */
function templateHash(value: unknown): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let h = hash(JSON.stringify(value));
  let out = '';
  for (let i = 0; i < 10; i++) {
    out += alphabet[h % alphabet.length];
    h = Math.floor(h / alphabet.length) ^ hash(`${out}${i}`);
  }
  return out;
}

function webApp(app: (typeof initialApps)[number]): KubeObject {
  return {
    apiVersion: 'apps.example.com/v1',
    kind: 'WebApp',
    metadata: {
      name: app.name,
      namespace: app.namespace,
      labels: { 'app.kubernetes.io/name': app.name, 'example.com/team': app.team },
      ...(app.finalizer ? { finalizers: [FINALIZER] } : {}),
    },
    spec: clone(app.spec),
  };
}

function envOf(spec: WebAppSpec): string {
  return Object.keys(spec.config)
    .sort()
    .map((key) => `${key}=${spec.config[key]}`)
    .join('\n') + '\n';
}

function configMapData(spec: WebAppSpec): Record<string, string> {
  return { 'app.env': envOf(spec), 'nginx.conf': `server {\n  listen 8080;\n  server_name ${spec.domain};\n  location /healthz { return 200; }\n}\n` };
}

function labelsOf(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name, 'app.kubernetes.io/managed-by': MANAGED_BY };
}

function deploymentSpec(name: string, spec: WebAppSpec): Json {
  const container: Json = {
    name: 'web',
    image: spec.image,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    envFrom: [{ configMapRef: { name } }],
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
  if (spec.healthCheck?.enabled) {
    container.readinessProbe = { httpGet: { path: spec.healthCheck.path, port: 'http', scheme: 'HTTP' }, periodSeconds: spec.healthCheck.intervalSeconds, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };
  }
  return {
    replicas: spec.replicas,
    selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/instance': name, 'app.kubernetes.io/name': name }, annotations: { 'apps.example.com/config-hash': templateHash(spec.config).slice(0, 8) } },
      spec: { containers: [container], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', securityContext: {} },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
  };
}

function deploymentStatus(replicas: number, generation: number, ready: number, updated: number, rsName: string, since: string, now: string, progressing: boolean): Json {
  return {
    observedGeneration: generation,
    replicas,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: ready,
    ...(replicas - ready > 0 ? { unavailableReplicas: replicas - ready } : {}),
    conditions: [
      { type: 'Available', status: ready >= Math.ceil(replicas * 0.75) ? 'True' : 'False', lastUpdateTime: since, lastTransitionTime: since, reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
      progressing
        ? { type: 'Progressing', status: 'True', lastUpdateTime: now, lastTransitionTime: since, reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` }
        : { type: 'Progressing', status: 'True', lastUpdateTime: now, lastTransitionTime: since, reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${rsName}" has successfully progressed.` },
    ],
  };
}

function plainDeployment(namespace: string, name: string, image: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name } },
    spec: {
      replicas,
      selector: { matchLabels: { 'app.kubernetes.io/name': name } },
      template: { metadata: { labels: { 'app.kubernetes.io/name': name } }, spec: { containers: [{ name, image, resources: {} }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
  };
}

const rootCA = '-----BEGIN CERTIFICATE-----\nMIIDBTCCAe2gAwIBAgIIYF3kq6wZJ2AwDQYJKoZIhvcNAQELBQAwFTETMBEGA1UE\nAxMKa3ViZXJuZXRlczAeFw0yNjExMjQwOTAwMDBaFw0zNjExMjIwOTA1MDBaMBUx\nEzARBgNVBAMTCmt1YmVybmV0ZXMwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK\n-----END CERTIFICATE-----\n';

// ---- record builders ------------------------------------------------------------------------------------------

function refOf(resource: Resource, object: KubeObject): ObjectRef {
  const m = object.metadata!;
  return { group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind, namespace: m.namespace ?? null, name: m.name!, uid: m.uid ?? null };
}

function watchRecord(sim: Sim, resource: Resource, type: WatchEventRecord['type'], object: KubeObject | null, origin: 'watch' | 'relist', rv?: string): WatchEventRecord {
  const m = object?.metadata;
  return {
    record: 'watch',
    observedAt: isoMs(sim.now),
    origin,
    group: resource.group,
    version: resource.version,
    resource: resource.resource,
    kind: resource.kind,
    type,
    namespace: m?.namespace ?? null,
    name: m?.name ?? null,
    uid: m?.uid ?? null,
    resourceVersion: rv ?? m!.resourceVersion!,
    generation: m?.generation ?? null,
    object,
  };
}

function marker(sim: Sim, kind: MarkerRecord['marker'], resource: Resource | null, extra: Partial<MarkerRecord> = {}): MarkerRecord {
  return {
    record: 'marker',
    observedAt: isoMs(sim.now),
    origin: 'watch',
    marker: kind,
    ...(resource ? { group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind, namespace: null } : {}),
    ...extra,
  };
}

/**
 * A LIST or WATCH of a whole collection as the audit webhook stores it: kept because it names no namespace (the
 * audit import drops namespaced and successful reads, importers/audit.ts), the object named `*`.
 */
function collectionRequest(sim: Sim, actor: Actor, verb: 'list' | 'watch', resource: Resource): SessionRecord {
  return {
    record: 'api',
    observedAt: isoMs(sim.now),
    origin: 'audit',
    actor: actor.user,
    userAgent: actor.userAgent,
    byController: actor.byController,
    verb,
    object: { group: resource.group, version: resource.version, resource: resource.resource, kind: resource.kind, namespace: null, name: collectionName, uid: null },
    subresource: null,
    code: 200,
    reason: null,
    message: null,
    resourceVersionBefore: null,
    resourceVersionAfter: null,
    auditId: sim.uid(),
  };
}

// ---- the kreplay recorder ---------------------------------------------------------------------------------------

class Recorder {
  private readonly watches = new Map<string, { resource: Resource; connected: boolean; lastRV: string; listRV: string; nextAt: number }>();

  constructor(
    private readonly sim: Sim,
    resources: readonly Resource[],
  ) {
    for (const resource of resources) this.watches.set(resource.resource, { resource, connected: false, lastRV: '', listRV: '', nextAt: 0 });
    sim.onChange((type, object, resource) => {
      const watch = this.watches.get(resource.resource);
      if (!watch?.connected) return;
      // The watch cache fans out within milliseconds; one watch delivers in resourceVersion order.
      const at = Math.max(sim.now + sim.jitter(2, 9), watch.nextAt);
      watch.nextAt = at;
      sim.at(at, () => {
        if (!watch.connected) return;
        sim.emit(watchRecord(sim, resource, type, object, 'watch'));
        watch.lastRV = object.metadata!.resourceVersion!;
      });
    });
  }

  *start(): Process {
    this.sim.emit(marker(this.sim, 'recorder-started', null, { message: 'kreplay recorder 0.1.0: watching webapps.apps.example.com, deployments.apps, configmaps' }));
    for (const watch of this.watches.values()) {
      yield this.sim.jitter(3, 12);
      yield* this.list(watch.resource);
      this.scheduleBookmarks(watch.resource.resource);
    }
  }

  /** list-started, the items (origin relist), list-finished, then a watch from the list's resourceVersion. */
  *list(resource: Resource): Process {
    const watch = this.watches.get(resource.resource)!;
    this.sim.emit(marker(this.sim, 'list-started', resource));
    yield this.sim.jitter(15, 60);
    const items = this.sim.list(resource);
    const listRV = this.sim.currentRV;
    for (const item of items) this.sim.emit(watchRecord(this.sim, resource, 'ADDED', item, 'relist'));
    this.sim.emit(marker(this.sim, 'list-finished', resource, { resourceVersion: listRV, count: items.length }));
    yield this.sim.jitter(2, 6);
    this.sim.emit(marker(this.sim, 'watch-started', resource, { resourceVersion: listRV }));
    watch.connected = true;
    watch.lastRV = listRV;
    watch.listRV = listRV;
  }

  private scheduleBookmarks(name: string): void {
    const tick = () => {
      const watch = this.watches.get(name)!;
      if (watch.connected) {
        // Bookmarks carry only the current resourceVersion (apiserver cacher.go, about once a minute).
        this.sim.emit(watchRecord(this.sim, watch.resource, 'BOOKMARK', null, 'watch', this.sim.currentRV));
        watch.lastRV = this.sim.currentRV;
      }
      this.sim.after(60_000 + this.sim.jitter(-1500, 1500), tick);
    };
    this.sim.after(60_000 + this.sim.jitter(0, 3000), tick);
  }

  disconnect(resource: Resource, message: string, code?: number): void {
    const watch = this.watches.get(resource.resource)!;
    watch.connected = false;
    this.sim.emit(marker(this.sim, 'watch-closed', resource, { message, ...(code !== undefined ? { code } : {}) }));
  }

  error(resource: Resource, message: string): void {
    this.sim.emit(marker(this.sim, 'error', resource, { message }));
  }

  /**
   * Resumes a watch: the server replays every event after `fromRV` from its watch cache. Resuming from an RV older
   * than the last delivered one re-sends events the recorder already has.
   */
  resume(resource: Resource, fromRV: string): void {
    const watch = this.watches.get(resource.resource)!;
    this.sim.emit(marker(this.sim, 'watch-started', resource, { resourceVersion: fromRV }));
    for (const event of this.sim.eventsSince(resource, Number(fromRV))) {
      this.sim.emit(watchRecord(this.sim, resource, event.type, clone(event.object), 'watch'));
      watch.lastRV = event.object.metadata!.resourceVersion!;
    }
    watch.connected = true;
  }

  lastRV(resource: Resource): string {
    return this.watches.get(resource.resource)!.lastRV;
  }

  listRV(resource: Resource): string {
    return this.watches.get(resource.resource)!.listRV;
  }

  /** A watch resumed from a compacted resourceVersion: in-stream 410 Expired, then a relist. */
  *gone(resource: Resource): Process {
    const rv = this.lastRV(resource);
    this.sim.emit(marker(this.sim, 'gone', resource, { resourceVersion: rv, code: 410, message: `too old resource version: ${rv} (${Number(this.sim.currentRV) - 41})` }));
    yield this.sim.jitter(80, 200);
    yield* this.list(resource);
  }

  stop(): void {
    for (const watch of this.watches.values()) {
      if (watch.connected) this.sim.emit(marker(this.sim, 'watch-closed', watch.resource, { message: 'recorder shutting down' }));
      watch.connected = false;
    }
    this.sim.emit(marker(this.sim, 'recorder-stopped', null, { message: 'SIGTERM: drained and stopped' }));
  }
}

// ---- the deployment controller (kube-controller-manager) -------------------------------------------------------

class DeploymentController {
  private readonly rollouts = new Map<string, number>();

  constructor(private readonly sim: Sim) {
    sim.onChange((type, object, resource) => {
      if (resource !== DEPLOYMENTS || type === 'DELETED') return;
      const m = object.metadata!;
      const status = (object as Json).status as Json | undefined;
      if (status && status.observedGeneration === m.generation) return;
      const key = `${m.namespace}/${m.name}`;
      const token = (this.rollouts.get(key) ?? 0) + 1;
      this.rollouts.set(key, token);
      sim.spawn(this.rollout(m.namespace!, m.name!, token));
    });
  }

  private rsName(object: KubeObject): string {
    return `${object.metadata!.name}-${templateHash(((object as Json).spec as Json).template)}`;
  }

  /** A rolling update as the status shows it: progressing, then complete (pkg/controller/deployment). */
  private *rollout(namespace: string, name: string, token: number): Process {
    const steps = 2 + Math.floor(this.sim.random() * 2);
    yield this.sim.jitter(120, 400);
    for (let step = 1; step <= steps; step++) {
      if (this.rollouts.get(`${namespace}/${name}`) !== token) return;
      const current = this.sim.get(DEPLOYMENTS, namespace, name);
      if (!current) return;
      const spec = (current as Json).spec as Json;
      const replicas = spec.replicas as number;
      const done = step === steps;
      const updated = done ? replicas : Math.max(1, Math.ceil((replicas * step) / steps));
      const old = ((current as Json).status as Json | undefined) ?? {};
      const ready = done ? replicas : Math.max(0, Math.min(replicas, (old.readyReplicas as number | undefined) ?? replicas) - (step === 1 ? 1 : 0));
      const since = ((((old.conditions as Json[] | undefined) ?? [])[0]?.lastTransitionTime as string | undefined) ?? isoS(this.sim.now - 86_400_000));
      this.set(namespace, name, current, replicas, ready, updated, !done, since);
      yield this.sim.jitter(5_000, 11_000);
    }
  }

  /** One status write: the generation it read, at the time it runs. */
  set(namespace: string, name: string, current: KubeObject, replicas: number, ready: number, updated: number, progressing: boolean, since: string): void {
    this.sim.write(
      kcm,
      DEPLOYMENTS,
      namespace,
      name,
      (o) => {
        o.status = deploymentStatus(replicas, current.metadata!.generation!, ready, updated, this.rsName(current), since, isoS(this.sim.now), progressing);
      },
      { subresource: 'status' },
    );
  }

  /** A pod became unready or ready again: only the counts and the Available condition move. */
  podsChanged(namespace: string, name: string, ready: number): void {
    const current = this.sim.get(DEPLOYMENTS, namespace, name)!;
    const status = (current as Json).status as Json;
    const replicas = ((current as Json).spec as Json).replicas as number;
    const since = (((status.conditions as Json[])[0]!.lastTransitionTime as string) ?? isoS(this.sim.now));
    this.set(namespace, name, current, replicas, ready, replicas, false, since);
  }
}

// ---- the web-operator ---------------------------------------------------------------------------------------

type Outcome =
  | { result: 'success' }
  | { result: 'requeue-after'; ms: number }
  | { result: 'error'; reason: 'NotFound' | 'Conflict'; message: string };

class WebOperator {
  private readonly cache = new Map<string, Map<string, KubeObject>>();
  private readonly connected = new Map<string, boolean>();
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly dirty = new Set<string>();
  /** Keys being reconciled: MaxConcurrentReconciles is 2, and the workqueue never hands one key to two workers. */
  private readonly processing = new Set<string>();
  private readonly workers = 2;
  /**
   * Handler notifications per informer, in order. client-go's processorListener calls a handler synchronously and
   * buffers the rest (tools/cache/shared_informer.go): a slow call holds up every notification after it. The cache
   * (the indexer) is updated before the notification is queued, so it stays fresh while the handlers fall behind.
   */
  private readonly notifications = new Map<string, (() => number)[]>();
  private readonly notifying = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, number>();
  private readonly nextAt = new Map<string, number>();
  /** Extra informer latency for the next event of an object (a slow handler blocking the informer). */
  readonly informerLag = new Map<string, number>();
  /** Scenario hooks: a slow external call in the next reconcile of a key, a conflicting write in the next one. */
  readonly slowNext = new Map<string, number>();
  readonly conflictNext = new Set<string>();
  /** Keys whose next reconcile calls a dependency that never answers (no deadline anywhere): it never returns. */
  readonly hangNext = new Set<string>();
  /**
   * While set, the WebApp UpdateFunc's synchronous call to the change-log service takes this long (ms range) for
   * every spec change it lets through.
   */
  slowChangeLog: { from: number; to: number; ms: readonly [number, number] } | null = null;

  constructor(
    private readonly sim: Sim,
    private readonly deployments: DeploymentController,
  ) {
    for (const resource of [WEBAPPS, DEPLOYMENTS, CONFIGMAPS]) {
      // The operator has been running for a while: its caches are synced with the cluster.
      this.cache.set(resource.resource, new Map(sim.list(resource).map((o) => [keyOf(o), o])));
      this.connected.set(resource.resource, true);
    }
    sim.onChange((type, object, resource) => {
      if (!this.connected.get(resource.resource)) return;
      const key = `${resource.resource}/${keyOf(object)}`;
      const lag = this.informerLag.get(key) ?? 0;
      this.informerLag.delete(key);
      // One informer delivers in order: an event stuck behind a slow handler holds back the ones after it.
      const at = Math.max(sim.now + sim.jitter(3, 14) + lag, this.nextAt.get(resource.resource) ?? 0);
      this.nextAt.set(resource.resource, at);
      sim.at(at, () => {
        if (!this.connected.get(resource.resource)) return;
        this.deliver(resource, type === 'DELETED' ? 'delete' : type === 'ADDED' ? 'add' : 'update', object, false);
      });
    });
  }

  private deliver(resource: Resource, handler: DeliveryRecord['handler'], object: KubeObject, tombstone: boolean): void {
    const cache = this.cache.get(resource.resource)!;
    const key = keyOf(object);
    const old = cache.get(key);
    if (handler === 'delete') cache.delete(key);
    else cache.set(key, object);
    this.notify(resource, () => this.handle(resource, handler, object, old, tombstone));
  }

  private notify(resource: Resource, call: () => number): void {
    let list = this.notifications.get(resource.resource);
    if (!list) this.notifications.set(resource.resource, (list = []));
    list.push(call);
    if (!this.notifying.has(resource.resource)) this.drain(resource);
  }

  private drain(resource: Resource): void {
    const list = this.notifications.get(resource.resource)!;
    this.notifying.add(resource.resource);
    for (let call = list.shift(); call; call = list.shift()) {
      const blocked = call();
      if (blocked > 0) {
        this.sim.after(blocked, () => this.drain(resource));
        return;
      }
    }
    this.notifying.delete(resource.resource);
  }

  /** One handler call, as the SDK reports it. Returns how long it blocked the informer's notifications. */
  private handle(resource: Resource, handler: DeliveryRecord['handler'], object: KubeObject, old: KubeObject | undefined, tombstone: boolean): number {
    const key = keyOf(object);
    this.sim.emit({
      record: 'delivery',
      observedAt: isoMs(this.sim.now),
      origin: 'ingest',
      controller: CONTROLLER,
      handler,
      tombstone,
      object: refOf(resource, object),
      resourceVersion: object.metadata!.resourceVersion ?? null,
      ...(handler === 'update' ? { oldResourceVersion: old?.metadata?.resourceVersion ?? null } : {}),
    });
    if (tombstone) return 0; // The bug: DeleteFunc type-asserts obj.(*v1.WebApp) and returns on a tombstone.
    if (resource === WEBAPPS) {
      if (handler === 'update' && old && !specChangedPredicate(old, object)) return 0;
      const slow = this.slowChangeLog;
      if (handler === 'update' && old && slow && this.sim.now >= slow.from && this.sim.now < slow.to && old.metadata!.generation !== object.metadata!.generation) {
        // The reconcile-lag bug: UpdateFunc posts the spec change to the change-log service before it enqueues, in
        // the informer's goroutine, with no timeout. Every notification after this one waits for it.
        const blocked = this.sim.jitter(slow.ms[0], slow.ms[1]);
        this.sim.after(blocked, () => this.enqueue(key));
        return blocked;
      }
      this.enqueue(key);
      return 0;
    }
    const labels = object.metadata!.labels as Record<string, string> | undefined;
    if (labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY && labels['app.kubernetes.io/instance']) this.enqueue(`${object.metadata!.namespace}/${labels['app.kubernetes.io/instance']}`);
    return 0;
  }

  disconnect(resource: Resource): void {
    this.connected.set(resource.resource, false);
  }

  reconnect(resource: Resource): void {
    this.connected.set(resource.resource, true);
  }

  /** After a 410: list again and replace the cache, as DeltaFIFO.Replace does (tombstones for vanished keys). */
  relist(resource: Resource): void {
    const cache = this.cache.get(resource.resource)!;
    const items = this.sim.list(resource);
    const listed = new Set(items.map(keyOf));
    this.connected.set(resource.resource, true);
    for (const [key, object] of [...cache]) if (!listed.has(key)) this.deliver(resource, 'delete', object, true);
    for (const item of items) this.deliver(resource, cache.has(keyOf(item)) ? 'update' : 'add', item, false);
  }

  enqueue(key: string): void {
    if (this.queued.has(key)) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
    this.kick();
  }

  private requeueAfter(key: string, ms: number): void {
    const at = this.sim.now + ms;
    const existing = this.timers.get(key);
    if (existing !== undefined && existing <= at) return;
    this.timers.set(key, at);
    this.sim.at(at, () => {
      if (this.timers.get(key) !== at) return;
      this.timers.delete(key);
      this.enqueue(key);
    });
  }

  private kick(): void {
    while (this.processing.size < this.workers && this.queue.length) this.work(this.queue.shift()!);
  }

  private work(key: string): void {
    this.queued.delete(key);
    this.processing.add(key);
    this.sim.after(this.sim.jitter(1, 4), () =>
      this.sim.spawn(this.reconcile(key), (outcome) => {
        this.processing.delete(key);
        if (outcome.result === 'error') {
          // controller-runtime's default rate limiter: 5ms × 2^failures per item.
          const failures = (this.failures.get(key) ?? 0) + 1;
          this.failures.set(key, failures);
          this.sim.after(5 * 2 ** (failures - 1), () => this.enqueue(key));
        } else {
          this.failures.delete(key);
          if (outcome.result === 'requeue-after') this.requeueAfter(key, outcome.ms);
        }
        if (this.dirty.delete(key)) this.enqueue(key);
        this.kick();
      }),
    );
  }

  private report(key: string, startedAt: number, outcome: Outcome, read: KubeObject | undefined): void {
    const [namespace, name] = key.split('/') as [string, string];
    const record: ReconcileRecord = {
      record: 'reconcile',
      observedAt: isoMs(this.sim.now),
      origin: 'ingest',
      controller: CONTROLLER,
      object: { group: WEBAPPS.group, version: WEBAPPS.version, resource: WEBAPPS.resource, kind: WEBAPPS.kind, namespace, name, uid: read?.metadata?.uid ?? null },
      startedAt: isoMs(startedAt),
      finishedAt: isoMs(this.sim.now),
      observedResourceVersion: read?.metadata?.resourceVersion ?? null,
      observedGeneration: read?.metadata?.generation ?? null,
      result: outcome.result,
      ...(outcome.result === 'error' ? { errorReason: outcome.reason, errorMessage: outcome.message } : {}),
      ...(outcome.result === 'requeue-after' ? { requeueAfterMs: outcome.ms } : {}),
    };
    this.sim.emit(record);
  }

  /** The SDK reports each reconcile as it begins (its default), so one that never returns still shows. */
  private reportStart(key: string, read: KubeObject | undefined): void {
    const [namespace, name] = key.split('/') as [string, string];
    const record: ReconcileStartRecord = {
      record: 'reconcile-start',
      observedAt: isoMs(this.sim.now),
      origin: 'ingest',
      controller: CONTROLLER,
      object: { group: WEBAPPS.group, version: WEBAPPS.version, resource: WEBAPPS.resource, kind: WEBAPPS.kind, namespace, name, uid: read?.metadata?.uid ?? null },
      startedAt: isoMs(this.sim.now),
      observedResourceVersion: read?.metadata?.resourceVersion ?? null,
      observedGeneration: read?.metadata?.generation ?? null,
    };
    this.sim.emit(record);
  }

  private *reconcile(key: string): Process<Outcome> {
    const started = this.sim.now;
    const [namespace, name] = key.split('/') as [string, string];
    const app = this.cache.get('webapps')!.get(key);
    this.reportStart(key, app);
    if (!app) {
      // The bug: on a cache miss it asks the API server, and returns the NotFound as an error.
      yield this.sim.jitter(2, 6);
      this.sim.getNotFound(operator, WEBAPPS, namespace, name);
      yield 1;
      const outcome: Outcome = { result: 'error', reason: 'NotFound', message: `webapps.apps.example.com "${name}" not found` };
      this.report(key, started, outcome, undefined);
      return outcome;
    }
    yield this.sim.jitter(1, 4);
    if (app.metadata!.deletionTimestamp) {
      // The bug: it waits for "DNS cleanup" that nothing ever starts, and never removes its finalizer.
      yield this.sim.jitter(2, 5);
      const outcome: Outcome = { result: 'success' };
      this.report(key, started, outcome, app);
      return outcome;
    }
    const spec = (app as Json).spec as WebAppSpec;
    if (this.hangNext.delete(key)) {
      // The hung-reconcile bug: the payment provider's domain check goes through an http.Client without Timeout,
      // and controller-runtime's Reconcile context has no deadline by default. The provider accepted the
      // connection and never answers; this worker and this key are gone until the pod restarts.
      yield 24 * 3_600_000;
    }
    const slow = this.slowNext.get(key);
    if (slow !== undefined) {
      this.slowNext.delete(key);
      yield slow; // purging the CDN for the old domain: a blocking call inside Reconcile
    }

    // ConfigMap
    const cm = this.cache.get('configmaps')!.get(key);
    const data = configMapData(spec);
    if (!cm) {
      this.sim.create(operator, CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: labelsOf(name) }, data });
      yield this.sim.jitter(4, 9);
    } else if (JSON.stringify((cm as Json).data) !== JSON.stringify(data)) {
      this.sim.write(operator, CONFIGMAPS, namespace, name, (o) => void (o.data = data), { expectRV: cm.metadata!.resourceVersion! });
      yield this.sim.jitter(4, 9);
    }

    // Deployment
    let deployment = this.cache.get('deployments')!.get(key);
    const desired = deploymentSpec(name, spec);
    if (!deployment) {
      deployment = this.sim.create(operator, DEPLOYMENTS, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace, labels: labelsOf(name) }, spec: desired });
      yield this.sim.jitter(5, 12);
    } else if (JSON.stringify((deployment as Json).spec) !== JSON.stringify(desired)) {
      if (this.conflictNext.delete(key)) {
        // Someone else writes the Deployment between our cache read and our Update.
        const status = (deployment as Json).status as Json;
        this.deployments.podsChanged(namespace, name, (status.readyReplicas as number) === spec.replicas ? spec.replicas - 1 : spec.replicas);
      }
      // retry.RetryOnConflict(retry.DefaultRetry, ...) around an Update of the object read at the start: every
      // attempt sends the same stale resourceVersion. The bug is the missing re-read inside the closure.
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        if (attempt > 0) yield 10 + this.sim.jitter(0, 2);
        ok = this.sim.write(operator, DEPLOYMENTS, namespace, name, (o) => void (o.spec = desired), { expectRV: deployment.metadata!.resourceVersion!, fields: { 'f:spec': fieldsOf(desired) } }).ok;
      }
      if (!ok) {
        const outcome: Outcome = { result: 'error', reason: 'Conflict', message: `Operation cannot be fulfilled on deployments.apps "${name}": the object has been modified; please apply your changes to the latest version and try again` };
        this.report(key, started, outcome, app);
        return outcome;
      }
      yield this.sim.jitter(5, 12);
    }

    // Status, through the status subresource with a merge patch.
    const dstatus = ((deployment as Json).status as Json | undefined) ?? {};
    const generation = deployment.metadata!.generation ?? 1;
    const ready = (dstatus.observedGeneration as number | undefined) === generation && dstatus.updatedReplicas === spec.replicas && dstatus.readyReplicas === spec.replicas;
    const old = ((app as Json).status as Json | undefined) ?? {};
    const oldReady = ((old.conditions as Json[] | undefined) ?? [])[0];
    const readyText = ready ? 'True' : 'False';
    const status: Json = {
      observedGeneration: app.metadata!.generation,
      readyReplicas: (dstatus.readyReplicas as number | undefined) ?? 0,
      url: `https://${spec.domain}`,
      deploymentName: name,
      conditions: [
        {
          type: 'Ready',
          status: readyText,
          observedGeneration: app.metadata!.generation,
          lastTransitionTime: oldReady && oldReady.status === readyText ? oldReady.lastTransitionTime : isoS(this.sim.now),
          reason: ready ? 'DeploymentAvailable' : 'RolloutInProgress',
          message: ready ? `${spec.replicas}/${spec.replicas} replicas ready` : `${(dstatus.readyReplicas as number | undefined) ?? 0}/${spec.replicas} replicas ready, rollout in progress`,
        },
      ],
    };
    let outcome: Outcome = { result: 'success' };
    if (spec.healthCheck?.enabled) {
      // The hot loop: a heartbeat in status, refreshed whenever it is older than the probe interval, plus a
      // requeue to keep it fresh. Every refresh is a write, every write an event, every event a reconcile.
      const last = Date.parse(((old.health as Json | undefined)?.lastHeartbeatTime as string | undefined) ?? '1970-01-01T00:00:00Z');
      const fresh = this.sim.now - last < spec.healthCheck.intervalSeconds * 1000;
      status.health = { endpoint: spec.healthCheck.path, lastHeartbeatTime: fresh ? (old.health as Json).lastHeartbeatTime : isoS(this.sim.now), state: 'Healthy' };
      outcome = { result: 'requeue-after', ms: spec.healthCheck.intervalSeconds * 1000 };
    }
    if (JSON.stringify(status) !== JSON.stringify(old)) {
      this.sim.write(operator, WEBAPPS, namespace, name, (o) => void (o.status = status), { verb: 'patch', subresource: 'status' });
      yield this.sim.jitter(3, 8);
    }
    this.report(key, started, outcome, app);
    return outcome;
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata!.namespace}/${object.metadata!.name}`;
}

/**
 * The operator's hand-written update predicate: "only reconcile when something we render changed". It predates
 * spec.domain and spec.tls, so changes to those are dropped (the unreconciled incident).
 */
function specChangedPredicate(old: KubeObject, next: KubeObject): boolean {
  if (old.metadata!.generation === next.metadata!.generation) return true;
  const a = (old as Json).spec as WebAppSpec;
  const b = (next as Json).spec as WebAppSpec;
  return a.image !== b.image || a.replicas !== b.replicas || JSON.stringify(a.config) !== JSON.stringify(b.config) || JSON.stringify(a.healthCheck) !== JSON.stringify(b.healthCheck);
}

// ---- the script -------------------------------------------------------------------------------------------------

export interface DemoSession {
  session: NewSession & { startedAt: string };
  endedAt: string;
  records: SessionRecord[];
}

/** Builds the demo session. Pure and deterministic: the same records on every call. */
export function demoSession(toolVersion: string): DemoSession {
  const start = DEMO_START;
  const T = (min: number, sec = 0, ms = 0) => start + min * 60_000 + sec * 1000 + ms;
  // Set the cluster up "yesterday": objects exist before the session starts.
  const sim = new Sim(start - 26 * 3_600_000, 5_180_203, 20261124);
  const deployments = new DeploymentController(sim);
  for (const namespace of ['default', 'kube-system', 'shop', 'marketing', 'web-operator-system']) {
    sim.create(bootstrap, CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace, annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } }, data: { 'ca.crt': rootCA } }, { silent: true });
  }
  sim.create(campaignOperator, CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'campaign-schedule', namespace: 'marketing', labels: { 'campaign.example.com/schedule': 'true' } }, data: { active: 'black-friday', next: 'cyber-monday-teaser', switchAt: '2026-11-24T14:05:40Z' } }, { silent: true });
  sim.create(bootstrap, CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: '.:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n}\n' } }, { silent: true });
  for (const [namespace, name, image, replicas] of [
    ['kube-system', 'coredns', 'registry.k8s.io/coredns/coredns:v1.11.3', 2],
    ['local-path-storage', 'local-path-provisioner', 'docker.io/kindest/local-path-provisioner:v20241108-5c6d2daf', 1],
    ['web-operator-system', 'web-operator-controller-manager', 'ghcr.io/example/web-operator:v0.9.3', 1],
  ] as const) {
    sim.create(bootstrap, DEPLOYMENTS, plainDeployment(namespace, name, image, replicas), { silent: true });
  }
  for (const app of initialApps) {
    sim.create(alice, WEBAPPS, webApp({ ...app, finalizer: false }), { silent: true });
    if (app.finalizer) {
      // The operator adds its finalizer on first reconcile: managedFields then say who owns it.
      sim.write(operator, WEBAPPS, app.namespace, app.name, (o) => void ((o.metadata as Json).finalizers = [FINALIZER]), {
        fields: { 'f:metadata': { 'f:finalizers': { '.': {}, [`v:${JSON.stringify(FINALIZER)}`]: {} } } },
      });
    }
    sim.create(operator, CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: app.name, namespace: app.namespace, labels: labelsOf(app.name) }, data: configMapData(app.spec) }, { silent: true });
    sim.create(operator, DEPLOYMENTS, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app.name, namespace: app.namespace, labels: labelsOf(app.name) }, spec: deploymentSpec(app.name, app.spec) }, { silent: true });
  }
  // Let the rollouts of the set-up finish, then write every WebApp's status as the operator would have.
  sim.runUntil(start - 25 * 3_600_000);
  for (const app of initialApps) {
    const d = sim.get(DEPLOYMENTS, app.namespace, app.name)!;
    const wa = sim.get(WEBAPPS, app.namespace, app.name)!;
    sim.write(operator, WEBAPPS, app.namespace, app.name, (o) => {
      o.status = {
        observedGeneration: wa.metadata!.generation,
        readyReplicas: ((d as Json).status as Json).readyReplicas,
        url: `https://${app.spec.domain}`,
        deploymentName: app.name,
        conditions: [{ type: 'Ready', status: 'True', observedGeneration: wa.metadata!.generation, lastTransitionTime: isoS(sim.now), reason: 'DeploymentAvailable', message: `${app.spec.replicas}/${app.spec.replicas} replicas ready` }],
      };
    }, { verb: 'patch', subresource: 'status' });
  }
  sim.runUntil(start - 1);
  // Everything before the session is not part of it.
  sim.records.length = 0;

  const web = new WebOperator(sim, deployments);
  const recorder = new Recorder(sim, [WEBAPPS, DEPLOYMENTS, CONFIGMAPS]);
  sim.at(T(0), () => sim.spawn(recorder.start()));

  const patchSpec = (actor: Actor, namespace: string, name: string, change: (spec: WebAppSpec) => void) =>
    sim.write(actor, WEBAPPS, namespace, name, (o) => change(o.spec as WebAppSpec), { verb: 'patch' });

  // Healthy traffic.
  sim.at(T(1, 10), () => patchSpec(alice, 'shop', 'storefront', (s) => void (s.replicas = 5)));
  sim.at(T(1, 50), () => patchSpec(argocd, 'shop', 'checkout', (s) => void (s.image = 'ghcr.io/example/checkout:4.2.1')));
  sim.at(T(2, 20), () =>
    sim.create(alice, WEBAPPS, webApp({ namespace: 'shop', name: 'api-gateway', team: 'platform', spec: { image: 'ghcr.io/example/api-gateway:1.4.0', replicas: 2, domain: 'api.example.com', config: { LOG_LEVEL: 'info', RATE_LIMIT_RPS: '200' }, tls: { enabled: true, issuer: 'letsencrypt-prod' } } })),
  );

  // cluster-wide-watch: campaign-operator (restarted by its own rollout just before the session) lists and watches
  // ConfigMaps in all namespaces; client-go's reflector ends each watch after 5-10 minutes and opens the next. All
  // it writes is marketing/campaign-schedule.
  sim.at(T(0, 21, 480), () => sim.emit(collectionRequest(sim, campaignOperator, 'list', CONFIGMAPS)));
  for (const at of [T(0, 21, 530), T(7, 38, 910), T(14, 31, 270)]) sim.at(at, () => sim.emit(collectionRequest(sim, campaignOperator, 'watch', CONFIGMAPS)));
  const schedule = (active: string, next: string, switchAt: number) =>
    sim.write(campaignOperator, CONFIGMAPS, 'marketing', 'campaign-schedule', (o) => void (o.data = { active, next, switchAt: isoS(switchAt) }));
  sim.at(T(3, 30, 120), () => schedule('cyber-monday-teaser', 'cyber-monday', T(9, 45)));
  sim.at(T(9, 45, 90), () => schedule('cyber-monday', 'winter-sale', T(12, 40)));
  sim.at(T(12, 40, 60), () => schedule('winter-sale', 'none', T(60, 0)));

  // duplicate-event: the Deployment watch is closed by the server and resumed from the list's resourceVersion.
  sim.at(T(3, 0, 212), () => recorder.disconnect(DEPLOYMENTS, 'watch closed by the server after 180s (timeoutSeconds)'));
  sim.at(T(3, 0, 260), () => recorder.resume(DEPLOYMENTS, recorder.listRV(DEPLOYMENTS)));

  // stuck-finalizer.
  sim.at(T(4, 0), () => sim.delete(alice, WEBAPPS, 'shop', 'legacy-portal'));

  // lost-event + dfsu-gap: the recorder's and the operator's node loses the API server for 85 s.
  sim.at(T(5, 0), () => {
    for (const resource of [WEBAPPS, DEPLOYMENTS, CONFIGMAPS]) {
      recorder.disconnect(resource, 'http2: client connection lost');
      web.disconnect(resource);
    }
  });
  for (const [offset, resource] of [[4, WEBAPPS], [11, DEPLOYMENTS], [19, CONFIGMAPS], [41, WEBAPPS], [47, DEPLOYMENTS], [55, CONFIGMAPS]] as const) {
    sim.at(T(5, offset, 300), () => recorder.error(resource, 'dial tcp 10.96.0.1:443: i/o timeout'));
  }
  sim.at(T(5, 28), () => sim.delete(alice, WEBAPPS, 'shop', 'tmp-preview'));
  sim.at(T(5, 49), () => patchSpec(alice, 'marketing', 'blog', (s) => void (s.replicas = 3)));
  sim.at(T(6, 25), () => {
    recorder.resume(DEPLOYMENTS, recorder.lastRV(DEPLOYMENTS));
    recorder.resume(CONFIGMAPS, recorder.lastRV(CONFIGMAPS));
    sim.spawn(recorder.gone(WEBAPPS));
    web.reconnect(DEPLOYMENTS);
    web.reconnect(CONFIGMAPS);
  });
  sim.at(T(6, 25, 640), () => web.relist(WEBAPPS));

  // status-spec-race: a pod of catalog goes unready; the reconcile it triggers is slow, and catalog's spec
  // changes meanwhile; the next reconcile's Deployment update races the deployment controller.
  sim.at(T(7, 20), () => {
    web.slowNext.set('shop/catalog', 2400);
    deployments.podsChanged('shop', 'catalog', 2);
  });
  sim.at(T(7, 20, 900), () => {
    web.conflictNext.add('shop/catalog');
    patchSpec(alice, 'shop', 'catalog', (s) => void (s.image = 'ghcr.io/example/catalog:1.10.0'));
  });

  // hot-loop.
  sim.at(T(8, 0), () => patchSpec(alice, 'shop', 'search', (s) => void (s.healthCheck = { enabled: true, path: '/healthz', intervalSeconds: 2 })));

  // stale-read: the WebApp informer is stuck behind a slow handler for 4 s.
  sim.at(T(9, 10), () => {
    web.informerLag.set('webapps/shop/checkout', 4200);
    patchSpec(argocd, 'shop', 'checkout', (s) => void (s.image = 'ghcr.io/example/checkout:4.3.0'));
  });
  sim.at(T(9, 11, 600), () =>
    sim.write({ ...alice, manager: 'kubectl-edit' }, CONFIGMAPS, 'shop', 'checkout', (o) => {
      const data = o.data as Record<string, string>;
      data['app.env'] = data['app.env']!.replace('LOG_LEVEL=info', 'LOG_LEVEL=debug');
    }),
  );

  // notfound-retry.
  sim.at(T(10, 0), () => sim.delete(alice, WEBAPPS, 'shop', 'promo-banner'));

  // More healthy traffic, and the unreconciled change.
  sim.at(T(11, 0), () => patchSpec(alice, 'shop', 'storefront', (s) => void (s.config = { ...s.config, CACHE_TTL: '600' })));
  sim.at(T(12, 0), () => patchSpec(alice, 'marketing', 'docs', (s) => void (s.domain = 'help.example.com')));

  // reconcile-lag: the platform team's CI job adds an OpenTelemetry endpoint to the WebApps' config, one app every
  // 16 s to spread the restarts. The change-log service that the WebApp UpdateFunc calls synchronously is down
  // meanwhile: each call waits out its gateway's 20 s timeout, so the informer's notifications, and with them the
  // reconciles, fall further behind with every change.
  web.slowChangeLog = { from: T(11, 4), to: T(12, 45), ms: [21_500, 23_000] };
  for (const [i, [namespace, name]] of ([['shop', 'storefront'], ['shop', 'checkout'], ['shop', 'catalog'], ['marketing', 'blog'], ['shop', 'api-gateway']] as const).entries()) {
    sim.at(T(11, 5 + 16 * i, 40 * i), () => patchSpec(otelRollout, namespace, name, (s) => void (s.config = { ...s.config, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector.observability:4317' })));
  }
  sim.at(T(13, 10), () => patchSpec(argocd, 'shop', 'api-gateway', (s) => void (s.image = 'ghcr.io/example/api-gateway:1.4.1')));

  // hung-reconcile: a checkout pod restarts; the reconcile it triggers never returns.
  sim.at(T(13, 30), () => {
    web.hangNext.add('shop/checkout');
    deployments.podsChanged('shop', 'checkout', 2);
  });
  sim.at(T(14, 0), () => patchSpec(alice, 'marketing', 'blog', (s) => void (s.replicas = 2)));

  const end = T(15, 0);
  sim.at(end - 1, () => recorder.stop());
  sim.runUntil(end);

  return {
    session: {
      name: DEMO_SESSION_NAME,
      source: 'demo',
      cluster: 'kind-shop-staging',
      context: 'kind-shop-staging',
      toolVersion,
      config: {
        scenario: 'web-operator',
        description: 'Bundled demo: a controller-runtime operator for WebApp (apps.example.com) with one incident per finding kind. Generated, not recorded.',
        resources: ['webapps.apps.example.com', 'deployments.apps', 'configmaps'],
        // As a recorder's config names it (recorder/config.ts controller): its field manager and audit user. The SDK
        // reports under CONTROLLER, which joins them.
        controller: { name: MANAGED_BY, username: operator.user },
      },
      startedAt: isoMs(start),
    },
    endedAt: isoMs(end),
    records: sim.records,
  };
}

export { WEBAPPS, DEPLOYMENTS, CONFIGMAPS };
export type { SessionRecord };
