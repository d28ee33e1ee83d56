import { describeObject, type Finding } from '../../model/index.js';
import { kindKey } from '../fold/context.js';
import { ev, FindingGroups } from '../finding-groups.js';
import { rvNumber } from '../rv.js';
import type { Fact, ObjectState } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

/** A change that reached the controller and waits for a reconcile that reads it (or something newer). */
interface Pending {
  rv: string;
  rvNum: number;
  /** Its place among the object's watch deliveries; NaN when only a handler report told of it. */
  order: number;
  /** When it reached the controller: the earlier of the watch delivery and the handler report. */
  arrival: number;
  seq: number;
  watchAt: number | null;
  handlerAt: number | null;
}

interface PerObject {
  pending: Pending[];
  /** Handler reports of versions the watch has not delivered yet (it may come a moment later). */
  handled: { rv: string; time: number; seq: number }[];
  /** The newest finished reconcile of the key. */
  lastStart: number;
  lastFinish: number;
}

/** One reconcile that came for changes: how long the oldest of them waited. */
interface Late {
  object: ObjectState;
  lag: number;
  arrival: number;
  arrivalSeq: number;
  reconcileSeq: number;
  rv: string;
  /** The handler report came this long after the watch delivered the version (null: not both known). */
  handlerDelay: number | null;
}

/** A run of consecutive late reconciles of one controller. */
interface Run {
  controller: string;
  count: number;
  firstArrival: number;
  lastArrival: number;
  first: Late;
  last: Late;
  worst: Late;
  objects: Set<string>;
  head: Late[];
  tail: Late[];
  handlerDelayMax: number | null;
}

interface Data {
  controller: string;
  first: Late | null;
  last: Late | null;
  worst: Late | null;
  objects: number;
  span: number;
  handlerDelayMax: number | null;
}

const pendingLimit = 64;
const keptPerRun = 6;

/**
 * reconcile-lag: changes wait longer and longer for the reconcile that handles them — the controller's queue is
 * backing up.
 *
 * A change is a new resourceVersion reaching the controller: a watch delivery (classification `new`) or the SDK's
 * handler report, whichever came first. Only changes every predicate lets through count — creations and spec
 * changes (generation bumps) — so a status write that GenerationChangedPredicate drops does not wait "forever";
 * and only for kinds the controller reconciles (it reported a reconcile of that kind before). The reconcile that
 * handles it is the first reconcile of the object (start or finish report) that read that version or a newer one
 * (observedResourceVersion, by delivery order, else as integers); one without observedResourceVersion handles what
 * arrived before it started (it reads the cache, which had it).
 *
 * Not lag:
 *  - the workqueue collapsing many changes into one item (client-go util/workqueue queue.go: an item added while
 *    queued is not added twice): one reconcile handles them all and counts once, for the oldest;
 *  - waiting for a running reconcile of the same key (the queue holds the key back until Done, "Stingy"): the wait
 *    counts from that reconcile's finish;
 *  - a burst worked off: a late reconcile counts toward a finding only in a run of late ones (lag over
 *    `reconcileLag`) whose changes arrived over at least `reconcileLag` too. A thousand objects created at once
 *    and a single worker make late reconciles for a while; a blocked handler makes every later change late.
 * A blocking event handler is the classic cause: client-go calls each handler synchronously from its
 * processorListener and keeps what it has not delivered in an unbounded buffer (tools/cache/shared_informer.go),
 * so each slow call delays every later event.
 */
export function reconcileLag(): Detector {
  const objects = new Map<string, PerObject>();
  const runs = new Map<string, Run>();
  const groups = new FindingGroups<Data>('reconcile-lag', () => ({ controller: '', first: null, last: null, worst: null, objects: 0, span: 0, handlerDelayMax: null }));

  function stateOf(object: ObjectState): PerObject {
    let s = objects.get(object.uid);
    if (!s) objects.set(object.uid, (s = { pending: [], handled: [], lastStart: Number.NEGATIVE_INFINITY, lastFinish: Number.NEGATIVE_INFINITY }));
    return s;
  }

  function add(object: ObjectState, change: Pending): void {
    const s = stateOf(object);
    // The oldest waiting change decides the lag; past the limit newer ones add nothing.
    if (s.pending.length < pendingLimit) s.pending.push(change);
  }

  /** The delivery order of a version the watch delivered, when still remembered. */
  function orderOf(object: ObjectState, rv: string): number {
    const ring = object.delivered;
    const rvNum = rvNumber(rv);
    for (let slot = 0; slot < ring.size; slot++) if (ring.hasRV(slot, rv, rvNum) && !ring.isDeleted(slot)) return ring.order(slot);
    return Number.NaN;
  }

  /** Whether the watch delivered this RV before `before` (and it is still remembered). */
  function deliveredBefore(object: ObjectState, rv: string, before: number): boolean {
    const ring = object.delivered;
    const rvNum = rvNumber(rv);
    for (let slot = 0; slot < ring.size; slot++) {
      const time = ring.time(slot);
      if (time !== null && time < before && ring.hasRV(slot, rv, rvNum)) return true;
    }
    return false;
  }

  /** The reconcile read `observed`: does that include `change`? */
  function covers(object: ObjectState, observed: string, change: Pending): boolean {
    if (observed === change.rv) return true;
    const order = orderOf(object, observed);
    if (!Number.isNaN(order) && !Number.isNaN(change.order)) return order >= change.order;
    const n = rvNumber(observed);
    return !Number.isNaN(n) && !Number.isNaN(change.rvNum) && n >= change.rvNum;
  }

  function close(run: Run, threshold: number): void {
    if (run.count < 3 || run.lastArrival - run.firstArrival < threshold) return;
    const shown = [...run.head, ...run.tail];
    const g = groups.hit(run.worst.object, 'sustained-lag', {
      evidence: shown.flatMap((late) => [
        ev(late.arrivalSeq, `change reached the controller (resourceVersion ${late.rv}, ${describeObject(late.object.ref)})`, late.rv),
        ev(late.reconcileSeq, `reconcile that handles it started ${formatDuration(late.lag)} later`),
      ]),
      count: run.count,
    });
    const d = g.data;
    d.controller ||= run.controller;
    d.first ??= run.first;
    d.last = run.last;
    if (!d.worst || run.worst.lag > d.worst.lag) d.worst = run.worst;
    d.objects = Math.max(d.objects, run.objects.size);
    d.span = Math.max(d.span, run.lastArrival - run.firstArrival);
    if (run.handlerDelayMax !== null) d.handlerDelayMax = Math.max(d.handlerDelayMax ?? 0, run.handlerDelayMax);
  }

  function onReconcile(object: ObjectState, controller: string, seq: number, started: number, observed: string | null, threshold: number): void {
    const s = objects.get(object.uid);
    if (!s || !s.pending.length) return;
    const handled: Pending[] = [];
    const waiting: Pending[] = [];
    for (const p of s.pending) {
      const done = observed !== null ? covers(object, observed, p) : p.arrival <= started;
      (done ? handled : waiting).push(p);
    }
    if (!handled.length) return;
    s.pending = waiting;
    let oldest = handled[0]!;
    for (const p of handled) if (p.arrival < oldest.arrival) oldest = p;
    // Waiting for the key's previous reconcile, running when the change came, to finish is the workqueue keeping one
    // key on one worker, not lag.
    const base = s.lastStart <= oldest.arrival ? Math.max(oldest.arrival, s.lastFinish) : oldest.arrival;
    const lag = Math.max(0, started - base);
    const handlerDelay = oldest.watchAt !== null && oldest.handlerAt !== null ? oldest.handlerAt - oldest.watchAt : null;
    const late: Late = { object, lag, arrival: oldest.arrival, arrivalSeq: oldest.seq, reconcileSeq: seq, rv: oldest.rv, handlerDelay };
    let run = runs.get(controller);
    if (lag <= threshold) {
      if (run) {
        close(run, threshold);
        runs.delete(controller);
      }
      return;
    }
    if (!run) {
      run = {
        controller,
        count: 0,
        firstArrival: late.arrival,
        lastArrival: late.arrival,
        first: late,
        last: late,
        worst: late,
        objects: new Set(),
        head: [],
        tail: [],
        handlerDelayMax: null,
      };
      runs.set(controller, run);
    }
    run.count++;
    run.firstArrival = Math.min(run.firstArrival, late.arrival);
    run.lastArrival = Math.max(run.lastArrival, late.arrival);
    run.last = late;
    if (late.lag > run.worst.lag) run.worst = late;
    if (run.objects.size < 1000) run.objects.add(object.uid);
    if (handlerDelay !== null) run.handlerDelayMax = Math.max(run.handlerDelayMax ?? 0, handlerDelay);
    if (run.head.length < keptPerRun) run.head.push(late);
    else {
      run.tail.push(late);
      if (run.tail.length > keptPerRun) run.tail.shift();
    }
  }

  return {
    kind: 'reconcile-lag',
    facts: ['delivery', 'handler', 'reconcile-start', 'reconcile', 'gone'],
    observe(fact: Fact, context: DetectorContext) {
      const threshold = context.thresholds.reconcileLag;
      switch (fact.type) {
        case 'delivery': {
          const r = fact.record;
          if (fact.classification !== 'new' || r.type === 'DELETED') return;
          if (!context.state.reconciledKinds.has(kindKey(fact.object.ref))) return;
          const time = parseTime(r.observedAt);
          if (time === null) return;
          // Creations and spec changes: what every predicate passes (GenerationChangedPredicate drops the rest).
          const previous = fact.previous?.generation ?? null;
          const change = r.type === 'ADDED' || (r.generation !== null && previous !== null && r.generation > previous);
          if (!change) return;
          let order = Number.NaN;
          const ring = fact.object.delivered;
          for (let slot = 0; slot < ring.size; slot++) if (ring.seq(slot) === r.seq) order = ring.order(slot);
          // The controller's informer may have handed it over before the recorder's watch delivered it.
          const early = objects.get(fact.object.uid)?.handled.find((h) => h.rv === r.resourceVersion);
          const arrival = early && early.time < time ? early : { time, seq: r.seq };
          add(fact.object, { rv: r.resourceVersion, rvNum: rvNumber(r.resourceVersion), order, arrival: arrival.time, seq: arrival.seq, watchAt: time, handlerAt: early?.time ?? null });
          return;
        }
        case 'handler': {
          const r = fact.record;
          const object = fact.object;
          if (!object || fact.resync || r.handler === 'delete' || !r.resourceVersion) return;
          if (!context.state.reconciledKinds.has(kindKey(object.ref))) return;
          const time = parseTime(r.observedAt);
          if (time === null) return;
          const s = objects.get(object.uid);
          const known = s?.pending.find((p) => p.rv === r.resourceVersion);
          if (known) {
            known.handlerAt = time;
            if (time < known.arrival) {
              known.arrival = time;
              known.seq = r.seq;
            }
            return;
          }
          if (r.handler === 'update') {
            // The watch may deliver it in a moment; alone, an update says nothing about whether the spec changed.
            const state = stateOf(object);
            state.handled.push({ rv: r.resourceVersion, time, seq: r.seq });
            if (state.handled.length > 8) state.handled.shift();
            return;
          }
          // An add the watch did not show as new (the recorder listed it, or records no watch): a creation, unless the
          // watch had it long before (the controller's own initial list after a restart).
          if (deliveredBefore(object, r.resourceVersion, time - threshold)) return;
          add(object, { rv: r.resourceVersion, rvNum: rvNumber(r.resourceVersion), order: orderOf(object, r.resourceVersion), arrival: time, seq: r.seq, watchAt: null, handlerAt: time });
          return;
        }
        case 'reconcile-start': {
          const started = parseTime(fact.record.startedAt);
          if (!fact.object || started === null) return;
          onReconcile(fact.object, fact.record.controller, fact.record.seq, started, fact.record.observedResourceVersion ?? null, threshold);
          return;
        }
        case 'reconcile': {
          const r = fact.record;
          const started = parseTime(r.startedAt);
          const finished = parseTime(r.finishedAt);
          if (!fact.object || started === null || finished === null) return;
          onReconcile(fact.object, r.controller, r.seq, started, r.observedResourceVersion ?? null, threshold);
          const s = objects.get(fact.object.uid);
          if (s && finished >= s.lastFinish) {
            s.lastStart = started;
            s.lastFinish = finished;
          }
          return;
        }
        case 'gone':
          objects.delete(fact.object.uid);
          return;
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        for (const run of runs.values()) close(run, context.thresholds.reconcileLag);
        // Reconcile reports come from the SDK inside the controller under debug.
        for (const g of groups.all()) g.blame = { actor: g.data.controller, via: 'sdk', role: 'controller' };
        return groups.findings((g) => {
          const d = g.data;
          const worst = d.worst!;
          const trend = d.first && d.last && d.last.lag > d.first.lag ? `, growing from ${formatDuration(d.first.lag)} to ${formatDuration(d.last.lag)}` : '';
          const where =
            d.handlerDelayMax === null
              ? ''
              : d.handlerDelayMax > context.thresholds.reconcileLag / 2
                ? ' The handler reports themselves came late: the informer is delivering events slowly (a blocked event handler holds up the ones after it).'
                : ' The informer handed the changes over on time (handler reports), so they waited in the event handlers or the workqueue.';
          return `${d.controller} reconciled ${g.count} change(s) of ${d.objects} object(s) more than ${formatDuration(context.thresholds.reconcileLag)} after they reached it${trend}, for changes arriving over ${formatDuration(d.span)}; the longest wait was ${formatDuration(worst.lag)}, for ${describeObject(worst.object.ref)} (resourceVersion ${worst.rv}). Its queue is backing up: a blocking call in an event handler, or too few workers.${where}`;
        });
      });
    },
  };
}
