import { canonicalRV, rvNumber } from '../../rv.js';

/** Numbers kept per write: seq, time (NaN: none), specGeneration (NaN: none), byController (1: yes, 0: not known), statusWrite (1/0), rvNum. */
const STRIDE = 6;

/** One write to an object, as stale-reconcile reads it back. */
export interface RecentWrite {
  readonly seq: number;
  readonly rv: string | null;
  readonly time: number | null;
  /** The newest spec generation at the moment of the write. */
  readonly specGeneration: number | null;
  /** true: the object's controller made it (its API record said so); null: not known. */
  readonly byController: true | null;
  readonly statusWrite: boolean;
}

/**
 * An object's last `capacity` writes, oldest first: numbers in one array of doubles, an RV's text only when it is not
 * its number's. Every object written keeps up to 16; an object per write (with a boxed time and its own copy of the
 * RV string) was ~120 B each, ~1.9 KB an object and ~19 MB at 10,000 objects once full.
 */
export class RecentWrites {
  private readonly numbers: number[] = [];
  /** Per write, an RV that is not canonical or absent (null until one is: etcd's RVs always are). */
  private rvTexts: (string | null | undefined)[] | null = null;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.numbers.length / STRIDE;
  }

  push(write: RecentWrite): void {
    const rvNum = write.rv === null ? Number.NaN : rvNumber(write.rv);
    const keepText = write.rv === null || !canonicalRV(write.rv, rvNum);
    if (keepText || this.rvTexts) {
      this.rvTexts ??= Array<undefined>(this.size).fill(undefined);
      this.rvTexts.push(keepText ? write.rv : undefined);
    }
    this.numbers.push(write.seq, write.time ?? Number.NaN, write.specGeneration ?? Number.NaN, write.byController ? 1 : 0, write.statusWrite ? 1 : 0, rvNum);
    if (this.size > this.capacity) {
      this.numbers.splice(0, STRIDE);
      this.rvTexts?.shift();
    }
  }

  /** The i-th write, oldest first. */
  at(i: number): RecentWrite {
    const n = this.numbers;
    const at = i * STRIDE;
    const text = this.rvTexts?.[i];
    const time = n[at + 1]!;
    const specGeneration = n[at + 2]!;
    return {
      seq: n[at]!,
      rv: text === undefined ? String(n[at + 5]) : text,
      time: Number.isNaN(time) ? null : time,
      specGeneration: Number.isNaN(specGeneration) ? null : specGeneration,
      byController: n[at + 3] === 1 ? true : null,
      statusWrite: n[at + 4] === 1,
    };
  }
}
