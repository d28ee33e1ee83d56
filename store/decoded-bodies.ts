/** Per object id, a seq (what a read needs of a Map). */
export interface SeqsByObject {
  get(objectId: number): number | undefined;
  set(objectId: number, seq: number): void;
}

/** A Map that forgets its oldest-touched entry past a limit. */
export class BoundedMap<V> {
  private readonly map = new Map<number, V>();

  constructor(private readonly limit: number) {}

  get(key: number): V | undefined {
    return this.map.get(key);
  }

  set(key: number, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number {
    return this.map.size;
  }
}

/**
 * What a reader of one session keeps between reads (ReadOptions.bodies): each object's newest decoded body, and —
 * while the reads are consecutive and unfiltered — the seq of each object's last body row read. With both, the first
 * version of an object in a read is decoded from the body before it, as within one read, instead of being rebuilt
 * from its keyframe (or looked up in the index). Bounded: past `limit` objects the oldest are forgotten (one is then
 * rebuilt, as without it).
 */
export class DecodedBodies {
  private readonly bodies: BoundedMap<{ seq: number; body: unknown }>;
  /** The store's object rows by id, as read (they never change once written: the store's own cache of them). */
  readonly objectRows: BoundedMap<unknown>;
  private lastBodySeqs: BoundedMap<number>;
  /** The last row the latest read yielded, while every read so far continued the one before without a filter. */
  private readThrough: number | undefined;

  constructor(readonly limit = 20_000) {
    this.bodies = new BoundedMap(limit);
    this.lastBodySeqs = new BoundedMap(limit);
    // Rows are small (names, kind, uid): keep many more of them, so a namespace just over `limit` objects, read in
    // a cycle, does not miss every one (a bounded map read cyclically past its size misses each time).
    this.objectRows = new BoundedMap(limit * 5);
  }

  get(objectId: number): { seq: number; body: unknown } | undefined {
    return this.bodies.get(objectId);
  }

  set(objectId: number, entry: { seq: number; body: unknown }): void {
    this.bodies.set(objectId, entry);
  }

  get size(): number {
    return this.bodies.size;
  }

  /**
   * A read begins: the body rows seen before it still count when it starts just after the last row read and skips
   * none; otherwise they are forgotten (decoded bodies stay, checked against the index before use).
   * Returns the per-object "last body row read" map the read goes on with.
   */
  beginRead(fromSeq: number, mayHaveSkipped: boolean): SeqsByObject {
    if (mayHaveSkipped || this.readThrough === undefined || fromSeq !== this.readThrough + 1) this.lastBodySeqs = new BoundedMap(this.limit);
    this.readThrough = undefined;
    return this.lastBodySeqs;
  }

  /** The read yielded this row (rows come in seq order); a filtered read never calls it. */
  readRow(seq: number): void {
    this.readThrough = seq;
  }
}
