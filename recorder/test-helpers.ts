import type { MarkerRecord, SessionRecord, WatchEventRecord } from '../model/index.js';
import type { ResolvedKubeConfig } from './kubeconfig.js';
import type { RecordSink, DroppableSource } from './writer.js';

/** Shared by the recorder's int tests and bench: a kubeconfig for a plain-HTTP fake server, a sink in memory. */
export function kubeConfigFor(url: string, token = 'test-token-0123456789'): ResolvedKubeConfig {
  return { contextName: 'fake', source: 'test', cluster: { server: url, insecureSkipTlsVerify: true }, user: { token } };
}

export class MemorySink implements RecordSink {
  readonly records: SessionRecord[] = [];
  readonly dropped: Record<DroppableSource, number> = { ingest: 0, audit: 0 };
  /** While true, push() asks the caller to slow down and whenRoom() waits for release(). */
  pressure = false;
  private waiters: (() => void)[] = [];

  push(records: readonly SessionRecord[]): boolean {
    this.records.push(...records);
    return this.pressure;
  }

  offer(records: readonly SessionRecord[], source: DroppableSource): boolean {
    if (this.pressure) {
      this.dropped[source] += records.length;
      return false;
    }
    this.records.push(...records);
    return true;
  }

  whenRoom(): Promise<void> {
    if (!this.pressure) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.pressure = false;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  markers(kind?: MarkerRecord['marker']): MarkerRecord[] {
    return this.records.filter((r): r is MarkerRecord => r.record === 'marker' && (kind === undefined || r.marker === kind));
  }

  watches(): WatchEventRecord[] {
    return this.records.filter((r): r is WatchEventRecord => r.record === 'watch');
  }

  /** Compact trace for assertions: 'list-started', 'ADDED/relist a', 'MODIFIED/watch a@105' ... */
  trace(): string[] {
    return this.records.map((r) => {
      if (r.record === 'marker') return r.marker;
      if (r.record === 'watch') return r.type === 'BOOKMARK' ? `BOOKMARK@${r.resourceVersion}` : `${r.type}/${r.origin} ${r.name}@${r.resourceVersion}`;
      return r.record;
    });
  }
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A backoff that keeps tests fast but still exercises the code path. */
export const fastBackoff = { initialMs: 20, maxMs: 100, factor: 2, jitter: 0, resetAfterMs: 60_000 };
