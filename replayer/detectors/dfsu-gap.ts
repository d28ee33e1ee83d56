import { describeObject, findingObjectOf, type Finding, type FindingObject, type ObjectRef } from '../../model/index.js';
import { kindKey } from '../fold.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact, ObjectState } from '../state.js';
import { parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface Tombstone {
  subject: ObjectState | ObjectRef;
  object: FindingObject;
  /** Workqueue keys a reconcile of which handles the deletion: the object's own, and its controller owner's. */
  keys: string[];
  kinds: string[];
  seq: number;
  rv: string | null;
  time: number | null;
  relistSeq: number | null;
  handlerSeq: number | null;
  cause: string | null;
}

interface Data {
  via: string;
  cause: string | null;
  relistSeq: number | null;
  handlerSeq: number | null;
  reconciledKinds: boolean;
}

function reconcileKey(kind: string, namespace: string | null | undefined, name: string): string {
  return `${kind}|${namespace ?? ''}|${name}`;
}

/**
 * dfsu-gap: an object vanished without a DELETED event. The relist that follows a gap does not contain it, so
 * client-go's DeltaFIFO.Replace delivers it to OnDelete as cache.DeletedFinalStateUnknown (k8s.io/client-go
 * tools/cache/delta_fifo.go, "this could happen if watch deletion event was missed while disconnected"). Handlers
 * that type-assert the object without unwrapping the tombstone drop the deletion.
 *
 * When the session has reconcile records for the object's kind (or its controller owner's kind: a deleted child
 * is handled by reconciling its owner, controller-runtime's EnqueueRequestForOwner), the finding is that no
 * reconcile of that key followed. Without reconcile records the tombstone itself is the warning.
 */
export function dfsuGap(): Detector {
  const pending = new Map<string, Tombstone>();
  /**
   * The seq of each key's newest reconcile. The recorder's relist is not the controller's: the controller's own
   * informer may have relisted first and reconciled the deletion before the recorder's list found the object gone.
   */
  const lastReconcile = new Map<string, number>();
  /**
   * Per watch stream, the seq at which the recorder first lost it (an error, a close, a 410) with no watch event
   * since: the deletion happened after that. The relist's own gap record may name a later marker (the 410 after the
   * reconnect), when the controller's informer may already have relisted and reconciled.
   */
  const lostSince = new Map<string, number>();
  const groups = new FindingGroups<Data>('dfsu-gap', () => ({ via: '', cause: null, relistSeq: null, handlerSeq: null, reconciledKinds: false }));

  function add(t: Tombstone, id: string): void {
    const existing = pending.get(id);
    if (existing) {
      existing.handlerSeq ??= t.handlerSeq;
      existing.relistSeq ??= t.relistSeq;
      return;
    }
    pending.set(id, t);
  }

  return {
    kind: 'dfsu-gap',
    facts: ['relist', 'reconcile', 'handler', 'marker', 'delivery'],
    observe(fact: Fact, context: DetectorContext) {
      switch (fact.type) {
        case 'relist': {
          if (fact.cause === 'recorder-restart' || fact.cause === 'dropped') return;
          const gapSeq = lostSince.get(fact.stream.key) ?? fact.gap?.seq ?? null;
          lostSince.delete(fact.stream.key);
          for (const object of fact.vanished) {
            const ref = object.ref;
            const keys = [reconcileKey(ref.kind, ref.namespace, ref.name)];
            const kinds = [kindKey(ref)];
            if (object.owner) {
              keys.push(reconcileKey(object.owner.kind, ref.namespace, object.owner.name));
              const slash = object.owner.apiVersion.indexOf('/');
              kinds.push(`${slash === -1 ? '' : object.owner.apiVersion.slice(0, slash)}/${object.owner.kind}`);
            }
            // Reconciled since the watch went away: the deletion (which happened in the gap) was handled.
            if (gapSeq !== null && keys.some((key) => (lastReconcile.get(key) ?? 0) > gapSeq)) continue;
            add(
              {
                subject: object,
                object: findingObjectOf(ref),
                keys,
                kinds,
                seq: fact.record.seq,
                rv: object.view?.rv ?? null,
                time: context.state.now,
                relistSeq: fact.record.seq,
                handlerSeq: null,
                cause: fact.cause,
              },
              object.key,
            );
          }
          return;
        }
        case 'marker': {
          const m = fact.record.marker;
          if (fact.stream && (m === 'error' || m === 'watch-closed' || m === 'gone') && !lostSince.has(fact.stream.key)) lostSince.set(fact.stream.key, fact.record.seq);
          return;
        }
        case 'delivery':
          // The watch came back and delivers again: that disconnection lost nothing a relist would reveal.
          if (fact.record.origin === 'watch') lostSince.delete(fact.stream.key);
          return;
        case 'handler': {
          if (!fact.record.tombstone) return;
          const ref = fact.record.object;
          const subject = fact.object ?? ref;
          const keys = [reconcileKey(ref.kind, ref.namespace, ref.name)];
          const kinds = [kindKey(ref)];
          const owner = fact.object?.owner;
          if (owner) {
            keys.push(reconcileKey(owner.kind, ref.namespace, owner.name));
            const slash = owner.apiVersion.indexOf('/');
            kinds.push(`${slash === -1 ? '' : owner.apiVersion.slice(0, slash)}/${owner.kind}`);
          }
          add(
            {
              subject,
              object: findingObjectOf(ref),
              keys,
              kinds,
              seq: fact.record.seq,
              rv: fact.record.resourceVersion,
              time: parseTime(fact.record.observedAt),
              relistSeq: null,
              handlerSeq: fact.record.seq,
              cause: null,
            },
            fact.object?.key ?? `${ref.group}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`,
          );
          return;
        }
        case 'reconcile': {
          const r = fact.record;
          const key = reconcileKey(r.object.kind, r.object.namespace, r.object.name);
          lastReconcile.set(key, r.seq);
          if (pending.size === 0) return;
          const started = parseTime(r.startedAt);
          for (const [id, t] of pending) {
            if (!t.keys.includes(key)) continue;
            // "Afterwards": started after the tombstone when both times are known, else recorded after it.
            if (t.time !== null && started !== null ? started >= t.time - 1000 : r.seq > t.seq) pending.delete(id);
          }
          return;
        }
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        for (const t of pending.values()) {
          const reconciled = t.kinds.some((k) => context.state.reconciledKinds.has(k));
          const g = groups.hit(t.subject, reconciled ? 'tombstone-not-reconciled' : 'tombstone', {
            evidence: [
              ev(t.relistSeq, 'the relist no longer contains the object: DeltaFIFO.Replace emits DeletedFinalStateUnknown', t.rv),
              ev(t.handlerSeq, 'OnDelete received cache.DeletedFinalStateUnknown', t.rv),
            ],
          });
          g.data.cause = t.cause;
          g.data.relistSeq = t.relistSeq;
          g.data.handlerSeq = t.handlerSeq;
          g.data.reconciledKinds = reconciled;
          // The controller's own view (kreplay proxy) without its reconciles: it certainly was handed the tombstone,
          // and nothing in the view tells whether it acted on it (a correct controller reads its cache, finds the key
          // gone and releases what it held: no request shows that). Context, not an alarm; its reconciles decide.
          if (!reconciled && context.state.controllerView) g.severity = 'info';
        }
        return groups.findings((g) => {
          const name = describeObject(g.object);
          const learned =
            g.data.relistSeq !== null
              ? `${name} vanished without a DELETED event: the relist at seq ${g.data.relistSeq}${g.data.cause === 'gone' ? ' after a 410 Gone' : ''} no longer contains it, so client-go delivers it to OnDelete as a cache.DeletedFinalStateUnknown tombstone`
              : `${name} was deleted while the informer was disconnected: OnDelete got a cache.DeletedFinalStateUnknown tombstone (seq ${g.data.handlerSeq})`;
          if (g.rule === 'tombstone-not-reconciled') return `${learned}, and the controller never reconciled that key afterwards: its delete handler probably type-asserts the object and drops the tombstone.`;
          return context.state.controllerView
            ? `${learned}: the controller's own informer was handed it (this is its view, recorded by kreplay proxy). Whether it acted on it shows only in its reconciles: report them with the kreplay SDK (kreplay proxy --ingest) and the tombstone is judged.`
            : `${learned}. Make sure DeleteFunc unwraps the tombstone; record reconciles (kreplay SDK) to check that the controller acted on it.`;
        });
      });
    },
  };
}
