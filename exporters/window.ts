import {
  ObjectTally,
  findingKindRegistry,
  redactObject,
  type Finding,
  type FindingKind,
  type RecordKind,
  type Severity,
  type StoredRecord,
} from '../model/index.js';
import type { ObjectSelector, ReportAnnotation, ReportFindingKind, ReportRecord, ReportSummary, ReportWindow } from './report-schema.js';

/**
 * Cutting a session to an incident's window (`--from`, `--to`, `--object`) and summarising what is left. Pure: the
 * CLI feeds records through a `WindowFilter` while the replayer analyses the whole session, then streams the kept
 * records to an exporter.
 */

/** A window bound: a seq number, or an instant (epoch ms) parsed from RFC 3339. */
export type Bound = { readonly seq: number } | { readonly ms: number; readonly text: string };

/** Parses `--from`/`--to`: a positive integer is a seq, anything else must be an RFC 3339 time. */
export function parseBound(text: string): Bound | { error: string } {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const seq = Number(trimmed);
    if (!Number.isSafeInteger(seq) || seq <= 0) return { error: `"${text}" is not a valid seq number (they start at 1)` };
    return { seq };
  }
  // RFC 3339 needs a date, a time and an offset; Date.parse alone would also take "March 3".
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/.test(trimmed)) {
    return { error: `"${text}" is neither a seq number nor an RFC 3339 time (e.g. 2026-11-25T10:04:00Z)` };
  }
  const ms = Date.parse(trimmed.replace(' ', 'T'));
  if (Number.isNaN(ms)) return { error: `"${text}" is not a valid time` };
  return { ms, text: trimmed };
}

/** `KIND/NAMESPACE/NAME`, `KIND/NAME` (any namespace, or cluster-scoped) or `NAME`. */
export function parseObjectSelector(text: string): ObjectSelector | { error: string } {
  const parts = text.trim().split('/');
  if (parts.some((p) => p === '')) return { error: `"${text}" is not KIND/NAMESPACE/NAME, KIND/NAME or NAME` };
  if (parts.length === 1) return { kind: null, namespace: null, name: parts[0]! };
  if (parts.length === 2) return { kind: parts[0]!, namespace: null, name: parts[1]! };
  if (parts.length === 3) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  return { error: `"${text}" has too many "/": write KIND/NAMESPACE/NAME (e.g. Deployment/default/web)` };
}

interface Named {
  kind: string;
  resource?: string | null | undefined;
  group?: string | undefined;
  namespace?: string | null | undefined;
  name: string;
}

function kindMatches(selector: string, object: { kind: string; resource?: string | null | undefined; group?: string | undefined }): boolean {
  const want = selector.toLowerCase();
  const kind = object.kind.toLowerCase();
  const resource = object.resource?.toLowerCase();
  const group = object.group ?? '';
  // Accept what people type after `kubectl get`: Kind, kind, plural resource, and kind.group / resource.group.
  const names = [kind, resource, group ? `${kind}.${group}` : undefined, group && resource ? `${resource}.${group}` : undefined];
  return names.includes(want);
}

export function selectorMatches(selector: ObjectSelector, object: Named): boolean {
  if (object.name !== selector.name) return false;
  if (selector.namespace !== null && (object.namespace ?? '') !== selector.namespace) return false;
  return selector.kind === null || kindMatches(selector.kind, object);
}

export function describeSelector(selector: ObjectSelector): string {
  return [selector.kind, selector.namespace, selector.name].filter((p) => p !== null).join('/');
}

/** The object a record is about, or undefined for markers and bookmarks. */
export function recordObject(record: StoredRecord): Named & { group: string; uid: string | null } | undefined {
  switch (record.record) {
    case 'watch':
      return record.name === null ? undefined : { group: record.group, kind: record.kind, resource: record.resource, namespace: record.namespace, name: record.name, uid: record.uid };
    case 'marker':
      return undefined;
    default:
      return { ...record.object, uid: record.object.uid ?? null };
  }
}

/** The resource (group + kind) a record without an object is about: markers and bookmarks. */
function streamKindOf(record: StoredRecord): { group: string; kind: string } | undefined {
  if (record.record === 'watch') return { group: record.group, kind: record.kind };
  if (record.record === 'marker' && record.kind) return { group: record.group ?? '', kind: record.kind };
  return undefined;
}

export function recordTime(record: StoredRecord): string | null {
  return record.observedAt ?? (record.record === 'reconcile' ? record.startedAt : null);
}

export interface WindowOptions {
  from?: Bound | undefined;
  to?: Bound | undefined;
  objects?: readonly ObjectSelector[] | undefined;
}

/**
 * Decides, record by record in seq order, what the export keeps. Records without a time (kubectl watch dumps) are
 * kept when the last timed record before them was inside the time window. With `--object`, markers and bookmarks
 * of the selected objects' resources stay too: a relist or a 410 explains gaps in an object's history.
 */
export class WindowFilter {
  private lastTimedInside = true;
  private readonly streamKinds = new Set<string>();

  constructor(readonly options: WindowOptions) {}

  get cut(): boolean {
    return Boolean(this.options.from || this.options.to || this.options.objects?.length);
  }

  includes(record: StoredRecord): boolean {
    const { from, to, objects } = this.options;
    if (from && 'seq' in from && record.seq < from.seq) return false;
    if (to && 'seq' in to && record.seq > to.seq) return false;
    const fromMs = from && 'ms' in from ? from.ms : undefined;
    const toMs = to && 'ms' in to ? to.ms : undefined;
    if (fromMs !== undefined || toMs !== undefined) {
      const time = recordTime(record);
      if (time === null) {
        if (!this.lastTimedInside) return false;
      } else {
        const ms = Date.parse(time);
        this.lastTimedInside = !((fromMs !== undefined && ms < fromMs) || (toMs !== undefined && ms > toMs));
        if (!this.lastTimedInside) return false;
      }
    }
    if (objects?.length) {
      const object = recordObject(record);
      if (object) {
        if (!objects.some((selector) => selectorMatches(selector, object))) return false;
        this.streamKinds.add(`${object.group}/${object.kind}`);
        return true;
      }
      const stream = streamKindOf(record);
      // Session-wide markers (recorder-started, dropped) concern every object.
      if (!stream) return true;
      return this.streamKinds.has(`${stream.group}/${stream.kind}`) || objects.some((s) => s.kind !== null && kindMatches(s.kind, stream));
    }
    return true;
  }
}

/** Counts what a window holds; fed the kept records in seq order. */
export class SummaryBuilder {
  private records = 0;
  private readonly byKind: Partial<Record<RecordKind, number>> = {};
  private readonly objects = new ObjectTally();
  private firstSeq: number | null = null;
  private lastSeq: number | null = null;
  private firstAt: string | null = null;
  private lastAt: string | null = null;
  private firstMs = Infinity;
  private lastMs = -Infinity;

  add(record: StoredRecord): void {
    this.records += 1;
    this.byKind[record.record] = (this.byKind[record.record] ?? 0) + 1;
    const object = recordObject(record);
    // Counted as every command counts (model/objects.ts): by uid, a uid-less audit record joining its name's object.
    if (object) this.objects.add(object);
    this.firstSeq ??= record.seq;
    this.lastSeq = record.seq;
    // A record whose client clock was off (model/clock-skew.ts) is shown, but its time does not make the span.
    if (record.observedAt && !record.clockSkew) {
      const ms = Date.parse(record.observedAt);
      if (ms < this.firstMs) {
        this.firstMs = ms;
        this.firstAt = record.observedAt;
      }
      if (ms > this.lastMs) {
        this.lastMs = ms;
        this.lastAt = record.observedAt;
      }
    }
  }

  get seqRange(): { first: number; last: number } | null {
    return this.firstSeq === null || this.lastSeq === null ? null : { first: this.firstSeq, last: this.lastSeq };
  }

  build(findings: readonly Finding[]): ReportSummary {
    const bySeverity: Partial<Record<Severity, number>> = {};
    const byKind: Partial<Record<FindingKind, number>> = {};
    for (const finding of findings) {
      bySeverity[finding.severity] = (bySeverity[finding.severity] ?? 0) + 1;
      byKind[finding.kind] = (byKind[finding.kind] ?? 0) + 1;
    }
    return {
      records: this.records,
      recordsByKind: { ...this.byKind },
      objects: this.objects.count,
      firstSeq: this.firstSeq,
      lastSeq: this.lastSeq,
      firstObservedAt: this.firstAt,
      lastObservedAt: this.lastAt,
      findings: findings.length,
      findingsBySeverity: bySeverity,
      findingsByKind: byKind,
      suppressedFindings: findings.filter((f) => f.suppressed).length,
    };
  }
}

/** One object's identity for grouping: group/Kind/namespace/name/uid. */
export function objectKey(object: { group?: string; kind: string; namespace?: string | null | undefined; name: string; uid?: string | null | undefined }): string {
  return `${object.group ?? ''}/${object.kind}/${object.namespace ?? ''}/${object.name}/${object.uid ?? ''}`;
}

/** Keeps the findings whose object is selected and whose records overlap the window's seq range. */
export function findingsInWindow(findings: readonly Finding[], filter: WindowFilter, seqRange: { first: number; last: number } | null): Finding[] {
  if (!filter.cut) return [...findings];
  if (!seqRange) return [];
  const objects = filter.options.objects ?? [];
  return findings.filter((finding) => {
    if (finding.lastSeq < seqRange.first || finding.firstSeq > seqRange.last) return false;
    if (objects.length === 0) return true;
    const slash = finding.object.apiVersion.indexOf('/');
    const group = slash === -1 ? '' : finding.object.apiVersion.slice(0, slash);
    return objects.some((selector) => selectorMatches(selector, { ...finding.object, group }));
  });
}

/** Findings in the order a reader wants them: most severe first, then by first appearance. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  return [...findings].sort((a, b) => Number(Boolean(a.suppressed)) - Number(Boolean(b.suppressed)) || rank[a.severity] - rank[b.severity] || a.firstSeq - b.firstSeq || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function findingKindsOf(findings: readonly Finding[]): Partial<Record<FindingKind, ReportFindingKind>> {
  const out: Partial<Record<FindingKind, ReportFindingKind>> = {};
  for (const finding of findings) {
    const info = findingKindRegistry[finding.kind];
    out[finding.kind] = { id: info.id, title: info.title, severity: info.severity, summary: info.summary, explanation: info.explanation, pitfall: info.pitfall, fix: info.fix };
  }
  return out;
}

/**
 * Secret data never leaves kreplay. Sources redact at ingest; exports redact again, in case a session was written
 * by an older or buggy source. `extraPaths` are the user's own `--redact` paths.
 */
export function redactRecord(record: StoredRecord, annotations?: readonly ReportAnnotation[], extraPaths: readonly string[] = []): ReportRecord {
  let out: StoredRecord = record;
  if (record.record === 'watch' && record.object) out = { ...record, object: redactObject(record.object, extraPaths) };
  else if (record.record === 'api' && record.responseObject) out = { ...record, responseObject: redactObject(record.responseObject, extraPaths) };
  return annotations?.length ? { ...out, annotations: [...annotations] } : out;
}

export type { ObjectSelector, ReportWindow };
