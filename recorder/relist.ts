/**
 * What the recorder remembers of each live object between a list and the next relist: enough to name the object
 * in a tombstone, not its body (the body is in the session already).
 */
export interface KnownObject {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string | null;
  readonly resourceVersion: string;
  readonly generation: number | null;
}

/**
 * The live objects of one watched resource, by uid. uid, not namespace/name, is the identity: an object deleted and
 * re-created under the same name while the watch was down is two objects, and the first one's deletion was missed.
 */
export class KnownObjects {
  private readonly byUid = new Map<string, KnownObject>();

  constructor(entries: Iterable<KnownObject> = []) {
    for (const entry of entries) this.byUid.set(entry.uid, entry);
  }

  upsert(entry: KnownObject): void {
    this.byUid.set(entry.uid, entry);
  }

  remove(uid: string): void {
    this.byUid.delete(uid);
  }

  has(uid: string): boolean {
    return this.byUid.has(uid);
  }

  get size(): number {
    return this.byUid.size;
  }

  values(): IterableIterator<KnownObject> {
    return this.byUid.values();
  }
}

/**
 * The objects a relist proves gone: known before, absent from the new list. These are the keys client-go's
 * DeltaFIFO.Replace turns into Deleted deltas wrapping DeletedFinalStateUnknown ("this could happen if watch
 * deletion event was missed while disconnected from apiserver", client-go tools/cache/delta_fifo.go). Replace
 * queues the listed items first and the deletions after them; the recorder writes them in the same order.
 *
 * One difference, on purpose: client-go keys by namespace/name, so an object re-created under the same name during
 * the gap reaches handlers as an update (with a different uid), not a delete. The recorder keys by uid and writes a
 * tombstone for the old uid, because the session tracks objects by uid; the replayer models the informer's view.
 */
export function vanishedSince(known: Iterable<KnownObject>, listedUids: ReadonlySet<string>): KnownObject[] {
  const gone: KnownObject[] = [];
  for (const entry of known) if (!listedUids.has(entry.uid)) gone.push(entry);
  // Deterministic order (namespace, name, uid) so sessions and tests are reproducible.
  return gone.sort(
    (a, b) => (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name) || a.uid.localeCompare(b.uid),
  );
}
