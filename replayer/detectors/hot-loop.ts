import { describeObject, nameKey, type Finding, type ObjectRef } from '../../model/index.js';
import { diffObjects, diffSections } from '../diff.js';
import { ev, FindingGroups, type Group } from '../finding-groups.js';
import { hashString } from '../object-meta.js';
import { RecentSet, type Fact, type ObjectState, type Version } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface Window {
  times: number[];
  seqs: number[];
  rvs: (string | null)[];
  hot: boolean;
}

interface ObjectLoops {
  generation: number | null;
  writers: Map<string, Window>;
  counted: RecentSet;
  /** Every write (idle or not) per writer within the window: the content is compared only for busy objects. */
  recent: Map<string, number[]>;
  /** Content fingerprints (timestamps masked) of the last writes: an idle write repeats one of them. */
  states: number[];
  /** An API write waiting to see whether its version (with the body) follows, as audit imports do. */
  pendingApi: { writer: string; time: number; seq: number; rv: string | null; generation: number | null; what: string; subject: ObjectState | ObjectRef } | null;
}

/** A JSON string value that starts like an RFC 3339 time (metav1.Time, metav1.MicroTime). */
const jsonTime = /"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^"]*"/g;

/**
 * What an object says, minus what changes by itself: bookkeeping metadata and every RFC 3339 time. Two versions
 * with the same content fingerprint differ only in timestamps (or not at all).
 */
export function contentFingerprint(object: Record<string, unknown>): number {
  const { metadata, ...rest } = object;
  const m = (metadata ?? {}) as Record<string, unknown>;
  const text = JSON.stringify([rest, m.labels, m.annotations, m.finalizers, m.ownerReferences]);
  return hashString(text.replace(jsonTime, '0'));
}

interface Data {
  writer: string;
  generation: number | null;
  paths: Map<string, number>;
  diffs: number;
  peak: number;
  shortest: number;
  results: Map<string, number>;
}

const sampledDiffs = 50;

/**
 * Kinds written on a timer by design: leader-election Leases renew every RetryPeriod (client-go
 * tools/leaderelection, 2 s by default), node heartbeat Leases every 10 s, and Events count up in series.
 */
const heartbeatKinds: ReadonlySet<string> = new Set(['coordination.k8s.io/Lease', '/Event', 'events.k8s.io/Event']);

/**
 * hot-loop: one manager writes the same object again and again (default ≥ 10 writes within 60 s) while its
 * generation, i.e. its spec, does not change: each write changes something that triggers the next reconcile (a
 * timestamp in status, a field the API server defaults or re-orders, a requeue without backoff). The finding shows
 * which JSON paths change between consecutive versions, from up to 50 sampled writes.
 *
 * Writes come from the versions the watch or the audit log show, attributed to a manager by managedFields; for
 * resources nobody watched, from API records (actor = audit user). Reconciles of the same key that repeat the same
 * way without any write we could see are a 'hot-reconcile' (errors are excluded: controller-runtime's rate limiter
 * retries those with exponential backoff by design).
 */
export function hotLoop(): Detector {
  const objects = new Map<string, ObjectLoops>();
  const reconciles = new Map<string, ObjectLoops>();
  const groups = new FindingGroups<Data>('hot-loop', () => ({ writer: '', generation: null, paths: new Map(), diffs: 0, peak: 0, shortest: Number.POSITIVE_INFINITY, results: new Map() }));

  function loops(map: Map<string, ObjectLoops>, key: string): ObjectLoops {
    let l = map.get(key);
    if (!l) {
      l = { generation: null, writers: new Map(), counted: new RecentSet(32), recent: new Map(), states: [], pendingApi: null };
      map.set(key, l);
    }
    return l;
  }

  /**
   * Progress is not a loop: a rollout makes the Deployment controller write status many times a minute, each time
   * with new replica counts. Only idle writes count: the content (timestamps masked) is the same as before, or
   * goes back to a state already seen in the window (flapping). Content is only compared once the object is
   * written half as often as the threshold within the window, so quiet objects cost nothing.
   */
  function idle(l: ObjectLoops, writer: string, time: number, generation: number | null, version: Version, context: DetectorContext): boolean {
    if (generation !== null && generation !== l.generation) {
      l.writers.clear();
      l.recent.clear();
      l.states.length = 0;
      l.generation = generation;
    }
    let times = l.recent.get(writer);
    if (!times) {
      times = [];
      l.recent.set(writer, times);
    }
    times.push(time);
    while (times.length && time - times[0]! > context.thresholds.hotLoopWindow) times.shift();
    // Quiet objects cost nothing: content is compared only once a writer is half-way to a hot loop.
    if (times.length < Math.max(3, Math.ceil(context.thresholds.hotLoopWrites / 2))) {
      if (l.states.length) l.states.length = 0;
      return false;
    }
    // The first read of the body: a quiet object's versions are never decoded.
    const fp = contentFingerprint(version.object!);
    const repeated = l.states.includes(fp);
    l.states.push(fp);
    if (l.states.length > 16) l.states.shift();
    return repeated;
  }

  /** Counts a held-back API write whose version never came (audit level Metadata: no body to judge). */
  function flushApi(l: ObjectLoops, context: DetectorContext): void {
    const p = l.pendingApi;
    if (!p) return;
    l.pendingApi = null;
    if (p.rv) l.counted.add(p.rv);
    const hit = push(l, p.writer, p.time, p.seq, p.rv, p.generation, context);
    if (hit) recordHit(p.subject, 'hot-write', p.writer, p.generation, hit, p.what);
  }

  /** Adds one write; returns the window when it is (still) hot. */
  function push(l: ObjectLoops, writer: string, time: number, seq: number, rv: string | null, generation: number | null, context: DetectorContext): { window: Window; started: boolean } | null {
    if (generation !== null && generation !== l.generation) {
      // The spec changed: that is new input, and writes after it start a new count.
      l.writers.clear();
      l.recent.clear();
      l.states.length = 0;
      l.generation = generation;
    }
    let w = l.writers.get(writer);
    if (!w) {
      w = { times: [], seqs: [], rvs: [], hot: false };
      l.writers.set(writer, w);
    }
    w.times.push(time);
    w.seqs.push(seq);
    w.rvs.push(rv);
    const limit = context.thresholds.hotLoopWindow;
    while (w.times.length && time - w.times[0]! > limit) {
      w.times.shift();
      w.seqs.shift();
      w.rvs.shift();
    }
    if (w.times.length >= context.thresholds.hotLoopWrites) {
      const started = !w.hot;
      w.hot = true;
      return { window: w, started };
    }
    w.hot = false;
    return null;
  }

  function recordHit(subject: ObjectState | Parameters<FindingGroups<Data>['hit']>[0], rule: string, writer: string, generation: number | null, hit: { window: Window; started: boolean }, what: string) {
    const w = hit.window;
    const n = w.seqs.length;
    const g = groups.hit(subject, rule, {
      evidence: hit.started
        ? [ev(w.seqs[0], `${what} by ${writer} (1 of ${n} within the window)`, w.rvs[0]), ev(w.seqs[n - 1], `${what} by ${writer} (${n} within ${formatDuration(w.times[n - 1]! - w.times[0]!)})`, w.rvs[n - 1])]
        : [ev(w.seqs[n - 1], `${what} by ${writer}`, w.rvs[n - 1])],
      count: hit.started ? n : 1,
    });
    g.data.writer ||= writer;
    g.data.generation ??= generation;
    if (n > g.data.peak) g.data.peak = n;
    const span = w.times[n - 1]! - w.times[0]!;
    if (span < g.data.shortest) g.data.shortest = span;
    return g;
  }

  return {
    kind: 'hot-loop',
    facts: ['version', 'api', 'reconcile', 'gone'],
    observe(fact: Fact, context: DetectorContext) {
      switch (fact.type) {
        case 'version': {
          const v = fact.version;
          if (heartbeatKinds.has(fact.object.kindKey)) return;
          if (fact.late || v.type !== 'MODIFIED' || v.source === 'relist' || v.time === null || v.writer === null) return;
          const l = loops(objects, fact.object.uid);
          let writer = v.writer;
          if (l.pendingApi && l.pendingApi.rv === v.rv) {
            // The version of the API write we held back: judge it by its content, name it by the API's user.
            writer = l.pendingApi.writer;
            l.pendingApi = null;
          } else flushApi(l, context);
          let g: Group<Data> | undefined;
          if (l.counted.has(v.rv)) {
            // Already counted from its API record (audit logs put the request first): only sample what changed.
            g = groups.get(fact.object, 'hot-write');
            if (!g || ![...l.writers.values()].some((w) => w.hot)) return;
          } else {
            l.counted.add(v.rv);
            if (v.hasBody && !idle(l, writer, v.time, v.generation, v, context)) return;
            const hit = push(l, writer, v.time, v.seq, v.rv, v.generation, context);
            if (!hit) return;
            g = recordHit(fact.object, 'hot-write', writer, v.generation, hit, 'write');
          }
          if (g.data.diffs < sampledDiffs && v.hasBody && fact.previous?.hasBody && v.object && fact.previous.object) {
            g.data.diffs++;
            const diff = diffObjects(fact.previous.object, v.object);
            for (const section of diffSections) {
              for (const entry of diff.sections[section]) {
                if (entry.path === '.metadata.resourceVersion') continue;
                g.data.paths.set(entry.path, (g.data.paths.get(entry.path) ?? 0) + 1);
              }
            }
          }
          return;
        }
        case 'api': {
          const r = fact.record;
          if (heartbeatKinds.has(`${r.object.group}/${r.object.kind}`)) return;
          if (fact.version || fact.object?.streamKey || r.code < 200 || r.code >= 300) return;
          if (r.verb !== 'update' && r.verb !== 'patch') return;
          const time = parseTime(r.observedAt);
          if (time === null) return;
          const key = fact.object?.uid ?? nameKey(r.object);
          const l = loops(objects, key);
          if (r.resourceVersionAfter && l.counted.has(r.resourceVersionAfter)) return;
          flushApi(l, context);
          l.pendingApi = {
            writer: r.actor,
            time,
            seq: r.seq,
            rv: r.resourceVersionAfter ?? null,
            generation: fact.object?.latest?.generation ?? null,
            what: `${r.verb}${r.subresource ? ` ${r.subresource}` : ''}`,
            subject: fact.object ?? r.object,
          };
          return;
        }
        case 'reconcile': {
          const r = fact.record;
          if (r.result === 'error') return;
          const time = parseTime(r.startedAt);
          if (time === null) return;
          const key = fact.object?.uid ?? nameKey(r.object);
          const generation = r.observedGeneration ?? fact.object?.latest?.generation ?? null;
          const hit = push(loops(reconciles, key), r.controller, time, r.seq, r.observedResourceVersion ?? null, generation, context);
          if (!hit) return;
          const g = recordHit(fact.object ?? r.object, 'hot-reconcile', r.controller, generation, hit, `reconcile (${r.result})`);
          g.data.results.set(r.result, (g.data.results.get(r.result) ?? 0) + (hit.started ? hit.window.seqs.length : 1));
          return;
        }
        case 'gone': {
          const l = objects.get(fact.object.uid);
          if (l) flushApi(l, context);
          objects.delete(fact.object.uid);
          reconciles.delete(fact.object.uid);
          return;
        }
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      for (const l of objects.values()) flushApi(l, context);
      // One cause, one finding: when the writes loop, the reconciles that drive them are the same loop.
      const writing = new Set<string>();
      for (const g of groups.all()) if (g.rule === 'hot-write') writing.add(g.objectKey);
      for (const g of [...groups.all()]) if (g.rule === 'hot-reconcile' && writing.has(g.objectKey)) groups.delete(g);
      const window = formatDuration(context.thresholds.hotLoopWindow);
      return groups.findings((g) => {
        const d = g.data;
        const name = describeObject(g.object);
        const generation = d.generation !== null ? ` while its generation stayed ${d.generation}` : '';
        const peak = `up to ${d.peak} within ${window}`;
        if (g.rule === 'hot-reconcile') {
          const results = [...d.results].map(([result, n]) => `${n} ${result}`).join(', ');
          return `${d.writer} reconciled ${name} ${g.count} times in hot bursts (${peak})${generation}; results: ${results}. Nothing that changes its input was seen: a requeue without backoff or an event source that fires on its own writes.`;
        }
        const top = [...d.paths].sort((a, b) => b[1] - a[1]).slice(0, 5);
        const changing = top.length ? ` What changes from one write to the next (${d.diffs} sampled): ${top.map(([path, n]) => (n === d.diffs ? path : `${path} (${n}×)`)).join(', ')}.` : '';
        return `${d.writer} wrote ${name} ${g.count} times without changing anything but timestamps, or flapping between the same states (${peak})${generation}.${changing} Each write probably triggers the next reconcile.`;
      });
    },
  };
}
