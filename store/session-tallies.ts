/**
 * What `kreplay sessions` shows of a session, per record kind, as the appends of one transaction change it
 * (migrations/0008_session_tallies.sql has the table and what each column means). Pure: the store writes the result.
 */
export interface KindTally {
  records: number;
  /** The earliest and latest observedAt of records whose client clock was not off; null when none had one. */
  first: string | null;
  last: string | null;
  clockSkewed: number;
  /** length(payload) as SQLite counts TEXT: characters (code points), not UTF-16 units. */
  payloadChars: number;
}

/** The changes to a session's tallies made by one append, by record kind. */
export class TallyChanges {
  readonly byKind = new Map<string, KindTally>();

  /** A row written. */
  add(kind: string, observedAt: string | null, payload: string | null): void {
    const tally = this.of(kind);
    tally.records += 1;
    this.count(tally, observedAt, payload);
  }

  /** A stored row whose payload (and time) a merge replaced: only the difference counts, and the new time. */
  replace(kind: string, before: string | null, after: string | null, observedAt: string | null): void {
    const tally = this.of(kind);
    tally.payloadChars -= charLength(before);
    if (before !== null && isClockSkewed(before)) tally.clockSkewed -= 1;
    this.count(tally, observedAt, after);
  }

  private count(tally: KindTally, observedAt: string | null, payload: string | null): void {
    tally.payloadChars += charLength(payload);
    const skewed = payload !== null && isClockSkewed(payload);
    if (skewed) tally.clockSkewed += 1;
    if (skewed || observedAt === null) return;
    // ISO times compare as text, as SQLite's min() and max() compare them (ASCII: UTF-16 and UTF-8 order agree).
    if (tally.first === null || observedAt < tally.first) tally.first = observedAt;
    if (tally.last === null || observedAt > tally.last) tally.last = observedAt;
  }

  private of(kind: string): KindTally {
    let tally = this.byKind.get(kind);
    if (!tally) this.byKind.set(kind, (tally = { records: 0, first: null, last: null, clockSkewed: 0, payloadChars: 0 }));
    return tally;
  }
}

/**
 * The SQL test `sessions` always used (a top-level `clockSkew` that is not null), on the text: `instr` first, so
 * only the rare payload that may hold it is parsed.
 */
export function isClockSkewed(payload: string): boolean {
  if (!payload.includes('"clockSkew":')) return false;
  try {
    const value = (JSON.parse(payload) as { clockSkew?: unknown } | null)?.clockSkew;
    return value !== undefined && value !== null;
  } catch {
    return false;
  }
}

const highSurrogate = /[\uD800-\uDBFF]/;
const surrogatePair = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Characters as SQLite's length() counts a TEXT value: a surrogate pair is one (JSON.stringify leaves none alone). */
export function charLength(text: string | null): number {
  if (text === null) return 0;
  if (!highSurrogate.test(text)) return text.length;
  return text.length - (text.match(surrogatePair)?.length ?? 0);
}
