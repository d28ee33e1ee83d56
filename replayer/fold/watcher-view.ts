import type { WatchEventRecord } from '../../model/index.js';
import { rvNumber } from '../rv.js';
import { isViewOrigin, type DeliveryClass, type ObjectState, type PendingVersion, type StreamState, type Version, type VersionSource } from '../state.js';
import { parseTime } from '../time.js';
import { bodyOf, type FoldContext, type Stored } from './context.js';
import type { DeliveryRing } from './deliveries.js';
import { ObjectHistory } from './object-history.js';
import type { RelistBookkeeping } from './relists.js';
import type { Streams } from './streams.js';

/**
 * The controller's view: what a client-go reflector would have put into its store from the watch records, and how
 * each delivery relates to what it already had (new, duplicate, resync, re-delivery, out of order). Versions known
 * from elsewhere (audit, API responses) are expected in the watch; one the same continuous watch skipped is missed.
 */
export class WatcherView {
  constructor(
    private readonly ctx: FoldContext,
    private readonly objects: ObjectHistory,
    private readonly streams: Streams,
    private readonly relists: RelistBookkeeping,
    private readonly deliveries: DeliveryRing,
  ) {}

  onBookmark(record: Stored<WatchEventRecord>): void {
    if (!isViewOrigin(record.origin)) return;
    const stream = this.streams.ofRecord(record);
    const annotations = (record.object?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
    if (stream.phase === 'initial') {
      // sendInitialEvents=true ends its initial state with a bookmark annotated k8s.io/initial-events-end
      // (apimachinery pkg/apis/meta/v1/types.go InitialEventsAnnotationKey); client-go then calls Replace.
      if (annotations?.['k8s.io/initial-events-end'] === 'true') this.relists.finishListing(stream, record, record.resourceVersion, true);
      else if (stream.listing) this.relists.endInitialWithoutReplace(stream);
    }
    this.advance(stream, record.seq, record.resourceVersion);
  }

  onView(record: Stored<WatchEventRecord>, time: number | null): void {
    const ctx = this.ctx;
    const stream = this.streams.ofRecord(record);
    if (stream.events === 0 && stream.implicit && stream.phase === 'idle') {
      // A marker-less stream (kubectl get -w dump): kubectl lists first and prints the items as ADDED, so a
      // stream that starts with ADDED events starts with a full listing.
      if (record.type === 'ADDED') this.relists.startListing(stream, record.seq, true);
      else stream.phase = 'watching';
    }
    stream.events++;
    if (stream.phase === 'initial' && record.type !== 'ADDED') this.relists.endInitialWithoutReplace(stream);
    // List items without list markers: the list ends with the first watch event (no vanish computation then).
    if (record.origin === 'relist' && stream.phase !== 'listing') this.relists.startListing(stream, record.seq, false, false);
    if (record.origin !== 'relist' && stream.phase === 'listing' && stream.listing && !stream.listing.explicit) this.relists.finishListing(stream, record, undefined, false);
    if (stream.phase === 'idle' || stream.phase === 'closed') stream.phase = 'watching';
    const listing = stream.phase === 'listing' || stream.phase === 'initial';

    const uid = record.uid!;
    const rv = record.resourceVersion;
    const rvNum = rvNumber(rv);
    let object = this.objects.byUid(uid);
    if (!object) object = this.objects.create(ObjectHistory.refOfWatch(record), uid, record.seq, stream.key);
    object.streamKey ??= stream.key;
    const isGrave = object.gone !== null;
    const previous = object.view;
    // Only this history's deliveries: a relist or a recorder restart since explains a version coming again (a list
    // from a lagging API server goes back in time, and the watch from it re-sends what came before).
    const found = this.deliveries.find(object, rv, rvNum, record.type);
    const original = found && found.epoch === stream.epoch ? found : null;

    let classification: DeliveryClass;
    if (listing) {
      classification = previous?.rv === rv ? 'redelivery' : stream.listing?.initialEvents ? 'initial-event' : 'relist';
    } else if (original) {
      if (stream.resyncSeq !== null && previous?.rv === rv) classification = 'resync';
      else if (stream.implicit && record.type === 'ADDED' && previous?.rv === rv) classification = 'redelivery';
      else classification = 'duplicate';
    } else if (previous && !Number.isNaN(rvNum) && !Number.isNaN(previous.rvNum) && rvNum < previous.rvNum) {
      classification = 'out-of-order';
    } else {
      classification = 'new';
    }
    const continuous = previous !== null && !listing && object.viewEpoch === stream.epoch;
    const unseen = classification === 'new' && record.type !== 'ADDED' && stream.complete && object.deliveries === 0;

    switch (classification) {
      case 'new':
        break;
      case 'relist':
        ctx.annotate(record.seq, 'relist', 'list item');
        break;
      case 'initial-event':
        ctx.annotate(record.seq, 'initial-event', 'initial state sent by the watch (not a change)');
        break;
      case 'redelivery':
        ctx.state.stats.redeliveries++;
        ctx.annotate(record.seq, 'redelivery', 'same version re-delivered by a relist: not a duplicate');
        if (listing) ctx.annotate(record.seq, 'relist', 'list item');
        break;
      case 'resync':
        ctx.state.stats.resyncs++;
        ctx.annotate(record.seq, 'resync', 'informer resync: same version re-delivered on purpose');
        break;
      case 'duplicate':
        ctx.state.stats.duplicates++;
        ctx.annotate(record.seq, 'duplicate', `resourceVersion ${rv} was already delivered${original ? ` at seq ${original.seq}` : ''}`);
        break;
      case 'out-of-order':
        ctx.annotate(record.seq, 'out-of-order', `older than resourceVersion ${previous?.rv} already delivered`);
        break;
    }
    if (unseen) ctx.annotate(record.seq, 'unseen', `${record.type} for an object the watch never added or listed`);

    const advancing = classification === 'new' || classification === 'relist' || classification === 'initial-event' || classification === 'redelivery';
    let version: Version | null = null;
    if (advancing && isGrave && record.type !== 'DELETED') this.objects.revive(object);
    const isNewVersion = !object.versionRVs.has(rv);

    // The delivery fact goes first: detectors see the watcher's view before the version it carries.
    ctx.facts.push({ type: 'delivery', record, object, stream, classification, previous, continuous, unseen, original });

    if (isNewVersion) {
      version = this.objects.addVersion(record, object, {
        rv,
        type: record.type as Version['type'],
        source: record.origin,
        body: bodyOf(record),
        generation: record.generation,
        time,
      });
    } else if (advancing) {
      version = object.latest?.rv === rv ? object.latest : this.objects.viewOnlyVersion(record, time);
    }

    if (advancing && version && classification !== 'redelivery') {
      object.deliveries++;
      if (Number.isNaN(object.firstDeliveredRVNum)) object.firstDeliveredRVNum = rvNum;
      this.deliveries.record(object, rv, rvNum, record.type, record.seq, time, stream.epoch);
      // A tombstone inside a relist (the recorder writes one for an object the list no longer holds) is a vanished
      // object, dfsu-gap's: not a change whose transitions the gap hid.
      if (listing && stream.listing?.prior && previous && previous.rv !== rv && object.inView && record.type !== 'DELETED') {
        stream.listing.changed.push({ object, from: previous, to: version, hidden: [] });
      }
      if (previous && previous !== object.latest && previous !== version) ctx.release.push(previous);
      object.view = version;
      object.viewEpoch = stream.epoch;
    } else if (advancing && classification === 'redelivery') {
      object.viewEpoch = stream.epoch;
    }
    // The recorder's tombstone for an object a relist no longer holds: to the watcher it vanished (DeltaFIFO.Replace
    // delivers DeletedFinalStateUnknown), so the list's end finds it missing, as it would without the record.
    const tombstone = listing && record.type === 'DELETED' && record.origin === 'relist' && stream.listing?.explicit === true;
    if (advancing && !tombstone) {
      if (listing) stream.listing?.listed.add(uid);
      if (record.type === 'DELETED') {
        object.inView = false;
        stream.members.delete(uid);
      } else {
        object.inView = true;
        stream.members.add(uid);
      }
    }
    if (record.type === 'DELETED' && advancing && object.gone === null && !tombstone) this.objects.bury(object, record, 'deleted', time);
    if (!listing) this.advance(stream, record.seq, rv);
  }

  /** A version learned outside the watch (audit log, ingest): the watch should deliver it too. */
  onKnownVersion(record: Stored<WatchEventRecord>, time: number | null): void {
    const uid = record.uid!;
    let object = this.objects.byUid(uid);
    if (!object) object = this.objects.create(ObjectHistory.refOfWatch(record), uid, record.seq, null);
    const rv = record.resourceVersion;
    // The write that removed a deleting object's last finalizer is answered at its previous resourceVersion: the
    // audit importer turns that answer into a DELETED version whose RV is already known (see controller-reports.ts).
    const released = record.type === 'DELETED' && object.latest?.rv === rv && object.latest.type !== 'DELETED';
    const answered = this.ctx.answeredWrite;
    this.ctx.answeredWrite = null;
    if (!object.versionRVs.has(rv) || released) {
      this.objects.addVersion(record, object, {
        rv,
        type: record.type as Version['type'],
        source: record.origin,
        body: bodyOf(record),
        generation: record.generation,
        time,
        // Without managedFields in the answer, the request's user is who wrote this version.
        ...(record.origin === 'audit' && answered?.rv === rv ? { actor: answered.actor } : {}),
      });
    }
    if (record.type === 'DELETED') {
      // With no watch on this resource the audit log is the only truth about the deletion.
      if (!this.streams.ofObject(object) && object.gone === null) this.objects.bury(object, record, 'deleted', parseTime(record.observedAt));
      return;
    }
    this.expect(object, record.seq, rv, record.origin);
  }

  /** Whether a watch of this object's resource is recorded (then it, not other sources, says when it is gone). */
  watched(object: ObjectState): boolean {
    return this.streams.ofObject(object) !== undefined;
  }

  /**
   * A version that provably exists (from an audit log or an API response) must show up in the watch of its
   * resource: one watch delivers every change in resourceVersion order (apiserver pkg/storage/cacher). Once the
   * same continuous watch delivers anything newer without it, the version was lost.
   */
  expect(object: ObjectState, seq: number, rv: string, source: VersionSource): void {
    if (this.deliveries.has(object, rv)) return;
    const stream = this.streams.ofObject(object);
    if (!stream || stream.phase === 'idle') return;
    const rvNum = rvNumber(rv);
    if (Number.isNaN(rvNum)) return;
    // Older than every delivery still remembered: it may have been delivered and forgotten (the ring is full, or was
    // cut down when the object died: a late report, e.g. an SDK batch posted after the DELETED). Say nothing.
    const oldestRVNum = this.deliveries.oldestRVNum(object);
    if (oldestRVNum !== undefined && (this.deliveries.full(object) || object.gone !== null) && rvNum < oldestRVNum) return;
    if (!Number.isNaN(stream.epochStartRVNum) && rvNum <= stream.epochStartRVNum) return;
    if (stream.pending.some((p) => p.uid === object.uid && p.rv === rv)) return;
    const pending: PendingVersion = { uid: object.uid, seq, rv, rvNum, source };
    if (stream.phase === 'watching' && !Number.isNaN(stream.epochStartRVNum) && !Number.isNaN(stream.lastRVNum) && stream.lastRVNum > rvNum && stream.lastRV !== null) {
      this.ctx.facts.push({ type: 'missed', object, missed: pending, proof: { seq: stream.lastSeq, rv: stream.lastRV }, stream });
      return;
    }
    stream.pending.push(pending);
  }

  /** The stream moved to `rv` (an event or a bookmark): every pending version below it was skipped. */
  private advance(stream: StreamState, seq: number, rv: string): void {
    const rvNum = rvNumber(rv);
    if (Number.isNaN(rvNum)) return;
    if (Number.isNaN(stream.lastRVNum) || rvNum >= stream.lastRVNum) {
      stream.lastRV = rv;
      stream.lastRVNum = rvNum;
      stream.lastSeq = seq;
    }
    if (stream.pending.length === 0 || Number.isNaN(stream.epochStartRVNum)) return;
    const keep: PendingVersion[] = [];
    for (const p of stream.pending) {
      if (p.rvNum > rvNum) {
        keep.push(p);
        continue;
      }
      const object = this.objects.byUid(p.uid);
      if (!object || this.deliveries.has(object, p.rv, p.rvNum) || p.rvNum <= stream.epochStartRVNum) continue;
      if (p.rvNum === rvNum) continue;
      this.ctx.facts.push({ type: 'missed', object, missed: p, proof: { seq, rv }, stream });
    }
    stream.pending = keep;
  }
}
