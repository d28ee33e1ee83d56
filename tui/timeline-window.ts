import type { ReplayDataSource } from './data-source.js';
import { isEmptyFilter, type ViewFilter } from './filter.js';
import type { TimelineRow } from './rows.js';

/**
 * The rows loaded around the cursor for one filter: a contiguous run of the filtered timeline, extended a chunk at
 * a time as the cursor nears either end and trimmed on the far side, so memory stays bounded however far the user
 * scrolls. Stepping inside the window reads nothing; a jump re-centres it with two page reads.
 */
export class TimelineWindow {
  private rows: TimelineRow[] = [];
  private reachedStart = false;
  private reachedEnd = false;

  private readonly chunk: number;

  /**
   * Filtered windows load smaller chunks: the store answers a filter by scanning, so a chunk of a rare object's
   * records costs as many rows as lie between them.
   */
  constructor(
    private readonly source: ReplayDataSource,
    readonly filter: ViewFilter,
    chunk?: number,
  ) {
    this.chunk = chunk ?? (isEmptyFilter(filter) ? 64 : 32);
  }

  get loaded(): readonly TimelineRow[] {
    return this.rows;
  }

  get isEmpty(): boolean {
    this.ensure(0, 1);
    return this.rows.length === 0;
  }

  /** Index of the first loaded row with seq >= target (rows.length when none). */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rows[mid]!.seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private covers(seq: number): boolean {
    if (this.rows.length === 0) return false;
    const first = this.rows[0]!.seq;
    const last = this.rows[this.rows.length - 1]!.seq;
    return (seq >= first || this.reachedStart) && (seq <= last || this.reachedEnd);
  }

  private reset(seq: number): void {
    const before = this.source.rowsBefore(seq + 1, this.chunk, this.filter);
    const after = this.source.rowsAfter(seq, this.chunk, this.filter);
    this.rows = [...before, ...after];
    this.reachedStart = before.length < this.chunk;
    this.reachedEnd = after.length < this.chunk;
  }

  /** Loads rows so that `seq` and `margin` rows on each side of it are in the window. */
  ensure(seq: number, margin: number): void {
    if (!this.covers(seq)) this.reset(seq);
    for (;;) {
      const index = this.lowerBound(seq);
      if (index - margin < 0 && !this.reachedStart && this.rows.length > 0) {
        const more = this.source.rowsBefore(this.rows[0]!.seq, Math.max(this.chunk, margin), this.filter);
        this.reachedStart = more.length < Math.max(this.chunk, margin);
        this.rows = [...more, ...this.rows];
        this.trim(seq, 'end');
        continue;
      }
      if (index + margin >= this.rows.length && !this.reachedEnd && this.rows.length > 0) {
        const more = this.source.rowsAfter(this.rows[this.rows.length - 1]!.seq, Math.max(this.chunk, margin), this.filter);
        this.reachedEnd = more.length < Math.max(this.chunk, margin);
        this.rows = [...this.rows, ...more];
        this.trim(seq, 'start');
        continue;
      }
      return;
    }
  }

  /** Drops rows far from the cursor on one side once the window holds more than eight chunks. */
  private trim(seq: number, side: 'start' | 'end'): void {
    const max = this.chunk * 8;
    if (this.rows.length <= max) return;
    const index = this.lowerBound(seq);
    if (side === 'start' && index > this.chunk * 3) {
      const drop = Math.min(this.rows.length - max, index - this.chunk * 3);
      if (drop > 0) {
        this.rows = this.rows.slice(drop);
        this.reachedStart = false;
      }
    } else if (side === 'end' && this.rows.length - index > this.chunk * 3) {
      const drop = Math.min(this.rows.length - max, this.rows.length - index - this.chunk * 3);
      if (drop > 0) {
        this.rows = this.rows.slice(0, this.rows.length - drop);
        this.reachedEnd = false;
      }
    }
  }

  /** The row at `seq`, or the nearest one after it, or before it: where the cursor lands for a seq outside the filter. */
  snap(seq: number): number | undefined {
    this.ensure(seq, 1);
    const index = this.lowerBound(seq);
    return (this.rows[index] ?? this.rows[index - 1])?.seq;
  }

  /** The seq `delta` rows away from `seq`, clamped to the first/last row. */
  move(seq: number, delta: number): number | undefined {
    this.ensure(seq, Math.abs(delta) + 1);
    if (this.rows.length === 0) return undefined;
    let index = this.lowerBound(seq);
    // A seq between rows (outside the filter): one step forward lands on the next row, one back on the previous.
    if (this.rows[index]?.seq !== seq && delta > 0) index -= 1;
    const target = Math.max(0, Math.min(this.rows.length - 1, index + delta));
    return this.rows[target]!.seq;
  }

  first(): number | undefined {
    this.reset(0);
    return this.rows[0]?.seq;
  }

  last(): number | undefined {
    this.reset(Number.MAX_SAFE_INTEGER - 1);
    return this.rows[this.rows.length - 1]?.seq;
  }

  row(seq: number): TimelineRow | undefined {
    this.ensure(seq, 0);
    const row = this.rows[this.lowerBound(seq)];
    return row?.seq === seq ? row : undefined;
  }

  /**
   * The rows to draw: `height` rows that contain the cursor, starting at `topSeq` when that keeps the cursor at
   * least `scrolloff` rows from either edge (vim's scrolloff), else scrolled just enough.
   */
  view(cursorSeq: number, topSeq: number | undefined, height: number, scrolloff = 2): { rows: TimelineRow[]; cursor: number; topSeq: number | undefined } {
    this.ensure(cursorSeq, height + scrolloff + 1);
    if (this.rows.length === 0 || height <= 0) return { rows: [], cursor: -1, topSeq: undefined };
    const cursor = Math.min(this.lowerBound(cursorSeq), this.rows.length - 1);
    const so = Math.min(scrolloff, Math.floor((height - 1) / 2));
    let top = topSeq === undefined ? cursor - Math.floor(height / 3) : this.lowerBound(topSeq);
    if (cursor < top + so) top = cursor - so;
    if (cursor > top + height - 1 - so) top = cursor - height + 1 + so;
    // Do not leave blank rows at the bottom when there is more above.
    if (this.reachedEnd && top + height > this.rows.length) top = this.rows.length - height;
    top = Math.max(0, top);
    const rows = this.rows.slice(top, top + height);
    return { rows, cursor: cursor - top, topSeq: rows[0]?.seq };
  }
}
