import { apiVersionOf, namespacedName, type KubeObject, type StoredRecord } from '../model/index.js';
import { diffObjects, type DiffEntry, type ObjectDiff } from '../replayer/diff.js';
import { recordObject } from './window.js';

/** Words for one record, shared by the Markdown and HTML exporters so both tell the same story. */

/** '14:03:12.345' (UTC), or the full timestamp when the record is not on `day`. */
export function clock(iso: string | null, day?: string | null): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const text = new Date(ms).toISOString();
  return day && text.slice(0, 10) !== day ? text.replace('T', ' ').replace('Z', '') : text.slice(11, 23);
}

export function dayOf(iso: string | null | undefined): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `WebApp shop/catalog` for any record that names an object; the stream for markers and bookmarks. */
export function recordSubject(record: StoredRecord): string {
  const object = recordObject(record);
  if (object) return `${object.kind} ${namespacedName(object.namespace, object.name)}`;
  if (record.record === 'watch' || (record.record === 'marker' && record.resource)) {
    const group = record.group ?? '';
    return `${record.resource}${group ? `.${group}` : ''}`;
  }
  return 'session';
}

/** A short label: 'watch MODIFIED', 'relist ADDED', 'reconcile error', 'delivery delete (tombstone)', 'PATCH status 200'. */
export function recordLabel(record: StoredRecord): string {
  switch (record.record) {
    case 'watch':
      return `${record.origin === 'watch' ? 'watch' : record.origin} ${record.type}`;
    case 'marker':
      return `marker ${record.marker}`;
    case 'reconcile':
      return `reconcile ${record.result}`;
    case 'reconcile-start':
      return 'reconcile started';
    case 'delivery':
      return `delivery ${record.handler}${record.tombstone ? ' (tombstone)' : ''}`;
    case 'api':
      return `${record.verb.toUpperCase()}${record.subresource ? ` ${record.subresource}` : ''} ${record.code}`;
  }
}

function short(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `.spec.replicas 3 → 5` */
export function describeDiffEntry(entry: DiffEntry, max = 60): string {
  switch (entry.kind) {
    case 'added':
      return `${entry.path} = ${short(entry.after, max)}`;
    case 'removed':
      return `${entry.path} removed`;
    case 'changed':
      return `${entry.path} ${short(entry.before, max)} → ${short(entry.after, max)}`;
  }
}

/** The few changed paths worth a line of text: spec first, then status, then metadata. */
export function diffHighlights(diff: ObjectDiff, limit = 3): string {
  if (diff.created) return 'created';
  // resourceVersion changes on every write and generation is shown on its own: neither says what changed.
  const entries = [...diff.sections.spec, ...diff.sections.status, ...diff.sections.metadata, ...diff.sections.other].filter(
    (e) => e.path !== '.metadata.resourceVersion' && e.path !== '.metadata.generation',
  );
  if (entries.length === 0) return diff.hiddenManagedFields ? 'managedFields only' : 'no change';
  const shown = entries.slice(0, limit).map((e) => describeDiffEntry(e, 40));
  return entries.length > limit ? `${shown.join('; ')}; +${entries.length - limit} more` : shown.join('; ');
}

/** One line of details, without the label. `diff` is the change from the object's previous version (watch only). */
export function recordDetails(record: StoredRecord, diff?: ObjectDiff): string {
  const parts: string[] = [];
  switch (record.record) {
    case 'watch': {
      parts.push(`rv ${record.resourceVersion}`);
      if (record.generation !== null) parts.push(`gen ${record.generation}`);
      const metadata = record.object?.metadata;
      if (metadata?.deletionTimestamp) parts.push(`deleting since ${metadata.deletionTimestamp}${metadata.finalizers?.length ? ` (finalizers: ${metadata.finalizers.join(', ')})` : ''}`);
      if (diff && record.type !== 'DELETED' && record.type !== 'BOOKMARK') parts.push(diffHighlights(diff));
      break;
    }
    case 'marker':
      if (record.resourceVersion) parts.push(`rv ${record.resourceVersion}`);
      if (record.count !== undefined) parts.push(`${record.count} ${record.marker === 'dropped' ? 'dropped' : 'items'}`);
      if (record.code !== undefined) parts.push(`code ${record.code}`);
      if (record.message) parts.push(record.message);
      break;
    case 'reconcile': {
      parts.push(`controller ${record.controller}`);
      if (record.observedResourceVersion) parts.push(`read rv ${record.observedResourceVersion}`);
      if (record.observedGeneration != null) parts.push(`gen ${record.observedGeneration}`);
      parts.push(`took ${formatMs(Date.parse(record.finishedAt) - Date.parse(record.startedAt))}`);
      if (record.result === 'requeue-after' && record.requeueAfterMs != null) parts.push(`requeue after ${formatMs(record.requeueAfterMs)}`);
      if (record.errorReason) parts.push(`${record.errorReason}${record.errorMessage ? `: ${record.errorMessage}` : ''}`);
      break;
    }
    case 'reconcile-start':
      parts.push(`controller ${record.controller}`);
      if (record.observedResourceVersion) parts.push(`read rv ${record.observedResourceVersion}`);
      if (record.observedGeneration != null) parts.push(`gen ${record.observedGeneration}`);
      break;
    case 'delivery':
      parts.push(`controller ${record.controller}`);
      if (record.resourceVersion) parts.push(record.oldResourceVersion && record.oldResourceVersion !== record.resourceVersion ? `rv ${record.oldResourceVersion} → ${record.resourceVersion}` : record.oldResourceVersion ? `rv ${record.resourceVersion} (resync)` : `rv ${record.resourceVersion}`);
      break;
    case 'api':
      parts.push(`by ${record.actor}`);
      if (record.controller) parts.push(`controller ${record.controller}`);
      if (record.sources) parts.push(`reported by ${record.sources.join(' and ')}`);
      if (record.resourceVersionBefore && record.resourceVersionAfter) parts.push(`rv ${record.resourceVersionBefore} → ${record.resourceVersionAfter}`);
      else if (record.resourceVersionAfter) parts.push(`wrote rv ${record.resourceVersionAfter}`);
      else if (record.resourceVersionBefore) parts.push(`sent rv ${record.resourceVersionBefore}`);
      if (record.reason) parts.push(`${record.reason}${record.message ? `: ${record.message}` : ''}`);
      break;
  }
  return parts.join(' · ');
}

/** apiVersion of the object a record names ('apps/v1'). */
export function recordApiVersion(record: StoredRecord): string | undefined {
  if (record.record === 'watch') return apiVersionOf(record.group, record.version);
  if (record.record === 'marker') return record.group !== undefined && record.version ? apiVersionOf(record.group, record.version) : undefined;
  return apiVersionOf(record.object.group, record.object.version);
}

/**
 * Remembers the newest body of each object (by uid) to diff the next version against: memory grows with the number
 * of live objects, not with the session. A DELETED event frees the entry.
 */
export class VersionTracker {
  private readonly bodies = new Map<string, KubeObject>();

  /** The diff of a watch record's object against the previous version of the same uid; undefined for other records. */
  next(record: StoredRecord): ObjectDiff | undefined {
    if (record.record !== 'watch' || record.type === 'BOOKMARK' || record.uid === null) return undefined;
    const previous = this.bodies.get(record.uid);
    if (record.type === 'DELETED') {
      this.bodies.delete(record.uid);
      return diffObjects(previous ?? record.object, record.object);
    }
    if (record.object) this.bodies.set(record.uid, record.object);
    return diffObjects(previous, record.object);
  }
}
