import type { KubeObject, StoredRecord } from '../../model/index.js';
import type { RecordReader } from '../data-source.js';
import type { StoreFilter } from '../filter.js';

/**
 * A RecordReader over an array, with the store's filter semantics (store/sqlite-store.ts filterSql): fixture data
 * for component tests, and the reference for what the TUI expects of a store.
 */
export class MemoryReader implements RecordReader {
  readonly records: StoredRecord[];

  constructor(records: readonly StoredRecord[]) {
    this.records = [...records].sort((a, b) => a.seq - b.seq);
  }

  private matches(record: StoredRecord, filter: StoreFilter | undefined): boolean {
    if (!filter) return true;
    if (filter.kinds?.length && !filter.kinds.includes(record.record)) return false;
    const type = record.record === 'watch' ? record.type : record.record === 'marker' ? record.marker : record.record === 'reconcile' ? record.result : record.record === 'reconcile-start' ? 'started' : record.record === 'delivery' ? record.handler : record.verb;
    if (filter.types?.length && !filter.types.includes(type)) return false;
    if (filter.origins?.length && !filter.origins.includes(record.origin) && !(record.record === 'api' && record.sources?.some((s) => filter.origins!.includes(s)))) return false;
    const objectFilter = filter.objectKind !== undefined || filter.namespace !== undefined || filter.name !== undefined || filter.uid !== undefined;
    if (!objectFilter) return true;
    const ref =
      record.record === 'watch'
        ? record.name === null
          ? undefined
          : { kind: record.kind, namespace: record.namespace, name: record.name, uid: record.uid }
        : record.record === 'marker'
          ? undefined
          : record.object;
    if (!ref) return false;
    if (filter.objectKind !== undefined && ref.kind.toLowerCase() !== filter.objectKind.toLowerCase()) return false;
    if (filter.namespace !== undefined && (ref.namespace ?? '') !== filter.namespace) return false;
    if (filter.name !== undefined && ref.name !== filter.name) return false;
    if (filter.uid !== undefined && (ref.uid ?? '') !== filter.uid) return false;
    return true;
  }

  private strip(record: StoredRecord, withObjects: boolean): StoredRecord {
    return record.record === 'watch' && !withObjects ? { ...record, object: null } : record;
  }

  page(_sessionId: number, options: { afterSeq?: number; beforeSeq?: number; limit: number; filter?: StoreFilter; withObjects?: boolean }): StoredRecord[] {
    const matching = this.records.filter((r) => this.matches(r, options.filter));
    if (options.afterSeq !== undefined) return matching.filter((r) => r.seq > options.afterSeq!).slice(0, options.limit).map((r) => this.strip(r, options.withObjects ?? false));
    const before = options.beforeSeq !== undefined ? matching.filter((r) => r.seq < options.beforeSeq!) : matching;
    return before.slice(Math.max(0, before.length - options.limit)).map((r) => this.strip(r, options.withObjects ?? false));
  }

  record(_sessionId: number, seq: number): StoredRecord | undefined {
    return this.records.find((r) => r.seq === seq);
  }

  recordCount(_sessionId: number, filter?: StoreFilter): number {
    return this.records.filter((r) => this.matches(r, filter)).length;
  }

  indexOfSeq(_sessionId: number, seq: number, filter?: StoreFilter): number {
    return this.records.filter((r) => r.seq < seq && this.matches(r, filter)).length;
  }

  objectAt(_sessionId: number, seq: number): KubeObject | undefined {
    const record = this.record(0, seq);
    return record?.record === 'watch' ? (record.object ?? undefined) : undefined;
  }
}
