/**
 * Time in the replayer comes only from the records: `observedAt`, reconcile `startedAt`/`finishedAt`, and object
 * metadata. Everything is epoch milliseconds; null means "the source did not say" (kubectl watch dumps).
 */

export function parseTime(text: string | null | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export { objectTime } from '../model/version-facts.js';

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
