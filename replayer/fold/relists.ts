import type { MarkerRecord, StoredRecord } from '../../model/index.js';
import { compareRV, rvNumber } from '../rv.js';
import type { GapCause, ObjectState, PendingVersion, StreamState } from '../state.js';
import type { FoldContext, Stored } from './context.js';
import type { ObjectHistory } from './object-history.js';
import type { Streams } from './streams.js';

/**
 * Lists, relists and their tombstones, as client-go's reflector and DeltaFIFO run them (k8s.io/client-go
 * tools/cache/reflector.go, delta_fifo.go): a list (or a watch's initial events) replaces the view, and every key
 * missing from the new list is delivered as a Deleted delta carrying cache.DeletedFinalStateUnknown
 * (DeltaFIFO.Replace). Also the stream markers that start, break and resume that loop (410 Gone, errors, recorder
 * restarts, dropped records, stale resumes).
 */
export class RelistBookkeeping {
  constructor(
    private readonly ctx: FoldContext,
    private readonly objects: ObjectHistory,
    private readonly streams: Streams,
  ) {}

  startListing(stream: StreamState, seq: number, initialEvents: boolean, explicit = true): void {
    const prior = stream.lists > 0 || stream.members.size > 0;
    const cause: GapCause | null = stream.pendingGap?.cause ?? (prior ? 'relist' : null);
    const hidden = new Map<string, PendingVersion[]>();
    for (const p of stream.pending) {
      const list = hidden.get(p.uid);
      if (list) list.push(p);
      else hidden.set(p.uid, [p]);
    }
    stream.pending = [];
    stream.listing = { startSeq: seq, initialEvents, explicit, prior, cause, gap: stream.pendingGap, listed: new Set(), changed: [], hidden };
    stream.phase = initialEvents ? 'initial' : 'listing';
    stream.epoch++;
    stream.staleResume = null;
    stream.resyncSeq = null;
    if (prior) this.ctx.state.stats.relists++;
    else this.ctx.state.stats.lists++;
  }

  /** The list (or the initial events of a watch) is complete: replace the view, as DeltaFIFO.Replace does. */
  finishListing(stream: StreamState, record: StoredRecord, listRV: string | undefined, computeVanished: boolean): void {
    const state = this.ctx.state;
    const listing = stream.listing;
    computeVanished &&= listing?.explicit ?? false;
    stream.listing = null;
    stream.phase = 'watching';
    stream.complete = true;
    stream.lists++;
    if (!listing) return;
    const listRVNum = rvNumber(listRV);
    let maxListed = Number.NaN;
    const vanished: ObjectState[] = [];
    if (computeVanished) {
      for (const uid of stream.members) {
        if (listing.listed.has(uid)) continue;
        const object = state.objects.get(uid);
        if (object) vanished.push(object);
      }
    }
    for (const uid of listing.listed) {
      const v = state.objects.get(uid)?.view?.rvNum ?? Number.NaN;
      if (!Number.isNaN(v) && (Number.isNaN(maxListed) || v > maxListed)) maxListed = v;
    }
    // Writes known from audit/API records that fell into the gap, attached to the objects that changed across it.
    for (const p of stream.pending) {
      if (Number.isNaN(listRVNum) || p.rvNum <= listRVNum) {
        const list = listing.hidden.get(p.uid);
        if (list) list.push(p);
        else listing.hidden.set(p.uid, [p]);
      }
    }
    stream.pending = Number.isNaN(listRVNum) ? [] : stream.pending.filter((p) => p.rvNum > listRVNum);
    for (const change of listing.changed) {
      const hidden = listing.hidden.get(change.object.uid);
      if (hidden) change.hidden = hidden.filter((p) => (Number.isNaN(change.from.rvNum) || p.rvNum > change.from.rvNum) && (Number.isNaN(change.to.rvNum) || p.rvNum < change.to.rvNum));
    }
    stream.epochStartRVNum = Number.isNaN(listRVNum) ? maxListed : listRVNum;
    if (listRV) {
      stream.lastRV = listRV;
      stream.lastRVNum = listRVNum;
    }
    const gap = listing.gap;
    stream.pendingGap = null;
    if (listing.prior || vanished.length || listing.changed.length) {
      this.ctx.facts.push({ type: 'relist', record, stream, cause: listing.cause, gap, changed: listing.changed, vanished });
    }
    for (const object of vanished) {
      stream.members.delete(object.uid);
      object.inView = false;
      state.stats.tombstones++;
      this.ctx.annotate(
        record.seq,
        'tombstone',
        `${object.ref.kind} ${object.ref.namespace ? `${object.ref.namespace}/` : ''}${object.ref.name} is missing from the list: client-go delivers DeletedFinalStateUnknown`,
        object.uid,
      );
      this.objects.bury(object, record, 'vanished', state.now);
    }
  }

  /** A legacy watch from RV "0"/"" sends synthetic ADDED events and no end marker: no vanish computation. */
  endInitialWithoutReplace(stream: StreamState): void {
    const listing = stream.listing;
    stream.listing = null;
    stream.phase = 'watching';
    stream.complete = true;
    let max = Number.NaN;
    if (listing) {
      for (const uid of listing.listed) {
        const v = this.ctx.state.objects.get(uid)?.view?.rvNum ?? Number.NaN;
        if (!Number.isNaN(v) && (Number.isNaN(max) || v > max)) max = v;
      }
    }
    stream.epochStartRVNum = max;
    stream.pendingGap = null;
  }

  onMarker(record: Stored<MarkerRecord>): void {
    const state = this.ctx.state;
    const stream = this.streams.ofMarker(record);
    const streams = stream ? [stream] : [...state.streams.values()];
    switch (record.marker) {
      case 'list-started':
        if (stream) this.startListing(stream, record.seq, false);
        break;
      case 'list-finished':
        if (stream) {
          if (!stream.listing) this.startListing(stream, record.seq, false);
          this.finishListing(stream, record, record.resourceVersion, true);
        }
        break;
      case 'watch-started':
        if (stream) this.watchStarted(stream, record);
        break;
      case 'watch-closed':
        if (stream && stream.phase === 'watching') stream.phase = 'closed';
        break;
      case 'gone':
        state.stats.gones++;
        for (const s of streams) s.pendingGap = { cause: 'gone', seq: record.seq, resourceVersion: record.resourceVersion };
        this.ctx.annotate(record.seq, 'gap', `410 Gone${record.resourceVersion ? `: resourceVersion ${record.resourceVersion} is too old` : ''}; a relist follows`);
        break;
      case 'error':
        for (const s of streams) s.pendingGap ??= { cause: 'error', seq: record.seq };
        break;
      case 'resync':
        for (const s of streams) s.resyncSeq = record.seq;
        break;
      case 'recorder-started':
        for (const s of streams) {
          if (s.events === 0 && s.lists === 0) continue;
          s.pendingGap = { cause: 'recorder-restart', seq: record.seq };
          s.completeBeforeRestart = s.complete;
          s.complete = false;
          s.epoch++;
          s.phase = 'idle';
          s.pending = [];
        }
        if (state.stats.records > 1) this.ctx.annotate(record.seq, 'recorder-gap', 'the recorder restarted: what changed while it was down is known only where a watch resumes from where it stopped');
        break;
      case 'recorder-stopped':
        for (const s of streams) s.phase = 'closed';
        break;
      case 'dropped':
      case 'gap':
        for (const s of streams) {
          s.pendingGap ??= { cause: 'dropped', seq: record.seq };
          s.complete = false;
          s.epoch++;
          s.pending = [];
        }
        this.ctx.annotate(record.seq, 'recorder-gap', `the recorder lost ${record.count ?? 'some'} record(s): the view is incomplete until the next list`);
        break;
    }
    this.ctx.facts.push({ type: 'marker', record, stream });
  }

  private watchStarted(stream: StreamState, record: Stored<MarkerRecord>): void {
    const rv = record.resourceVersion;
    this.ctx.state.stats.watchRestarts++;
    stream.resyncSeq = null;
    if (!rv || rv === '0') {
      // RV "" / "0": the server first sends the current state as synthetic ADDED events (a list in disguise).
      this.startListing(stream, record.seq, true);
      return;
    }
    if (record.resume === 'resumed' && stream.pendingGap?.cause === 'recorder-restart' && rv === stream.lastRV) {
      // The restarted recorder resumed this watch from the resourceVersion it had committed last, and the server
      // accepted it (the recorder writes `resumed` only then): the server replays every change made while it was
      // down, so the view is as complete as before the restart (apiserver cacher: at least 75 s of history).
      stream.complete = stream.completeBeforeRestart;
      stream.pendingGap = null;
      this.ctx.annotate(record.seq, 'resumed', `the recorder resumed its watch from resourceVersion ${rv}: the API server re-sends what changed while it was down`);
    } else if (stream.lastRV === null) {
      stream.epoch++;
      stream.epochStartRVNum = rvNumber(rv);
    } else if (rv !== stream.lastRV) {
      const order = compareRV(rv, stream.lastRV);
      if (order !== undefined && order < 0) {
        // Resuming from an RV older than one already delivered: the server re-sends the events in between.
        stream.staleResume = { seq: record.seq, rv };
        this.ctx.state.stats.staleResumes++;
        this.ctx.annotate(record.seq, 'stale-resume', `watch resumed from resourceVersion ${rv} although ${stream.lastRV} was already delivered: events in between come again`);
      } else {
        stream.epoch++;
        stream.epochStartRVNum = rvNumber(rv);
      }
    }
    stream.phase = 'watching';
  }
}
