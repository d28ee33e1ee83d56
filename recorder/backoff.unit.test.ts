import { describe, expect, it } from 'vitest';
import { Backoff, reflectorBackoff, watchTimeoutSeconds } from './backoff.js';

describe('Backoff', () => {
  it("doubles from 800 ms to a 30 s cap, like the reflector's backoff manager", () => {
    const backoff = new Backoff(reflectorBackoff, () => 0);
    const delays = Array.from({ length: 8 }, (_, i) => backoff.next(i));
    expect(delays).toEqual([800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it('adds up to 100 % jitter on top of the capped delay', () => {
    expect(new Backoff(reflectorBackoff, () => 0.5).next(0)).toBe(1200);
    const capped = new Backoff({ ...reflectorBackoff, initialMs: 60_000 }, () => 0.999);
    expect(capped.next(0)).toBe(59_970);
  });

  it('starts over after resetAfterMs without failures, or on reset()', () => {
    const backoff = new Backoff(reflectorBackoff, () => 0);
    backoff.next(0);
    backoff.next(1_000);
    expect(backoff.next(2_000)).toBe(3200);
    expect(backoff.next(2_000 + 120_001)).toBe(800);
    backoff.next(200_000);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next(200_001)).toBe(800);
  });

  it('randomises the server-side watch timeout in [t, 2t)', () => {
    expect(watchTimeoutSeconds(300, () => 0)).toBe(300);
    expect(watchTimeoutSeconds(300, () => 0.9999)).toBe(599);
  });
});
