import { describeObject, isToolActor, systemFinalizerOf, type Blame, type Finding } from '../../model/index.js';
import { roleOf, type ControllerIdentity } from '../controller-identity.js';
import { ev, FindingGroups } from '../finding-groups.js';
import { finalizerOwnersOf } from '../object-meta.js';
import type { Fact, ObjectState } from '../state.js';
import { durationBasis, formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface FinalizerInfo {
  owners: string[];
  removedAt: number | null;
  removedSeq: number | null;
}

interface Deleting {
  object: ObjectState;
  since: number | null;
  sinceText: string | null;
  sinceSeq: number;
  sinceRV: string;
  lastSeq: number;
  lastRV: string;
  finalizers: Map<string, FinalizerInfo>;
  /** Times come from the objects themselves (a kubectl dump), not from when events were seen. */
  estimated: boolean;
}

interface Data {
  stuck: { name: string; owners: string[]; held: number; removed: boolean }[];
  outcome: 'present' | 'deleted' | 'released';
  /** The finalizers still on the object at `endSeq`: what "still there" names. */
  remaining: string[];
  since: string | null;
  endSeq: number;
  estimated: boolean;
}

/**
 * stuck-finalizer: the object has a deletionTimestamp (the API server is waiting for finalizers, apiserver
 * pkg/registry/generic/registry/store.go) and at least one finalizer stayed longer than the threshold, until the
 * session ended or the object finally went. Finalizers are attributed to the field managers that own them:
 * managedFields entries whose fieldsV1 hold `f:metadata.f:finalizers.v:"<finalizer>"`.
 *
 * Duration is measured from metadata.deletionTimestamp (server time) to the removal of each finalizer, the
 * deletion, or the session's last timestamp.
 */
export function stuckFinalizer(): Detector {
  const deleting = new Map<string, Deleting>();
  const groups = new FindingGroups<Data>('stuck-finalizer', () => ({ stuck: [], outcome: 'present', remaining: [], since: null, endSeq: 0, estimated: false }));

  function evaluate(d: Deleting, end: number | null, endSeq: number, outcome: Data['outcome'], context: DetectorContext): void {
    if (d.since === null || end === null) return;
    const threshold = context.thresholds.finalizerTimeout;
    const stuck: Data['stuck'] = [];
    for (const [name, info] of d.finalizers) {
      const held = (info.removedAt ?? end) - d.since;
      if (held > threshold) stuck.push({ name, owners: info.owners, held, removed: info.removedAt !== null });
    }
    if (stuck.length === 0) return;
    const g = groups.hit(d.object, 'finalizer-timeout', {
      evidence: [
        ev(d.sinceSeq, `deletionTimestamp ${d.sinceText ?? 'set'} with finalizers ${[...d.finalizers.keys()].join(', ')}`, d.sinceRV),
        ...[...d.finalizers.values()].map((info) => ev(info.removedSeq, 'finalizer removed')),
        endSeq !== d.sinceSeq && ev(endSeq, outcome === 'deleted' ? 'object finally deleted' : outcome === 'released' ? 'last finalizer removed' : 'last version seen: finalizers still there', d.lastRV),
      ],
    });
    g.data.stuck = stuck;
    g.data.outcome = outcome;
    g.data.remaining = [...d.finalizers].filter(([, info]) => info.removedAt === null).map(([name]) => name);
    g.data.since = d.sinceText;
    g.data.endSeq = endSeq;
    g.data.estimated = d.estimated;
  }

  return {
    kind: 'stuck-finalizer',
    facts: ['version', 'gone'],
    observe(fact: Fact, context: DetectorContext) {
      if (fact.type === 'gone') {
        // The object the fold buried may be another state of the same object (an audit record without a uid that
        // resolved by name): the same kind, namespace and name while it was deleting is the same object.
        const d = deleting.get(fact.object.uid) ?? [...deleting.values()].find((x) => x.object.key === fact.object.key);
        if (!d) return;
        deleting.delete(d.object.uid);
        evaluate(d, fact.time ?? context.state.now, fact.record.seq, 'deleted', context);
        return;
      }
      if (fact.type !== 'version' || fact.late) return;
      const v = fact.version;
      let d = deleting.get(fact.object.uid);
      if (!v.deletionTimestamp) return;
      if (!d) {
        if (v.finalizers.length === 0) return;
        const since = parseTime(v.deletionTimestamp) ?? v.time;
        d = { object: fact.object, since, sinceText: v.deletionTimestamp, sinceSeq: v.seq, sinceRV: v.rv, lastSeq: v.seq, lastRV: v.rv, finalizers: new Map(), estimated: false };
        deleting.set(fact.object.uid, d);
      }
      d.lastSeq = v.seq;
      d.lastRV = v.rv;
      if (v.source === 'import') d.estimated = true;
      // Owners are read from managedFields, i.e. the body: only while some finalizer's owner is still unknown.
      const ownersUnknown = v.finalizers.some((name) => !d.finalizers.get(name)?.owners.length);
      const owners = ownersUnknown && v.hasBody && v.object ? finalizerOwnersOf(v.object) : new Map<string, string[]>();
      const now = v.time ?? context.state.now;
      for (const name of v.finalizers) {
        const info = d.finalizers.get(name);
        if (!info) d.finalizers.set(name, { owners: owners.get(name) ?? [], removedAt: null, removedSeq: null });
        else if (info.owners.length === 0 && owners.has(name)) info.owners = owners.get(name)!;
      }
      for (const [name, info] of d.finalizers) {
        if (info.removedAt === null && !v.finalizers.includes(name)) {
          info.removedAt = now;
          info.removedSeq = v.seq;
        }
      }
      if (v.finalizers.length === 0) {
        // Released: the server deletes it now; the DELETED event may or may not be in the session.
        deleting.delete(fact.object.uid);
        evaluate(d, now, v.seq, 'released', context);
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        for (const d of deleting.values()) evaluate(d, context.state.now, d.lastSeq, 'present', context);
        const controller = context.controller();
        for (const g of groups.all()) g.blame = blameOf(g.data.stuck, controller);
        return groups.findings((g) => {
          const stuck = g.data.stuck
            .map((f) => {
              const system = systemFinalizerOf(f.name, f.owners);
              const who = system ? ` (${system.owner}'s, waiting for ${system.waitsFor})` : f.owners.length ? ` (added by ${f.owners.join(', ')})` : '';
              return `${f.name}${who} for ${formatDuration(f.held)}${f.removed ? ' before it was removed' : ''}`;
            })
            .join('; ');
          const end =
            g.data.outcome === 'present'
              ? `still there when the session ended: its last version (seq ${g.data.endSeq}) still carries ${g.data.remaining.join(', ') || 'its finalizers'}`
              : g.data.outcome === 'deleted'
                ? `the object was finally deleted at seq ${g.data.endSeq}`
                : `the last finalizer went at seq ${g.data.endSeq}`;
          return `${describeObject(g.object)} has been deleting since ${g.data.since ?? '?'} but finalizers held it: ${stuck}; ${end}${durationBasis(g.data.estimated)}.`;
        });
      });
    },
  };
}

/**
 * Whose finalizers hold the object. Kubernetes' own (pvc-protection, foregroundDeletion, ...) wait for something
 * else to happen first and are its components' business. Any other finalizer is the controller's to remove: the
 * controller under debug's, unless managedFields say another controller added it (a manifest that lists the
 * finalizer makes kubectl or helm its manager; the controller still owns its removal).
 */
function blameOf(stuck: Data['stuck'], controller: ControllerIdentity): Blame {
  const custom = stuck.filter((f) => !systemFinalizerOf(f.name, f.owners));
  if (custom.length === 0) return { actor: systemFinalizerOf(stuck[0]!.name, stuck[0]!.owners)!.owner, via: 'finalizer', role: 'system' };
  const adders = custom.flatMap((f) => f.owners).filter((o) => !isToolActor(o));
  const other = adders.find((o) => roleOf(controller, o) === 'other' && controller.names.length > 0);
  if (other && !adders.some((o) => roleOf(controller, o) === 'controller')) return { actor: other, via: 'finalizer', role: 'other' };
  return { actor: controller.names[0] ?? adders[0] ?? 'the controller', via: 'finalizer', role: 'controller' };
}
