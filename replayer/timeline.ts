import { nameKey, type Finding, type ObjectRef, type StoredRecord } from '../model/index.js';
import type { RecordAnnotation } from './state.js';

export interface TimelineEntry {
  readonly seq: number;
  readonly record: StoredRecord;
  /** 'ADDED', 'update status → 409', 'reconcile error NotFound', 'handler delete (tombstone)', ... */
  readonly label: string;
  readonly time: string | null;
  readonly resourceVersion: string | null;
  readonly generation: number | null;
  readonly annotations: readonly RecordAnnotation[];
  /** Ids of findings whose evidence points at this record. */
  readonly findings: readonly string[];
}

/** seq → findings whose evidence names that record: lets a record list show badges and step to a finding. */
export function findingsBySeq(findings: readonly Finding[]): Map<number, Finding[]> {
  const out = new Map<number, Finding[]>();
  for (const finding of findings) {
    for (const item of finding.evidence) {
      const list = out.get(item.seq);
      if (!list) out.set(item.seq, [finding]);
      else if (!list.includes(finding)) list.push(finding);
    }
  }
  return out;
}

/** The object a record is about, if it is about one. */
export function objectRefOf(record: StoredRecord): ObjectRef | undefined {
  switch (record.record) {
    case 'watch':
      return record.name === null ? undefined : { group: record.group, version: record.version, resource: record.resource, kind: record.kind, namespace: record.namespace, name: record.name, uid: record.uid };
    case 'marker':
      return undefined;
    default:
      return record.object;
  }
}

function labelOf(record: StoredRecord): string {
  switch (record.record) {
    case 'watch':
      return `${record.type}${record.origin === 'watch' ? '' : ` (${record.origin})`}`;
    case 'marker':
      return record.marker;
    case 'reconcile':
      return `reconcile ${record.result}${record.errorReason ? ` ${record.errorReason}` : ''}`;
    case 'reconcile-start':
      return 'reconcile started';
    case 'delivery':
      return `handler ${record.handler}${record.tombstone ? ' (tombstone)' : ''}`;
    case 'api':
      return `${record.verb}${record.subresource ? ` ${record.subresource}` : ''} → ${record.code}${record.reason ? ` ${record.reason}` : ''}`;
  }
}

/**
 * One object's timeline: every record about it (by uid; records without a uid match by name while that
 * incarnation lived), with the annotations and finding ids from an analysis of the session. Feed it the
 * object's records (store.objectHistory plus the api/reconcile/delivery records that name it) or a whole session.
 */
export function objectTimeline(
  records: Iterable<StoredRecord>,
  uid: string,
  analysis?: { annotations?: ReadonlyMap<number, readonly RecordAnnotation[]>; findings?: readonly Finding[] },
): TimelineEntry[] {
  const bySeq = analysis?.findings ? findingsBySeq(analysis.findings) : new Map<number, Finding[]>();
  const out: TimelineEntry[] = [];
  let key: string | undefined;
  let alive = false;
  for (const record of records) {
    const ref = objectRefOf(record);
    let mine = false;
    if (ref?.uid === uid) {
      mine = true;
      key ??= nameKey(ref);
      alive = !(record.record === 'watch' && record.type === 'DELETED');
    } else if (ref && !ref.uid && key !== undefined && alive && nameKey(ref) === key) {
      mine = true;
    } else if (record.record === 'marker' || !ref) {
      const notes = analysis?.annotations?.get(record.seq)?.filter((a) => a.uid === uid);
      if (notes && notes.length) {
        out.push(entry(record, notes, bySeq));
        if (notes.some((a) => a.tag === 'tombstone')) alive = false;
      }
      continue;
    }
    if (!mine) continue;
    const notes = (analysis?.annotations?.get(record.seq) ?? []).filter((a) => a.uid === undefined || a.uid === uid);
    out.push(entry(record, notes, bySeq));
  }
  return out;
}

function entry(record: StoredRecord, annotations: readonly RecordAnnotation[], bySeq: Map<number, Finding[]>): TimelineEntry {
  let rv: string | null = null;
  let generation: number | null = null;
  if (record.record === 'watch') {
    rv = record.resourceVersion;
    generation = record.generation;
  } else if (record.record === 'api') rv = record.resourceVersionAfter ?? record.resourceVersionBefore ?? null;
  else if (record.record === 'reconcile' || record.record === 'reconcile-start') {
    rv = record.observedResourceVersion ?? null;
    generation = record.observedGeneration ?? null;
  } else if (record.record === 'delivery') rv = record.resourceVersion;
  else if (record.record === 'marker') rv = record.resourceVersion ?? null;
  return {
    seq: record.seq,
    record,
    label: labelOf(record),
    time: record.record === 'reconcile' ? record.startedAt : record.observedAt,
    resourceVersion: rv,
    generation,
    annotations,
    findings: (bySeq.get(record.seq) ?? []).map((f) => f.id),
  };
}
