/**
 * Time in the replayer comes only from the records: `observedAt`, reconcile `startedAt`/`finishedAt`, and object
 * metadata. Everything is epoch milliseconds; null means "the source did not say" (kubectl watch dumps).
 */

export function parseTime(text: string | null | undefined): number | null {
  if (!text) return null;
  const fast = parseUtc(text);
  if (fast !== undefined) return fast;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * `2026-11-25T10:00:00Z` and `2026-11-25T10:00:00.123456Z` (RFC 3339 in UTC, what the API server and kreplay write)
 * by arithmetic: the fold reads a time from every record, and Date.parse was a sixth of the fold. Anything else
 * (offsets, out-of-range fields) returns undefined and goes to Date.parse, so the answer never differs.
 */
function parseUtc(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || n > 30 || text.charCodeAt(n - 1) !== 90 /* Z */) return undefined;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || hour < 0 || minute < 0 || second < 0) {
    return undefined;
  }
  let ms = 0;
  if (n > 20) {
    // '.' and 1 to 9 digits; milliseconds are kept, truncated, as Date.parse does.
    const width = n - 21;
    if (text.charCodeAt(19) !== 46 || width < 1) return undefined;
    const fraction = digits(text, 20, width);
    if (fraction < 0) return undefined;
    ms = width >= 3 ? Math.floor(fraction / 10 ** (width - 3)) : fraction * 10 ** (3 - width);
  }
  // Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
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

/**
 * How a duration was measured, for messages. A kubectl watch dump has no event times: its times are the objects' own
 * managedFields times and deletionTimestamps (second precision, and a deletion is only known to have happened at or
 * after the object's last write), so such a duration is an estimate and says so.
 */
export function durationBasis(estimated: boolean): string {
  return estimated ? ' (estimated from managedFields times and deletionTimestamp, to the second: the dump carries no event times)' : '';
}
