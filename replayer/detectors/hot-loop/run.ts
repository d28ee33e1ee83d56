/**
 * One writer's writes to one object since anyone else last changed what it reads, within the window: oldest first.
 *
 * Two arrays, not one per field: every watched object keeps a run, and at 10,000 objects the spare capacity of four
 * small arrays each (V8 grows an array by half plus 16 slots) was most of hot-loop's memory. Times, seqs and
 * progress share one array of doubles (epoch milliseconds are not small integers, so a mixed array would box them).
 */
export class Run {
  /** Per write: its time, seq and progress (1: moved a status number closer to its target, 0: did not, -1: not judged). */
  private readonly numbers: number[] = [];
  private readonly resourceVersions: (string | null)[] = [];
  hot = false;
  /** Reconcile runs: the generation they reconciled (a new one is new input). */
  generation?: number | null;

  get length(): number {
    return this.resourceVersions.length;
  }

  time(i: number): number {
    return this.numbers[i * 3]!;
  }

  seq(i: number): number {
    return this.numbers[i * 3 + 1]!;
  }

  rv(i: number): string | null {
    return this.resourceVersions[i]!;
  }

  /** Adds a write, then forgets those more than `windowMs` before it. */
  push(time: number, seq: number, rv: string | null, progress: boolean | null, windowMs: number): void {
    this.numbers.push(time, seq, progress === null ? -1 : progress ? 1 : 0);
    this.resourceVersions.push(rv);
    let expired = 0;
    while (expired < this.resourceVersions.length && time - this.numbers[expired * 3]! > windowMs) expired++;
    if (expired) {
      this.numbers.splice(0, expired * 3);
      this.resourceVersions.splice(0, expired);
    }
  }

  /** How many writes in the window moved a status number closer to its target. */
  progressing(): number {
    let n = 0;
    for (let i = 2; i < this.numbers.length; i += 3) if (this.numbers[i] === 1) n++;
    return n;
  }

  copy(): Run {
    const run = new Run();
    run.numbers.push(...this.numbers);
    run.resourceVersions.push(...this.resourceVersions);
    run.hot = this.hot;
    if (this.generation !== undefined) run.generation = this.generation;
    return run;
  }
}
