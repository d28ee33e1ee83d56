import type { KubeObject, MarkerKind, Origin, RecordKind, StoredRecord } from '../model/index.js';
import { changeAuthor, type ChangeAuthor } from '../replayer/diff.js';
import type { StoreFilter } from './filter.js';

/** The object a record names; markers name none (or only a resource). */
export interface RowObject {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace: string | null;
  readonly name: string;
  readonly uid: string | null;
}

/** How a row is drawn: markers explain gaps and must stand out; failures are red. */
export type RowTone = 'normal' | 'marker' | 'alert' | 'error' | 'dim';

/** One timeline row: what the table shows, derived from one stored record. */
export interface TimelineRow {
  readonly seq: number;
  readonly time: string | null;
  readonly record: RecordKind;
  readonly origin: Origin;
  /** An API request that more than one source reported (audit and the SDK): all of them; origin is the first. */
  readonly sources?: readonly Origin[];
  readonly object: RowObject | null;
  /** Event type, marker kind, reconcile result, delivery handler or API verb (with subresource). */
  readonly type: string;
  /** The store's type column for this record (event type, marker kind, result, handler, verb): what filters match. */
  readonly rawType: string;
  readonly resourceVersion: string | null;
  /** Who wrote it: managedFields manager for watch events, audit actor for API requests, controller otherwise. */
  readonly writer: string | null;
  /** A few words more: "410 Gone", "error Conflict", "tombstone", "2000 items". */
  readonly detail: string;
  readonly tone: RowTone;
}

/** Short enough for the narrow TYPE column, readable without colour. */
const reconcileGlyphs: Readonly<Record<string, string>> = { success: '✓', requeue: '↻', 'requeue-after': '↻ after', error: '✗' };

const alertMarkers: ReadonlySet<MarkerKind> = new Set(['gone', 'error', 'dropped', 'gap', 'watch-closed', 'recorder-stopped']);

function refOf(ref: { group: string; version: string; kind: string; namespace: string | null; name: string; uid?: string | null | undefined }): RowObject {
  return { group: ref.group, version: ref.version, kind: ref.kind, namespace: ref.namespace, name: ref.name, uid: ref.uid ?? null };
}

/** Strips the audit prefix a service account carries: `system:serviceaccount:shop:web-operator` → `sa:shop/web-operator`. */
export function shortActor(actor: string): string {
  const sa = /^system:serviceaccount:([^:]+):(.+)$/.exec(actor);
  return sa ? `sa:${sa[1]}/${sa[2]}` : actor;
}

/** A version's writer as the WRITER column shows it: `web-operator`, `kube-controller-manager/status`. */
export function authorLabel(author: ChangeAuthor | undefined): string | null {
  return author ? `${author.manager}${author.subresource ? `/${author.subresource}` : ''}` : null;
}

/**
 * A DELETED event's body is the object's last state: its managedFields name the last writer, not the deleter. Say so
 * unless the deleter is known (StoreDataSource.writerOf finds the DELETE request).
 */
export function lastWriterLabel(author: ChangeAuthor | undefined): string | null {
  const label = authorLabel(author);
  return label === null ? null : `last writer: ${label}`;
}

export function toRow(record: StoredRecord, previousObject?: KubeObject | null): TimelineRow {
  const base = { seq: record.seq, time: record.observedAt, origin: record.origin };
  switch (record.record) {
    case 'watch': {
      const object = record.name === null ? null : refOf({ ...record, name: record.name });
      const author = record.object ? changeAuthor(record.object, previousObject) : undefined;
      const relist = record.origin === 'relist';
      return {
        ...base,
        record: 'watch',
        object,
        type: record.type,
        rawType: record.type,
        resourceVersion: record.resourceVersion,
        writer: record.type === 'DELETED' ? lastWriterLabel(author) : authorLabel(author),
        detail: relist ? 'relist' : record.generation !== null ? `gen ${record.generation}` : '',
        tone: record.type === 'DELETED' ? 'alert' : record.type === 'BOOKMARK' || relist ? 'dim' : 'normal',
      };
    }
    case 'marker': {
      const resource = record.kind ?? record.resource;
      const object = null;
      const bits = [
        record.code !== undefined ? `${record.code}${record.code === 410 ? ' Gone' : ''}` : '',
        record.count !== undefined ? `${record.count} ${record.marker === 'dropped' ? 'records lost' : 'items'}` : '',
        resource ?? '',
        record.message ?? '',
      ].filter(Boolean);
      return {
        ...base,
        record: 'marker',
        object,
        type: record.marker,
        rawType: record.marker,
        resourceVersion: record.resourceVersion ?? null,
        writer: 'kreplay',
        detail: bits.join(' · '),
        tone: alertMarkers.has(record.marker) ? 'alert' : 'marker',
      };
    }
    case 'reconcile': {
      const ms = Date.parse(record.finishedAt) - Date.parse(record.startedAt);
      const outcome =
        record.result === 'error'
          ? `${record.errorReason ?? 'error'}${record.errorMessage ? `: ${record.errorMessage}` : ''}`
          : record.result === 'requeue-after'
            ? `requeue after ${record.requeueAfterMs}ms`
            : record.result === 'requeue'
              ? 'requeue'
              : '';
      return {
        ...base,
        record: 'reconcile',
        object: refOf(record.object),
        type: `reconcile ${reconcileGlyphs[record.result]}`,
        rawType: record.result,
        resourceVersion: record.observedResourceVersion ?? null,
        writer: record.controller,
        detail: [Number.isFinite(ms) ? `${ms}ms` : '', outcome].filter(Boolean).join(' '),
        tone: record.result === 'error' ? 'error' : 'normal',
      };
    }
    case 'reconcile-start':
      return {
        ...base,
        record: 'reconcile-start',
        object: refOf(record.object),
        type: 'reconcile …',
        rawType: 'started',
        resourceVersion: record.observedResourceVersion ?? null,
        writer: record.controller,
        detail: `started ${record.startedAt}`,
        tone: 'dim',
      };
    case 'delivery':
      return {
        ...base,
        record: 'delivery',
        object: refOf(record.object),
        type: `on${record.handler[0]!.toUpperCase()}${record.handler.slice(1)}`,
        rawType: record.handler,
        resourceVersion: record.resourceVersion,
        writer: record.controller,
        detail: record.tombstone
          ? 'tombstone (DeletedFinalStateUnknown)'
          : record.handler === 'update' && record.oldResourceVersion === record.resourceVersion
            ? 'resync'
            : record.oldResourceVersion
              ? `from ${record.oldResourceVersion}`
              : '',
        tone: record.tombstone ? 'alert' : 'dim',
      };
    case 'api': {
      const failed = record.code >= 400;
      return {
        ...base,
        record: 'api',
        ...(record.sources ? { sources: record.sources } : {}),
        object: refOf(record.object),
        type: `${record.verb}${record.subresource ? `/${record.subresource}` : ''}`,
        rawType: record.verb,
        resourceVersion: record.resourceVersionAfter ?? record.resourceVersionBefore ?? null,
        writer: shortActor(record.actor),
        detail: `${record.code}${record.reason ? ` ${record.reason}` : ''}${failed && record.message ? `: ${record.message}` : ''}`,
        tone: failed ? 'error' : 'normal',
      };
    }
  }
}

/** The store filter, evaluated on a row (for seq sets the store cannot filter, like findings). */
export function rowMatches(row: TimelineRow, filter: StoreFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.kinds?.length && !filter.kinds.includes(row.record)) return false;
  if (filter.origins?.length && !filter.origins.includes(row.origin) && !row.sources?.some((s) => filter.origins!.includes(s))) return false;
  if (filter.types?.length && !filter.types.includes(row.rawType)) return false;
  const object = row.record === 'marker' ? null : row.object;
  if (filter.objectKind !== undefined && object?.kind.toLowerCase() !== filter.objectKind.toLowerCase()) return false;
  if (filter.namespace !== undefined && (object?.namespace ?? '') !== filter.namespace) return false;
  if (filter.name !== undefined && object?.name !== filter.name) return false;
  if (filter.uid !== undefined && object?.uid !== filter.uid) return false;
  return true;
}

/** Text a search matches against: everything the row shows. */
export function searchText(row: TimelineRow): string {
  const o = row.object;
  return [row.seq, row.record, row.type, o ? `${o.kind} ${o.namespace ?? ''}/${o.name} ${o.uid ?? ''}` : '', row.resourceVersion ?? '', row.writer ?? '', row.detail, row.origin]
    .join(' ')
    .toLowerCase();
}
