import type { FindingKind } from '../../model/index.js';
import { clusterWideWatch } from './cluster-wide-watch.js';
import { dfsuGap } from './dfsu-gap.js';
import { duplicateEvent } from './duplicate-event.js';
import { hotLoop } from './hot-loop.js';
import { hungReconcile } from './hung-reconcile.js';
import { lostEvent } from './lost-event.js';
import { notFoundRetry } from './notfound-retry.js';
import { reconcileLag } from './reconcile-lag.js';
import { staleRead } from './stale-read.js';
import { statusSpecRace } from './status-spec-race.js';
import { stuckFinalizer } from './stuck-finalizer.js';
import type { DetectorFactory } from './types.js';
import { unreconciled } from './unreconciled.js';

export type { Detector, DetectorContext, DetectorFactory, Shared } from './types.js';
export { HandlerHistory } from './controller-handlers.js';

/** One detector per finding kind, in registry order. */
export const detectorFactories: Readonly<Record<FindingKind, DetectorFactory>> = {
  'duplicate-event': duplicateEvent,
  'lost-event': lostEvent,
  'dfsu-gap': dfsuGap,
  'status-spec-race': statusSpecRace,
  'stuck-finalizer': stuckFinalizer,
  'hot-loop': hotLoop,
  'notfound-retry': notFoundRetry,
  'stale-read': staleRead,
  unreconciled,
  'reconcile-lag': reconcileLag,
  'hung-reconcile': hungReconcile,
  'cluster-wide-watch': clusterWideWatch,
};
