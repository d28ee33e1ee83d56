import { describe, expect, it } from 'vitest';
import { planRetention, segmentName } from './retention.js';

const hour = 3_600_000;
const now = Date.parse('2026-11-25T12:00:00Z');

describe('planRetention', () => {
  it('deletes recorder sessions whose newest record is older than maxAge', () => {
    const plan = planRetention({
      now,
      usedBytes: 1000,
      others: [
        { id: 1, name: 'old', newestAt: now - 30 * hour, bytes: 100 },
        { id: 2, name: 'recent', newestAt: now - 2 * hour, bytes: 100 },
        { id: 3, name: 'unknown', newestAt: null, bytes: 100 },
      ],
      currentStartedAt: now - hour,
      limits: { maxAgeMs: 24 * hour },
    });
    expect(plan.delete.map((d) => d.name)).toEqual(['old']);
    expect(plan.rotate).toBeUndefined();
  });

  it('deletes oldest first while over maxSize, down to 90 %', () => {
    const plan = planRetention({
      now,
      usedBytes: 1_200,
      others: [
        { id: 2, name: 'b', newestAt: now - 2 * hour, bytes: 300 },
        { id: 1, name: 'a', newestAt: now - 3 * hour, bytes: 100 },
        { id: 3, name: 'c', newestAt: now - hour, bytes: 300 },
      ],
      currentStartedAt: now,
      limits: { maxBytes: 1_000 },
    });
    expect(plan.delete.map((d) => d.name)).toEqual(['a', 'b']);
    expect(plan.rotate).toMatchObject({ reason: expect.stringMatching(/larger than maxSize\/4/) });
  });

  it('rotates the live segment at a quarter of maxAge or maxSize', () => {
    const base = { now, others: [], limits: { maxAgeMs: 8 * hour, maxBytes: 1_000 } };
    expect(planRetention({ ...base, usedBytes: 100, currentStartedAt: now - hour }).rotate).toBeUndefined();
    expect(planRetention({ ...base, usedBytes: 100, currentStartedAt: now - 3 * hour }).rotate?.reason).toMatch(/older than maxAge\/4/);
    expect(planRetention({ ...base, usedBytes: 300, currentStartedAt: now }).rotate?.reason).toMatch(/larger than maxSize\/4/);
  });

  it('does nothing without limits', () => {
    expect(planRetention({ now, usedBytes: 1e12, others: [{ id: 1, name: 'x', newestAt: 0, bytes: 1e12 }], currentStartedAt: 0, limits: {} })).toEqual({ delete: [], rotate: undefined });
  });
});

describe('segmentName', () => {
  it('names segments NAME, NAME.2, NAME.3', () => {
    expect([1, 2, 3].map((n) => segmentName('rec', n))).toEqual(['rec', 'rec.2', 'rec.3']);
  });
});
