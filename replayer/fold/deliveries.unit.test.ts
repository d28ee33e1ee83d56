import { describe, expect, it } from 'vitest';
import { rvNumber } from '../rv.js';
import { Deliveries } from './deliveries.js';

function fill(ring: Deliveries, capacity: number, rvs: string[], type = 'MODIFIED'): void {
  rvs.forEach((rv, i) => ring.push(capacity, rv, rvNumber(rv), type, 100 + i, i % 2 ? null : 1_000 + i, i + 1, 0));
}

describe('one object\'s deliveries', () => {
  it('keeps the last `capacity`, newest first from newest(0), overwriting the oldest', () => {
    const ring = new Deliveries();
    fill(ring, 3, ['10', '11', '12', '13', '14']);
    expect(ring.size).toBe(3);
    expect([0, 1, 2].map((k) => ring.rv(ring.newest(k)))).toEqual(['14', '13', '12']);
    expect(ring.rv(ring.oldest())).toBe('12');
    const newest = ring.delivery(ring.newest(0));
    expect(newest).toEqual({ rv: '14', rvNum: 14, type: 'MODIFIED', seq: 104, time: 1_004, order: 5, epoch: 0 });
    expect(ring.delivery(ring.newest(1)).time).toBeNull();
    expect(ring.maxRVNum).toBe(14);
  });

  it('tells RVs apart as text: leading zeros and non-numeric RVs are kept as they came', () => {
    const ring = new Deliveries();
    fill(ring, 8, ['12', '012', 'abc']);
    const slotOf = (rv: string) => [0, 1, 2].find((slot) => ring.hasRV(slot, rv, rvNumber(rv)));
    expect([slotOf('12'), slotOf('012'), slotOf('abc'), slotOf('0012'), slotOf('ab')]).toEqual([0, 1, 2, undefined, undefined]);
    expect([ring.rv(0), ring.rv(1), ring.rv(2)]).toEqual(['12', '012', 'abc']);
    // Overwritten by a canonical RV, a slot forgets the text it had.
    fill(ring, 3, ['20']);
    expect(ring.rv(ring.newest(0))).toBe('20');
    expect(ring.hasRV(0, '20', 20)).toBe(true);
  });

  it('keeps a type outside the watch event types as it came, and knows DELETED', () => {
    const ring = new Deliveries();
    ring.push(4, '1', 1, 'DELETED', 1, null, 1, 0);
    ring.push(4, '2', 2, 'WEIRD', 2, null, 2, 0);
    expect([ring.type(0), ring.isDeleted(0), ring.type(1), ring.isDeleted(1)]).toEqual(['DELETED', true, 'WEIRD', false]);
  });

  it('keeps a dead object\'s newest few, oldest first, and goes on appending', () => {
    const ring = new Deliveries();
    fill(ring, 5, ['1', '2', '3', '4', '5', '6', '7']);
    ring.keepNewest(2);
    expect(ring.size).toBe(2);
    expect([ring.rv(0), ring.rv(1), ring.rv(ring.oldest())]).toEqual(['6', '7', '6']);
    expect(ring.maxRVNum).toBe(7);
    fill(ring, 5, ['8']);
    expect([ring.size, ring.rv(ring.newest(0))]).toEqual([3, '8']);
  });
});
