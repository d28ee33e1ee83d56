import { describeObject, type Finding } from '../../model/index.js';
import { kindKey } from '../fold.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact } from '../state.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface Tracking {
  generation: number | null;
  since: number | null;
  sinceSeq: number;
  sinceRV: string;
  reconciledGeneration: number;
  lastGoodStart: number | null;
  reconciles: number;
  lastReconcileSeq: number | null;
}

interface Data {
  generation: number;
  observed: number | null;
  reconciled: number;
  age: number;
  reconciles: number;
}

/**
 * unreconciled: when the session ends, the newest generation of a live object was not observed, neither by a
 * successful reconcile (its observedGeneration, or a start after that generation appeared when the report has
 * none) nor by status.observedGeneration, and that has lasted longer than the threshold.
 *
 * Only objects whose kind uses status.observedGeneration somewhere in the session, or that have reconcile records,
 * are judged: a ConfigMap has no generation, and a kind nobody reports on says nothing about a controller.
 * Objects being deleted are left to stuck-finalizer (setting deletionTimestamp bumps the generation too).
 */
export function unreconciled(): Detector {
  const tracked = new Map<string, Tracking>();
  const groups = new FindingGroups<Data>('unreconciled', () => ({ generation: 0, observed: null, reconciled: 0, age: 0, reconciles: 0 }));

  function track(uid: string): Tracking {
    let t = tracked.get(uid);
    if (!t) {
      t = { generation: null, since: null, sinceSeq: 0, sinceRV: '', reconciledGeneration: -1, lastGoodStart: null, reconciles: 0, lastReconcileSeq: null };
      tracked.set(uid, t);
    }
    return t;
  }

  return {
    kind: 'unreconciled',
    facts: ['version', 'reconcile', 'gone'],
    observe(fact: Fact) {
      switch (fact.type) {
        case 'version': {
          const v = fact.version;
          if (fact.late || v.generation === null) return;
          const t = track(fact.object.uid);
          if (t.generation === null || v.generation > t.generation) {
            t.generation = v.generation;
            t.since = v.time;
            t.sinceSeq = v.seq;
            t.sinceRV = v.rv;
          }
          return;
        }
        case 'reconcile': {
          if (!fact.object) return;
          const r = fact.record;
          const t = track(fact.object.uid);
          t.reconciles++;
          t.lastReconcileSeq = r.seq;
          if (r.result === 'error') return;
          if (r.observedGeneration != null) t.reconciledGeneration = Math.max(t.reconciledGeneration, r.observedGeneration);
          else {
            const started = parseTime(r.startedAt);
            if (started !== null && (t.lastGoodStart === null || started > t.lastGoodStart)) t.lastGoodStart = started;
          }
          return;
        }
        case 'gone':
          tracked.delete(fact.object.uid);
          return;
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        const end = context.state.now;
        if (end !== null) {
          for (const [uid, t] of tracked) {
            // What the tracking alone rules out first: this runs over every live object at every report.
            if (t.generation === null || t.since === null) continue;
            const age = end - t.since;
            if (age <= context.thresholds.unreconciledAfter) continue;
            if (t.reconciledGeneration >= t.generation) continue;
            if (t.lastGoodStart !== null && t.lastGoodStart >= t.since) continue;
            const object = context.state.objects.get(uid);
            const latest = object?.latest;
            if (!object || !latest) continue;
            if (latest.deletionTimestamp) continue;
            if (!(context.state.observedGenerationKinds.has(kindKey(object.ref)) || t.reconciles > 0)) continue;
            const observed = latest.observedGeneration;
            if (observed !== null && observed >= t.generation) continue;
            const g = groups.hit(object, 'generation-not-observed', {
              evidence: [
                ev(t.sinceSeq, `generation ${t.generation} appears`, t.sinceRV),
                latest.seq !== t.sinceSeq && ev(latest.seq, `newest version: status.observedGeneration ${observed ?? 'absent'}`, latest.rv),
                ev(t.lastReconcileSeq, 'last reconcile of the object'),
              ],
            });
            g.data.generation = t.generation;
            g.data.observed = observed;
            g.data.reconciled = t.reconciledGeneration;
            g.data.age = age;
            g.data.reconciles = t.reconciles;
          }
        }
        return groups.findings((g) => {
          const d = g.data;
          const status = d.observed === null ? 'status.observedGeneration is absent' : `status.observedGeneration is ${d.observed}`;
          const reconciles = d.reconciles
            ? d.reconciled >= 0
              ? `; the successful reconciles recorded observed generation ${d.reconciled} at most`
              : `; none of its ${d.reconciles} recorded reconcile(s) succeeded`
            : '';
          return `Generation ${d.generation} of ${describeObject(g.object)} was never observed by the controller in the ${formatDuration(d.age)} until the session ended: ${status}${reconciles}.`;
        });
      });
    },
  };
}
