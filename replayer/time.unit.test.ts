import { describe, expect, it } from 'vitest';
import { formatDuration, parseTime } from './time.js';

function dateParse(text: string): number | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

describe('parseTime', () => {
  it('agrees with Date.parse on the forms the API server and kreplay write, and on odd ones', () => {
    const samples = [
      '2026-11-25T10:00:00Z',
      '2026-11-25T10:00:00.1Z',
      '2026-11-25T10:00:00.12Z',
      '2026-11-25T10:00:00.123Z',
      '2026-11-25T10:00:00.123456Z',
      '2026-11-25T10:00:00.123456789Z',
      '2024-02-29T23:59:59Z',
      '2100-02-28T00:00:00Z',
      '2000-02-29T12:00:00Z',
      '1970-01-01T00:00:00Z',
      // Not the fast path: offsets, rollovers, a leap second, junk. Date.parse decides.
      '2026-11-25T10:00:00+02:00',
      '2026-02-31T10:00:00Z',
      '2023-02-29T10:00:00Z',
      '2026-11-25T24:00:00Z',
      '2026-11-25T23:59:60Z',
      '2026-13-01T00:00:00Z',
      '2026-11-25T10:00:00.Z',
      '2026-11-25 10:00:00Z',
      '1969-12-31T23:59:59Z',
      'yesterday',
    ];
    for (const text of samples) expect(parseTime(text), text).toBe(dateParse(text));
  });

  it('agrees with Date.parse on 20,000 generated UTC timestamps', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pad = (n: number, width: number) => String(n).padStart(width, '0');
    for (let i = 0; i < 20_000; i++) {
      const fraction = next(4) === 0 ? '' : `.${pad(next(1_000_000_000), 9).slice(0, 1 + next(9))}`;
      const text = `${1970 + next(200)}-${pad(1 + next(12), 2)}-${pad(1 + next(31), 2)}T${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)}${fraction}Z`;
      expect(parseTime(text), text).toBe(dateParse(text));
    }
  });

  it('is null for nothing', () => {
    expect(parseTime(null)).toBeNull();
    expect(parseTime('')).toBeNull();
  });
});

describe('formatDuration', () => {
  it('prints Go-style durations', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(4 * 60_000 + 12_000)).toBe('4m12s');
    expect(formatDuration(62 * 60_000)).toBe('1h02m');
  });
});
