import type { MarkerRecord, WatchEventRecord } from '../../model/index.js';
import type { ObjectState, StreamState } from '../state.js';
import { kindKey, type FoldContext } from './context.js';

/**
 * The watch streams of a session, one per (recorder or import, resource, namespace scope): which stream a record,
 * a marker or an object belongs to. An import without markers (a kubectl dump) gets an implicit stream.
 */
export class Streams {
  private last: StreamState | null = null;
  /** Some stream is namespace-scoped: records cannot be matched to the cluster-wide stream by resource alone. */
  private scoped = false;

  constructor(private readonly ctx: FoldContext) {}

  private keyOf(live: boolean, group: string, resource: string, namespace: string | null | undefined): string {
    return `${live ? 'live' : 'import'}|${group}/${resource}|${namespace ?? '*'}`;
  }

  private create(key: string, group: string, resource: string, namespace: string | null, implicit: boolean): StreamState {
    if (namespace !== null) this.scoped = true;
    const stream: StreamState = {
      key,
      live: key.startsWith('live|'),
      group,
      resource,
      namespace,
      implicit,
      phase: 'idle',
      complete: false,
      completeBeforeRestart: false,
      epoch: 0,
      epochStartRVNum: Number.NaN,
      lastRV: null,
      lastRVNum: Number.NaN,
      lastSeq: 0,
      events: 0,
      lists: 0,
      members: new Set(),
      listing: null,
      pendingGap: null,
      staleResume: null,
      resyncSeq: null,
      pending: [],
    };
    this.ctx.state.streams.set(key, stream);
    return stream;
  }

  /** The stream a watch record belongs to; an implicit one is created for marker-less sources. */
  ofRecord(record: WatchEventRecord): StreamState {
    // Consecutive records are almost always of the same stream: skip the key building then.
    const last = this.last;
    if (last && last.resource === record.resource && last.group === record.group && last.live === (record.origin !== 'import') && (last.namespace === null ? !this.scoped : last.namespace === record.namespace)) {
      return last;
    }
    const stream = this.find(record);
    this.last = stream;
    return stream;
  }

  private find(record: WatchEventRecord): StreamState {
    const live = record.origin !== 'import';
    const streams = this.ctx.state.streams;
    const scoped = record.namespace ? streams.get(this.keyOf(live, record.group, record.resource, record.namespace)) : undefined;
    if (scoped) return scoped;
    const key = this.keyOf(live, record.group, record.resource, null);
    return streams.get(key) ?? this.create(key, record.group, record.resource, null, true);
  }

  ofMarker(marker: MarkerRecord): StreamState | null {
    if (!marker.resource) return null;
    const group = marker.group ?? '';
    const key = this.keyOf(true, group, marker.resource, marker.namespace);
    let stream = this.ctx.state.streams.get(key);
    if (!stream) stream = this.create(key, group, marker.resource, marker.namespace ?? null, false);
    // A marker proves a recorder drives this stream: it is no longer implicit.
    stream.implicit = false;
    if (marker.kind) this.ctx.state.resourceByKind.set(`${group}/${marker.kind}`, marker.resource);
    return stream;
  }

  /** The watched stream that should deliver this object's versions, if any. */
  ofObject(object: ObjectState): StreamState | undefined {
    const streams = this.ctx.state.streams;
    if (object.streamKey) return streams.get(object.streamKey);
    const resource = object.ref.resource ?? this.ctx.state.resourceByKind.get(kindKey(object.ref));
    if (!resource) return undefined;
    for (const live of [true, false]) {
      const stream =
        (object.ref.namespace ? streams.get(this.keyOf(live, object.ref.group, resource, object.ref.namespace)) : undefined) ??
        streams.get(this.keyOf(live, object.ref.group, resource, null));
      if (stream) return stream;
    }
    return undefined;
  }
}
