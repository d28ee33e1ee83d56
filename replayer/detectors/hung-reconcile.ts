import { describeObject, nameKey, type Finding, type ObjectRef } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact, ObjectState } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface Open {
  seq: number;
  started: number;
  controller: string;
  subject: ObjectState | ObjectRef;
  observedRV: string | null;
  /** The controller's finished reconciles (any key) when this one started: were the other workers still busy? */
  finishedBefore: number;
}

interface Data {
  controller: string;
  longest: number;
  /** never-finished: reconciles of other keys the controller finished while this one ran. */
  othersFinished: number;
  stillRunning: boolean;
}

/**
 * hung-reconcile: a reconcile that held its worker far longer than the threshold (`hungReconcileAfter`).
 *  - never-finished: the SDK reported the start (a `reconcile-start` record) and no finish came by the end of the
 *    session, which ended at least the threshold after the start. Pairing is by controller, object and startedAt:
 *    the workqueue never gives one key to two workers at once (client-go util/workqueue/doc.go, "Stingy"), so a
 *    later start or finish of the same key also proves the earlier call is over (finished unreported, or its
 *    process died): it is dropped rather than guessed at.
 *  - slow: a finished reconcile whose finishedAt is at least the threshold after its startedAt (works without start
 *    records, so older SDKs' sessions are judged too).
 * The usual cause is a call with no deadline: controller-runtime passes Reconcile a context without a timeout
 * unless ReconciliationTimeout is set ("By default, there is no timeout": pkg/controller/controller.go), and a
 * rest.Config or http.Client without Timeout waits forever. Requests to the API server itself end within its
 * --request-timeout (60 s by default, apiserver pkg/server/config.go), so a reconcile stuck longer is waiting on
 * something else, or retrying.
 */
export function hungReconcile(): Detector {
  const open = new Map<string, Open>();
  /** startedAt of the newest finished reconcile per key: a start no newer than it is already over. */
  const lastFinishedStart = new Map<string, number>();
  const finishedBy = new Map<string, number>();
  const groups = new FindingGroups<Data>('hung-reconcile', () => ({ controller: '', longest: 0, othersFinished: 0, stillRunning: false }));

  const keyOf = (controller: string, ref: ObjectRef) => `${controller}\u0000${nameKey(ref)}`;

  return {
    kind: 'hung-reconcile',
    facts: ['reconcile-start', 'reconcile'],
    observe(fact: Fact, context: DetectorContext) {
      if (fact.type === 'reconcile-start') {
        const r = fact.record;
        const started = parseTime(r.startedAt);
        if (started === null) return;
        const key = keyOf(r.controller, r.object);
        if ((lastFinishedStart.get(key) ?? Number.NEGATIVE_INFINITY) >= started) return;
        open.set(key, {
          seq: r.seq,
          started,
          controller: r.controller,
          subject: fact.object ?? r.object,
          observedRV: r.observedResourceVersion ?? null,
          finishedBefore: finishedBy.get(r.controller) ?? 0,
        });
        return;
      }
      if (fact.type !== 'reconcile') return;
      const r = fact.record;
      const started = parseTime(r.startedAt);
      const finished = parseTime(r.finishedAt);
      if (started === null || finished === null) return;
      const key = keyOf(r.controller, r.object);
      finishedBy.set(r.controller, (finishedBy.get(r.controller) ?? 0) + 1);
      lastFinishedStart.set(key, Math.max(started, lastFinishedStart.get(key) ?? Number.NEGATIVE_INFINITY));
      const start = open.get(key);
      if (start && start.started <= started) open.delete(key);
      const took = finished - started;
      if (took < context.thresholds.hungReconcileAfter) return;
      const g = groups.hit(fact.object ?? r.object, 'slow', {
        evidence: [
          start && start.started === started && ev(start.seq, `reconcile by ${r.controller} started`, start.observedRV),
          ev(r.seq, `reconcile finished (${r.result}${r.errorReason ? ` ${r.errorReason}` : ''}) ${formatDuration(took)} after it started`, r.observedResourceVersion),
        ],
      });
      g.severity = 'warning';
      g.data.controller ||= r.controller;
      g.data.longest = Math.max(g.data.longest, took);
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        const end = context.state.now;
        const threshold = context.thresholds.hungReconcileAfter;
        if (end !== null) {
          for (const start of open.values()) {
            const running = end - start.started;
            if (running < threshold) continue;
            const g = groups.hit(start.subject, 'never-finished', {
              evidence: [ev(start.seq, `reconcile by ${start.controller} started; no finish reported in the ${formatDuration(running)} until the session ended`, start.observedRV)],
            });
            g.data.controller ||= start.controller;
            g.data.longest = Math.max(g.data.longest, running);
            g.data.othersFinished = (finishedBy.get(start.controller) ?? 0) - start.finishedBefore;
            g.data.stillRunning = true;
          }
        }
        // Reconcile reports come from the SDK inside the controller under debug.
        for (const g of groups.all()) g.blame = { actor: g.data.controller, via: 'sdk', role: 'controller' };
        return groups.findings((g) => {
          const d = g.data;
          const name = describeObject(g.object);
          if (g.rule === 'never-finished') {
            const others =
              d.othersFinished > 0
                ? `; meanwhile it finished ${d.othersFinished} reconcile(s) of other objects, so other workers were free`
                : '; it finished no other reconcile after that, so its workers were probably all taken';
            return `A reconcile of ${name} by ${d.controller} started and was still running ${formatDuration(d.longest)} later, when the session ended${others}: a call without a deadline is waiting on something slow.`;
          }
          return `${d.controller} took ${formatDuration(d.longest)} to reconcile ${name}${g.count > 1 ? ` (longest of ${g.count} reconciles over ${formatDuration(threshold)})` : ''}, holding a worker and the key all that time: a call without a deadline waited on something slow.`;
        });
      });
    },
  };
}
