import { describeObject, nameKey, type Blame, type Finding, type ObjectRef } from '../../model/index.js';
import { hashString, isLeaderElectionRecord } from '../../model/version-facts.js';
import { roleOf } from '../controller-identity.js';
import { diffObjects, diffSections, type DiffEntry } from '../diff.js';
import { ev, FindingGroups, type Group } from '../finding-groups.js';
import type { Fact, ObjectState, Version } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import { makesProgress } from './hot-loop/convergence.js';
import { Run } from './hot-loop/run.js';
import { isTimerKind } from './hot-loop/timers.js';
import type { Detector, DetectorContext } from './types.js';

interface Watched {
  runs: Map<string, Run>;
  /** A leader-election record (by content): renewed on a timer, never a loop. */
  lock: boolean;
  /** An API write held back to see whether its version (with the body) follows, as audit imports do. */
  pendingApi: { writer: string; via: Blame['via']; time: number; seq: number; rv: string | null; what: string; subject: ObjectState | ObjectRef } | null;
  /** RVs already counted from their API record (null until one is: most objects never have one, and 10,000 empty Sets were 1.2 MB). */
  counted: Set<string> | null;
}

interface Data {
  writer: string;
  via: Blame['via'];
  paths: Map<string, number>;
  /**
   * Distinct values seen per sampled changing path, as 53-bit hashes (bounded): 230 nodePorts say more than "it
   * changes". Only the sampled paths can be shown, so only theirs are kept.
   */
  values: Map<string, Set<number>>;
  /** Paths whose count stopped short of distinctValuesKept for the analysis's budget: shown as "n+". */
  cut: Set<string>;
  diffs: number;
  /** Nothing more can be learnt from this loop's writes (stillLearns): its bodies are no longer read. */
  settled: boolean;
  /** describeChanges, once settled. */
  changing?: string;
  peak: number;
  results: Map<string, number>;
  estimated: boolean;
}

const sampledDiffs = 50;
const followsPods: ReadonlySet<string> = new Set(['/Endpoints', 'discovery.k8s.io/EndpointSlice']);
const distinctValuesKept = 500;
/**
 * Distinct values kept over all of one analysis's loops. A controller stamping a time on every object it reconciles
 * makes each one a loop: a thousand of them, five changing paths each, 500 values a path, held the values' strings
 * (~250 MB in a recorder whose heap is capped at 192 MB). Past the budget, counts stop and say "n+".
 */
const distinctValuesBudget = 200_000;

/** The finding's sentence on what the writes change: the sampled paths, most frequent first, with their distinct values. */
function describeChanges(d: Data): string {
  const top = [...d.paths].sort((a, b) => b[1] - a[1]).slice(0, 5);
  const distinct = (path: string) => {
    const n = d.values.get(path)?.size ?? 0;
    return n > 2 ? `, ${n >= distinctValuesKept || d.cut.has(path) ? `${n}+` : n} distinct values` : '';
  };
  if (top.length) return ` What changes from one write to the next (${d.diffs} sampled): ${top.map(([path, n]) => `${path}${n === d.diffs ? '' : ` (${n}×)`}${distinct(path)}`).join('; ')}.`;
  return d.diffs > 0
    ? ` The writes change nothing but bookkeeping (resourceVersion, managedFields) in the ${d.diffs} sampled.`
    : ' What the writes change is not in the session (no two versions to compare).';
}

function copyWatched(w: Watched): Watched {
  const runs = new Map<string, Run>();
  for (const [writer, run] of w.runs) runs.set(writer, run.copy());
  return { runs, lock: w.lock, pendingApi: w.pendingApi, counted: w.counted && new Set(w.counted) };
}

/**
 * hot-loop: a controller's own writes to one object triggering its next write, again and again (default ≥ 10 writes
 * within 60 s), with no change by anyone else in between to what it reads: the object itself, its owners (two levels
 * up, via controller ownerReferences) and its children. Content that changes is not progress: a counter, a
 * timestamp, a nodePort the API server re-allocates because the desired spec omits it all change on every write.
 * Progress converges instead: other actors' writes interleave (a rollout's Pods and ReplicaSets), status numbers
 * approach their targets (convergence.ts), and the writes stop.
 *
 * Writes come from the versions the watch or the audit log show, attributed by managedFields (or the audit user);
 * for objects nobody watched, from API records. Reconciles of one key repeating without any write are
 * 'hot-reconcile' (errors excluded: controller-runtime's rate limiter backs those off by design).
 */
export function hotLoop(_shared?: unknown, limits: { valuesBudget?: number } = {}): Detector {
  const valuesBudget = limits.valuesBudget ?? distinctValuesBudget;
  const objects = new Map<string, Watched>();
  const reconciles = new Map<string, Map<string, Run>>();
  /** ns/Kind/name → uid, for owner references (which name their owner, not its uid). */
  const uidByName = new Map<string, string>();
  /** The kind each object was last learned by name under. */
  const namedAs = new WeakMap<ObjectState, string>();
  /** Owner uid → children uids, and uid → owner uid, learned as versions come. */
  const children = new Map<string, Set<string>>();
  const ownerChain = new Map<string, string>();
  /** Namespace → uids of its Endpoints and EndpointSlices. */
  const podFollowers = new Map<string, Set<string>>();
  /** namespace/name|user → when that user last wrote the Lease of that name (client-go's MultiLock pairs). */
  const leaseWrites = new Map<string, number>();
  /**
   * Name keys of objects the API answered 404 for, until a version shows them again. A reconcile of such a key acts on
   * an object that no longer exists (a cache behind the API after a gap, until its deletion arrives): its repeats are
   * not reconciles of an unchanged object. notfound-retry and dfsu-gap judge those.
   */
  const notFound = new Set<string>();
  const groups = new FindingGroups<Data>('hot-loop', () => ({ writer: '', via: 'managedFields', paths: new Map(), values: new Map(), cut: new Set(), diffs: 0, settled: false, peak: 0, results: new Map(), estimated: false }));
  /** Distinct values kept so far, over every group (distinctValuesBudget). */
  let valuesKept = 0;

  function watched(key: string): Watched {
    let w = objects.get(key);
    if (!w) objects.set(key, (w = { runs: new Map(), lock: false, pendingApi: null, counted: null }));
    return w;
  }

  function ownerOf(object: ObjectState): string | undefined {
    const owner = object.owner;
    if (!owner) return undefined;
    return uidByName.get(`${object.ref.namespace ?? ''}/${owner.kind}/${owner.name}`);
  }

  /** Someone changed what the runs on this object read: their count starts again. */
  function interrupt(key: string | undefined, by: string): void {
    if (key === undefined) return;
    const w = objects.get(key);
    if (!w) return;
    for (const [writer, run] of w.runs) if (writer !== by && run.length) w.runs.set(writer, new Run());
  }

  /** A write by `writer` is new input for every other writer of this object, its owners and its children. */
  function noteInput(object: ObjectState, writer: string): void {
    interrupt(object.uid, writer);
    let owner = ownerChain.get(object.uid);
    for (let level = 0; owner !== undefined && level < 2; level++) {
      interrupt(owner, writer);
      owner = ownerChain.get(owner);
    }
    for (const child of children.get(object.uid) ?? []) interrupt(child, writer);
    // Endpoints and EndpointSlices follow the Pods their Service selects (kube-controller-manager's endpoint and
    // endpointslice controllers), which own nothing of them: any Pod change in the namespace is their input.
    if (object.kindKey === '/Pod') for (const uid of podFollowers.get(object.ref.namespace ?? '') ?? []) interrupt(uid, writer);
  }

  function learn(object: ObjectState): void {
    // By name once per object (and again if its kind is corrected): building the key for every version cost more
    // than the rest of learning on long sessions.
    if (namedAs.get(object) !== object.ref.kind) {
      namedAs.set(object, object.ref.kind);
      uidByName.set(`${object.ref.namespace ?? ''}/${object.ref.kind}/${object.ref.name}`, object.uid);
      if (followsPods.has(object.kindKey)) {
        const namespace = object.ref.namespace ?? '';
        let set = podFollowers.get(namespace);
        if (!set) podFollowers.set(namespace, (set = new Set()));
        set.add(object.uid);
      }
    }
    const owner = ownerOf(object);
    if (owner === undefined || ownerChain.get(object.uid) === owner) return;
    ownerChain.set(object.uid, owner);
    let set = children.get(owner);
    if (!set) children.set(owner, (set = new Set()));
    set.add(object.uid);
  }

  /** Adds one write to a run; returns the run when it is (still) hot. */
  function push(runs: Map<string, Run>, writer: string, time: number, seq: number, rv: string | null, progress: boolean | null, context: DetectorContext): { run: Run; started: boolean } | null {
    let run = runs.get(writer);
    if (!run) runs.set(writer, (run = new Run()));
    run.push(time, seq, rv, progress, context.thresholds.hotLoopWindow);
    const n = run.length;
    // Converging: at least half of the writes in the window moved a status number toward its target.
    const converging = run.progressing() * 2 >= n;
    if (n >= context.thresholds.hotLoopWrites && !converging) {
      const started = !run.hot;
      run.hot = true;
      return { run, started };
    }
    run.hot = false;
    return null;
  }

  function recordHit(subject: ObjectState | ObjectRef, rule: string, writer: string, via: Blame['via'], hit: { run: Run; started: boolean }, what: string): Group<Data> {
    const w = hit.run;
    const n = w.length;
    const g = groups.hit(subject, rule, {
      evidence: hit.started
        ? [ev(w.seq(0), `${what} by ${writer} (1 of ${n} within the window)`, w.rv(0)), ev(w.seq(n - 1), `${what} by ${writer} (${n} within ${formatDuration(w.time(n - 1) - w.time(0))}, nobody else changed its input)`, w.rv(n - 1))]
        : [ev(w.seq(n - 1), `${what} by ${writer}`, w.rv(n - 1))],
      count: hit.started ? n : 1,
    });
    g.data.writer ||= writer;
    g.data.via = via;
    if (n > g.data.peak) g.data.peak = n;
    return g;
  }

  function sample(g: Group<Data>, changes: readonly DiffEntry[]): void {
    if (g.data.diffs >= sampledDiffs) return;
    g.data.diffs++;
    for (const entry of changes) {
      if (entry.path === '.metadata.resourceVersion' || entry.path.startsWith('.metadata.managedFields')) continue;
      g.data.paths.set(entry.path, (g.data.paths.get(entry.path) ?? 0) + 1);
    }
  }

  /**
   * Whether a write's changes can still add to what the finding says: it has no group yet, is still sampling its
   * changing paths, or a sampled path can still gain distinct values. A loop running for minutes stops here: every
   * path has its 500 values or was cut by the budget. A sampled path whose values were never scalars (no set) is done
   * once sampling is: remember() keeps no values of objects.
   */
  function stillLearns(g: Group<Data> | undefined): boolean {
    if (!g || g.data.diffs < sampledDiffs) return true;
    if (g.data.settled) return false;
    const { values, cut } = g.data;
    for (const [path, set] of values) if (set.size < distinctValuesKept && !cut.has(path)) return true;
    // For good: sampling is over, sets never shrink, cuts stay, and only remember() (not called from now on) adds sets.
    g.data.settled = true;
    // What the finding says changes is final too: every report of a thousand loops built it again.
    g.data.changing = describeChanges(g.data);
    return false;
  }

  function remember(g: Group<Data>, changes: readonly DiffEntry[]): void {
    for (const entry of changes) {
      // A path cut short by the budget stays "n+" (no set grows again): nothing more to learn from its values.
      if (typeof entry.after === 'object' || !g.data.paths.has(entry.path) || g.data.cut.has(entry.path)) continue;
      let set = g.data.values.get(entry.path);
      if (!set) g.data.values.set(entry.path, (set = new Set()));
      if (set.size >= distinctValuesKept) continue;
      // 53 bits (cyrb53): two of 500 distinct values collide with odds of about 1e-11.
      const value = hashString(String(entry.after));
      if (set.has(value)) continue;
      if (valuesKept >= valuesBudget) {
        g.data.cut.add(entry.path);
        continue;
      }
      set.add(value);
      valuesKept++;
    }
  }

  /**
   * A bodiless write (audit level Metadata) to a ConfigMap or Endpoints that its user paired with a write to the Lease
   * of the same name: client-go's configmapsleases/endpointsleases MultiLock renews the primary lock, then the Lease
   * (tools/leaderelection/resourcelock/multilock.go). The Lease is logged in full; the ConfigMap is the same lock.
   */
  function leaseTwin(p: NonNullable<Watched['pendingApi']>): boolean {
    const ref = 'ref' in p.subject ? p.subject.ref : p.subject;
    if (ref.kind !== 'ConfigMap' && ref.kind !== 'Endpoints') return false;
    const at = leaseWrites.get(`${ref.namespace ?? ''}/${ref.name}|${p.writer}`);
    return at !== undefined && Math.abs(at - p.time) <= 2000;
  }

  /** Counts a held-back API write whose version never came (audit level Metadata: no body to judge). */
  function flushApi(w: Watched, context: DetectorContext): void {
    const p = w.pendingApi;
    if (!p) return;
    w.pendingApi = null;
    if (leaseTwin(p)) {
      w.lock = true;
      w.runs.clear();
      return;
    }
    if (p.rv) (w.counted ??= new Set()).add(p.rv);
    const hit = push(w.runs, p.writer, p.time, p.seq, p.rv, null, context);
    if (hit) recordHit(p.subject, 'hot-write', p.writer, p.via, hit, p.what);
  }

  function changesOf(previous: Version | null, version: Version): DiffEntry[] | null {
    if (!previous?.hasBody || !version.hasBody || !previous.object || !version.object) return null;
    const diff = diffObjects(previous.object, version.object);
    return diffSections.flatMap((section) => [...diff.sections[section]]);
  }

  function onVersion(fact: Extract<Fact, { type: 'version' }>, context: DetectorContext): void {
    const v = fact.version;
    const object = fact.object;
    if (v.type !== 'DELETED' && notFound.size) notFound.delete(object.key);
    if (fact.late || v.writer === null) return;
    learn(object);
    if (isTimerKind(object.kindKey)) return;
    const w = watched(object.uid);
    let writer = v.writer;
    let via: Blame['via'] = v.writerVia ?? (v.source === 'api' || v.source === 'audit' ? 'audit-user' : 'managedFields');
    if (w.pendingApi && w.pendingApi.rv === v.rv) {
      // The version of the API write we held back: judged by its content, named by the API's user.
      writer = w.pendingApi.writer;
      via = w.pendingApi.via;
      w.pendingApi = null;
    } else flushApi(w, context);
    if (v.type !== 'MODIFIED' || v.source === 'relist' || v.time === null) {
      noteInput(object, writer);
      return;
    }
    const alreadyCounted = w.counted?.delete(v.rv) ?? false;
    // Everyone else's runs on this object and its relatives start again; this writer's goes on.
    noteInput(object, writer);
    const run = w.runs.get(writer);
    // Bodies are read only once a writer is half-way to the threshold: quiet objects are never decoded.
    const busy = (run?.length ?? 0) + 1 >= Math.max(3, Math.ceil(context.thresholds.hotLoopWrites / 2));
    let changes: DiffEntry[] | null = null;
    let g = busy || alreadyCounted ? groups.get(object, 'hot-write') : undefined;
    const learning = busy && stillLearns(g);
    // The fact says when the status is untouched: no status number can have moved closer to its target.
    const judgesProgress = busy && (v.statusWrite || v.statusChanged !== false);
    if (busy && v.hasBody && !w.lock && (v.leaderRecord ?? isLeaderElectionRecord(v.object))) w.lock = true;
    if (w.lock) return;
    // Decoding and diffing two bodies was most of what a write cost the detector: only when it can tell something.
    // Judging progress needs the change before the write counts; learning what changes needs it only for a write that
    // is part of a loop (below): a busy object that never loops is then never decoded (10,000 objects rewritten every
    // 10 s each kept a decoded body, 17 MB of the recorder's heap).
    if (busy && v.hasBody && judgesProgress) changes = changesOf(fact.previous, v);
    if (alreadyCounted) {
      if (!g || !run?.hot) return;
    } else {
      const progress = changes === null ? (busy && !judgesProgress ? false : null) : v.statusWrite || changes.some((c) => c.path.startsWith('.status.')) ? makesProgress(v.object!, changes) : false;
      const hit = push(w.runs, writer, v.time, v.seq, v.rv, progress, context);
      if (!hit) return;
      g = recordHit(object, 'hot-write', writer, via, hit, 'write');
    }
    if (v.source === 'import') g.data.estimated = true;
    if (learning && changes === null && v.hasBody) changes = changesOf(fact.previous, v);
    // Changes read only to judge progress teach nothing: a session read with facts (which tell when the status is
    // untouched) and the same session without them must word their findings alike.
    if (changes && learning) {
      sample(g, changes);
      remember(g, changes);
    }
  }

  function onApi(fact: Extract<Fact, { type: 'api' }>, context: DetectorContext): void {
    const r = fact.record;
    if (r.code === 404) notFound.add(nameKey(r.object));
    if (isTimerKind(`${r.object.group}/${r.object.kind}`)) {
      const time = parseTime(r.observedAt);
      if (r.object.kind === 'Lease' && time !== null && r.code >= 200 && r.code < 300) leaseWrites.set(`${r.object.namespace ?? ''}/${r.object.name}|${r.actor}`, time);
      return;
    }
    if (fact.version || fact.object?.streamKey || r.code < 200 || r.code >= 300) return;
    if (r.verb !== 'update' && r.verb !== 'patch') return;
    const time = parseTime(r.observedAt);
    if (time === null) return;
    const key = fact.object?.uid ?? nameKey(r.object);
    const w = watched(key);
    if (w.lock) return;
    if (r.resourceVersionAfter && w.counted?.has(r.resourceVersionAfter)) return;
    flushApi(w, context);
    w.pendingApi = {
      writer: r.actor,
      via: r.origin === 'ingest' ? 'sdk' : 'audit-user',
      time,
      seq: r.seq,
      rv: r.resourceVersionAfter ?? null,
      what: `${r.verb}${r.subresource ? ` ${r.subresource}` : ''}`,
      subject: fact.object ?? r.object,
    };
  }

  function onReconcile(fact: Extract<Fact, { type: 'reconcile' }>, context: DetectorContext): void {
    const r = fact.record;
    if (r.result === 'error') return;
    // A requeue of a gone key is still a loop (nothing backs it off); an event-driven success is the stale cache.
    if (r.result === 'success' && notFound.has(nameKey(r.object))) return;
    const time = parseTime(r.startedAt);
    if (time === null) return;
    const key = fact.object?.uid ?? nameKey(r.object);
    let runs = reconciles.get(key);
    if (!runs) reconciles.set(key, (runs = new Map()));
    const generation = r.observedGeneration ?? fact.object?.latest?.generation ?? null;
    const run = runs.get(r.controller);
    // A new generation is new input: the count starts again.
    if (run && generation !== null && run.generation !== generation) runs.set(r.controller, new Run());
    const hit = push(runs, r.controller, time, r.seq, r.observedResourceVersion ?? null, null, context);
    runs.get(r.controller)!.generation = generation;
    if (!hit) return;
    const g = recordHit(fact.object ?? r.object, 'hot-reconcile', r.controller, 'sdk', hit, `reconcile (${r.result})`);
    g.data.results.set(r.result, (g.data.results.get(r.result) ?? 0) + (hit.started ? hit.run.length : 1));
  }

  return {
    kind: 'hot-loop',
    facts: ['version', 'api', 'reconcile', 'gone'],
    observe(fact: Fact, context: DetectorContext) {
      switch (fact.type) {
        case 'version':
          return onVersion(fact, context);
        case 'api':
          return onApi(fact, context);
        case 'reconcile':
          return onReconcile(fact, context);
        case 'gone': {
          const w = objects.get(fact.object.uid);
          if (w) flushApi(w, context);
          objects.delete(fact.object.uid);
          reconciles.delete(fact.object.uid);
          children.delete(fact.object.uid);
          ownerChain.delete(fact.object.uid);
          podFollowers.get(fact.object.ref.namespace ?? '')?.delete(fact.object.uid);
          return;
        }
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        // A held-back write whose version never came counts now; on a copy, for its version may still come.
        for (const w of objects.values()) if (w.pendingApi) flushApi(copyWatched(w), context);
        // One cause, one finding: when the writes loop, the reconciles that drive them are the same loop.
        const writing = new Set<string>();
        for (const g of groups.all()) if (g.rule === 'hot-write') writing.add(g.objectKey);
        for (const g of [...groups.all()]) if (g.rule === 'hot-reconcile' && writing.has(g.objectKey)) groups.delete(g);
        const controller = context.controller();
        // Reconcile reports come from the SDK inside the controller under debug.
        for (const g of groups.all()) g.blame = { actor: g.data.writer, via: g.data.via, role: g.data.via === 'sdk' ? 'controller' : roleOf(controller, g.data.writer) };
        const window = formatDuration(context.thresholds.hotLoopWindow);
        return groups.findings((g) => {
          const d = g.data;
          const name = describeObject(g.object);
          const peak = `up to ${d.peak} within ${window}`;
          if (g.rule === 'hot-reconcile') {
            const results = [...d.results].map(([result, n]) => `${n} ${result}`).join(', ');
            return `${d.writer} reconciled ${name} ${g.count} times in hot bursts (${peak}) while its generation stayed the same; results: ${results}. Nothing that changes its input was seen: a requeue without backoff or an event source that fires on its own writes.`;
          }
          const changing = d.changing ?? describeChanges(d);
          return `${d.writer} wrote ${name} ${g.count} times (${peak}${d.estimated ? '; times from managedFields, to the second: the dump carries no event times' : ''}), each write followed by its next with no change by anyone else to the object, its owners or its children in between, and no status number converging.${changing} Each write probably triggers the next reconcile.`;
        });
      });
    },
  };
}
