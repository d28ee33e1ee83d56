import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The JavaScript heap as the last full collection left it, and the size V8 stops the process at. */
export interface HeapReading {
  readonly liveBytes: number;
  readonly limitBytes: number;
}

/** The latest reading, or undefined before the first full collection. */
export type HeapProbe = () => HeapReading | undefined;

/**
 * What the heap holds, read right after each full garbage collection (mark-compact). Between two collections the
 * used size also counts the garbage not collected yet (V8 lets the old generation grow to about twice what is live
 * before it collects), so only the reading after a full collection says what the process keeps. The observer costs
 * one callback per full collection (a few a minute at 1,000 events/s).
 */
export function watchHeap(): { probe: HeapProbe; stop(): void } {
  let last: HeapReading | undefined;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      const stats = getHeapStatistics();
      last = { liveBytes: stats.used_heap_size, limitBytes: stats.heap_size_limit };
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { probe: () => last, stop: () => observer.disconnect() };
}
