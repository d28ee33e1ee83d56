/** A seeded generator (mulberry32): a failing fuzz run is replayed with the seed it prints. */
export class Random {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** Characters no Kubernetes string holds, and ones a terminal acts on. */
export const hostileCharacters = ['\u0000', '\u0001', '\u0007', '\u001b', '\u001b[2J', '\u007f', '\u0085', '\u009b', '\ud800', '\udfff', '\r', '\b'];

/** Inserts one hostile character (or escape sequence) at a random place. */
export function withHostile(random: Random, text: string): string {
  const at = random.int(0, text.length);
  return text.slice(0, at) + random.pick(hostileCharacters) + text.slice(at);
}
