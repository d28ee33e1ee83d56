import { describe, expect, it } from 'vitest';
import { RecentWrites, type RecentWrite } from './recent-writes.js';

const write = (seq: number, rv: string | null, extra: Partial<RecentWrite> = {}): RecentWrite => ({ seq, rv, time: 1_000 + seq, specGeneration: 2, byController: null, statusWrite: false, ...extra });

describe("an object's recent writes", () => {
  it('keeps the last `capacity`, oldest first, as they were written', () => {
    const writes = new RecentWrites(3);
    for (let seq = 1; seq <= 5; seq++) writes.push(write(seq, String(100 + seq), seq === 5 ? { byController: true, statusWrite: true, time: null, specGeneration: null } : {}));
    expect(writes.size).toBe(3);
    expect([0, 1, 2].map((i) => writes.at(i))).toEqual([
      write(3, '103'),
      write(4, '104'),
      { seq: 5, rv: '105', time: null, specGeneration: null, byController: true, statusWrite: true },
    ]);
  });

  it('keeps an RV that is not its number (leading zeros, text, none) as it came, through the ring', () => {
    const writes = new RecentWrites(3);
    ['7', '007', 'abc', null, '8'].forEach((rv, i) => writes.push(write(i + 1, rv)));
    expect([0, 1, 2].map((i) => writes.at(i).rv)).toEqual(['abc', null, '8']);
  });
});
