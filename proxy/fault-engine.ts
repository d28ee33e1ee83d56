import { asList, eventFaultActions, faultRuleName, requestFaultActions, type FaultAction, type FaultPlan, type FaultRule } from '../model/index.js';

/**
 * Decides, for each watch event about to reach the controller and each request it sends, whether a rule of the
 * fault plan fires. Pure apart from the clock it is given: the same plan, seed and sequence of matches give the same
 * faults (the probability draws come from a seeded generator, drawn only when a rule is otherwise eligible).
 *
 * Rules are tried in file order; the first one that fires wins. A rule's `skip` counts matches inside its time
 * window; `count` counts firings.
 */

export interface EventTarget {
  readonly group: string;
  readonly resource: string;
  /** The watch request's namespace (null: all namespaces). */
  readonly watchNamespace: string | null;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  readonly namespace: string | null;
  readonly name: string | null;
}

export interface RequestTarget {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
}

export interface FaultDecision {
  readonly rule: FaultRule;
  readonly ruleName: string;
  readonly action: FaultAction;
  readonly delayMs: number;
  readonly code: number | undefined;
}

/** mulberry32: tiny, fast, and good enough to spread draws; what matters here is that it is seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RuleState {
  readonly rule: FaultRule;
  readonly name: string;
  readonly event: boolean;
  matches: number;
  fired: number;
}

export class FaultEngine {
  private readonly rules: RuleState[];
  private readonly random: () => number;
  /** Watch streams (group/resource/namespace) whose next resume is answered 410 Expired, with the rule that armed it. */
  private readonly expired = new Map<string, FaultDecision>();
  /** After stop(): nothing fires any more (the run's "faults stop" point, after which a healthy controller converges). */
  private stopped = false;

  constructor(
    plan: FaultPlan,
    /** Milliseconds since the proxy started. */
    private readonly elapsed: () => number,
  ) {
    this.random = seededRandom(plan.seed);
    this.rules = plan.rules.map((rule, index) => ({ rule, name: faultRuleName(rule, index), event: eventFaultActions.includes(rule.action), matches: 0, fired: 0 }));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  get active(): boolean {
    return !this.stopped && this.rules.length > 0;
  }

  /** How many times the rules fired so far. */
  get firings(): number {
    return this.rules.reduce((sum, s) => sum + s.fired, 0);
  }

  /**
   * No rule fires from now on, and an expiry armed but not yet answered is forgotten (the resume then finds the
   * server's watch cache as it is). Faults already under way (an event being held) finish.
   */
  stop(): void {
    this.stopped = true;
    this.expired.clear();
  }

  /** Whether any event rule could act on a watch of this resource: only such watches are read line by line. */
  mayTouchWatch(target: { group: string; resource: string; namespace: string | null }): boolean {
    return this.rules.some(
      (s) =>
        s.event &&
        (s.rule.match.resource === undefined || s.rule.match.resource === target.resource) &&
        (s.rule.match.group === undefined || s.rule.match.group === target.group) &&
        // A watch of all namespaces carries every namespace's events; one of another namespace carries none of this.
        (s.rule.match.namespace === undefined || target.namespace === null || s.rule.match.namespace === target.namespace),
    );
  }

  onEvent(target: EventTarget): FaultDecision | undefined {
    if (target.type === 'BOOKMARK') return undefined;
    for (const state of this.rules) {
      if (!state.event) continue;
      const m = state.rule.match;
      if (m.resource !== undefined && m.resource !== target.resource) continue;
      if (m.group !== undefined && m.group !== target.group) continue;
      if (m.namespace !== undefined && m.namespace !== target.namespace) continue;
      if (m.name !== undefined && m.name !== target.name) continue;
      const types = asList(m.event);
      if (types && !types.includes(target.type)) continue;
      const decision = this.fire(state);
      if (decision) return decision;
    }
    return undefined;
  }

  onRequest(target: RequestTarget): FaultDecision | undefined {
    for (const state of this.rules) {
      if (!requestFaultActions.includes(state.rule.action)) continue;
      const m = state.rule.match;
      if (m.resource !== undefined && m.resource !== target.resource) continue;
      if (m.group !== undefined && m.group !== target.group) continue;
      if (m.namespace !== undefined && m.namespace !== target.namespace) continue;
      if (m.name !== undefined && m.name !== target.name) continue;
      if (m.subresource !== undefined && m.subresource !== target.subresource) continue;
      const verbs = asList(m.verb);
      // Without verbs a request rule acts on writes: failing or timing out reads is asked for by naming get or list.
      if (verbs ? !verbs.includes(target.verb as never) : !['create', 'update', 'patch', 'delete', 'deletecollection'].includes(target.verb)) continue;
      const decision = this.fire(state);
      if (decision) return decision;
    }
    return undefined;
  }

  /** A list the controller asks for (LIST, or a watch's initial events): answered from the previous list? */
  onList(target: { group: string; resource: string; namespace: string | null }): FaultDecision | undefined {
    for (const state of this.rules) {
      if (state.rule.action !== 'stale-list') continue;
      const m = state.rule.match;
      if (m.resource !== undefined && m.resource !== target.resource) continue;
      if (m.group !== undefined && m.group !== target.group) continue;
      if (m.namespace !== undefined && m.namespace !== target.namespace) continue;
      const decision = this.fire(state);
      if (decision) return decision;
    }
    return undefined;
  }

  /** After an `expire` fired on a stream: its next resume gets 410 Expired. */
  armExpiry(streamKey: string, decision: FaultDecision): void {
    this.expired.set(streamKey, decision);
  }

  /** A watch resuming from a resourceVersion on an expired stream: answered 410 once. */
  takeExpiry(streamKey: string): FaultDecision | undefined {
    const decision = this.expired.get(streamKey);
    this.expired.delete(streamKey);
    return decision;
  }

  private fire(state: RuleState): FaultDecision | undefined {
    if (this.stopped) return undefined;
    const { when } = state.rule;
    const t = this.elapsed();
    if (when.after !== undefined && t < when.after) return undefined;
    if (when.before !== undefined && t > when.before) return undefined;
    if (when.count !== undefined && state.fired >= when.count) return undefined;
    state.matches += 1;
    if (when.skip !== undefined && state.matches <= when.skip) return undefined;
    if (when.probability !== undefined && this.random() >= when.probability) return undefined;
    state.fired += 1;
    return { rule: state.rule, ruleName: state.name, action: state.rule.action, delayMs: state.rule.delay ?? 0, code: state.rule.code };
  }
}

/**
 * Whether a real API server may answer this list (a LIST, or a watch's initial events) from a snapshot at
 * `snapshotRV` that is older than its current state: what a `stale-list` fault can faithfully do. The request's
 * resourceVersion says what it accepts (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions,
 * apiserver pkg/storage/cacher/cacher.go GetList / Watch):
 *   - unset: the most recent state, a consistent read (a quorum read from etcd, or the watch cache once it has caught
 *     up with etcd's current revision: ConsistentListFromCache). Never stale.
 *   - "0": any state the server holds (its watch cache, which after a restart may lag behind): any snapshot.
 *   - N with resourceVersionMatch=Exact: exactly N.
 *   - N otherwise (NotOlderThan, the default for a non-zero N): a state at N or newer.
 * client-go's reflectors list and watch-list with the last resourceVersion they synced (NotOlderThan), or unset
 * after a 410 and on their first list (WatchListClient), so against them a stale list can only repeat what the
 * controller had already seen by then: a lagging server, not a time machine.
 */
export function mayServeStale(query: URLSearchParams, snapshotRV: string): boolean {
  const requested = query.get('resourceVersion') ?? '';
  if (requested === '') return false;
  if (requested === '0') return true;
  const asked = Number(requested);
  const snapshot = Number(snapshotRV);
  // resourceVersions are opaque; only numeric ones (etcd revisions, every real server) can be ordered.
  if (!Number.isSafeInteger(asked) || !Number.isSafeInteger(snapshot)) return false;
  return query.get('resourceVersionMatch') === 'Exact' ? snapshot === asked : snapshot >= asked;
}

export function streamKeyOf(target: { group: string; resource: string; namespace: string | null }): string {
  return `${target.group}/${target.resource}/${target.namespace ?? '*'}`;
}
