/**
 * The `:` prompt: where to jump. A debugger's "go to line", in the units a post-mortem talks in.
 *
 *   12345            seq 12345
 *   +50 / -50        50 records forward / back
 *   +30s / -2m       30 seconds after / 2 minutes before the current record
 *   10:03:22(.123)   that time of day (UTC) on the current record's date
 *   2026-11-25T10:03:22Z   that instant
 *   50%              half way through the session
 */
export type GotoTarget =
  | { readonly kind: 'seq'; readonly seq: number }
  | { readonly kind: 'rows'; readonly delta: number }
  | { readonly kind: 'time'; readonly ms: number }
  | { readonly kind: 'percent'; readonly fraction: number };

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseGoto(text: string, currentTime: string | null): GotoTarget | { kind: 'error'; message: string } {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { kind: 'seq', seq: Number(t) };
  if (/^[+-]\d+$/.test(t)) return { kind: 'rows', delta: Number(t) };
  const relative = /^([+-])((?:\d+(?:\.\d+)?(?:ms|s|m|h))+)$/.exec(t);
  if (relative) {
    if (!currentTime) return { kind: 'error', message: 'this record has no time to count from' };
    let ms = 0;
    for (const m of relative[2]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * units[m[2]!]!;
    return { kind: 'time', ms: Date.parse(currentTime) + (relative[1] === '-' ? -ms : ms) };
  }
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(t);
  if (percent) return { kind: 'percent', fraction: Math.min(1, Number(percent[1]) / 100) };
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?$/.exec(t);
  if (clock) {
    if (!currentTime) return { kind: 'error', message: 'this record has no date: give a full timestamp like 2026-11-25T10:03:22Z' };
    const day = currentTime.slice(0, 10);
    const ms = Date.parse(`${day}T${clock[1]!.padStart(2, '0')}:${clock[2]}:${clock[3] ?? '00'}${clock[4] ?? ''}Z`);
    if (Number.isNaN(ms)) return { kind: 'error', message: `"${t}" is not a time of day` };
    return { kind: 'time', ms };
  }
  const instant = Date.parse(t);
  if (/^\d{4}-\d{2}-\d{2}/.test(t) && !Number.isNaN(instant)) return { kind: 'time', ms: instant };
  return { kind: 'error', message: `"${t}": give a seq (1234), +/-records (+50), +/-duration (+30s), a time (10:03:22), a timestamp or a percentage (50%)` };
}
