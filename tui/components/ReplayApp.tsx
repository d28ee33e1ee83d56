import { Box, useApp, useInput, type Key } from 'ink';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Finding } from '../../model/index.js';
import { diffObjects, changeAuthor, type ObjectDiff, type ChangeAuthor } from '../../replayer/diff.js';
import { evaluateFieldPath, formatEvaluation, parseFieldPath } from '../../replayer/watchpoint.js';
import { timelineColumns } from '../columns.js';
import type { ObjectVersion, ReplayDataSource } from '../data-source.js';
import { diffLines, findingLines, historyLines, objectLines, rawRecordLines, recordLines, type DetailLine } from '../detail-lines.js';
import { emptyFilter, formatFilter, isEmptyFilter, parseFilter, type ViewFilter } from '../filter.js';
import { thousands, wrap } from '../format.js';
import { parseGoto } from '../goto.js';
import { useAnalysis, useObjectHistory, usePosition, useTerminalSize, useTimelineView, useWriters, type AnalysisInput } from '../hooks.js';
import { actionFor, type Action } from '../keymap.js';
import type { RowObject, TimelineRow } from '../rows.js';
import { Cancelled, scanSearch, scanWatch, type Progress, type Watchpoint } from '../scans.js';
import { HidingDataSource } from '../own-writes.js';
import { TimelineWindow } from '../timeline-window.js';
import { DetailPane, detailViews, type DetailView } from './DetailPane.js';
import { Header } from './Header.js';
import { HelpOverlay } from './HelpOverlay.js';
import { StatusBar, type BusyState, type PromptState, type StatusMessage } from './StatusBar.js';
import { Timeline } from './Timeline.js';

export interface ReplayAppProps {
  readonly source: ReplayDataSource;
  /** Findings (and annotations) already computed, or a loader that computes them off the first frame. */
  readonly analysis?: AnalysisInput;
  readonly initialSeq?: number | undefined;
  readonly initialFilter?: ViewFilter | undefined;
  /** A fixed terminal size (tests); the real terminal's size otherwise. */
  readonly size?: { columns: number; rows: number } | undefined;
  /**
   * Move to the first alarm (a warning or error finding) once the analysis is ready, unless initialSeq was given or
   * the user already moved; the status line says so. `kreplay replay` sets it.
   */
  readonly openAtFirstAlarm?: boolean | undefined;
  /** Leave the API server's own writes out of the timeline (own-writes.ts) until `a` shows them. `kreplay replay` sets it. */
  readonly hideApiServerWrites?: boolean | undefined;
  /**
   * `replay --follow`: the session is still being written. New records are looked for every `intervalMs`; the
   * timeline grows, the analysis re-runs (badges appear), the cursor stays where the user put it unless `T` made it
   * follow the tail (like less +F).
   */
  readonly follow?: { readonly intervalMs?: number; readonly atHead?: boolean } | undefined;
}

/** Least time between the starts of two analysis re-runs while following. */
const reanalyseEveryMs = 2_000;

interface Detail {
  readonly seq: number;
  readonly record: ReturnType<ReplayDataSource['record']>;
  readonly version: ObjectVersion | undefined;
  readonly previous: ObjectVersion | undefined;
  readonly diff: ObjectDiff | undefined;
  readonly author: ChangeAuthor | undefined;
}

function objectLabel(object: RowObject | null | undefined): string {
  return object ? `${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}` : '';
}

/** Everything the detail pane shows for one row: its record, the object's version at this step and its diff. */
function readDetail(source: ReplayDataSource, row: TimelineRow | undefined, showManagedFields: boolean, nearby?: readonly TimelineRow[]): Detail | undefined {
  if (!row) return undefined;
  const record = source.record(row.seq);
  let version: ObjectVersion | undefined;
  if (row.object) {
    version = record?.record === 'watch' ? { seq: record.seq, record, object: record.object } : source.versionAt(row.object, row.seq, nearby);
  }
  const previous = version && row.object ? source.adjacentVersion(row.object, version.seq, -1) : undefined;
  const diff = version ? diffObjects(previous?.object, version.object, { includeManagedFields: showManagedFields }) : undefined;
  const author = version ? changeAuthor(version.object, previous?.object) : undefined;
  return { seq: row.seq, record, version, previous, diff, author };
}

const noPane = { key: '', sel: 0, scroll: 0 };

/** One character of a multi-key chunk as Ink would have reported it alone. */
function splitKey(ch: string, template: Key): [string, Key] {
  const code = ch.charCodeAt(0);
  const key: Key = { ...template, return: ch === '\r' || ch === '\n', tab: ch === '\t', backspace: ch === '\u007f' || ch === '\b', ctrl: false, shift: ch !== ch.toLowerCase(), meta: false, escape: false };
  if (code < 32 && !key.return && !key.tab && !key.backspace) return [String.fromCharCode(code + 96), { ...key, ctrl: true }];
  return [key.return || key.tab || key.backspace ? '' : ch, key];
}

export function ReplayApp({ source, analysis, initialSeq, initialFilter, size: fixedSize, openAtFirstAlarm = false, hideApiServerWrites = false, follow }: ReplayAppProps) {
  const { exit } = useApp();
  const size = useTerminalSize(fixedSize);
  // The newest seq known: it moves only while following, and everything read from the session's end depends on it.
  const [head, setHead] = useState(() => source.bounds().lastSeq);
  const bounds = useMemo(() => source.bounds(), [source, head]);
  const [analysisGeneration, setAnalysisGeneration] = useState(0);
  const analysisState = useAnalysis(source, analysis, analysisGeneration);
  const findings = analysisState.index;

  const [filter, setFilter] = useState<ViewFilter>(initialFilter ?? emptyFilter);
  const hider = useMemo(() => new HidingDataSource(source), [source]);
  // --seq wins: a start on one of the API server's own writes shows them.
  const [showOwn, setShowOwnState] = useState(() => !hideApiServerWrites || (initialSeq !== undefined && hider.hides(initialSeq)));
  const showOwnRef = useRef(showOwn);
  const setShowOwn = useCallback((value: boolean) => {
    showOwnRef.current = value;
    setShowOwnState(value);
  }, []);
  const shown: ReplayDataSource = showOwn ? source : hider;
  const [hiddenCount, setHiddenCount] = useState<number | undefined>(undefined);
  useEffect(() => {
    if (!hideApiServerWrites) return;
    // One scan of the session's API requests, a chunk per tick after the first frame: keys stay answered.
    let timer: NodeJS.Timeout;
    const step = () => {
      if (hider.scanSome(emptyFilter, 1_000)) setHiddenCount(hider.hiddenSeqs(emptyFilter).length);
      else timer = setTimeout(step, 0);
    };
    timer = setTimeout(step, 0);
    return () => clearTimeout(timer);
  }, [hider, hideApiServerWrites]);
  const timeline = useMemo(() => new TimelineWindow(shown, filter), [shown, filter, head]);
  const [cursor, setCursorState] = useState<number>(initialSeq ?? (follow?.atHead ? bounds.lastSeq : bounds.firstSeq));
  // Keys can arrive faster than frames (key repeat, a paste, a loaded machine): the handler reads the latest
  // cursor and prompt from refs that change synchronously, not from the last rendered state.
  const cursorRef = useRef(cursor);
  const setCursor = useCallback((seq: number) => {
    cursorRef.current = seq;
    setCursorState(seq);
  }, []);
  const topRef = useRef<number | undefined>(undefined);

  // ---- following a session being written -------------------------------------------------------------------------
  const [atHead, setAtHeadState] = useState(Boolean(follow?.atHead));
  const atHeadRef = useRef(atHead);
  const setAtHead = useCallback((value: boolean) => {
    atHeadRef.current = value;
    setAtHeadState(value);
  }, []);
  useEffect(() => {
    if (!follow) return;
    const timer = setInterval(() => {
      if (source.refresh?.()) setHead(source.bounds().lastSeq);
    }, follow.intervalMs ?? 1_000);
    return () => clearInterval(timer);
  }, [follow, source]);
  // At head, the cursor rides the tail of the (filtered) timeline; otherwise it stays where it is.
  useEffect(() => {
    if (!atHeadRef.current) return;
    const last = timeline.last();
    if (last !== undefined && last !== cursorRef.current) {
      topRef.current = undefined;
      setCursor(last);
    }
  }, [timeline, setCursor]);
  // New records: the detectors run again (one run at a time, at most every couple of seconds); badges follow.
  const lastAnalysisAt = useRef(0);
  const analysisHead = useRef(head);
  useEffect(() => {
    if (!follow || typeof analysis !== 'function' || analysisState.status.state === 'loading' || analysisState.refreshing) return;
    if (head === analysisHead.current) return;
    const timer = setTimeout(() => {
      analysisHead.current = head;
      lastAnalysisAt.current = performance.now();
      setAnalysisGeneration((g) => g + 1);
    }, Math.max(0, lastAnalysisAt.current + reanalyseEveryMs - performance.now()));
    return () => clearTimeout(timer);
  }, [follow, analysis, head, analysisState.status.state, analysisState.refreshing]);
  const [view, setView] = useState<DetailView>('diff');
  const [focus, setFocusState] = useState<'timeline' | 'detail'>('timeline');
  // Read by the key handler from a ref, as the cursor is: Tab then Enter typed before the next frame must act on the
  // pane Tab focused (the tmux test lost that jump on a loaded machine).
  const focusRef = useRef(focus);
  const setFocus = useCallback((value: 'timeline' | 'detail') => {
    focusRef.current = value;
    setFocusState(value);
  }, []);
  const [showManagedFields, setShowManagedFields] = useState(false);
  const [zoom, setZoom] = useState(false);
  const [help, setHelpState] = useState<{ scroll: number } | null>(null);
  const helpRef = useRef(help);
  const setHelp = useCallback((value: { scroll: number } | null) => {
    helpRef.current = value;
    setHelpState(value);
  }, []);
  const [prompt, setPromptState] = useState<PromptState | null>(null);
  const promptRef = useRef(prompt);
  const setPrompt = useCallback((value: PromptState | null) => {
    promptRef.current = value;
    setPromptState(value);
  }, []);
  const [message, setMessage] = useState<StatusMessage | null>(null);
  const [busy, setBusy] = useState<BusyState | null>(null);
  const [search, setSearch] = useState<string | null>(null);
  const [watch, setWatch] = useState<Watchpoint | null>(null);
  const [watchBanner, setWatchBanner] = useState<DetailLine | undefined>(undefined);
  const [findingSel, setFindingSel] = useState(0);
  // -1 until Enter first visits the selected finding's evidence.
  const [evidenceSel, setEvidenceSel] = useState(-1);
  const [pane, setPane] = useState(noPane);
  const jumps = useRef<number[]>([]);
  const task = useRef<AbortController | null>(null);

  // ---- layout ------------------------------------------------------------------------------------------------
  const width = Math.max(40, size.columns);
  // One row less than the terminal: Ink redraws a full-height frame by clearing the screen, which flickers.
  const height = Math.max(10, size.rows - 1);
  const wide = width >= 130;
  const body = height - 2;
  let timelineWidth: number;
  let timelineRows: number;
  let detailWidth: number;
  let detailHeight: number;
  if (wide) {
    detailWidth = zoom ? Math.floor(width * 0.62) : Math.min(96, Math.max(56, Math.floor(width * 0.42)));
    timelineWidth = width - detailWidth - 1;
    timelineRows = body - 2;
    detailHeight = body;
  } else {
    const timelineBody = zoom ? 6 : Math.ceil(body / 2);
    timelineWidth = width;
    detailWidth = width;
    timelineRows = timelineBody - 2;
    detailHeight = body - timelineBody;
  }
  const columns = timelineColumns(timelineWidth, String(bounds.lastSeq).length);

  // ---- timeline ----------------------------------------------------------------------------------------------
  const at = timeline.snap(cursor);
  const tl = useTimelineView(timeline, at ?? cursor, topRef.current, timelineRows);
  topRef.current = tl.topSeq;
  const row = at === undefined ? undefined : timeline.row(at);
  useWriters(source, tl.rows);
  const position = usePosition(shown, timeline, filter, at ?? cursor);

  // ---- detail ------------------------------------------------------------------------------------------------
  const detail = useMemo(() => readDetail(source, row, showManagedFields, timeline.loaded), [source, row, showManagedFields, timeline]);
  const historyRows = useObjectHistory(source, row?.object ?? null, at ?? cursor, Math.max(20, detailHeight * 2), view === 'history');
  const findingList: readonly Finding[] = findings?.findings ?? [];
  const writerOf = useCallback((r: TimelineRow) => (r.writer !== null ? r.writer : r.record === 'watch' && r.object ? source.cachedWriter(r.seq) : null), [source]);
  const textWidth = detailWidth - 2;
  const lines: DetailLine[] = useMemo(() => {
    if (!row) return [];
    const annotations = analysisState.annotations.get(row.seq) ?? [];
    switch (view) {
      case 'diff': {
        const head = recordLines(row, detail?.record, annotations, textWidth);
        const context = {
          row,
          version: detail?.version ? { seq: detail.version.seq, resourceVersion: detail.version.record.resourceVersion, generation: detail.version.record.generation, type: detail.version.record.type } : undefined,
          previous: detail?.previous ? { seq: detail.previous.seq, resourceVersion: detail.previous.record.resourceVersion } : undefined,
          diff: detail?.diff,
          author: detail?.author,
          showManagedFields,
        };
        if (row.record === 'marker') return head;
        const body = [...head, ...(head.length ? [{ text: '' }] : []), ...diffLines(context, textWidth)];
        // The first version seen has nothing to diff against: show the object itself.
        return detail?.diff?.created && detail.version?.object ? [...body, ...objectLines(detail.version.object, showManagedFields, new Set())] : body;
      }
      case 'object': {
        const changed = new Set(detail?.diff ? Object.values(detail.diff.sections).flat().map((e) => e.path) : []);
        return row.record === 'marker' ? recordLines(row, detail?.record, annotations, textWidth) : objectLines(detail?.version?.object, showManagedFields, changed);
      }
      case 'history':
        return row.object ? historyLines(historyRows, row.seq, (r) => writerOf(r) ?? null, textWidth) : [{ text: 'This record names no object.', tone: 'muted' }];
      case 'findings':
        return findingLines(findingList, analysisState.status, findingSel, evidenceSel, textWidth);
      case 'record':
        return rawRecordLines(detail?.record, showManagedFields);
    }
  }, [row, view, detail, textWidth, showManagedFields, historyRows, findingList, analysisState, findingSel, evidenceSel, writerOf]);

  // The watchpoint's last hit stays above the detail, wrapped to at most two lines.
  const bannerLines: DetailLine[] | undefined = watchBanner
    ? wrap(watchBanner.text, textWidth)
        .slice(0, 2)
        .map((text) => ({ text, tone: watchBanner.tone }))
    : undefined;
  const bannerHeight = bannerLines?.length ?? 0;
  const detailBody = Math.max(1, detailHeight - 1 - bannerHeight);
  const paneKey = view === 'findings' ? `findings:${findingSel}` : view === 'history' ? `history:${objectLabel(row?.object)}:${historyRows.length ? historyRows[0]!.seq : 0}` : `${view}:${at}`;
  const initialSel = (): number => {
    if (view === 'history') return Math.max(0, lines.findIndex((l) => l.seq === at));
    if (view === 'findings') return Math.max(0, lines.findIndex((l) => l.bold && l.selectable));
    return 0;
  };
  // History centres the cursor's record; findings put the selected finding's title on the first line.
  const initialScroll = () => (view === 'history' ? Math.max(0, initialSel() - Math.floor(detailBody / 3)) : view === 'findings' ? initialSel() : 0);
  const effectivePane = pane.key === paneKey ? pane : { key: paneKey, sel: initialSel(), scroll: initialScroll() };
  const sel = Math.min(effectivePane.sel, Math.max(0, lines.length - 1));
  const scroll = Math.max(0, Math.min(Math.max(0, lines.length - detailBody), Math.max(Math.min(effectivePane.scroll, sel), sel - detailBody + 1)));

  // ---- actions -----------------------------------------------------------------------------------------------
  const moveTo = useCallback(
    (seq: number | undefined, options: { jump?: boolean; note?: StatusMessage | null } = {}) => {
      if (seq === undefined) return;
      // A jump to one of the API server's own writes shows them, as a jump past a filter clears it.
      let note = options.note ?? null;
      if (!showOwnRef.current && hider.hides(seq)) {
        setShowOwn(true);
        note = { text: `showing the API server's own writes: seq ${thousands(seq)} is one (a hides them)`, tone: 'warn' };
        options = { ...options, note };
      }
      if (options.jump && at !== undefined && seq !== at) {
        jumps.current.push(at);
        if (jumps.current.length > 100) jumps.current.shift();
      }
      // After a jump the target sits a third of the way down the timeline (vim's search does the same): the
      // records that led to it stay in view.
      if (options.jump) topRef.current = undefined;
      // A jump to a record the filter hides clears the filter: the debugger shows where it stopped.
      if (!isEmptyFilter(filter) && !hider.hides(seq) && timeline.snap(seq) !== seq) {
        setFilter(emptyFilter);
        setMessage({ text: `filter cleared to show seq ${thousands(seq)}`, tone: 'warn' });
      } else {
        setMessage(options.note ?? null);
      }
      setCursor(seq);
    },
    [at, filter, timeline, setCursor, hider, setShowOwn],
  );

  // Where the story is: the first alarm, once the analysis knows it (unless --seq was given or the user moved).
  const moved = useRef(initialSeq !== undefined || !openAtFirstAlarm);
  useEffect(() => {
    if (moved.current || analysisState.status.state !== 'ready') return;
    moved.current = true;
    const alarms = (findings?.findings ?? []).filter((f) => !f.suppressed && f.severity !== 'info');
    if (alarms.length === 0) return;
    const first = alarms.reduce((a, b) => (b.firstSeq < a.firstSeq ? b : a));
    moveTo(first.firstSeq, {
      jump: true,
      note: { text: `opened at the first alarm (seq ${thousands(first.firstSeq)}): ${first.severity === 'error' ? '✖' : '▲'} ${first.message}  (- goes back, f next)`, tone: first.severity === 'error' ? 'error' : 'warn' },
    });
  }, [analysisState.status.state, findings, moveTo]);

  const runTask = useCallback((label: string, work: (signal: AbortSignal, progress: Progress) => Promise<void>) => {
    task.current?.abort();
    const controller = new AbortController();
    task.current = controller;
    setBusy({ label });
    let last = 0;
    const progress: Progress = (done, total) => {
      const now = performance.now();
      if (now - last < 100) return;
      last = now;
      setBusy({ label, done, ...(total !== undefined ? { total } : {}) });
    };
    work(controller.signal, progress)
      .catch((error: unknown) => {
        if (!(error instanceof Cancelled)) setMessage({ text: `${label} failed: ${error instanceof Error ? error.message : String(error)}`, tone: 'error' });
        else setMessage({ text: `${label} stopped`, tone: 'info' });
      })
      .finally(() => {
        if (task.current === controller) {
          task.current = null;
          setBusy(null);
        }
      });
  }, []);

  useEffect(() => () => task.current?.abort(), []);

  const startSearch = useCallback(
    (query: string, direction: 1 | -1) => {
      if (at === undefined) return;
      runTask(`searching "${query}"`, async (signal, progress) => {
        const hit = await scanSearch(source, filter, query, at, direction, signal, progress);
        if (hit) moveTo(hit.seq, { jump: true, note: { text: `/${query}: seq ${thousands(hit.seq)}`, tone: 'ok' } });
        else setMessage({ text: `/${query}: no match ${direction === 1 ? 'after' : 'before'} seq ${thousands(at)}${direction === 1 ? ' (g then n searches from the start)' : ''}`, tone: 'warn' });
      });
    },
    [at, filter, moveTo, runTask, source],
  );

  const continueWatch = useCallback(
    (direction: 1 | -1) => {
      if (!watch) {
        setMessage({ text: 'no watchpoint: press w to watch a field of the selected object', tone: 'warn' });
        return;
      }
      if (at === undefined) return;
      runTask(`${direction === 1 ? 'continuing' : 'reverse-continuing'} to a change of ${watch.path.text}`, async (signal, progress) => {
        const hit = await scanWatch(source, watch, at, direction, signal, progress);
        if ('seq' in hit) {
          // The audit log names the user behind the write when the session has it: the API request that produced
          // this resourceVersion, just before the watch event.
          const rv = hit.version.record.resourceVersion;
          const request = source.objectRows(watch.object, hit.seq, -1, 40).find((r) => r.record === 'api' && r.resourceVersion === rv);
          const by = hit.author
            ? ` by ${hit.author.manager}${hit.author.operation ? ` (${hit.author.operation}${hit.author.subresource ? ` ${hit.author.subresource}` : ''})` : ''}${request?.writer ? ` · ${request.writer} at seq ${thousands(request.seq)}` : ''}`
            : request?.writer
              ? ` by ${request.writer}`
              : '';
          const text = `◉ ${watch.path.text}: ${formatEvaluation(hit.before, 24)} → ${formatEvaluation(hit.after, 24)} at seq ${thousands(hit.seq)} rv ${hit.version.record.resourceVersion}${by}`;
          setWatchBanner({ text, tone: 'accent' });
          setView('diff');
          moveTo(hit.seq, { jump: true, note: { text: `watchpoint hit after ${hit.scanned} version${hit.scanned === 1 ? '' : 's'}`, tone: 'ok' } });
        } else {
          setMessage({ text: `${watch.path.text} does not change ${direction === 1 ? 'after' : 'before'} seq ${thousands(at)} (${hit.scanned} versions of ${objectLabel(watch.object)} read)`, tone: 'warn' });
        }
      });
    },
    [at, moveTo, runTask, source, watch],
  );

  const submitPrompt = (state: PromptState) => {
    const text = state.text.trim();
    switch (state.kind) {
      case 'search':
        setPrompt(null);
        if (!text) return;
        setSearch(text);
        startSearch(text, 1);
        return;
      case 'filter': {
        const parsed = parseFilter(text);
        if (!parsed.ok) {
          setPrompt({ ...state, error: parsed.error });
          return;
        }
        setPrompt(null);
        if (parsed.filter.findings?.length && analysisState.status.state !== 'ready') {
          setMessage({ text: 'finding filters work once the analysis has finished', tone: 'warn' });
        }
        setFilter(parsed.filter);
        if (!isEmptyFilter(parsed.filter)) setMessage({ text: `filter: ${formatFilter(parsed.filter)}  (& then Enter on an empty line clears it)`, tone: 'info' });
        return;
      }
      case 'goto': {
        const here = currentRow();
        const target = parseGoto(text, here?.time ?? bounds.firstTime);
        if (target.kind === 'error') {
          setPrompt({ ...state, error: target.message });
          return;
        }
        setPrompt(null);
        if (target.kind === 'seq') {
          if (target.seq < bounds.firstSeq || target.seq > bounds.lastSeq) {
            setMessage({ text: `seq ${thousands(target.seq)} is outside this session (${thousands(bounds.firstSeq)}–${thousands(bounds.lastSeq)})`, tone: 'warn' });
            return;
          }
          moveTo(target.seq, { jump: true });
        } else if (target.kind === 'rows') moveTo(timeline.move(here?.seq ?? cursorRef.current, target.delta), { jump: true });
        else if (target.kind === 'percent') moveTo(bounds.firstSeq + Math.round((bounds.lastSeq - bounds.firstSeq) * target.fraction), { jump: true });
        else moveTo(source.seqAtTime(target.ms), { jump: true });
        return;
      }
      case 'watch': {
        const parsed = parseFieldPath(text);
        if (!parsed.ok) {
          setPrompt({ ...state, error: `${parsed.error} (at column ${parsed.offset + 1})` });
          return;
        }
        setPrompt(null);
        const here = currentRow();
        const object = here?.object;
        if (!here || !object) {
          setMessage({ text: 'select a record about an object first', tone: 'warn' });
          return;
        }
        setWatch({ path: parsed.path, object });
        setWatchBanner(undefined);
        const version = source.versionAt(object, here.seq);
        const value = version ? formatEvaluation(evaluateFieldPath(parsed.path, version.object)) : '<no version yet>';
        setMessage({ text: `watching ${parsed.path.text} of ${objectLabel(object)} (now ${value}): c continues, C reverse-continues`, tone: 'ok' });
        return;
      }
    }
  };

  /** The row under the cursor as of the last key, which may be newer than the last frame. */
  const currentRow = (): TimelineRow | undefined => {
    const seq = timeline.snap(cursorRef.current);
    return seq === undefined ? undefined : timeline.row(seq);
  };

  const act = (action: Action) => {
    const here = timeline.snap(cursorRef.current) ?? cursorRef.current;
    const row = currentRow();
    switch (action) {
      case 'quit':
        task.current?.abort();
        exit();
        return;
      case 'help':
        setHelp({ scroll: 0 });
        return;
      case 'cancel':
        if (task.current) task.current.abort();
        else if (focusRef.current === 'detail') setFocus('timeline');
        else {
          setMessage(null);
          setWatchBanner(undefined);
        }
        return;
      case 'next':
      case 'prev': {
        const delta = action === 'next' ? 1 : -1;
        if (focusRef.current === 'detail') {
          setPane((p) => {
            const current = p.key === paneKey ? p.sel : sel;
            return { key: paneKey, sel: Math.max(0, Math.min(lines.length - 1, current + delta)), scroll: p.key === paneKey ? p.scroll : scroll };
          });
          return;
        }
        const next = timeline.move(here, delta);
        if (next === here) setMessage({ text: delta === 1 ? 'last record' : 'first record', tone: 'info' });
        else moveTo(next);
        return;
      }
      case 'pageDown':
      case 'pageUp': {
        const delta = action === 'pageDown' ? 1 : -1;
        if (focusRef.current === 'detail') {
          setPane({ key: paneKey, sel: Math.max(0, Math.min(lines.length - 1, sel + delta * detailBody)), scroll: scroll + delta * detailBody });
          return;
        }
        moveTo(timeline.move(here, delta * Math.max(1, timelineRows - 1)));
        return;
      }
      case 'start':
        if (focusRef.current === 'detail') return setPane({ key: paneKey, sel: 0, scroll: 0 });
        moveTo(timeline.first(), { jump: true });
        return;
      case 'end':
        if (focusRef.current === 'detail') return setPane({ key: paneKey, sel: lines.length - 1, scroll: lines.length });
        moveTo(timeline.last(), { jump: true });
        return;
      case 'nextFinding':
      case 'prevFinding': {
        if (analysisState.status.state === 'loading') {
          setMessage({ text: 'findings are still being computed: badges appear when the analysis finishes', tone: 'warn' });
          return;
        }
        if (!findings || findings.size === 0) {
          setMessage({ text: 'no findings in this session', tone: 'info' });
          return;
        }
        const target = findings.next(here, action === 'nextFinding' ? 1 : -1);
        if (target === undefined) {
          setMessage({ text: `no ${action === 'nextFinding' ? 'later' : 'earlier'} finding`, tone: 'info' });
          return;
        }
        const first = findings.at(target)[0];
        if (first) {
          setFindingSel(findingList.indexOf(first));
          setEvidenceSel(Math.max(0, first.evidence.findIndex((e) => e.seq === target)));
        }
        moveTo(target, { jump: true, note: first ? { text: `${first.severity === 'error' ? '✖' : '▲'} ${first.message}`, tone: first.severity === 'error' ? 'error' : 'warn' } : null });
        return;
      }
      case 'nextChange':
      case 'prevChange': {
        const object = row?.object;
        if (!object) {
          setMessage({ text: 'this record names no object', tone: 'info' });
          return;
        }
        const direction = action === 'nextChange' ? 1 : -1;
        const version = source.adjacentVersion(object, here, direction);
        if (!version) {
          setMessage({ text: `no ${direction === 1 ? 'later' : 'earlier'} version of ${objectLabel(object)}`, tone: 'info' });
          return;
        }
        moveTo(version.seq, { jump: true });
        return;
      }
      case 'goto':
        setPrompt({ kind: 'goto', text: '' });
        return;
      case 'back': {
        const previous = jumps.current.pop();
        if (previous === undefined) setMessage({ text: 'no earlier jump to go back to', tone: 'info' });
        else {
          topRef.current = undefined;
          moveTo(previous);
        }
        return;
      }
      case 'watch': {
        if (!row?.object) {
          setMessage({ text: 'select a record about an object to watch one of its fields', tone: 'warn' });
          return;
        }
        const selectedPath = focusRef.current === 'detail' ? lines[sel]?.path : undefined;
        setPrompt({ kind: 'watch', text: selectedPath ?? watch?.path.text ?? '.status.' });
        return;
      }
      case 'unwatch':
        setWatch(null);
        setWatchBanner(undefined);
        setMessage({ text: 'watchpoint removed', tone: 'info' });
        return;
      case 'continue':
        continueWatch(1);
        return;
      case 'reverseContinue':
        continueWatch(-1);
        return;
      case 'search':
        setPrompt({ kind: 'search', text: '' });
        return;
      case 'searchNext':
      case 'searchPrev':
        if (!search) setMessage({ text: 'no search yet: press / to search', tone: 'info' });
        else startSearch(search, action === 'searchNext' ? 1 : -1);
        return;
      case 'filter':
        setPrompt({ kind: 'filter', text: formatFilter(filter) });
        return;
      case 'onlyObject': {
        if (filter.uid !== undefined || filter.name !== undefined) {
          setFilter(emptyFilter);
          setMessage({ text: 'showing every record', tone: 'info' });
          return;
        }
        const object = row?.object;
        if (!object) {
          setMessage({ text: 'this record names no object', tone: 'info' });
          return;
        }
        setFilter(object.uid ? { uid: object.uid } : { objectKind: object.kind, namespace: object.namespace ?? '', name: object.name });
        setMessage({ text: `only ${objectLabel(object)} (o again shows every record)`, tone: 'info' });
        return;
      }
      case 'viewDiff':
      case 'viewObject':
      case 'viewHistory':
      case 'viewFindings':
      case 'viewRecord':
        setView(detailViews[['viewDiff', 'viewObject', 'viewHistory', 'viewFindings', 'viewRecord'].indexOf(action)]!);
        return;
      case 'focus':
        setFocus(focusRef.current === 'timeline' ? 'detail' : 'timeline');
        return;
      case 'activate': {
        if (focusRef.current === 'timeline') {
          setFocus('detail');
          return;
        }
        const line = lines[sel];
        if (!line) return;
        if (view === 'findings' && line.selectable && line.seq !== undefined) {
          // A finding's title line: unfold it and go to its first evidence; Enter again walks the evidence.
          const index = lines.filter((l) => l.selectable).indexOf(line);
          const finding = findingList[index];
          if (finding) {
            const nextEvidence = index === findingSel ? (evidenceSel + 1) % Math.max(1, finding.evidence.length) : 0;
            // Re-render the list with the new selection unfolded; keep the cursor line on the finding's title.
            setFindingSel(index);
            setEvidenceSel(nextEvidence);
            const item = finding.evidence[nextEvidence];
            moveTo(item?.seq ?? finding.firstSeq, { jump: true, note: item ? { text: `evidence ${nextEvidence + 1}/${finding.evidence.length}: ${item.note}`, tone: 'info' } : null });
          }
          return;
        }
        if (line.seq !== undefined) {
          moveTo(line.seq, { jump: true });
          return;
        }
        if (line.path && row?.object) {
          const parsed = parseFieldPath(line.path);
          if (parsed.ok) {
            setWatch({ path: parsed.path, object: row.object });
            setWatchBanner(undefined);
            setMessage({ text: `watching ${parsed.path.text} of ${objectLabel(row.object)}: c continues, C reverse-continues`, tone: 'ok' });
          }
        }
        return;
      }
      case 'managedFields':
        setShowManagedFields(!showManagedFields);
        return;
      case 'apiServerWrites': {
        const next = !showOwnRef.current;
        setShowOwn(next);
        const count = hiddenCount === undefined ? '' : ` (${thousands(hiddenCount)})`;
        setMessage({ text: next ? `showing the API server's own writes${count}: a hides them` : `hiding the API server's own writes${count}: a shows them`, tone: 'info' });
        return;
      }
      case 'zoom':
        setZoom(!zoom);
        return;
      case 'follow': {
        if (!follow) return setMessage({ text: 'T follows new records in kreplay replay --follow', tone: 'warn' });
        const next = !atHeadRef.current;
        setAtHead(next);
        if (next) moveTo(timeline.last(), { jump: true, note: { text: 'following the tail: new records scroll in (T or any move stops)', tone: 'info' } });
        else setMessage({ text: 'stopped following: the cursor stays put (T follows again)', tone: 'info' });
        return;
      }
    }
  };

  const onKey = (input: string, key: Key) => {
    // A key before the analysis is ready: the user is on their way; do not move them to the first alarm.
    moved.current = true;
    if (key.ctrl && input === 'c') {
      act('quit');
      return;
    }
    const prompt = promptRef.current;
    // Keys typed faster than the terminal is read arrive as one string (Ink passes a "paste" whole). Outside a
    // prompt, replay them one by one — holding j moves as many rows as the key repeated, and "w" followed by a
    // typed path opens the prompt and fills it.
    if (!prompt && input.length > 1 && !input.includes('\u001b')) {
      for (const ch of input) onKey(...splitKey(ch, key));
      return;
    }
    if (prompt) {
      if (key.escape) setPrompt(null);
      else if (key.return) submitPrompt(prompt);
      else if (key.backspace || key.delete) setPrompt({ kind: prompt.kind, text: prompt.text.slice(0, -1) });
      else if (key.ctrl && input === 'u') setPrompt({ kind: prompt.kind, text: '' });
      else if (!key.ctrl && !key.meta && input && !key.upArrow && !key.downArrow && !key.tab) setPrompt({ kind: prompt.kind, text: prompt.text + input });
      return;
    }
    const help = helpRef.current;
    if (help) {
      if (input === 'j' || key.downArrow) setHelp({ scroll: help.scroll + 1 });
      else if (input === 'k' || key.upArrow) setHelp({ scroll: Math.max(0, help.scroll - 1) });
      else if (input === 'q') act('quit');
      else setHelp(null);
      return;
    }
    const action = actionFor(input, key);
    if (!action) return;
    const before = cursorRef.current;
    act(action);
    // Any move away from the tail stops following it (less +F stops the same way); T follows again.
    if (action !== 'follow' && atHeadRef.current && cursorRef.current !== before) setAtHead(false);
  };
  // Ink re-subscribes a changed handler in a passive effect, which React may run only when the next key arrives:
  // that key would see the previous frame's state. A stable handler that calls the latest one avoids it.
  const onKeyRef = useRef(onKey);
  onKeyRef.current = onKey;
  useInput(useCallback((input: string, key: Key) => onKeyRef.current(input, key), []));

  // ---- frame -------------------------------------------------------------------------------------------------
  if (help) {
    return <HelpOverlay width={width} height={height} scroll={help.scroll} />;
  }
  const watchLabel = watch
    ? (() => {
        const version = row?.object && objectLabel(row.object) === objectLabel(watch.object) ? detail?.version : source.versionAt(watch.object, at ?? cursor);
        return `${watch.path.text} = ${version ? formatEvaluation(evaluateFieldPath(watch.path, version.object), 20) : '<not yet>'}`;
      })()
    : undefined;
  const ownNote = !hideApiServerWrites || !hiddenCount ? '' : showOwn ? ` · API server's own writes shown (a hides)` : ` · ${thousands(hiddenCount)} API server writes hidden (a shows)`;
  const title = `Timeline${isEmptyFilter(filter) ? '' : ` · ${formatFilter(filter)}`}${search ? ` · /${search}` : ''}${ownNote}`;
  const subject = row?.object ? `${objectLabel(row.object)}${row.object.uid ? '' : ' (no uid)'}` : row ? row.type : '';
  const timelinePane = (
    <Timeline
      rows={tl.rows}
      cursor={tl.cursor}
      width={timelineWidth}
      height={timelineRows}
      columns={columns}
      findings={findings}
      annotations={analysisState.annotations}
      writerOf={writerOf}
      focused={focus === 'timeline'}
      title={title}
      emptyText={isEmptyFilter(filter) ? 'This session has no records.' : 'No record matches the filter: & edits it, o or an empty & clears it.'}
    />
  );
  const detailPane = (
    <DetailPane
      view={view}
      width={detailWidth}
      height={detailHeight}
      subject={subject}
      lines={lines}
      scroll={scroll}
      selected={focus === 'detail' ? sel : -1}
      focused={focus === 'detail'}
      findingsCount={findings?.size}
      banner={bannerLines}
    />
  );
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header
        width={width}
        sessionName={source.session.name}
        partial={source.session.partial}
        seq={at}
        index={position.index}
        total={position.total}
        time={row?.time ?? null}
        filtered={!isEmptyFilter(filter)}
        findings={analysisState.status}
        counts={findings?.countBySeverity()}
        watch={watchLabel}
        live={follow ? (atHead ? 'head' : 'paused') : undefined}
      />
      {wide ? (
        <Box flexDirection="row" height={body}>
          {timelinePane}
          <Box width={1} />
          {detailPane}
        </Box>
      ) : (
        <Box flexDirection="column" height={body}>
          {timelinePane}
          {detailPane}
        </Box>
      )}
      <StatusBar width={width} prompt={prompt} busy={busy} message={message} />
    </Box>
  );
}
