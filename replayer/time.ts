import type { KubeObject } from '../model/index.js';

/**
 * Time in the replayer comes only from the records: `observedAt`, reconcile `startedAt`/`finishedAt`, and object
 * metadata. Everything is epoch milliseconds; null means "the source did not say" (kubectl watch dumps).
 */

export function parseTime(text: string | null | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * The best time a version of an object can tell about itself when the record has no observedAt: the newest
 * managedFields entry (the server stamps the writer's entry on every write that changes its fields, see
 * apimachinery pkg/apis/meta/v1/types.go ManagedFieldsEntry.Time), else its deletion or creation timestamp.
 * Second precision only: good enough for minute-scale thresholds, not for ordering.
 */
export function objectTime(object: KubeObject | null | undefined): number | null {
  const metadata = object?.metadata as Record<string, unknown> | undefined;
  if (!metadata) return null;
  let best: number | null = null;
  const managedFields = metadata.managedFields;
  if (Array.isArray(managedFields)) {
    for (const entry of managedFields) {
      const t = parseTime((entry as { time?: string }).time);
      if (t !== null && (best === null || t > best)) best = t;
    }
  }
  if (best !== null) return best;
  return parseTime(metadata.deletionTimestamp as string | undefined) ?? parseTime(metadata.creationTimestamp as string | undefined);
}

/** A Go-style duration for messages: 4m12s, 1h02m, 850ms. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
