import { terminalText } from '../model/index.js';

/** Text helpers for fixed-width cells: the timeline is a table and must never wrap. */

/** Cuts to `width` columns with an ellipsis; pads with spaces to exactly `width` when `pad`. */
export function fit(unsafe: string, width: number, pad = true): string {
  if (width <= 0) return '';
  // Cluster strings are escaped before they are measured (model/terminal-text.ts); Line escapes again, a no-op.
  const text = terminalText(unsafe);
  const chars = [...text];
  if (chars.length > width) return width === 1 ? '…' : `${chars.slice(0, width - 1).join('')}…`;
  return pad ? text + ' '.repeat(width - chars.length) : text;
}

/** Cuts from the left (keeps the end, where names differ): `…am-3/web-0003`. */
export function fitStart(unsafe: string, width: number, pad = true): string {
  const text = terminalText(unsafe);
  const chars = [...text];
  if (chars.length > width) return width <= 1 ? '…' : `…${chars.slice(chars.length - width + 1).join('')}`;
  return pad ? text + ' '.repeat(width - chars.length) : text;
}

export function padStart(text: string, width: number): string {
  return text.length >= width ? text.slice(text.length - width) : ' '.repeat(width - text.length) + text;
}

/** 1234567 → 1,234,567 */
export function thousands(n: number): string {
  // Not toLocaleString: Intl costs microseconds per call, and a frame formats hundreds of numbers.
  const text = String(Math.trunc(n));
  return text.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The time of day of an RFC 3339 timestamp in UTC with milliseconds: 10:03:22.123. */
export function clock(time: string | null): string {
  if (!time) return '--:--:--.---';
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return time.slice(11, 23);
  return new Date(ms).toISOString().slice(11, 23);
}

/** Full UTC timestamp for the header: 2026-11-25 10:03:22.123Z */
export function stamp(time: string | null): string {
  if (!time) return 'no time';
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? time : new Date(ms).toISOString().replace('T', ' ');
}

/** A value from a diff, one line: strings quoted, objects as compact JSON, cut to `width`. */
export function inlineValue(value: unknown, width: number): string {
  const text = value === undefined ? '<absent>' : (JSON.stringify(value) ?? String(value));
  return fit(text, width, false);
}

/** Wraps text to lines of at most `width` columns at spaces (explanations and fixes in the findings pane). */
export function wrap(text: string, width: number): string[] {
  if (width <= 4) return [text];
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line === '') line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A relative duration between two timestamps: +1.234s, +4m12s. */
export function since(from: string | null, to: string | null): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  if (!Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(3)}s`;
  const s = Math.floor(abs / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${sign}${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
