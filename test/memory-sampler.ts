import { readFileSync } from 'node:fs';

/**
 * Where a process's resident memory is, sampled: V8's heap (what it has reserved and what is live), memory outside
 * it that V8 knows of (Buffers: external, arrayBuffers), and the resident set split into anonymous memory (heaps:
 * V8's, malloc's — SQLite, zlib, the HTTP parser) and file-backed pages (the node binary and native modules).
 * RSS minus heapTotal minus file-backed is what malloc holds.
 */
export interface MemorySample {
  readonly rssMiB: number;
  readonly heapTotalMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
  /** Linux only (/proc/self/status); 0 elsewhere. */
  readonly rssAnonMiB: number;
  readonly rssFileMiB: number;
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

export function memorySample(): MemorySample {
  const usage = process.memoryUsage();
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // not Linux
  }
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return {
    rssMiB: mib(usage.rss),
    heapTotalMiB: mib(usage.heapTotal),
    heapUsedMiB: mib(usage.heapUsed),
    externalMiB: mib(usage.external),
    arrayBuffersMiB: mib(usage.arrayBuffers),
    rssAnonMiB: mib(kib('RssAnon') * 1024),
    rssFileMiB: mib(kib('RssFile') * 1024),
  };
}

/** Samples every `intervalMs` (unref'd: it never keeps the process alive) and keeps the first and the largest. */
export class MemoryWatch {
  readonly first: MemorySample = memorySample();
  peak: MemorySample = this.first;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 100) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): MemorySample {
    const now = memorySample();
    if (now.rssMiB > this.peak.rssMiB) this.peak = now;
    return now;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A sample as figures to print: what V8 holds, what malloc holds (anonymous memory outside V8's heap), the binaries. */
export function memoryFigures(sample: MemorySample | undefined): Record<string, number> | undefined {
  if (!sample) return undefined;
  return {
    rssMiB: sample.rssMiB,
    heapTotalMiB: sample.heapTotalMiB,
    heapUsedMiB: sample.heapUsedMiB,
    arrayBuffersMiB: sample.arrayBuffersMiB,
    mallocMiB: Math.round((sample.rssAnonMiB - sample.heapTotalMiB) * 10) / 10,
    fileMiB: sample.rssFileMiB,
  };
}
