import { describeObject, nameKey, type Blame, type Finding } from '../../model/index.js';
import { roleOf, type ControllerIdentity } from '../controller-identity.js';
import { ev, FindingGroups, type Group } from '../finding-groups.js';
import { specHashOf } from '../../model/version-facts.js';
import { fingerprint, statusManagersOf, statusOf } from '../object-meta.js';
import { RecentSet, type Fact, type Version, type WriterSource } from '../state.js';
import { RecentWrites, type RecentWrite } from './status-spec-race/recent-writes.js';
import { formatDuration, parseTime } from '../time.js';
import type { Detector, DetectorContext } from './types.js';

interface SpecState {
  fp: number;
  writer: string | null;
  seq: number;
  rv: string;
  generation: number | null;
}

interface ObjectRaceState {
  /** Generation of the newest spec; a bump that only sets deletionTimestamp is not a spec change. */
  specGeneration: number | null;
  specSeq: number;
  specRV: string;
  specTime: number | null;
  lastGeneration: number | null;
  observedGeneration: number | null;
  observedGenerationWriter: string | null;
  specs: SpecState[];
  writes: RecentWrites;
  flagged: RecentSet;
  controllerRVs: RecentSet;
}

interface Streak {
  count: number;
  seqs: number[];
  /** The resourceVersion the last conflicting request was sent with, when the record says. */
  rv?: string;
}

interface Data {
  observed: number | null;
  current: number | null;
  writer: string | null;
  /** How the stale status's or the reverting write's author is known (managedFields, or the audit user). */
  writerVia: WriterSource | null;
  reconcileGap: string;
  revertedBy: string | null;
  revertedManager: string | null;
  /** 409s seen in API records and Conflict errors in reconcile reports: two views of the same retries. */
  apiConflicts: number;
  reconcileConflicts: number;
  actor: string;
}

/**
 * status-spec-race: status that describes a spec older than one already stored, and lost updates.
 *  - stale-status: a status write (generation unchanged, status changed) whose status.observedGeneration is below
 *    the generation of the newest spec written before it. A status written before the spec change is fine.
 *  - stale-reconcile: a reconcile reported observing generation G, and a write it made during its run landed
 *    when the spec was already at a newer generation.
 *  - lost-update: a write by the object's controller (the manager owning its status) set the spec back to what it
 *    was before someone else's concurrent change: a full-object Update from a stale copy without a
 *    resourceVersion precondition (or a re-applied stale body) silently reverted it.
 *  - conflict-retry: the same client got 409 Conflict on the same object again and again: it retries without
 *    re-reading (client-go util/retry.RetryOnConflict expects a fresh Get inside the loop).
 */
export function statusSpecRace(): Detector {
  const objects = new Map<string, ObjectRaceState>();
  const apiStreaks = new Map<string, Streak>();
  const reconcileStreaks = new Map<string, Streak>();
  const groups = new FindingGroups<Data>('status-spec-race', () => ({
    observed: null,
    current: null,
    writer: null,
    writerVia: null,
    reconcileGap: '',
    revertedBy: null,
    revertedManager: null,
    apiConflicts: 0,
    reconcileConflicts: 0,
    actor: '',
  }));

  function stateOf(uid: string): ObjectRaceState {
    let s = objects.get(uid);
    if (!s) {
      s = {
        specGeneration: null,
        specSeq: 0,
        specRV: '',
        specTime: null,
        lastGeneration: null,
        observedGeneration: null,
        observedGenerationWriter: null,
        specs: [],
        writes: new RecentWrites(16),
        flagged: new RecentSet(16),
        controllerRVs: new RecentSet(16),
      };
      objects.set(uid, s);
    }
    return s;
  }

  /** Did this version change status? From the version's facts when the store computed them, else from both bodies. */
  function statusChanged(v: Version, prev: Version | null): boolean {
    if (v.statusChanged !== undefined) return v.statusChanged === true;
    if (!prev?.hasBody || !v.hasBody) return false;
    const before = statusOf(prev.object);
    const after = statusOf(v.object);
    return before !== after && fingerprint(before) !== fingerprint(after);
  }

  function pushWrite(s: ObjectRaceState, write: RecentWrite): void {
    s.writes.push(write);
  }

  function onVersion(fact: Extract<Fact, { type: 'version' }>): void {
    if (fact.late) return;
    const v: Version = fact.version;
    const prev = fact.previous;
    const s = stateOf(fact.object.uid);
    const deletionBump = v.deletionTimestamp !== null && prev !== null && prev.deletionTimestamp === null;
    const specChanged = v.generation !== null && (s.lastGeneration === null || v.generation > s.lastGeneration);
    if (v.generation !== null) {
      if (s.specGeneration === null || (specChanged && !deletionBump)) {
        s.specGeneration = v.generation;
        s.specSeq = v.seq;
        s.specRV = v.rv;
        s.specTime = v.time;
      }
      s.lastGeneration = Math.max(s.lastGeneration ?? v.generation, v.generation);
    }

    // stale-status: only writes we can see as such (relist items collapse many writes into one). A status write
    // keeps the generation and changes status; whether status changed is asked only when a finding is possible
    // (observedGeneration behind the spec): without facts that costs two bodies and a stringify.
    const sameGeneration = prev !== null && v.type === 'MODIFIED' && v.generation !== null && prev.generation === v.generation;
    const behind = v.observedGeneration !== null && s.specGeneration !== null && v.observedGeneration < s.specGeneration;
    const changed = behind && sameGeneration && statusChanged(v, prev);
    const isStatusWrite = sameGeneration && v.observedGeneration !== null && (v.statusWrite || changed);
    if (isStatusWrite && behind && v.source !== 'relist') {
      const changedObserved = v.observedGeneration !== s.observedGeneration;
      const sameWriter = v.writer !== null && v.writer === s.observedGenerationWriter;
      if ((changedObserved || sameWriter) && changed && !s.flagged.has(v.rv)) {
        s.flagged.add(v.rv);
        const g = groups.hit(fact.object, 'stale-status', {
          evidence: [
            ev(s.specSeq, `spec generation ${s.specGeneration} written`, s.specRV),
            ev(v.seq, `status write${v.writer ? ` by ${v.writer}` : ''} with observedGeneration ${v.observedGeneration}`, v.rv),
          ],
        });
        if (g.data.observed === null) {
          g.data.observed = v.observedGeneration;
          g.data.current = s.specGeneration;
          g.data.writer = v.writer;
          g.data.writerVia = v.writerVia;
        }
      }
    }
    if (v.observedGeneration !== null && v.observedGeneration !== s.observedGeneration) {
      s.observedGeneration = v.observedGeneration;
      s.observedGenerationWriter = v.writer;
    }
    if (v.type === 'MODIFIED' && v.source !== 'relist') {
      pushWrite(s, { seq: v.seq, rv: v.rv, time: v.time, specGeneration: s.specGeneration, byController: s.controllerRVs.has(v.rv) ? true : null, statusWrite: isStatusWrite });
    }

    // lost-update: the spec went back to what it was before the previous (other manager's) change.
    if (v.hasBody && (s.specs.length === 0 || (specChanged && !deletionBump))) {
      const fp = v.specHash ?? specHashOf(v.object);
      const [a, b] = s.specs.length === 2 ? s.specs : [undefined, s.specs[0]];
      if (a && b && v.source !== 'relist' && fp === a.fp && fp !== b.fp && v.writer && b.writer && v.writer !== b.writer) {
        const controller = statusManagersOf(v.object).has(v.writer) || s.controllerRVs.has(v.rv);
        if (controller) {
          const g = groups.hit(fact.object, 'lost-update', {
            evidence: [
              ev(a.seq, `spec as ${v.writer} last read it (generation ${a.generation})`, a.rv),
              ev(b.seq, `concurrent spec change by ${b.writer} (generation ${b.generation})`, b.rv),
              ev(v.seq, `${v.writer} wrote the old spec back (generation ${v.generation})`, v.rv),
            ],
          });
          if (g.data.revertedBy === null) {
            g.data.revertedBy = v.writer;
            g.data.writerVia = v.writerVia;
          }
          g.data.revertedManager ??= b.writer;
        }
      }
      if (b?.fp !== fp || s.specs.length === 0) {
        s.specs.push({ fp, writer: v.writer, seq: v.seq, rv: v.rv, generation: v.generation });
        if (s.specs.length > 2) s.specs.shift();
      }
    }
  }

  function streak(map: Map<string, Streak>, key: string, seq: number): Streak {
    let st = map.get(key);
    if (!st) {
      st = { count: 0, seqs: [] };
      map.set(key, st);
    }
    st.count++;
    if (st.seqs.length < 3) st.seqs.push(seq);
    return st;
  }

  return {
    kind: 'status-spec-race',
    facts: ['version', 'api', 'reconcile', 'gone'],
    observe(fact: Fact, context: DetectorContext) {
      switch (fact.type) {
        case 'version':
          onVersion(fact);
          return;
        case 'gone':
          objects.delete(fact.object.uid);
          return;
        case 'api': {
          const r = fact.record;
          const key = `${fact.object?.uid ?? nameKey(r.object)}|${r.actor}`;
          if (r.code === 409) {
            // A create's 409 is AlreadyExists: no copy of the object was sent, so there is nothing stale to retry.
            if (r.verb === 'create' || r.reason === 'AlreadyExists') return;
            // In the controller's own view (kreplay proxy), a write sent with the newest version its cache held is
            // not a stale copy retried instead of re-read: the cache had nothing newer (its watch was behind, e.g.
            // relisting after a 410). A re-read from the informer, what a correct controller does, would send the same.
            if (context.state.controllerView && r.resourceVersionBefore && fact.object?.view?.rv === r.resourceVersionBefore) return;
            // A 409 on a different resourceVersion than the last one: the client re-read before retrying, which is
            // what retry.RetryOnConflict expects. Only retries of the same stale copy make a streak.
            const previous = apiStreaks.get(key);
            if (previous && r.resourceVersionBefore && previous.rv && previous.rv !== r.resourceVersionBefore) apiStreaks.delete(key);
            const st = streak(apiStreaks, key, r.seq);
            if (r.resourceVersionBefore) st.rv = r.resourceVersionBefore;
            if (st.count >= context.thresholds.conflictRetries) {
              const g = groups.hit(fact.object ?? r.object, 'conflict-retry', {
                evidence: [
                  ...(st.count === context.thresholds.conflictRetries ? st.seqs.map((seq) => ev(seq, `409 Conflict on ${r.verb}${r.subresource ? ` ${r.subresource}` : ''}`, r.resourceVersionBefore)) : []),
                  ev(r.seq, `409 Conflict on ${r.verb}${r.subresource ? ` ${r.subresource}` : ''} (${st.count} in a row)`, r.resourceVersionBefore),
                ],
                count: st.count === context.thresholds.conflictRetries ? st.count : 1,
              });
              g.data.actor ||= r.actor;
              g.data.apiConflicts += st.count === context.thresholds.conflictRetries ? st.count : 1;
            }
            return;
          }
          if (r.code >= 200 && r.code < 300 && r.verb !== 'get' && r.verb !== 'list' && r.verb !== 'watch') {
            apiStreaks.delete(key);
            if (fact.object && r.byController) {
              const s = stateOf(fact.object.uid);
              if (r.resourceVersionAfter) s.controllerRVs.add(r.resourceVersionAfter);
              pushWrite(s, {
                seq: r.seq,
                rv: r.resourceVersionAfter ?? null,
                time: parseTime(r.observedAt),
                specGeneration: s.specGeneration,
                byController: true,
                statusWrite: r.subresource === 'status',
              });
            }
          }
          return;
        }
        case 'reconcile': {
          const r = fact.record;
          const key = fact.object?.uid ?? nameKey(r.object);
          if (r.result === 'error' && r.errorReason === 'Conflict') {
            const st = streak(reconcileStreaks, key, r.seq);
            if (st.count >= context.thresholds.conflictRetries) {
              const g = groups.hit(fact.object ?? r.object, 'conflict-retry', {
                evidence: [
                  ...(st.count === context.thresholds.conflictRetries ? st.seqs.map((seq) => ev(seq, 'reconcile failed with Conflict', r.observedResourceVersion)) : []),
                  ev(r.seq, `reconcile failed with Conflict (${st.count} in a row)`, r.observedResourceVersion),
                ],
                count: st.count === context.thresholds.conflictRetries ? st.count : 1,
              });
              g.data.actor ||= r.controller;
              g.data.reconcileConflicts += st.count === context.thresholds.conflictRetries ? st.count : 1;
            }
          } else {
            reconcileStreaks.delete(key);
          }
          const observed = r.observedGeneration;
          if (observed == null || !fact.object) return;
          const s = objects.get(fact.object.uid);
          if (!s) return;
          const started = parseTime(r.startedAt);
          const finished = parseTime(r.finishedAt);
          if (started === null || finished === null) return;
          for (let i = 0; i < s.writes.size; i++) {
            const w = s.writes.at(i);
            if (w.time === null || w.time < started - 1000 || w.time > finished + 1000) continue;
            if (!(w.byController === true || (w.byController === null && w.statusWrite))) continue;
            if (w.specGeneration === null || w.specGeneration <= observed) continue;
            if ((w.rv && s.flagged.has(w.rv)) || s.flagged.has(`seq:${w.seq}`)) continue;
            s.flagged.add(`seq:${w.seq}`);
            if (w.rv) s.flagged.add(w.rv);
            const g = groups.hit(fact.object, 'stale-reconcile', {
              evidence: [
                ev(s.specSeq, `spec generation ${w.specGeneration} written`, s.specRV),
                ev(w.seq, `write during the reconcile, when the spec was at generation ${w.specGeneration}`, w.rv),
                ev(r.seq, `reconcile that observed generation ${observed}`, r.observedResourceVersion),
              ],
            });
            if (g.data.observed === null) {
              g.data.observed = observed;
              g.data.current = w.specGeneration;
              g.data.writer = r.controller;
              g.data.reconcileGap = s.specTime !== null && s.specTime < started ? formatDuration(started - s.specTime) : '';
            }
          }
          return;
        }
        default:
          return;
      }
    },
    finish(context: DetectorContext): Finding[] {
      return groups.scratch(() => {
        const controller = context.controller();
        for (const g of groups.all()) {
          if (g.rule === 'conflict-retry') g.count = Math.max(g.data.apiConflicts, g.data.reconcileConflicts);
          g.blame = blameOf(g, controller);
        }
        return groups.findings((g) => {
          const name = describeObject(g.object);
          const d = g.data;
          switch (g.rule) {
            case 'stale-status':
              return `${d.writer ? `${d.writer} wrote` : 'A write set'} the status of ${name} with observedGeneration ${d.observed} while the spec was already at generation ${d.current}${g.count > 1 ? ` (${g.count} such status writes)` : ''}: the status describes a spec the user no longer has.`;
            case 'stale-reconcile':
              return `Controller ${d.writer} reconciled generation ${d.observed} of ${name} and wrote while the spec was already at generation ${d.current}${d.reconcileGap ? ` (written ${d.reconcileGap} before the reconcile started)` : ''}${g.count > 1 ? `; ${g.count} such writes` : ''}: it acted on an old spec.`;
            case 'lost-update':
              return `${d.revertedBy} wrote back an older spec of ${name}, reverting the change ${d.revertedManager} had just made${g.count > 1 ? ` (${g.count} times)` : ''}: a full-object Update from a stale copy without a resourceVersion precondition lost a concurrent update.`;
            default:
              return `${d.actor} got 409 Conflict on ${name} ${g.count} times in a row: it retries with the same stale object instead of re-reading it.`;
          }
        });
      });
    },
  };
}

/** Who wrote the stale status, reverted the spec or kept retrying: SDK reports are the controller's own. */
function blameOf(g: Group<Data>, controller: ControllerIdentity): Blame | null {
  const d = g.data;
  if (g.rule === 'stale-reconcile') return d.writer ? { actor: d.writer, via: 'sdk', role: 'controller' } : null;
  if (g.rule === 'conflict-retry') {
    if (d.reconcileConflicts > 0 && d.apiConflicts === 0) return { actor: d.actor, via: 'sdk', role: 'controller' };
    return d.actor ? { actor: d.actor, via: 'audit-user', role: roleOf(controller, d.actor) } : null;
  }
  const writer = g.rule === 'lost-update' ? d.revertedBy : d.writer;
  return writer ? { actor: writer, via: d.writerVia ?? 'managedFields', role: roleOf(controller, writer) } : null;
}
