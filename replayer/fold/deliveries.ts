import { rvNumber } from '../rv.js';
import type { Delivered, ObjectState } from '../state.js';

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
    const numeric = !Number.isNaN(rvNum);
    if (numeric && rvNum > object.deliveredMaxRVNum) return null;
    // Newest first: the ring is circular once full (see record).
    const n = ring.length;
    const newest = n < this.memory ? n - 1 : (object.deliveredNext + n - 1) % n;
    for (let k = 0; k < n; k++) {
      const d = ring[(newest - k + n) % n]!;
      if ((numeric ? d.rvNum === rvNum : d.rv === rv) && d.type === type && d.rv === rv) return d;
    }
    return null;
  }

  has(object: ObjectState, rv: string, rvNum = rvNumber(rv)): boolean {
    const ring = object.delivered;
    const numeric = !Number.isNaN(rvNum);
    if (numeric && rvNum > object.deliveredMaxRVNum) return false;
    for (const d of ring) if ((numeric ? d.rvNum === rvNum : true) && d.rv === rv) return true;
    return false;
  }

  /** The oldest delivery still remembered. */
  oldest(object: ObjectState): Delivered | undefined {
    const ring = object.delivered;
    return ring.length < this.memory ? ring[0] : ring[object.deliveredNext];
  }

  /** The ring is full: older deliveries were forgotten. */
  full(object: ObjectState): boolean {
    return object.delivered.length >= this.memory;
  }

  /**
   * Remembers one delivery. The ring is circular once it holds `memory` entries, and the oldest entry is overwritten
   * in place: one delivery per watch event, and no fact keeps a Delivered past its record.
   */
  record(object: ObjectState, rv: string, rvNum: number, type: string, seq: number, time: number | null, epoch: number): void {
    const ring = object.delivered;
    const order = object.deliveries;
    if (ring.length < this.memory) {
      ring.push({ rv, rvNum, type, seq, time, order, epoch });
    } else {
      const slot = object.deliveredNext;
      const d = ring[slot] as { -readonly [K in keyof Delivered]: Delivered[K] };
      d.rv = rv;
      d.rvNum = rvNum;
      d.type = type;
      d.seq = seq;
      d.time = time;
      d.order = order;
      d.epoch = epoch;
      object.deliveredNext = (slot + 1) % ring.length;
    }
    if (rvNum > object.deliveredMaxRVNum) object.deliveredMaxRVNum = rvNum;
  }
}
