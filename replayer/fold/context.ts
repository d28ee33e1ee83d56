import type { StoredRecord } from '../../model/index.js';
import type { AnnotationTag, BodySource, Fact, ObjectState, RecordAnnotation, StreamState, Version } from '../state.js';

export interface FoldOptions {
  /** Collect per-record annotations for the TUI (a map seq → annotations). Off for `check`. */
  annotate?: boolean;
  /** How many deleted objects to remember (for late duplicates and NotFound after deletion). */
  graveyardSize?: number;
  /** Deliveries remembered per object to recognise re-deliveries. */
  deliveryMemory?: number;
}

export interface FoldStats {
  records: number;
  byRecord: Record<StoredRecord['record'], number>;
  /** Objects the session names, counted as every command counts them (model/objects.ts ObjectTally); set by finish(). */
  objects: number;
  liveObjects: number;
  peakLiveObjects: number;
  lists: number;
  relists: number;
  watchRestarts: number;
  staleResumes: number;
  gones: number;
  tombstones: number;
  duplicates: number;
  redeliveries: number;
  resyncs: number;
  firstTime: string | null;
  lastTime: string | null;
}

export interface FoldState {
  /** Live objects by uid. */
  readonly objects: Map<string, ObjectState>;
  /** nameKey → uid of the live object with that name. */
  readonly byName: Map<string, string>;
  /** Recently deleted objects, oldest first, bounded. */
  readonly graveyard: Map<string, ObjectState>;
  readonly gravesByName: Map<string, string>;
  readonly streams: Map<string, StreamState>;
  /** group/Kind → plural resource, learned from watch records. */
  readonly resourceByKind: Map<string, string>;
  /** group/Kind whose objects carry status.observedGeneration. */
  readonly observedGenerationKinds: Set<string>;
  /** group/Kind that reconcile records name. */
  readonly reconciledKinds: Set<string>;
  /**
   * The watch streams are the controller's own informer view, not an observer's: the session was recorded by
   * `kreplay proxy` between the controller and the API server (its recorder-started marker has origin `proxy`).
   * What the view went through (a relist, a tombstone, a stale cache) is then exactly what the controller's cache did.
   */
  controllerView: boolean;
  /** The session clock: the newest time any record told (epoch ms). */
  now: number | null;
  first: number | null;
  readonly annotations: Map<number, RecordAnnotation[]> | null;
  readonly stats: FoldStats;
}

export type Stored<T> = T & { seq: number };

export function kindKey(ref: { group: string; kind: string }): string {
  return `${ref.group}/${ref.kind}`;
}

/** A watch record's body, or its loader when the store read it with lazy bodies. */
export function bodyOf(record: StoredRecord & { record: 'watch' }): BodySource {
  return record.loadObject ?? record.object;
}

export function emptyFoldState(annotate: boolean): FoldState {
  return {
    objects: new Map(),
    byName: new Map(),
    graveyard: new Map(),
    gravesByName: new Map(),
    streams: new Map(),
    resourceByKind: new Map(),
    observedGenerationKinds: new Set(),
    reconciledKinds: new Set(),
    controllerView: false,
    now: null,
    first: null,
    annotations: annotate ? new Map() : null,
    stats: {
      records: 0,
      byRecord: { watch: 0, marker: 0, reconcile: 0, 'reconcile-start': 0, delivery: 0, api: 0 },
      objects: 0,
      liveObjects: 0,
      peakLiveObjects: 0,
      lists: 0,
      relists: 0,
      watchRestarts: 0,
      staleResumes: 0,
      gones: 0,
      tombstones: 0,
      duplicates: 0,
      redeliveries: 0,
      resyncs: 0,
      firstTime: null,
      lastTime: null,
    },
  };
}

/**
 * What every part of the fold shares while one record is folded in: the state, the facts that record produced, and
 * the versions whose bodies may be dropped before the next record.
 */
export class FoldContext {
  readonly state: FoldState;
  /** The current record's facts; a new array per record (cheaper than truncating one, and callers may keep it). */
  facts: Fact[] = [];
  /** Versions no longer newest nor in the view: their bodies are released when the next record starts. */
  release: Version[] = [];
  /**
   * The last successful audit write and the resourceVersion it answered with. The audit importer stores the answer
   * as a version record right after the request: that version was written by this request's user, which is all
   * there is to name its writer when the audit policy omits managedFields (`omitManagedFields: true`).
   */
  answeredWrite: { rv: string; actor: string } | null = null;

  constructor(annotate: boolean) {
    this.state = emptyFoldState(annotate);
  }

  beginRecord(): void {
    if (this.release.length) {
      for (const version of this.release) version.object = null;
      this.release = [];
    }
    this.facts = [];
  }

  annotate(seq: number, tag: AnnotationTag, note: string, uid?: string): void {
    const annotations = this.state.annotations;
    if (!annotations) return;
    const list = annotations.get(seq);
    const entry: RecordAnnotation = uid === undefined ? { tag, note } : { tag, note, uid };
    if (list) list.push(entry);
    else annotations.set(seq, [entry]);
  }
}
