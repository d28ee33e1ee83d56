/** Column widths of the timeline for a terminal width: fixed columns first, the rest shared by object and writer. */
export interface Columns {
  readonly gutter: number;
  /** 12 (HH:MM:SS.mmm) when wide, 9 (MM:SS.mmm) when narrow: the header always shows the full time. */
  readonly time: number;
  readonly seq: number;
  readonly object: number;
  readonly type: number;
  readonly rv: number;
  readonly writer: number;
  readonly badges: number;
  /** 0 when there is no room for the detail column. */
  readonly detail: number;
  /** Narrow: kubectl short names for built-in kinds (deploy, po, cm). */
  readonly shortKinds: boolean;
}

export function timelineColumns(width: number, seqDigits: number): Columns {
  const gutter = 2;
  const wide = width >= 110;
  const time = wide ? 12 : 9;
  const seq = Math.max(3, seqDigits);
  const type = wide ? 17 : 12;
  const rv = wide ? 9 : 7;
  const badges = wide ? 11 : 5;
  // One space after each column but the last.
  const fixed = gutter + time + 1 + seq + 1 + type + 1 + rv + 1 + badges;
  let rest = Math.max(14, width - fixed - 2);
  let detail = 0;
  if (rest > 96) {
    detail = rest - 80;
    rest = 80;
  }
  const object = Math.max(8, Math.round(rest * 0.6));
  const writer = Math.max(4, rest - object);
  return { gutter, time, seq, object, type, rv, writer, badges, detail: detail > 1 ? detail - 1 : 0, shortKinds: !wide };
}

/** kubectl's short names for the built-in kinds a controller usually touches. */
const shortNames: Readonly<Record<string, string>> = {
  Deployment: 'deploy',
  ReplicaSet: 'rs',
  StatefulSet: 'sts',
  DaemonSet: 'ds',
  Pod: 'po',
  Service: 'svc',
  ConfigMap: 'cm',
  Secret: 'secret',
  Namespace: 'ns',
  Node: 'no',
  PersistentVolumeClaim: 'pvc',
  PersistentVolume: 'pv',
  ServiceAccount: 'sa',
  Ingress: 'ing',
  Endpoints: 'ep',
  EndpointSlice: 'eps',
  CronJob: 'cj',
  Job: 'job',
  HorizontalPodAutoscaler: 'hpa',
  CustomResourceDefinition: 'crd',
  Event: 'ev',
  Lease: 'lease',
};

export function kindLabel(kind: string, short: boolean): string {
  return short ? (shortNames[kind] ?? kind) : kind;
}
