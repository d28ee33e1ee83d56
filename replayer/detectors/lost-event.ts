import { describeObject, type Finding } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact, GapCause, GapInfo, RelistChange } from '../state.js';
import { rvNumber } from '../rv.js';
import type { UnseenCreation } from './controller-handlers.js';
import type { Detector, DetectorContext, Shared } from './types.js';

interface Data {
  missingGenerations: number;
  fromGeneration: number | null;
  toGeneration: number | null;
  eventType: string;
  missedSources: Set<string>;
  gaps: number;
  gapCause: GapCause | null;
  goneRV: string | undefined;
  hiddenWrites: number;
  fromRV: string;
  toRV: string;
  /** handler-*: the controller whose handlers missed it, and what they were given instead. */
  controller: string;
  handler: string;
  creationRV: string;
  proofName: string;
  proofRV: string;
}

/** Gaps the recorder itself caused say nothing about the controller's watch: the relist there is ours. */
const recorderCauses: ReadonlySet<GapCause> = new Set(['recorder-restart', 'dropped']);

/**
 * lost-event: the watcher's view skipped a change that provably happened.
 *  - generation-jump: inside one continuous watch, generation grew by more than one between two deliveries. The
 *    API server bumps metadata.generation by exactly one per spec change (and once when a deletionTimestamp is
 *    set), so a jump of n means n-1 MODIFIED events never arrived.
 *  - unseen-object: MODIFIED/DELETED for an object that the (complete) view never had: its ADDED was lost.
 *  - missed-write: an audit log or API response proves a resourceVersion the same continuous watch passed
 *    without delivering (one watch delivers in resourceVersion order).
 *  - relist-gap: a 410 Gone (or a watch error) forced a relist and the object changed across the gap: the watcher
 *    only sees the state after it, never the transitions (client-go reflector.go relists on expired RVs).
 * And from the controller's own handler calls (SDK `delivery` records; controller-handlers.ts gives the client-go
 * semantics and sources), only what no informer can do, since a relist legitimately skips intermediate versions:
 *  - handler-unseen-object: the handlers' first call for an object created while they already ran for its kind is
 *    an update or a delete: its creation was never handed (an informer always adds first, a relist included).
 *  - handler-missed-delete: the session proves the object deleted, the handlers held it, their cache lived across
 *    the deletion (another object held since before it was then handed an update past it), and no delete, plain or
 *    tombstone, ever came (a relist would have handed DeletedFinalStateUnknown).
 */
export function lostEvent(shared: Shared): Detector {
  const groups = new FindingGroups<Data>('lost-event', () => ({
    missingGenerations: 0,
    fromGeneration: null,
    toGeneration: null,
    eventType: '',
    missedSources: new Set(),
    gaps: 0,
    gapCause: null,
    goneRV: undefined,
    hiddenWrites: 0,
    fromRV: '',
    toRV: '',
    controller: '',
    handler: '',
    creationRV: '',
    proofName: '',
    proofRV: '',
  }));
  /** Relist changes to judge at the end, against the controller's own handler calls. */
  const gapChanges: { change: RelistChange; gap: GapInfo | null; cause: GapCause }[] = [];
  /** resourceVersions the controller's handlers were handed (SDK delivery records), newest few per uid. */
  const handedRVs = new Map<string, number[]>();
  const handlers = shared.handlerHistory();
  handlers.listen({
    unseenCreation(u: UnseenCreation) {
      const r = u.record;
      const g = groups.hit(u.object ?? r.object, 'handler-unseen-object', {
        evidence: [
          ev(u.runningSeq, `${u.controller}'s handlers were already running for ${r.object.kind}`),
          ev(u.creation.seq, `created at resourceVersion ${u.creation.rv}`, u.creation.rv),
          ev(r.seq, `${u.controller}'s first handler call for it is ${r.handler === 'update' ? 'OnUpdate' : 'OnDelete'}, never OnAdd`, r.resourceVersion),
        ],
      });
      g.data.controller ||= u.controller;
      g.data.handler ||= r.handler;
      g.data.creationRV ||= u.creation.rv;
      g.data.toRV ||= r.resourceVersion ?? '';
    },
  });
  return {
    kind: 'lost-event',
    // Handler calls (and what judges them) reach it through the shared HandlerHistory; 'handler' is for handedRVs.
    facts: ['delivery', 'missed', 'relist', 'handler'],
    observe(fact: Fact) {
      switch (fact.type) {
        case 'delivery': {
          const { record, previous } = fact;
          if (fact.unseen) {
            const g = groups.hit(fact.object, 'unseen-object', {
              evidence: [ev(record.seq, `${record.type} for an object the watch never ADDED or listed`, record.resourceVersion)],
            });
            g.data.eventType ||= record.type;
            g.data.toRV ||= record.resourceVersion;
          }
          if (fact.classification === 'new' && fact.continuous && previous && previous.generation !== null && record.generation !== null) {
            const jump = record.generation - previous.generation;
            if (jump > 1) {
              const g = groups.hit(fact.object, 'generation-jump', {
                evidence: [
                  ev(previous.seq, `generation ${previous.generation}`, previous.rv),
                  ev(record.seq, `generation ${record.generation}: ${jump - 1} spec change(s) in between were never delivered`, record.resourceVersion),
                ],
              });
              g.data.missingGenerations += jump - 1;
              if (g.data.fromGeneration === null) {
                g.data.fromGeneration = previous.generation;
                g.data.toGeneration = record.generation;
                g.data.fromRV = previous.rv;
                g.data.toRV = record.resourceVersion;
              }
            }
          }
          return;
        }
        case 'missed': {
          const g = groups.hit(fact.object, 'missed-write', {
            evidence: [
              ev(fact.missed.seq, `${fact.missed.source === 'api' ? 'API write' : `${fact.missed.source} record`} produced resourceVersion ${fact.missed.rv}`, fact.missed.rv),
              ev(fact.proof.seq, `the same watch reached resourceVersion ${fact.proof.rv} without delivering ${fact.missed.rv}`, fact.proof.rv),
            ],
          });
          g.data.missedSources.add(fact.missed.source === 'api' ? 'API requests' : fact.missed.source === 'audit' ? 'the audit log' : `${fact.missed.source} records`);
          g.data.fromRV ||= fact.missed.rv;
          g.data.toRV ||= fact.proof.rv;
          return;
        }
        case 'relist': {
          if (!fact.cause || recorderCauses.has(fact.cause)) return;
          const gap = fact.gap;
          const cause = fact.cause;
          // Judged at the end: the controller's own handler calls for the gap may come later in the session (SDK
          // batches), and when they show it was handed the versions this watch missed, the gap was the recorder's.
          for (const change of fact.changed) gapChanges.push({ change, gap, cause });
          return;
        }
        case 'handler': {
          const uid = fact.object?.uid ?? fact.record.object.uid;
          const rv = rvNumber(fact.record.resourceVersion ?? '');
          if (!uid || Number.isNaN(rv)) return;
          let handed = handedRVs.get(uid);
          if (!handed) handedRVs.set(uid, (handed = []));
          handed.push(rv);
          if (handed.length > maxHandedPerObject) handed.shift();
          return;
        }
        default:
          return;
      }
    },
    finish(_context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        for (const { change, gap, cause } of gapChanges) {
          if (handedAcrossGap(handedRVs.get(change.object.uid), change)) continue;
          const g = groups.hit(change.object, 'relist-gap', {
            evidence: [
              ev(change.from.seq, `last version the watch delivered before the gap`, change.from.rv),
              gap && ev(gap.seq, gap.cause === 'gone' ? `410 Gone${gap.resourceVersion ? `: resourceVersion ${gap.resourceVersion} too old` : ''}` : `watch ${gap.cause}`),
              ...change.hidden.slice(0, 5).map((p) => ev(p.seq, `write during the gap the watch never delivered (resourceVersion ${p.rv})`, p.rv)),
              ev(change.to.seq, `relist shows resourceVersion ${change.to.rv}`, change.to.rv),
            ],
          });
          g.severity = 'warning';
          g.data.gaps++;
          g.data.hiddenWrites += change.hidden.length;
          if (!g.data.gapCause) {
            g.data.gapCause = cause;
            g.data.goneRV = gap?.resourceVersion;
            g.data.fromRV = change.from.rv;
            g.data.toRV = change.to.rv;
            g.data.fromGeneration = change.from.generation;
            g.data.toGeneration = change.to.generation;
          }
        }
        for (const m of handlers.missedDeletions()) {
          const g = groups.hit(m.object, 'handler-missed-delete', {
            evidence: [
              ev(m.lastHandedSeq, `last handed to ${m.controller}'s handlers`, m.lastHandedRV),
              ev(m.deletion.seq, `deleted at resourceVersion ${m.deletion.rv}`, m.deletion.rv),
              ev(m.proof.seq, `the same handlers were then given ${m.proof.name} at resourceVersion ${m.proof.rv}, past the deletion, and never a delete of this object`, m.proof.rv),
            ],
          });
          g.data.controller ||= m.controller;
          g.data.fromRV ||= m.deletion.rv;
          g.data.proofName ||= m.proof.name;
          g.data.proofRV ||= m.proof.rv;
        }
        for (const g of groups.all()) if (g.rule.startsWith('handler-')) g.blame = { actor: g.data.controller, via: 'sdk', role: 'controller' };
        return groups.findings((g) => {
          const d = g.data;
          const name = describeObject(g.object);
          switch (g.rule) {
            case 'handler-unseen-object':
              return `${d.controller}'s event handlers were given ${name} first through ${d.handler === 'update' ? 'UpdateFunc' : 'DeleteFunc'} (resourceVersion ${d.toRV || 'unknown'}), never through AddFunc, although it was created (resourceVersion ${d.creationRV}) while they were already running: the creation never reached them. A client-go informer always hands an object to AddFunc first, after a relist too; a watch resumed from "now" after a disconnect skips whatever happened meanwhile.`;
            case 'handler-missed-delete':
              return `${name} was deleted (resourceVersion ${d.fromRV}) and ${d.controller}'s event handlers, which held it, were never handed the deletion, although their cache lived on past it (they were then given ${d.proofName} at resourceVersion ${d.proofRV}). A client-go informer hands a deletion it missed while disconnected to DeleteFunc as a DeletedFinalStateUnknown tombstone when it relists; a watch resumed from "now" after a disconnect never sees it, and whatever the controller holds for the object is never released.`;
            case 'generation-jump':
              return `Inside one continuous watch, ${name} went from generation ${d.fromGeneration} (resourceVersion ${d.fromRV}) to ${d.toGeneration} (resourceVersion ${d.toRV})${g.count > 1 ? `, and jumped ${g.count} times in all` : ''}: ${d.missingGenerations} spec change(s) were never delivered to the watcher.`;
            case 'unseen-object':
              return `The watch delivered ${d.eventType} for ${name} (resourceVersion ${d.toRV}) although it never delivered an ADDED for it nor listed it: the creation event was lost, and an informer would treat this as an add of an object it never knew.`;
            case 'missed-write':
              return `${[...d.missedSources].join(' and ')} show ${g.count} version(s) of ${name} (first resourceVersion ${d.fromRV}) that the watch skipped: it went on to resourceVersion ${d.toRV} without delivering them.`;
            default: {
              const cause =
                d.gapCause === 'gone'
                  ? `A 410 Gone${d.goneRV ? ` (resourceVersion ${d.goneRV} too old)` : ''} forced a relist`
                  : d.gapCause === 'error'
                    ? 'A watch error forced a relist'
                    : 'A relist replaced the watch';
              const generations = d.fromGeneration !== null && d.toGeneration !== null && d.fromGeneration !== d.toGeneration ? ` (generation ${d.fromGeneration} → ${d.toGeneration})` : '';
              const hidden = d.hiddenWrites ? `; ${d.hiddenWrites} write(s) known from API/audit records fell into the gap` : '';
              const from = Number(d.fromRV);
              const to = Number(d.toRV);
              // A list older than what the watch had delivered: served from a cache that lags (a resourceVersion=0
              // list may be; apiserver's watch cache after a restart), so the watcher is shown the past, not a gap.
              if (Number.isSafeInteger(from) && Number.isSafeInteger(to) && to < from) {
                return `${cause}${g.count > 1 ? ` (${g.count} times)` : ''} with an older state: ${name} went back from resourceVersion ${d.fromRV} to ${d.toRV}${generations}, a list served from a cache that lags behind what the watcher had already seen${hidden}. Until the watch from that old resourceVersion catches up, the controller acts on state that is gone; level-based reconciles recover once it does.`;
              }
              return `${cause}${g.count > 1 ? ` (${g.count} times)` : ''}: across the gap ${name} changed from resourceVersion ${d.fromRV} to ${d.toRV}${generations}, and the watcher never saw the transitions in between${hidden}. Edge-triggered logic misses them; level-based reconciles recover.`;
            }
          }
        });
      });
    },
  };
}

const maxHandedPerObject = 32;

/**
 * Whether the controller's own handlers were handed what this watch missed across a relist: at least one version
 * strictly inside the gap, and every write the session knows fell into it. Then the gap was in the recorder's watch
 * only (it reconnected later than the controller's informer), not in the controller's view.
 */
function handedAcrossGap(handed: readonly number[] | undefined, change: RelistChange): boolean {
  if (!handed?.length) return false;
  const from = change.from.rvNum;
  const to = change.to.rvNum;
  if (Number.isNaN(from) || Number.isNaN(to)) return false;
  if (!handed.some((rv) => rv > from && rv < to)) return false;
  return change.hidden.every((p) => handed.includes(p.rvNum));
}
