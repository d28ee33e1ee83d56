import { changeAuthor, type ChangeAuthor } from '../replayer/diff.js';
import { evaluateFieldPath, evaluationKey, type Evaluation, type FieldPath } from '../replayer/watchpoint.js';
import type { ObjectVersion, ReplayDataSource } from './data-source.js';
import type { ViewFilter } from './filter.js';
import { searchText, type RowObject, type TimelineRow } from './rows.js';

/**
 * The long-running moves: watchpoint continues and text search. They read in chunks and yield to the event loop
 * between chunks, so keys (Esc) and frames keep flowing while a scan walks a million records.
 */

export type Progress = (done: number, total?: number) => void;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export interface Watchpoint {
  readonly path: FieldPath;
  readonly object: RowObject;
}

export interface WatchHit {
  readonly seq: number;
  readonly version: ObjectVersion;
  readonly before: Evaluation;
  readonly after: Evaluation;
  readonly author: ChangeAuthor | undefined;
  /** Versions read to find it. */
  readonly scanned: number;
}

/** Versions read per query: small first (a change is usually near), growing so long scans take few queries. */
const chunks = (function* () {
  for (let size = 8; ; size = Math.min(size * 4, 512)) yield size;
})

/**
 * Forward: the first version after `fromSeq` whose value differs from the value at `fromSeq`.
 * Backward: the last version before `fromSeq` whose value differs from the version before it — the record that
 * set the value the object had just before the cursor (reverse-continue in a debugger).
 */
export async function scanWatch(source: ReplayDataSource, watch: Watchpoint, fromSeq: number, direction: 1 | -1, signal: AbortSignal, progress: Progress): Promise<WatchHit | { scanned: number } > {
  let scanned = 0;
  if (direction === 1) {
    const start = source.versionAt(watch.object, fromSeq);
    let previous: ObjectVersion | undefined = start;
    let before = start ? evaluateFieldPath(watch.path, start.object) : ({ found: false } as Evaluation);
    let beforeKey = evaluationKey(before);
    let seq = fromSeq;
    for (const chunk of chunks()) {
      if (signal.aborted) throw new Cancelled();
      const versions = source.versions(watch.object, seq, 1, chunk);
      for (const version of versions) {
        scanned += 1;
        const after = evaluateFieldPath(watch.path, version.object);
        const afterKey = evaluationKey(after);
        if (afterKey !== beforeKey) return { seq: version.seq, version, before, after, author: changeAuthor(version.object, previous?.object), scanned };
        before = after;
        beforeKey = afterKey;
        previous = version;
      }
      if (versions.length < chunk) return { scanned };
      seq = versions[versions.length - 1]!.seq;
      progress(scanned);
      await yieldToEventLoop();
    }
  }
  // Backward: walk versions newest first, comparing each with the one before it.
  let seq = fromSeq;
  let candidate: ObjectVersion | undefined;
  let candidateEval: Evaluation | undefined;
  for (const chunk of chunks()) {
    if (signal.aborted) throw new Cancelled();
    const versions = source.versions(watch.object, seq, -1, chunk);
    for (const version of versions) {
      scanned += 1;
      const value = evaluateFieldPath(watch.path, version.object);
      if (candidate && candidateEval && evaluationKey(value) !== evaluationKey(candidateEval)) {
        return { seq: candidate.seq, version: candidate, before: value, after: candidateEval, author: changeAuthor(candidate.object, version.object), scanned };
      }
      candidate = version;
      candidateEval = value;
    }
    if (versions.length < chunk) {
      // The oldest version: the value appeared with it (if it has the field at all).
      if (candidate && candidateEval?.found) return { seq: candidate.seq, version: candidate, before: { found: false }, after: candidateEval, author: changeAuthor(candidate.object), scanned };
      return { scanned };
    }
    seq = versions[versions.length - 1]!.seq;
    progress(scanned);
    await yieldToEventLoop();
  }
  return { scanned };
}

const SEARCH_CHUNK = 1_000;

/** The next row (in the filtered timeline) whose text contains `query`, case-insensitive. */
export async function scanSearch(
  source: ReplayDataSource,
  filter: ViewFilter,
  query: string,
  fromSeq: number,
  direction: 1 | -1,
  signal: AbortSignal,
  progress: Progress,
): Promise<TimelineRow | undefined> {
  const needle = query.toLowerCase();
  const { firstSeq, lastSeq } = source.bounds();
  let seq = fromSeq;
  for (;;) {
    if (signal.aborted) throw new Cancelled();
    const rows = direction === 1 ? source.rowsAfter(seq, SEARCH_CHUNK, filter) : source.rowsBefore(seq, SEARCH_CHUNK, filter).reverse();
    for (const row of rows) {
      const writer = source.cachedWriter(row.seq);
      if (searchText(row).includes(needle) || (writer && writer.toLowerCase().includes(needle))) return row;
    }
    if (rows.length < SEARCH_CHUNK) return undefined;
    seq = rows[rows.length - 1]!.seq;
    progress(direction === 1 ? seq - fromSeq : fromSeq - seq, direction === 1 ? lastSeq - fromSeq : fromSeq - firstSeq);
    await yieldToEventLoop();
  }
}
