import { describe, expect, it } from 'vitest';
import { Run } from './run.js';

const t0 = Date.parse('2026-12-08T00:00:00Z');

describe('a hot-loop run', () => {
  it('keeps the writes within the window, oldest first, with their seqs and resourceVersions', () => {
    const run = new Run();
    run.push(t0, 10, '100', null, 60_000);
    run.push(t0 + 30_000, 11, null, true, 60_000);
    run.push(t0 + 61_000, 12, '102', false, 60_000);
    // The first write is 61 s before the last: past the 60 s window.
    expect(run.length).toBe(2);
    expect([run.time(0), run.seq(0), run.rv(0)]).toEqual([t0 + 30_000, 11, null]);
    expect([run.time(1), run.seq(1), run.rv(1)]).toEqual([t0 + 61_000, 12, '102']);
    expect(run.progressing()).toBe(1);
    run.push(t0 + 200_000, 13, '103', true, 60_000);
    expect(run.length).toBe(1);
    expect(run.seq(0)).toBe(13);
  });

  it('counts only the writes judged to make progress', () => {
    const run = new Run();
    [true, null, false, true, true].forEach((progress, i) => run.push(t0 + i, i + 1, String(i), progress, 60_000));
    expect(run.progressing()).toBe(3);
  });

  it('copies into a run of its own', () => {
    const run = new Run();
    run.push(t0, 1, '1', null, 60_000);
    run.hot = true;
    run.generation = 4;
    const copy = run.copy();
    copy.push(t0 + 1, 2, '2', true, 60_000);
    expect([run.length, copy.length]).toEqual([1, 2]);
    expect([copy.hot, copy.generation, copy.progressing(), run.progressing()]).toEqual([true, 4, 1, 0]);
  });
});
