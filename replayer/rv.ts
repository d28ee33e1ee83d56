/**
 * resourceVersions are opaque to clients: the API contract only promises equality (apimachinery
 * pkg/apis/meta/v1/types.go, "clients must treat these values as opaque"). Every etcd-backed RV is, in practice,
 * the etcd revision as a decimal integer (apiserver pkg/storage/etcd3/api_object_versioner.go), and the watch
 * cache delivers events of one watch in increasing revision order.
 *
 * So the replayer orders two versions of an object by *when the watch delivered them* first, and falls back to a
 * numeric comparison only where no delivery order exists (a version learned from an audit log, a reconcile's
 * observed RV that the recorder never saw). Non-numeric RVs (aggregated APIs may use anything) simply never
 * compare: the rules that need an order then stay silent.
 */

/** The RV as a number, or NaN when it is not a plain decimal integer that fits a double exactly. */
export function rvNumber(rv: string | null | undefined): number {
  if (!rv || rv.length > 15) return Number.NaN;
  for (let i = 0; i < rv.length; i++) {
    const c = rv.charCodeAt(i);
    if (c < 48 || c > 57) return Number.NaN;
  }
  return Number(rv);
}

/** A numeric RV (rvNum: its rvNumber) without leading zeros: its text is String(rvNum), so it need not be kept. */
export function canonicalRV(rv: string, rvNum: number): boolean {
  return !Number.isNaN(rvNum) && (rv.length === 1 || rv.charCodeAt(0) !== 48);
}

/** -1, 0, 1 when both are numeric; undefined when they cannot be ordered. */
export function compareRV(a: string, b: string): number | undefined {
  if (a === b) return 0;
  const x = rvNumber(a);
  const y = rvNumber(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return undefined;
  return x < y ? -1 : x > y ? 1 : 0;
}
