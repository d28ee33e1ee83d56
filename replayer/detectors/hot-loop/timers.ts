import type { KubeObject } from '../../../model/index.js';

/**
 * Objects written on a timer by design, never a hot loop: client-go's resource locks renew every RetryPeriod (2 s by
 * default, tools/leaderelection/resourcelock): a coordination.k8s.io Lease (spec.holderIdentity, renewTime), or the
 * legacy ConfigMap and Endpoints locks that keep the record as JSON in this annotation. Node heartbeats are Leases
 * too, and Events count up in series.
 */
export const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

const timerKinds: ReadonlySet<string> = new Set(['coordination.k8s.io/Lease', '/Event', 'events.k8s.io/Event']);

export function isTimerKind(kindKey: string): boolean {
  return timerKinds.has(kindKey);
}

/** A leader-election record, recognised by content (any name): the annotation holds {"holderIdentity": ...}. */
export function isLeaderElectionLock(object: KubeObject | null | undefined): boolean {
  const annotations = (object?.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
  const record = annotations?.[leaderAnnotation];
  if (typeof record !== 'string') return false;
  try {
    const parsed = JSON.parse(record) as unknown;
    return typeof parsed === 'object' && parsed !== null && 'holderIdentity' in parsed;
  } catch {
    return false;
  }
}
