import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { watchHeap } from './heap-watch.js';

describe('watchHeap', () => {
  it('reads the heap after a full collection, and nothing before one', async () => {
    const watch = watchHeap();
    try {
      expect(watch.probe()).toBeUndefined();
      // A full collection on demand: --expose-gc set at run time gives a fresh context a gc().
      setFlagsFromString('--expose-gc');
      (runInNewContext('gc') as () => void)();
      // The observer's callback comes after the collection, from the event loop.
      for (let i = 0; i < 50 && !watch.probe(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      const reading = watch.probe()!;
      expect(reading.limitBytes).toBe(getHeapStatistics().heap_size_limit);
      expect(reading.liveBytes).toBeGreaterThan(1 * 2 ** 20);
      expect(reading.liveBytes).toBeLessThan(reading.limitBytes);
    } finally {
      watch.stop();
    }
  });
});
