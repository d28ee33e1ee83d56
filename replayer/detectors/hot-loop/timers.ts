/**
 * Objects written on a timer by design, never a hot loop: client-go's resource locks renew every RetryPeriod (2 s by
 * default, tools/leaderelection/resourcelock): a coordination.k8s.io Lease (spec.holderIdentity, renewTime), or the
 * legacy ConfigMap and Endpoints locks that keep the record as JSON in an annotation (isLeaderElectionRecord in
 * model/version-facts.ts, kept as a version fact). Node heartbeats are Leases too, and Events count up in series.
 */
const timerKinds: ReadonlySet<string> = new Set(['coordination.k8s.io/Lease', '/Event', 'events.k8s.io/Event']);

export function isTimerKind(kindKey: string): boolean {
  return timerKinds.has(kindKey);
}
