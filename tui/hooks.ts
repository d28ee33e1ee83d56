import { useEffect, useMemo, useRef, useState } from 'react';
import { useStdout } from 'ink';
import type { Finding } from '../model/index.js';
import type { RecordAnnotation } from '../replayer/index.js';
import type { ReplayDataSource } from './data-source.js';
import type { FindingsStatus } from './detail-lines.js';
import { filterKey, type ViewFilter } from './filter.js';
import { FindingsIndex } from './findings-index.js';
import type { RowObject, TimelineRow } from './rows.js';
import type { TimelineWindow } from './timeline-window.js';

export interface TerminalSize {
  readonly columns: number;
  readonly rows: number;
}

/** The terminal's size, following resizes; a fixed size (tests) wins. */
export function useTerminalSize(fixed?: Partial<TerminalSize>): TerminalSize {
  const { stdout } = useStdout();
  const read = () => ({ columns: fixed?.columns ?? (stdout.columns || 80), rows: fixed?.rows ?? (stdout.rows || 24) });
  const [size, setSize] = useState<TerminalSize>(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
  }, [stdout, fixed?.columns, fixed?.rows]);
  return fixed?.columns !== undefined && fixed.rows !== undefined ? { columns: fixed.columns, rows: fixed.rows } : size;
}

/**
 * The rows on screen: the data hook of the timeline. Paging happens in the window (synchronously, a few
 * milliseconds at most), so a step renders the new rows in the same frame: no blank frame, no flicker.
 */
export function useTimelineView(window: TimelineWindow, cursor: number, top: number | undefined, height: number) {
  return window.view(cursor, top, height);
}

/**
 * Writers of watch rows come from their bodies (managedFields), which cost a decode each: they are resolved for
 * the visible rows just after the frame that shows the rows, then drawn in the next one.
 */
export function useWriters(source: ReplayDataSource, rows: readonly TimelineRow[]): void {
  const [, setTick] = useState(0);
  let missing = rows.filter((row) => row.record === 'watch' && row.writer === null && row.object !== null && source.cachedWriter(row.seq) === undefined);
  // A step scrolls one or two new rows in: resolving them now costs less than a second frame would.
  if (missing.length > 0 && missing.length <= 3) {
    for (const row of missing) source.writerOf(row);
    missing = [];
  }
  const key = missing.map((row) => row.seq).join(',');
  useEffect(() => {
    if (!key) return;
    const timer = setTimeout(() => {
      for (const row of missing) source.writerOf(row);
      setTick((tick) => tick + 1);
    }, 0);
    return () => clearTimeout(timer);
  }, [key, source]);
}

export interface Position {
  /** 0-based index among the filtered rows; undefined while being counted. */
  readonly index: number | undefined;
  readonly total: number | undefined;
}

/**
 * "seq N of total": instant for the unfiltered timeline (seqs are contiguous) and for finding filters; for store
 * filters the count runs once per filter after the cursor rests, and moves within the loaded window are counted
 * from the last known position.
 */
export function usePosition(source: ReplayDataSource, window: TimelineWindow, filter: ViewFilter, cursor: number): Position {
  const key = filterKey(filter);
  const cheap = source.isCheap(filter);
  const known = useRef<{ key: string; seq: number; index: number; total: number } | undefined>(undefined);
  const [, setTick] = useState(0);
  let estimate: Position | undefined;
  if (cheap) {
    estimate = { index: source.indexOf(cursor, filter), total: source.count(filter) };
  } else if (known.current?.key === key) {
    const distance = distanceInWindow(window, known.current.seq, cursor);
    if (distance !== undefined) estimate = { index: known.current.index + distance, total: known.current.total };
  }
  const needed = !cheap && !estimate;
  useEffect(() => {
    if (!needed) return;
    const timer = setTimeout(() => {
      known.current = { key, seq: cursor, index: source.indexOf(cursor, filter), total: source.count(filter) };
      setTick((tick) => tick + 1);
    }, 150);
    return () => clearTimeout(timer);
  }, [needed, key, cursor, source]);
  return estimate ?? { index: undefined, total: known.current?.key === key ? known.current.total : undefined };
}

function distanceInWindow(window: TimelineWindow, from: number, to: number): number | undefined {
  const rows = window.loaded;
  const a = rows.findIndex((row) => row.seq === from);
  const b = rows.findIndex((row) => row.seq === to);
  return a === -1 || b === -1 ? undefined : b - a;
}

/** The object's own records around the cursor, for the History view; read after the cursor rests. */
export function useObjectHistory(source: ReplayDataSource, object: RowObject | null, cursor: number, limit: number, active: boolean): readonly TimelineRow[] {
  const [state, setState] = useState<{ key: string; rows: readonly TimelineRow[] }>({ key: '', rows: [] });
  const key = object && active ? `${object.kind}/${object.namespace}/${object.name}@${cursor}:${limit}` : '';
  useEffect(() => {
    if (!key || !object || state.key === key) return;
    const timer = setTimeout(() => {
      const before = source.objectRows(object, cursor + 1, -1, Math.ceil(limit / 2));
      const after = source.objectRows(object, cursor, 1, limit - before.length);
      setState({ key, rows: [...before, ...after] });
    }, 60);
    return () => clearTimeout(timer);
  }, [key, object, source, cursor, limit, state.key]);
  return state.key === key ? state.rows : state.rows.length && key.split('@')[0] === state.key.split('@')[0] ? state.rows : [];
}

export interface AnalysisResult {
  readonly findings: readonly Finding[];
  /** Per-record notes from the replayer's fold (relist, resync, duplicate, tombstone, …). */
  readonly annotations?: ReadonlyMap<number, readonly RecordAnnotation[]>;
}

/** Computes findings off the first frame: a worker thread for real sessions, anything async in tests. */
export type AnalysisLoader = (options: { signal: AbortSignal; onProgress: (done: number, total: number) => void }) => Promise<AnalysisResult>;

export type AnalysisInput = AnalysisResult | AnalysisLoader | undefined;

export interface AnalysisState {
  readonly status: FindingsStatus;
  /** A re-run (a later generation) is computing; the findings shown are the previous run's. */
  readonly refreshing?: boolean;
  readonly index: FindingsIndex | undefined;
  readonly annotations: ReadonlyMap<number, readonly RecordAnnotation[]>;
}

const noAnnotations: ReadonlyMap<number, readonly RecordAnnotation[]> = new Map();

/**
 * `generation`: a session still being written bumps it to have the loader run again over what has committed since;
 * the last findings stay on screen (badges, counts) until the new ones are in.
 */
export function useAnalysis(source: ReplayDataSource, input: AnalysisInput, generation = 0): AnalysisState {
  const initial = useMemo<AnalysisState>(() => {
    if (input === undefined) return { status: { state: 'off' }, index: undefined, annotations: noAnnotations };
    if (typeof input === 'function') return { status: { state: 'loading' }, index: undefined, annotations: noAnnotations };
    const index = new FindingsIndex(input.findings);
    source.setFindings(index);
    return { status: { state: 'ready' }, index, annotations: input.annotations ?? noAnnotations };
  }, [input, source]);
  const [state, setState] = useState<AnalysisState>(initial);
  useEffect(() => {
    if (typeof input !== 'function') {
      setState(initial);
      return;
    }
    const controller = new AbortController();
    let lastReport = 0;
    if (generation > 0) setState((s) => ({ ...s, refreshing: true }));
    input({
      signal: controller.signal,
      onProgress: (done, total) => {
        // At most a few progress frames a second: progress must not cost the stepping user frames.
        const now = performance.now();
        if (now - lastReport < 250) return;
        lastReport = now;
        if (!controller.signal.aborted) setState((s) => (s.status.state === 'loading' ? { ...s, status: { state: 'loading', done, total } } : s));
      },
    }).then(
      (result) => {
        if (controller.signal.aborted) return;
        const index = new FindingsIndex(result.findings);
        source.setFindings(index);
        setState({ status: { state: 'ready' }, index, annotations: result.annotations ?? noAnnotations, refreshing: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ status: { state: 'error', message: error instanceof Error ? error.message : String(error) }, index: undefined, annotations: noAnnotations });
      },
    );
    return () => controller.abort();
  }, [input, initial, source, generation]);
  return state;
}
