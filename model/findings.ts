import { z } from 'zod';

export const severities = ['info', 'warning', 'error'] as const;
export const Severity = z.enum(severities);
export type Severity = z.infer<typeof Severity>;

export function severityRank(severity: Severity): number {
  return severities.indexOf(severity);
}

/** Finding kind ids are a public contract (CI scripts filter on them): never rename one. */
export const findingKinds = [
  'duplicate-event',
  'lost-event',
  'dfsu-gap',
  'status-spec-race',
  'stuck-finalizer',
  'hot-loop',
  'notfound-retry',
  'stale-read',
  'unreconciled',
  'reconcile-lag',
  'hung-reconcile',
  'cluster-wide-watch',
] as const;
export const FindingKind = z.enum(findingKinds);
export type FindingKind = z.infer<typeof FindingKind>;

export interface FindingKindInfo {
  readonly id: FindingKind;
  readonly title: string;
  readonly severity: Severity;
  /** One line, for lists and badges. */
  readonly summary: string;
  /** One paragraph: what the detector saw and why it matters. */
  readonly explanation: string;
  /** The controller pitfall this usually comes from. */
  readonly pitfall: string;
  /** What to change in the controller. */
  readonly fix: string;
}

/**
 * The one registry of finding kinds. The TUI, the exporters, `kreplay check` and docs/findings.md all read it,
 * so the words a user sees about a finding are the same everywhere.
 */
export const findingKindRegistry: Readonly<Record<FindingKind, FindingKindInfo>> = {
  'duplicate-event': {
    id: 'duplicate-event',
    title: 'Duplicate watch event',
    severity: 'warning',
    summary: 'The watch delivered the same object version twice outside a relist.',
    explanation:
      'A watch delivered an event for an object version (uid, resourceVersion and event type) that it had already delivered, and no relist or resync explains it. This happens when a watch is resumed from a stale resourceVersion and the server re-sends history. With SDK handler reports, the controller\'s own event handlers are judged too: a version handed to them again, which no client-go informer does (a hand-rolled list/watch loop resumed from an old resourceVersion). A controller that is not idempotent (counts events, appends to a list, creates a child per event) acts twice.',
    pitfall: 'Treating watch events as exactly-once notifications instead of level-triggered hints.',
    fix: 'Make Reconcile idempotent: read the current state from the cache and converge to it, never act on the event itself. Resume watches from the newest resourceVersion seen, bookmarks included.',
  },
  'lost-event': {
    id: 'lost-event',
    title: 'Lost watch event',
    severity: 'error',
    summary: 'A change happened that the watcher never saw.',
    explanation:
      "The watcher's view skipped a change that provably happened: the generation jumped by more than one inside one continuous watch, an object showed up as MODIFIED or DELETED without ever being added or listed, an API write produced a resourceVersion the watch never delivered, or a 410 Gone forced a relist and objects changed across the gap. With SDK handler reports, the controller's own event handlers are judged too, for what no client-go informer does: an object first handed to UpdateFunc or DeleteFunc, never AddFunc, or a deletion never handed at all while the same cache lived on (a hand-rolled list/watch loop resumed from \"now\"). A controller that relies on seeing every event misses this transition.",
    pitfall: 'Edge-triggered logic (acting on the transition carried by one event) over an at-most-once watch stream.',
    fix: 'Compute desired state from the object as it is now, not from the sequence of events. Handle relists: compare the cache against the fresh list. Use client-go informers (they relist and resync) rather than hand-rolled watches.',
  },
  'dfsu-gap': {
    id: 'dfsu-gap',
    title: 'Deletion seen only as a tombstone',
    severity: 'warning',
    summary: 'An object vanished without a DELETED event and the controller did not react.',
    explanation:
      "An object disappeared between a watch disconnect and the following relist, so the watcher never got a DELETED event. client-go's DeltaFIFO delivers such deletions to OnDelete as a cache.DeletedFinalStateUnknown tombstone wrapping the last known object. Handlers that type-assert obj.(*v1.Foo) without checking for the tombstone drop the deletion, and cleanup (external resources, finalizers on children, caches) never runs.",
    pitfall: 'OnDelete handlers that do `foo := obj.(*v1.Foo)` and return on failure.',
    fix: 'In DeleteFunc, unwrap the tombstone: `if t, ok := obj.(cache.DeletedFinalStateUnknown); ok { obj = t.Obj }`, then enqueue the key. Make cleanup driven by finalizers or owner references so a missed delete cannot leak.',
  },
  'status-spec-race': {
    id: 'status-spec-race',
    title: 'Status written from a stale spec',
    severity: 'error',
    summary: 'A status write reflects a spec older than the one that already existed, or a write lost a concurrent update.',
    explanation:
      'The controller wrote status computed from an older spec than the one already stored (status.observedGeneration below the generation of the newest spec written before the status write), reconciled a generation older than the current one, reverted a concurrent spec change with a full-object Update, or kept hitting 409 Conflicts on the same object. Users then see a status that describes a spec they no longer have.',
    pitfall: 'Computing status from an object read long ago and writing it back with Update, or retrying conflicts without re-reading.',
    fix: 'Set status.observedGeneration from the object you reconciled; write status through the status subresource with a patch; on 409 Conflict, re-read and recompute rather than retry the same body (retry.RetryOnConflict with a fresh Get).',
  },
  'stuck-finalizer': {
    id: 'stuck-finalizer',
    title: 'Finalizer never removed',
    severity: 'error',
    summary: 'The object is being deleted but its finalizers stay.',
    explanation:
      'The object has a deletionTimestamp, so it is waiting for its finalizers to be removed before the API server deletes it, and at least one finalizer stayed longer than the threshold. Namespace deletions, Helm uninstalls and CRD removals hang behind such objects.',
    pitfall: 'Reconcile returning early for objects with a deletionTimestamp, or cleanup that fails and is never retried.',
    fix: 'Handle deletion first in Reconcile: if deletionTimestamp is set, run cleanup, then remove your finalizer with a patch. Make cleanup idempotent and tolerate already-gone external resources.',
  },
  'hot-loop': {
    id: 'hot-loop',
    title: 'Hot reconcile loop',
    severity: 'warning',
    summary: 'The same object is written or reconciled again and again while its input does not change.',
    explanation:
      'The controller keeps writing (or reconciling) one object in a short window although its spec generation did not change. Usually each write changes a value that triggers the next reconcile: a timestamp in status, a field the API server defaults or re-orders, or a requeue with no backoff. It burns API server capacity and can starve other objects in the workqueue.',
    pitfall: 'Writing status on every reconcile (often with a fresh timestamp), or returning Requeue without a delay.',
    fix: 'Only write when the desired status differs from the current one (compare semantically, ignore server-set fields); use GenerationChangedPredicate or a requeue with backoff.',
  },
  'notfound-retry': {
    id: 'notfound-retry',
    title: 'NotFound retried',
    severity: 'warning',
    summary: 'The controller keeps retrying an object that no longer exists.',
    explanation:
      'After the object was deleted the controller kept getting 404 NotFound for it (reads or writes), or its reconciles ended with a NotFound error and were requeued. Each retry goes through the rate limiter with growing backoff, so the queue fills with dead keys.',
    pitfall: 'Returning the error from Get when apierrors.IsNotFound(err) is true.',
    fix: 'Treat NotFound of the reconciled object as success: `if apierrors.IsNotFound(err) { return ctrl.Result{}, nil }` (client.IgnoreNotFound).',
  },
  'stale-read': {
    id: 'stale-read',
    title: 'Reconcile on a stale cache',
    severity: 'warning',
    summary: 'A reconcile acted on an object version older than one already delivered.',
    explanation:
      "A reconcile started while the watch had already delivered a newer resourceVersion of the object than the one the reconcile read. The controller's cache was lagging or not synced, and it acted on old data.",
    pitfall: 'Reading from a cache that has not synced (no WaitForCacheSync) or from a second, slower informer; acting on objects passed through channels instead of re-reading.',
    fix: 'Wait for cache sync before starting workers; re-read the object at the start of Reconcile; use optimistic concurrency (resourceVersion preconditions) on writes.',
  },
  unreconciled: {
    id: 'unreconciled',
    title: 'Spec change never reconciled',
    severity: 'warning',
    summary: "The object's newest generation was never observed by the controller.",
    explanation:
      'At the end of the session the newest generation of the object was not observed by a successful reconcile nor reflected in status.observedGeneration, and that had lasted longer than the threshold. The controller either never saw the change or failed on it without reporting.',
    pitfall: 'Predicates that filter out the change, a crashed or blocked worker, or an error swallowed without requeue.',
    fix: 'Check the controller is running and its predicates; always return errors so the key is requeued; set status.observedGeneration when a generation is reconciled.',
  },
  'reconcile-lag': {
    id: 'reconcile-lag',
    title: 'Reconciles lag behind changes',
    severity: 'warning',
    summary: 'Changes wait longer and longer for the reconcile that handles them.',
    explanation:
      "The time from a change reaching the controller (its informer delivering a new resourceVersion: the recorder's watch, or the SDK's handler report) to the start of the first reconcile that read that version or a newer one stayed above the threshold, for changes arriving over at least as long. The workqueue collapsing many changes into one reconcile is not lag, nor is waiting for a running reconcile of the same key to finish, nor a burst of new objects being worked off. A backed-up queue delays every object the controller owns.",
    pitfall: 'A blocking call (an HTTP request, a lock, a sleep) inside an informer event handler or predicate, so every later event waits behind it; or too few workers for the load.',
    fix: 'Keep event handlers to computing a key and adding it to the workqueue; move slow work into Reconcile, with a context deadline; raise MaxConcurrentReconciles when reconciles are slow but independent.',
  },
  'hung-reconcile': {
    id: 'hung-reconcile',
    title: 'Hung reconcile',
    severity: 'error',
    summary: 'A reconcile started and never finished, or finished far past the threshold.',
    explanation:
      'The SDK reported a reconcile starting and no finish for it by the end of the session, or a finish long after its start. While it runs, its worker and its key are taken: with a single worker (controller-runtime\'s default MaxConcurrentReconciles) the whole controller stops, and every change to that object waits.',
    pitfall: 'A reconcile without a context deadline waiting on a slow dependency (an external API, a webhook, a database) through a client with no timeout; controller-runtime sets no ReconciliationTimeout by default.',
    fix: "Give every call out of Reconcile a deadline (context.WithTimeout, http.Client.Timeout) or set the controller's ReconciliationTimeout; return an error or RequeueAfter instead of waiting for slow work.",
  },
  'cluster-wide-watch': {
    id: 'cluster-wide-watch',
    title: 'Cluster-wide watch for one namespace',
    severity: 'info',
    summary: 'The controller lists and watches a resource in all namespaces but only ever touches one.',
    explanation:
      "The controller's own list and watch requests for a namespaced resource named no namespace, yet every object it wrote or reconciled in the session was in one namespace. Its informer caches every object of that kind in the cluster and relists all of them after every 410, and it needs RBAC over every namespace. It is an alarm (warning) only when the session shows that RBAC granted: a ClusterRoleBinding of the controller to a role allowing the list or watch.",
    pitfall: 'No namespace limit on the manager cache or informer factory (a scaffold that watches everything), with a ClusterRole to match.',
    fix: 'Restrict the cache to the namespaces you manage: controller-runtime cache.Options{DefaultNamespaces: ...}, client-go informers.WithNamespace(ns); then replace the ClusterRole and ClusterRoleBinding with a Role and RoleBinding in that namespace.',
  },
};

export const EvidenceItem = z.object({
  seq: z.number().int().positive(),
  resourceVersion: z.string().nullable().optional(),
  /** What this record shows, in a controller author's words. */
  note: z.string(),
});
export type EvidenceItem = z.infer<typeof EvidenceItem>;

export const FindingObject = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  namespace: z.string().nullable(),
  name: z.string(),
  uid: z.string().nullable(),
});
export type FindingObject = z.infer<typeof FindingObject>;

export const blameRoles = ['controller', 'system', 'other'] as const;
export const BlameRole = z.enum(blameRoles);
export type BlameRole = z.infer<typeof BlameRole>;

export const blameSources = ['managedFields', 'audit-user', 'sdk', 'finalizer'] as const;

/**
 * Who owns what a finding blames: the writer of the versions (a managedFields manager on watch streams, the audit
 * user on the audit path, the controller an SDK reports for) or the owner of the finalizer that holds. Alarms
 * (warning, error) are about the controller under debug; what another actor did is context (info).
 */
export const Blame = z.object({
  actor: z.string(),
  via: z.enum(blameSources),
  /** The controller under debug, a Kubernetes component, or someone else. */
  role: BlameRole,
});
export type Blame = z.infer<typeof Blame>;

/** The JSON shape `kreplay check --json` prints: a public contract. */
export const Finding = z.object({
  /** Stable within a session: kind + object + first seq. */
  id: z.string(),
  kind: FindingKind,
  severity: Severity,
  object: FindingObject,
  firstSeq: z.number().int().positive(),
  lastSeq: z.number().int().positive(),
  resourceVersions: z.array(z.string()),
  /** How many occurrences of the same cause on the same object this finding groups. */
  count: z.number().int().positive(),
  message: z.string(),
  /** Which rule of the detector fired, e.g. 'generation-jump'. */
  rule: z.string(),
  evidence: z.array(EvidenceItem),
  /** Who owns what it blames; absent for findings about the watch itself (duplicate-event, lost-event). */
  blame: Blame.optional(),
  /** Set when a suppression matched; suppressed findings are reported but never fail `check`. */
  suppressed: z.object({ reason: z.string() }).optional(),
});
export type Finding = z.infer<typeof Finding>;
