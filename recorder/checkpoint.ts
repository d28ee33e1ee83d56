import { apiVersionOf, type SessionRecord } from '../model/index.js';

/**
 * Resume points: each watch of a recording keeps, in the database, the resourceVersion of the last record committed
 * for it (store.append writes it in the same transaction as that record: migrations/0006_watch_checkpoints.sql). A
 * recorder restarted on the session watches on from there instead of relisting, and the API server re-sends every
 * change since, deletions included, as long as that RV is still in its watch history (at least 75 s per resource:
 * apiserver pkg/storage/cacher/cacher.go DefaultEventFreshDuration; etcd keeps it until the next compaction).
 * Only an RV that is too old (410 Expired) costs a relist.
 */

/** The fields of a watch that decide which objects it sees: a checkpoint applies only to the same watch. */
export interface WatchIdentity {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
}

/**
 * The checkpoint's name for a watch of the config. Selectors are part of it: resuming a watch under a changed
 * selector from an old RV would never deliver the objects that match only now (they did not change), so a changed
 * selector lists.
 */
export function watchKey(watch: WatchIdentity): string {
  const params = new URLSearchParams();
  if (watch.labelSelector) params.set('labelSelector', watch.labelSelector);
  if (watch.fieldSelector) params.set('fieldSelector', watch.fieldSelector);
  const query = params.toString();
  return `${apiVersionOf(watch.group, watch.version)}/${watch.resource}@${watch.namespace ?? '*'}${query ? `?${query}` : ''}`;
}

/**
 * The resourceVersion a committed record moves its watch's resume point to, if any: every event and bookmark a watch
 * delivered (a bookmark carries nothing else: without it the resume point would lag behind on a quiet resource), and
 * the list-finished marker of a list (the list's RV). List items, tombstones and other markers do not move it: a
 * crash half-way through a list resumes from before the list, which lists again or re-delivers.
 */
export function resumePointOf(record: SessionRecord): string | undefined {
  if (record.record === 'watch') return record.origin === 'watch' ? record.resourceVersion : undefined;
  if (record.record === 'marker' && record.marker === 'list-finished') return record.resourceVersion;
  return undefined;
}
