import { ObjectTally, type ObjectRef, type StoredRecord } from '../model/index.js';
import { ControllerReports } from './fold/controller-reports.js';
import { FoldContext, type FoldOptions, type FoldState } from './fold/context.js';
import { DeliveryRing } from './fold/deliveries.js';
import { ObjectHistory } from './fold/object-history.js';
import { RelistBookkeeping } from './fold/relists.js';
import { Streams } from './fold/streams.js';
import { WatcherView } from './fold/watcher-view.js';
import { isViewOrigin, type Fact, type ObjectState } from './state.js';
import { objectTime, parseTime } from './time.js';

export { kindKey, type FoldOptions, type FoldState, type FoldStats } from './fold/context.js';

/**
 * The fold: reads a session's records one at a time, in seq order, and keeps just enough state to say what each
 * record meant for the watcher's view (new version, relist item, re-delivery, duplicate, tombstone, ...). It emits
 * Facts that the detectors observe. Memory is bounded by the live objects (plus a bounded graveyard of deleted
 * ones), never by the session length, so a million-record session streams through.
 *
 * Its parts, one idea each (replayer/fold/): the objects' history (object-history.ts), the watch streams
 * (streams.ts), the controller's view of them (watcher-view.ts, with deliveries.ts), list/relist and tombstone
 * bookkeeping (relists.ts), and the controller's own reports (controller-reports.ts). This class only routes.
 */
export class Fold {
  private readonly ctx: FoldContext;
  private readonly objects: ObjectHistory;
  /** What stats.objects says: model/objects.ts ObjectTally, the count every command shares. */
  private readonly tally = new ObjectTally();
  private readonly relists: RelistBookkeeping;
  private readonly view: WatcherView;
  private readonly reports: ControllerReports;

  constructor(options: FoldOptions = {}) {
    this.ctx = new FoldContext(options.annotate ?? false);
    this.objects = new ObjectHistory(this.ctx, options.graveyardSize ?? 20_000);
    const streams = new Streams(this.ctx);
    this.relists = new RelistBookkeeping(this.ctx, this.objects, streams);
    this.view = new WatcherView(this.ctx, this.objects, streams, this.relists, new DeliveryRing(options.deliveryMemory ?? 32));
    this.reports = new ControllerReports(this.ctx, this.objects, this.view);
  }

  get state(): FoldState {
    return this.ctx.state;
  }

  /** Folds one record in and returns what it meant. The returned facts are valid until the next call. */
  evolve(record: StoredRecord): Fact[] {
    const ctx = this.ctx;
    ctx.beginRecord();
    const state = ctx.state;
    state.stats.records++;
    state.stats.byRecord[record.record]++;
    if (record.record === 'watch') this.tally.add(record);
    else if (record.record !== 'marker') this.tally.add(record.object);
    const time = this.tick(record);
    switch (record.record) {
      case 'watch':
        if (record.type === 'BOOKMARK') this.view.onBookmark(record);
        else if (isViewOrigin(record.origin)) this.view.onView(record, time);
        else this.view.onKnownVersion(record, time);
        break;
      case 'marker':
        if (record.marker === 'recorder-started' && record.origin === 'proxy') state.controllerView = true;
        this.relists.onMarker(record);
        break;
      case 'reconcile':
        this.reports.onReconcile(record);
        break;
      case 'reconcile-start':
        this.reports.onReconcileStart(record);
        break;
      case 'api':
        this.reports.onApi(record);
        break;
      case 'delivery':
        this.reports.onHandler(record);
        break;
    }
    state.stats.liveObjects = state.objects.size;
    if (state.objects.size > state.stats.peakLiveObjects) state.stats.peakLiveObjects = state.objects.size;
    return ctx.facts;
  }

  /** Fills the derived statistics; call once after the last record. */
  finish(): FoldState {
    const state = this.ctx.state;
    state.stats.objects = this.tally.count;
    state.stats.firstTime = state.first === null ? null : new Date(state.first).toISOString();
    state.stats.lastTime = state.now === null ? null : new Date(state.now).toISOString();
    return state;
  }

  /** Objects by uid, live or recently deleted. */
  objectByUid(uid: string): ObjectState | undefined {
    return this.objects.byUid(uid);
  }

  /** The object a reference names: by uid when it has one, else the live (or most recently deleted) one by name. */
  resolve(ref: ObjectRef): ObjectState | undefined {
    return this.objects.resolve(ref);
  }

  /** Advances the session clock; returns the record's own time (for watch records: observedAt, else metadata). */
  private tick(record: StoredRecord): number | null {
    let time = parseTime(record.record === 'reconcile' ? record.finishedAt : record.observedAt);
    if (time === null && record.record === 'watch') time = record.facts ? record.facts.time : objectTime(record.loadObject ? record.loadObject() : record.object);
    if (time === null) return null;
    const state = this.ctx.state;
    if (state.now === null || time > state.now) state.now = time;
    if (state.first === null || time < state.first) state.first = time;
    return time;
  }
}

/** One record in, the facts it produced out: the fold as a plain function over a Fold instance. */
export function evolve(fold: Fold, record: StoredRecord): readonly Fact[] {
  return fold.evolve(record);
}
