import { terminalText } from '../model/index.js';

/** Small formatting helpers shared by the listing commands. */

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A plain text table: columns padded to the widest cell, no borders (like kubectl get). */
export function table(headers: readonly string[], unsafeRows: readonly (readonly string[])[]): string {
  // Cells hold cluster strings: escaped before they are measured, so a name cannot move the cursor or the columns.
  const rows = unsafeRows.map((row) => row.map(terminalText));
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function formatSpan(first: string | null, last: string | null): string {
  if (!first || !last) return 'no timestamps';
  const ms = Date.parse(last) - Date.parse(first);
  return `${first.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z')} +${formatDuration(ms)}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
