import { watchEventTypes } from '../../model/index.js';
import { canonicalRV as canonical, rvNumber } from '../rv.js';
import type { Delivered, ObjectState } from '../state.js';

/** Numbers kept per delivery: rvNum, seq, time (NaN: none), order, epoch, type. */
const STRIDE = 6;

/**
 * One object's last deliveries (what DeliveryRing remembers of it), oldest first until full, then a ring whose slot
 * `next` is the oldest. Numbers in one array of doubles, six per delivery, and an RV's text only when it is not its
 * number's: every watched object keeps up to 32 deliveries, and an object per delivery (with its boxed time and its
 * own copy of the RV and type strings) was ~130 B each, ~40 MB at 10,000 objects once the rings filled.
 */
export class Deliveries {
  private readonly numbers: number[] = [];
  /** Per slot, an RV's text when not canonical (null until one is: etcd's RVs always are). */
  private rvTexts: (string | null)[] | null = null;
  /** Per slot, a type outside watchEventTypes (null until one is: a damaged row). */
  private otherTypes: Map<number, string> | null = null;
  /** Once full: the slot the next delivery overwrites (the oldest); 0 until then, so it is the oldest slot either way. */
  private next = 0;
  /** The largest numeric RV ever held (an upper bound once entries are evicted): a newer RV skips the scan. */
  maxRVNum = Number.NEGATIVE_INFINITY;

  /** Deliveries held: slots 0 … size - 1. */
  get size(): number {
    return this.numbers.length / STRIDE;
  }

  /** The slot of the k-th newest delivery (k = 0: the newest). */
  newest(k: number): number {
    const n = this.size;
    return (this.next + n - 1 - k + n) % n;
  }

  /** The slot of the oldest delivery still held. */
  oldest(): number {
    return this.next;
  }

  rvNum(slot: number): number {
    return this.numbers[slot * STRIDE]!;
  }

  seq(slot: number): number {
    return this.numbers[slot * STRIDE + 1]!;
  }

  time(slot: number): number | null {
    const time = this.numbers[slot * STRIDE + 2]!;
    return Number.isNaN(time) ? null : time;
  }

  order(slot: number): number {
    return this.numbers[slot * STRIDE + 3]!;
  }

  epoch(slot: number): number {
    return this.numbers[slot * STRIDE + 4]!;
  }

  type(slot: number): string {
    const code = this.numbers[slot * STRIDE + 5]!;
    return code < watchEventTypes.length ? watchEventTypes[code]! : this.otherTypes!.get(slot)!;
  }

  rv(slot: number): string {
    return this.rvTexts?.[slot] ?? String(this.rvNum(slot));
  }

  /** Whether the delivery in `slot` has this RV (rvNum: rvNumber(rv)), comparing numbers first. */
  hasRV(slot: number, rv: string, rvNum: number): boolean {
    const text = this.rvTexts?.[slot] ?? null;
    if (text !== null) return text === rv;
    return this.numbers[slot * STRIDE] === rvNum && canonical(rv, rvNum);
  }

  isDeleted(slot: number): boolean {
    return this.numbers[slot * STRIDE + 5] === 2;
  }

  /** The delivery in `slot` as an object of its own (it does not change when the slot is overwritten). */
  delivery(slot: number): Delivered {
    return { rv: this.rv(slot), rvNum: this.rvNum(slot), type: this.type(slot), seq: this.seq(slot), time: this.time(slot), order: this.order(slot), epoch: this.epoch(slot) };
  }

  /** Adds a delivery; once `capacity` are held, it overwrites the oldest. */
  push(capacity: number, rv: string, rvNum: number, type: string, seq: number, time: number | null, order: number, epoch: number): void {
    const full = this.size >= capacity;
    const slot = full ? this.next : this.size;
    const code = (watchEventTypes as readonly string[]).indexOf(type);
    const values = [rvNum, seq, time ?? Number.NaN, order, epoch, code === -1 ? watchEventTypes.length : code];
    if (full) {
      for (let i = 0; i < STRIDE; i++) this.numbers[slot * STRIDE + i] = values[i]!;
      this.next = (slot + 1) % this.size;
    } else {
      for (let i = 0; i < STRIDE; i++) this.numbers.push(values[i]!);
    }
    if (code === -1) (this.otherTypes ??= new Map()).set(slot, type);
    else this.otherTypes?.delete(slot);
    const text = canonical(rv, rvNum) ? null : rv;
    if (text !== null || this.rvTexts) {
      this.rvTexts ??= [];
      while (this.rvTexts.length < slot) this.rvTexts.push(null);
      this.rvTexts[slot] = text;
    }
    if (rvNum > this.maxRVNum) this.maxRVNum = rvNum;
  }

  /** Keeps only the newest `n`, oldest first (a dead object's: late duplicates of its last deliveries are still recognised). */
  keepNewest(n: number): void {
    if (this.size <= n) return;
    const kept = [...Array(this.size).keys()].sort((a, b) => this.order(a) - this.order(b)).slice(-n).map((slot) => this.delivery(slot));
    this.numbers.length = 0;
    this.rvTexts = null;
    this.otherTypes = null;
    this.next = 0;
    const maxRVNum = this.maxRVNum;
    for (const d of kept) this.push(Number.POSITIVE_INFINITY, d.rv, d.rvNum, d.type, d.seq, d.time, d.order, d.epoch);
    this.maxRVNum = maxRVNum;
  }
}

/**
 * What the watcher was handed for one object: a bounded ring of its last deliveries, so a re-sent resourceVersion is
 * recognised (duplicate, resync, redelivery) without remembering a session's whole history.
 *
 * Both scans compare the numeric RV first: RV strings read from the store are fresh, unhashed strings, and comparing
 * them character by character on every delivery was the fold's largest single cost.
 */
export class DeliveryRing {
  constructor(readonly memory: number) {}

  find(object: ObjectState, rv: string, rvNum: number, type: string): Delivered | null {
    const ring = object.delivered;
    if (!Number.isNaN(rvNum) && rvNum > ring.maxRVNum) return null;
    // Newest first.
    for (let k = 0, n = ring.size; k < n; k++) {
      const slot = ring.newest(k);
      if (ring.hasRV(slot, rv, rvNum) && ring.type(slot) === type) return ring.delivery(slot);
    }
    return null;
  }

  has(object: ObjectState, rv: string, rvNum = rvNumber(rv)): boolean {
    const ring = object.delivered;
    if (!Number.isNaN(rvNum) && rvNum > ring.maxRVNum) return false;
    for (let slot = 0, n = ring.size; slot < n; slot++) if (ring.hasRV(slot, rv, rvNum)) return true;
    return false;
  }

  /** The oldest delivery's numeric RV, if one is remembered. */
  oldestRVNum(object: ObjectState): number | undefined {
    const ring = object.delivered;
    return ring.size ? ring.rvNum(ring.oldest()) : undefined;
  }

  /** The ring is full: older deliveries were forgotten. */
  full(object: ObjectState): boolean {
    return object.delivered.size >= this.memory;
  }

  /** Remembers one delivery (one per watch event; no fact keeps a slot past its record). */
  record(object: ObjectState, rv: string, rvNum: number, type: string, seq: number, time: number | null, epoch: number): void {
    object.delivered.push(this.memory, rv, rvNum, type, seq, time, object.deliveries, epoch);
  }
}
