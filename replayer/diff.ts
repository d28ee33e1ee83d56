import type { KubeObject } from '../model/index.js';
import type { ApiRequestRecord } from '../model/records.js';
import { attributeWriter, managedFieldsListOf } from '../model/version-facts.js';
import { formatFieldPath, type PathSegment } from './watchpoint.js';

/**
 * A structured diff of two versions of one Kubernetes object, for people: which fields changed, split the way a
 * controller author thinks about an object (spec = what was asked, status = what was observed, metadata = who and
 * when), with managedFields hidden by default because every write rewrites them.
 *
 * Paths use the same syntax the watchpoint parser reads (`.status.conditions[?type=Ready].status`), so any line of
 * a diff can be watched. Lists of objects that carry a unique `type` (conditions) or `name` (containers, ports,
 * env, volumes) are matched by that key, the way strategic merge patch matches them (patchMergeKey in
 * k8s.io/api/core/v1/types.go): a condition that moves in the list is not reported as a change of every element.
 *
 * Pure and deterministic: the TUI, `kreplay check` and the HTML exporter all render the same entries.
 */

export const diffSections = ['spec', 'status', 'metadata', 'other'] as const;
export type DiffSection = (typeof diffSections)[number];

export const diffChangeKinds = ['added', 'removed', 'changed'] as const;
export type DiffChangeKind = (typeof diffChangeKinds)[number];

export interface DiffEntry {
  /** Watchpoint syntax: `.spec.replicas`, `.metadata.labels["app.kubernetes.io/name"]`, `.spec.ports[0].port`. */
  readonly path: string;
  readonly kind: DiffChangeKind;
  /** Absent when added. A whole subtree when the subtree was added, removed, or changed type. */
  readonly before?: unknown;
  /** Absent when removed. */
  readonly after?: unknown;
}

export interface ObjectDiff {
  readonly sections: Readonly<Record<DiffSection, readonly DiffEntry[]>>;
  /** Entries over all sections. */
  readonly count: number;
  /** How many changed paths under metadata.managedFields were left out (0 when includeManagedFields). */
  readonly hiddenManagedFields: number;
  /** True when there was no previous version: everything is "added". */
  readonly created: boolean;
  /** True when there is no next version (a deletion with no body): everything is "removed". */
  readonly deleted: boolean;
}

export interface DiffOptions {
  /** Show metadata.managedFields changes (default false: they change on every write and drown the real diff). */
  readonly includeManagedFields?: boolean;
}

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The key lists of objects are matched by, or undefined to match by index. */
function mergeKeyOf(before: readonly Json[], after: readonly Json[]): 'type' | 'name' | undefined {
  for (const key of ['type', 'name'] as const) {
    const ok = (list: readonly Json[]) => {
      const seen = new Set<string>();
      for (const item of list) {
        if (!isPlainObject(item) || typeof item[key] !== 'string') return false;
        const value = item[key] as string;
        if (seen.has(value)) return false;
        seen.add(value);
      }
      return true;
    };
    if ((before.length > 0 || after.length > 0) && ok(before) && ok(after)) return key;
  }
  return undefined;
}

function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ak = Object.keys(a as object);
  const bo = b as Record<string, Json>;
  if (ak.length !== Object.keys(bo).length) return false;
  for (const key of ak) if (!(key in bo) || !deepEqual((a as Record<string, Json>)[key], bo[key])) return false;
  return true;
}

/**
 * Two objects' fields: keys in the order of the newer version first (that is how the object reads today), then
 * removed ones. `out` names the list each key's entries go to.
 */
function walkFields(before: Record<string, Json>, after: Record<string, Json>, path: PathSegment[], out: (key: string) => DiffEntry[]): void {
  for (const key of Object.keys(after)) {
    path.push({ type: 'field', name: key });
    if (key in before) walk(before[key], after[key], path, out(key));
    else out(key).push({ path: formatFieldPath(path), kind: 'added', after: after[key] });
    path.pop();
  }
  for (const key of Object.keys(before)) {
    if (key in after) continue;
    path.push({ type: 'field', name: key });
    out(key).push({ path: formatFieldPath(path), kind: 'removed', before: before[key] });
    path.pop();
  }
}

function walk(before: Json, after: Json, path: PathSegment[], out: DiffEntry[]): void {
  // Equal subtrees yield no entries when walked; the same reference (versions decoded from deltas share what did not
  // change) is skipped without a walk. A deepEqual here re-read the subtree at every level above each change.
  if (before === after) return;
  if (isPlainObject(before) && isPlainObject(after)) {
    walkFields(before, after, path, () => out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const key = mergeKeyOf(before, after);
    if (key) {
      const byKey = new Map(before.map((item) => [(item as Record<string, string>)[key]!, item]));
      const afterKeys = new Set<string>();
      for (const item of after) {
        const value = (item as Record<string, string>)[key]!;
        afterKeys.add(value);
        path.push({ type: 'select', key, value });
        if (byKey.has(value)) walk(byKey.get(value), item, path, out);
        else out.push({ path: formatFieldPath(path), kind: 'added', after: item });
        path.pop();
      }
      for (const item of before) {
        const value = (item as Record<string, string>)[key]!;
        if (afterKeys.has(value)) continue;
        path.push({ type: 'select', key, value });
        out.push({ path: formatFieldPath(path), kind: 'removed', before: item });
        path.pop();
      }
      return;
    }
    const common = Math.min(before.length, after.length);
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      path.push({ type: 'index', index: i });
      if (i < common) walk(before[i], after[i], path, out);
      else if (i < after.length) out.push({ path: formatFieldPath(path), kind: 'added', after: after[i] });
      else out.push({ path: formatFieldPath(path), kind: 'removed', before: before[i] });
      path.pop();
    }
    return;
  }
  out.push({ path: formatFieldPath(path), kind: 'changed', before, after });
}

function sectionOf(topKey: string): DiffSection {
  return topKey === 'spec' || topKey === 'status' || topKey === 'metadata' ? topKey : 'other';
}

/**
 * Diffs two versions of an object. `before` null/undefined means the object was created (every field added);
 * `after` null/undefined means it is gone.
 */
export function diffObjects(before: KubeObject | null | undefined, after: KubeObject | null | undefined, options: DiffOptions = {}): ObjectDiff {
  const sections: Record<DiffSection, DiffEntry[]> = { spec: [], status: [], metadata: [], other: [] };
  let hiddenManagedFields = 0;
  const strip = (object: KubeObject | null | undefined): Record<string, Json> => {
    if (!object) return {};
    if (options.includeManagedFields || !isPlainObject(object.metadata) || !('managedFields' in object.metadata)) return object;
    const { managedFields: _managedFields, ...metadata } = object.metadata as Record<string, Json>;
    return { ...object, metadata };
  };
  if (!options.includeManagedFields) {
    const mfBefore = (before?.metadata as Record<string, Json> | undefined)?.managedFields;
    const mfAfter = (after?.metadata as Record<string, Json> | undefined)?.managedFields;
    if (!deepEqual(mfBefore, mfAfter)) {
      const hidden: DiffEntry[] = [];
      walk(mfBefore, mfAfter, [], hidden);
      hiddenManagedFields = hidden.length;
    }
  }
  const a = strip(before);
  const b = strip(after);
  // An entry's section is its top key's.
  walkFields(a, b, [], (key) => sections[sectionOf(key)]);
  const count = sections.spec.length + sections.status.length + sections.metadata.length + sections.other.length;
  return { sections, count, hiddenManagedFields, created: !before, deleted: !after };
}

/** One metadata.managedFields entry (apimachinery pkg/apis/meta/v1/types.go ManagedFieldsEntry). */
export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly apiVersion?: string;
  readonly time?: string;
  readonly subresource?: string;
  readonly fieldsV1?: unknown;
}

export interface ChangeAuthor {
  /** The field manager: the controller's name (controller-runtime: the binary name unless client.FieldOwner). */
  readonly manager: string;
  /** 'Update' or 'Apply'. */
  readonly operation?: string;
  /** 'status' when the write went through the status subresource. */
  readonly subresource?: string;
  readonly time?: string;
  /** How it was decided: 'changed-entry' compares with the previous version, 'newest-time' is the fallback. */
  readonly basis: 'changed-entry' | 'newest-time';
}

/**
 * Who wrote this version, for the TUI and exports: the same rule the detectors use (model/version-facts.ts
 * attributeWriter), so every view names the same writer. The API server stamps a manager's managedFields entry with
 * the write's time whenever that manager's write changes fields it owns (ManagedFieldsEntry.Time, apimachinery
 * pkg/apis/meta/v1/types.go): the entry that is new or moved since `previous` names the writer; without a previous
 * version, or when none moved, the entry with the newest time is the best guess.
 */
export function changeAuthor(after: KubeObject | null | undefined, previous?: KubeObject | null): ChangeAuthor | undefined {
  const attribution = attributeWriter(previous ? managedFieldsListOf(previous) : null, after);
  if (attribution.times.length === 0) return undefined;
  return {
    manager: attribution.writer ?? '(unknown manager)',
    ...(attribution.operation !== undefined ? { operation: attribution.operation } : {}),
    ...(attribution.subresource ? { subresource: attribution.subresource } : {}),
    ...(attribution.time !== undefined ? { time: attribution.time } : {}),
    basis: attribution.basis,
  };
}

/**
 * How far after a DELETED event the request that caused it may be stamped: audit times are the API server's clock,
 * the watch event's the recorder's.
 */
const deleteSkewMs = 2_000;

/**
 * Who deleted an object, for the DELETED row of the TUI and exports: a DELETED event's body is the object's last
 * stored state, so its managedFields name the *last writer* (often the controller), not whoever ran `kubectl delete`.
 * The deleter is the user of the newest successful DELETE of the object (from audit or the SDK) at or before the
 * event, allowing for clock skew; with finalizers that DELETE came earlier and only set the deletionTimestamp, and
 * it is still the deletion's cause. Null when no DELETE of it was recorded: then say "last writer".
 */
export function deleterOf(deleted: { seq: number; observedAt: string | null }, requests: readonly ApiRequestRecord[]): (ApiRequestRecord & { seq?: number }) | null {
  const at = deleted.observedAt === null ? Number.NaN : Date.parse(deleted.observedAt);
  let best: (ApiRequestRecord & { seq?: number }) | null = null;
  let bestTime = Number.NEGATIVE_INFINITY;
  for (const request of requests as readonly (ApiRequestRecord & { seq?: number })[]) {
    if (request.verb !== 'delete' || request.code < 200 || request.code >= 300) continue;
    const time = request.observedAt === null ? Number.NaN : Date.parse(request.observedAt);
    // Without times (either side), order alone: the request stored before the event.
    const before = Number.isNaN(at) || Number.isNaN(time) ? request.seq !== undefined && request.seq < deleted.seq : time <= at + deleteSkewMs;
    if (!before) continue;
    const rank = Number.isNaN(time) ? (request.seq ?? 0) : time;
    if (!best || rank >= bestTime) {
      best = request;
      bestTime = rank;
    }
  }
  return best;
}
