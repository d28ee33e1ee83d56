import type { Coverage, FindingKind, StoredRecord } from '../model/index.js';
import { isViewOrigin } from './state.js';

/**
 * Which finding kinds a session could show at all (model/coverage.ts). Each kind is judged from what the session
 * holds: watch streams, versions proven by audit answers, request records, reconcile and handler reports.
 */

/** The inputs detectors read, counted as the records stream through. */
export class InputTally {
  /** Watch events and relist items as a watcher saw them (recordings, kubectl dumps). */
  views = 0;
  /** Versions proven outside the watch: audit answers, API responses with a body. */
  knownVersions = 0;
  /** Request records (audit log, webhook, SDK). */
  requests = 0;
  reconciles = 0;
  /** Reconciles that say which resourceVersion they read. */
  reconcilesWithRV = 0;
  handlerCalls = 0;
  reconcileStarts = 0;
  /** Successful list/watch requests (what the audit importer keeps of reads). */
  collectionReads = 0;
  /** The watch streams are the controller's own view: recorded by kreplay proxy (its recorder-started marker). */
  controllerView = false;

  observe(record: StoredRecord): void {
    switch (record.record) {
      case 'marker':
        if (record.marker === 'recorder-started' && record.origin === 'proxy') this.controllerView = true;
        return;
      case 'watch':
        if (record.type === 'BOOKMARK') return;
        if (isViewOrigin(record.origin)) this.views++;
        else this.knownVersions++;
        return;
      case 'api':
        this.requests++;
        if ((record.verb === 'list' || record.verb === 'watch') && record.code >= 200 && record.code < 300) this.collectionReads++;
        if (record.responseObject) this.knownVersions++;
        return;
      case 'reconcile':
        this.reconciles++;
        if (record.observedResourceVersion) this.reconcilesWithRV++;
        return;
      case 'delivery':
        this.handlerCalls++;
        return;
      case 'reconcile-start':
        this.reconcileStarts++;
        return;
      default:
        return;
    }
  }
}

const noWatch = 'needs a watch stream';
const noRequests = 'needs request records';
const noReconciles = 'needs reconcile records';

/** Where each missing input comes from: said once under the list. */
export const coverageHint =
  "watch streams come from kreplay record, a kubectl get -w dump or kreplay proxy (the controller's own view); request records from an audit log, the audit webhook, the SDK or kreplay proxy; reconcile records from the SDK (into a proxy session: kreplay proxy --ingest)";

interface Need {
  readonly met: boolean;
  readonly missing: string;
}

/**
 * What each kind needs: the input without which it judges nothing (`base`), and what some of its rules need on top
 * (`rules`, each saying which rule stays silent without it).
 */
function requirements(t: InputTally): Record<FindingKind, { base: Need; rules: Need[] }> {
  const versions = { met: t.views > 0 || t.knownVersions > 0, missing: 'needs object versions (a watch stream, or an audit log at RequestResponse level)' };
  const watch = { met: t.views > 0, missing: noWatch };
  // In a proxy session the streams are what the controller's informers were handed: what it then did with them
  // (reconciles) is the SDK's to report, into the same session with kreplay proxy --ingest.
  const reconcilesNote = t.controllerView ? " (the controller's own view, from kreplay proxy, shows what its informers were handed, not what it reconciled: kreplay proxy --ingest adds its SDK reports)" : '';
  const reconciles = (rule: string): Need => ({ met: t.reconciles > 0, missing: `${rule} ${noReconciles}${reconcilesNote}` });
  return {
    'duplicate-event': { base: watch, rules: [] },
    'lost-event': { base: watch, rules: [{ met: t.knownVersions > 0, missing: 'missed-write needs audit or API answers to compare the watch with' }] },
    'dfsu-gap': { base: { met: t.views > 0 || t.handlerCalls > 0, missing: noWatch }, rules: [reconciles('tombstone-not-reconciled')] },
    'status-spec-race': {
      base: { met: versions.met || t.requests > 0 || t.reconciles > 0, missing: versions.missing },
      rules: [
        { met: versions.met, missing: `stale-status and lost-update ${versions.missing}` },
        reconciles('stale-reconcile'),
        { met: t.requests > 0 || t.reconciles > 0, missing: `conflict-retry ${noRequests} or reconcile records` },
      ],
    },
    'stuck-finalizer': { base: versions, rules: [] },
    'hot-loop': {
      base: { met: versions.met || t.requests > 0 || t.reconciles > 0, missing: versions.missing },
      rules: [{ met: versions.met || t.requests > 0, missing: `hot-write ${versions.missing}` }, reconciles('hot-reconcile')],
    },
    'notfound-retry': {
      base: { met: t.requests > 0 || t.reconciles > 0, missing: 'needs request or reconcile records' },
      rules: [{ met: t.requests > 0, missing: `api-404 ${noRequests}` }, reconciles('reconcile-notfound')],
    },
    'stale-read': {
      base: { met: t.reconcilesWithRV > 0 && t.views > 0, missing: t.reconcilesWithRV === 0 ? 'needs reconcile records with the resourceVersion they read' : noWatch },
      rules: [],
    },
    'reconcile-lag': {
      base: { met: t.reconcilesWithRV > 0 && (t.views > 0 || t.handlerCalls > 0), missing: t.reconcilesWithRV === 0 ? 'needs reconcile records with the resourceVersion they read' : noWatch },
      rules: [],
    },
    'hung-reconcile': {
      base: { met: t.reconciles > 0 || t.reconcileStarts > 0, missing: noReconciles },
      rules: [{ met: t.reconcileStarts > 0, missing: 'never-finished needs reconcile-start records (an SDK that reports starts)' }],
    },
    'cluster-wide-watch': { base: { met: t.collectionReads > 0, missing: 'needs the list/watch requests (an audit log or the audit webhook)' }, rules: [] },
    unreconciled: { base: versions, rules: [{ met: t.reconciles > 0, missing: 'judged by status.observedGeneration only (no reconcile records)' }] },
  };
}

/** The coverage of the kinds that ran. */
export function coverageOf(tally: InputTally, kinds: readonly FindingKind[]): Coverage {
  const needs = requirements(tally);
  const out: Coverage = {};
  for (const kind of kinds) {
    const { base, rules } = needs[kind];
    if (!base.met) out[kind] = { status: 'not-evaluated', missing: [base.missing] };
    else {
      const missing = rules.filter((r) => !r.met).map((r) => r.missing);
      out[kind] = { status: missing.length ? 'partly' : 'evaluated', missing };
    }
  }
  return out;
}
