import { describeObject, type Finding } from '../../model/index.js';
import { ev, FindingGroups } from '../finding-groups.js';
import type { Fact, GapCause } from '../state.js';
import type { Detector, DetectorContext } from './types.js';

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
 */
export function lostEvent(): Detector {
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
  }));
  return {
    kind: 'lost-event',
    facts: ['delivery', 'missed', 'relist'],
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
          for (const change of fact.changed) {
            const g = groups.hit(change.object, 'relist-gap', {
              evidence: [
                ev(change.from.seq, `last version the watch delivered before the gap`, change.from.rv),
                fact.gap && ev(fact.gap.seq, fact.gap.cause === 'gone' ? `410 Gone${fact.gap.resourceVersion ? `: resourceVersion ${fact.gap.resourceVersion} too old` : ''}` : `watch ${fact.gap.cause}`),
                ...change.hidden.slice(0, 5).map((p) => ev(p.seq, `write during the gap the watch never delivered (resourceVersion ${p.rv})`, p.rv)),
                ev(change.to.seq, `relist shows resourceVersion ${change.to.rv}`, change.to.rv),
              ],
            });
            g.severity = 'warning';
            g.data.gaps++;
            g.data.hiddenWrites += change.hidden.length;
            if (!g.data.gapCause) {
              g.data.gapCause = fact.cause;
              g.data.goneRV = fact.gap?.resourceVersion;
              g.data.fromRV = change.from.rv;
              g.data.toRV = change.to.rv;
              g.data.fromGeneration = change.from.generation;
              g.data.toGeneration = change.to.generation;
            }
          }
          return;
        }
        default:
          return;
      }
    },
    finish(_context: DetectorContext): Finding[] {
      return groups.findings((g) => {
        const d = g.data;
        const name = describeObject(g.object);
        switch (g.rule) {
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
            return `${cause}${g.count > 1 ? ` (${g.count} times)` : ''}: across the gap ${name} changed from resourceVersion ${d.fromRV} to ${d.toRV}${generations}, and the watcher never saw the transitions in between${hidden}. Edge-triggered logic misses them; level-based reconciles recover.`;
          }
        }
      });
    },
  };
}
