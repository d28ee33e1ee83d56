import { describeObject, isSystemActor, nameKey, type Blame, type Finding } from '../../model/index.js';
import { roleOf } from '../controller-identity.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact } from '../state.js';
import type { Detector, DetectorContext } from './types.js';

interface Streak {
  count: number;
  seqs: number[];
}

interface Data {
  verbs: Map<string, number>;
  deletedSeq: number | null;
  controller: string;
  via: Blame['via'];
  /** The import or the recorder said this client is the controller. */
  byController: boolean;
}

/**
 * notfound-retry: the controller keeps retrying an object that is gone.
 *  - api-404: repeated 404s on the object from the controller's own requests (byController). A 404 on a write
 *    (update/patch/delete) means the controller believed the object existed; a 404 GET counts only once the
 *    object is known to be deleted, so "does my child exist yet?" probes before a create do not count.
 *  - reconcile-notfound: reconciles of the key that ended with a NotFound error and were requeued: the classic
 *    `return ctrl.Result{}, err` after `apierrors.IsNotFound(err)` (controller-runtime requeues every returned
 *    error with the rate limiter, pkg/internal/controller/controller.go reconcileHandler).
 * Streaks reset when the object exists again (a new incarnation) or the outcome changes. In a kreplay proxy session
 * (the streams are the controller's own view) a 404 counts only once that view had the object gone.
 */
export function notFoundRetry(): Detector {
  const apiStreaks = new Map<string, Streak>();
  const reconcileStreaks = new Map<string, Streak>();
  const groups = new FindingGroups<Data>('notfound-retry', () => ({ verbs: new Map(), deletedSeq: null, controller: '', via: 'audit-user', byController: false }));

  function bump(map: Map<string, Streak>, key: string, seq: number): Streak {
    let s = map.get(key);
    if (!s) {
      s = { count: 0, seqs: [] };
      map.set(key, s);
    }
    s.count++;
    if (s.seqs.length < 10) s.seqs.push(seq);
    return s;
  }

  return {
    kind: 'notfound-retry',
    facts: ['version', 'api', 'reconcile'],
    observe(fact: Fact, context: DetectorContext) {
      const threshold = context.thresholds.notFoundRetries;
      switch (fact.type) {
        case 'version':
          if (fact.version.type === 'ADDED') {
            for (const key of apiStreaks.keys()) if (key.startsWith(`${fact.object.key}\u0000`)) apiStreaks.delete(key);
            reconcileStreaks.delete(fact.object.key);
          }
          return;
        case 'api': {
          const r = fact.record;
          // Every client's 404s are counted, each on its own: whether the client is the controller under debug is
          // only known at the end (analyze.ts holds alarms to it). Kubernetes' components are never the suspect.
          if (!r.byController && isSystemActor(r.actor)) return;
          const key = `${fact.object?.key ?? nameKey(r.object)}\u0000${r.actor}`;
          if (r.code !== 404) {
            if (r.code >= 200 && r.code < 300) apiStreaks.delete(key);
            return;
          }
          const deleted = fact.object?.gone ?? null;
          if (r.verb === 'get' && !deleted) return;
          // In the controller's own view (kreplay proxy), a request for an object its cache still holds is what a
          // correct controller does while its watch is behind (the DELETED not delivered yet, a relist under way):
          // it keeps retrying only once its own informer has told it the object is gone.
          if (context.state.controllerView && (!deleted || deleted.seq > r.seq)) return;
          const s = bump(apiStreaks, key, r.seq);
          if (s.count < threshold) return;
          const first = s.count === threshold;
          const g = groups.hit(fact.object ?? r.object, 'api-404', {
            evidence: [
              first && deleted && ev(deleted.seq, deleted.how === 'vanished' ? 'object gone from the relist' : 'object deleted'),
              ...(first ? s.seqs.slice(0, -1).map((seq) => ev(seq, '404 NotFound')) : []),
              ev(r.seq, `${r.verb.toUpperCase()}${r.subresource ? ` ${r.subresource}` : ''} → 404 NotFound (${s.count} in a row)`, r.resourceVersionBefore),
            ],
            count: first ? s.count : 1,
          });
          const verb = `${r.verb.toUpperCase()}${r.subresource ? ` ${r.subresource}` : ''}`;
          g.data.verbs.set(verb, (g.data.verbs.get(verb) ?? 0) + (first ? s.count : 1));
          g.data.deletedSeq ??= deleted?.seq ?? null;
          g.data.controller ||= r.actor;
          g.data.via = r.origin === 'ingest' ? 'sdk' : 'audit-user';
          g.data.byController ||= r.byController;
          return;
        }
        case 'reconcile': {
          const r = fact.record;
          const key = fact.object?.key ?? nameKey(r.object);
          if (r.errorReason !== 'NotFound' || r.result === 'success') {
            reconcileStreaks.delete(key);
            return;
          }
          const s = bump(reconcileStreaks, key, r.seq);
          if (s.count < threshold) return;
          const first = s.count === threshold;
          const deleted = fact.object?.gone ?? null;
          const g = groups.hit(fact.object ?? r.object, 'reconcile-notfound', {
            evidence: [
              first && deleted && ev(deleted.seq, 'object deleted'),
              ...(first ? s.seqs.slice(0, -1).map((seq) => ev(seq, 'reconcile ended with NotFound and was requeued')) : []),
              ev(r.seq, `reconcile ended with NotFound (${r.result}), ${s.count} in a row`),
            ],
            count: first ? s.count : 1,
          });
          g.data.deletedSeq ??= deleted?.seq ?? null;
          g.data.controller ||= r.controller;
          g.data.via = 'sdk';
          g.data.byController = true;
          return;
        }
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        const controller = context.controller();
        for (const g of [...groups.all()]) {
          const role = g.data.byController ? 'controller' : roleOf(controller, g.data.controller);
          // Someone else's 404s (a person's kubectl get, another operator's probes) are not this controller's retries.
          if (role !== 'controller') groups.delete(g);
          else g.blame = { actor: g.data.controller, via: g.data.via, role };
        }
        return groups.findings((g) => {
          const name = describeObject(g.object);
          const after = g.data.deletedSeq !== null ? `After ${name} was deleted (seq ${g.data.deletedSeq}), ` : '';
          if (g.rule === 'reconcile-notfound') {
            return `${after}${g.data.controller} reconciled ${after ? 'it' : name} ${g.count} times ending with a NotFound error that was requeued: IsNotFound is treated as a failure instead of "nothing to do".`;
          }
          const verbs = [...g.data.verbs].map(([verb, n]) => `${verb}×${n}`).join(', ');
          return `${after}${g.data.controller} kept requesting ${after ? 'it' : name} and got 404 NotFound ${g.count} times (${verbs}): the key stays in the workqueue and is retried with backoff.`;
        });
      });
    },
  };
}
