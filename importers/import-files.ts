import { type MarkerRecord, type RecordKind, type SessionInfo, type SessionRecord, type SessionSource } from '../model/index.js';
import type { SessionStore } from '../store/index.js';
import { duplicateAuditReason } from './audit.js';
import { FormatDetector } from './detect.js';
import {
  createParser,
  defaultBatchSize,
  openInput,
  checkImportOptions,
  type ImportConfig,
  type ImportFailureReason,
  type ImportFormat,
  type ImportInput,
  type ImportProgress,
  type ImportSummary,
  type OpenedInput,
} from './import-file.js';
import { FileOrder, firstHead, type OrderKey } from './merge-order.js';
import type { ParseEvent } from './parser.js';
import { problemText } from './problem-text.js';
import { appendBaseOf, finishImportedSession } from './import-session.js';

/**
 * Several files into one session: an incident's custom resources and their children arrive as one kubectl watch
 * dump per resource type (kubectl watches one type per command), often beside an audit log of the same window.
 *
 *   file 1 ──parser──┐
 *   file 2 ──parser──┼──▶ merge by resourceVersion (merge-order.ts) ──▶ batches ──append──▶ store (pairs requests)
 *   file 3 ──parser──┘        └─problems──▶ "file:line: why" ──▶ markPartial
 *
 * Each file keeps its own order; the merge decides only whose next record comes first. With `append` the records
 * go into an existing session after what it holds, behind an `imported` marker naming the files, and audit events
 * whose auditID the session already holds are skipped. Strict, bad input and interruption behave as one file's
 * import does (import-file.ts).
 */

export interface ImportFileSpec {
  input: ImportInput;
  /** Undefined: detected from the file's first values. */
  format?: ImportFormat;
}

export interface ImportFilesOptions {
  files: readonly ImportFileSpec[];
  session: string;
  controller?: string;
  strict?: boolean;
  redact?: readonly string[];
  toolVersion: string;
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
  /** Add to the session if it exists, behind an `imported` marker; audit events it already holds are skipped. */
  append?: boolean;
}

export interface ImportedFile {
  name: string;
  format: ImportFormat;
  formatDetected: boolean;
  records: number;
  bytesRead: number;
}

/** A several-file import's summary: a one-file summary's totals, and per file what it was and gave. */
export type ImportFilesSummary = Omit<ImportSummary, 'format' | 'formatDetected'> & { files: ImportedFile[] };

export type ImportFilesOutcome =
  | { ok: true; summary: ImportFilesSummary }
  | { ok: false; reason: ImportFailureReason; message: string; hint?: string };

/** The session config of a several-file import: one file's fields for the first, and every file. */
export type ImportFilesConfig = ImportConfig & { files: { file: string; format: ImportFormat }[] };

const maxReportedProblems = 1000;
const maxDetectChars = 32 * 1024 * 1024;
const maxBatchChars = 16 * 1024 * 1024;

interface OpenFile {
  input: OpenedInput;
  format: ImportFormat;
  formatDetected: boolean;
  readAhead: string[];
  source: AsyncIterator<string>;
}

/** Reads the first values of a file to name its format; the chunks read are kept for the parser. */
async function detect(input: OpenedInput, source: AsyncIterator<string>): Promise<{ format?: ImportFormat; readAhead: string[]; empty: boolean }> {
  const detector = new FormatDetector();
  const readAhead: string[] = [];
  let chars = 0;
  while (!detector.settled && chars < maxDetectChars) {
    const next = await source.next();
    if (next.done) break;
    readAhead.push(next.value);
    chars += next.value.length;
    input.chunk(next.value);
    detector.push(next.value);
  }
  const format = detector.end();
  return { ...(format !== undefined ? { format } : {}), readAhead, empty: chars === 0 };
}

async function closeAll(files: readonly { input: OpenedInput }[]): Promise<void> {
  await Promise.all(files.map((f) => f.input.close()));
}

export async function importFiles(store: SessionStore, options: ImportFilesOptions): Promise<ImportFilesOutcome> {
  const checked = checkImportOptions(options);
  if (!checked.ok) return checked;
  const { redact } = checked;
  if (options.files.length === 0) return { ok: false, reason: 'invalid-options', message: 'no file to import' };
  if (options.files.filter((f) => 'stream' in f.input).length > 1) return { ok: false, reason: 'invalid-options', message: 'stdin (-) can be read only once' };
  const found = store.findSession(options.session);
  const existing = found?.name === options.session ? found : undefined;
  if (existing && !options.append) {
    return {
      ok: false,
      reason: 'session-exists',
      message: `a session named "${options.session}" already exists in ${store.path}`,
      hint: `Choose another --session name, or add these files to it with --append.`,
    };
  }

  const files: OpenFile[] = [];
  for (const spec of options.files) {
    const input = await openInput(spec.input);
    if ('error' in input) {
      await closeAll(files);
      return { ok: false, reason: 'unreadable', message: input.error, ...(input.hint ? { hint: input.hint } : {}) };
    }
    const source = (input.stream as AsyncIterable<string>)[Symbol.asyncIterator]();
    if (spec.format !== undefined) {
      files.push({ input, format: spec.format, formatDetected: false, readAhead: [], source });
      continue;
    }
    let detected: Awaited<ReturnType<typeof detect>>;
    try {
      detected = await detect(input, source);
    } catch (error) {
      await closeAll([...files, { input }]);
      const err = error as NodeJS.ErrnoException;
      if (err.code === undefined || !err.syscall) throw error;
      return { ok: false, reason: 'unreadable', message: `cannot read ${input.name}: ${err.message}` };
    }
    if (detected.format === undefined) {
      await closeAll([...files, { input }]);
      return {
        ok: false,
        reason: 'unknown-format',
        message: detected.empty ? `${input.name} holds no records` : `cannot tell what ${input.name} holds: it starts with no kubectl watch event or object, audit event or kreplay record`,
        hint: `Name its format after it, ${input.name}:kubectl-watch, :audit or :ndjson (or --format for every file); nothing was imported.`,
      };
    }
    files.push({ input, format: detected.format, formatDetected: true, readAhead: detected.readAhead, source });
  }

  const first = files[0]!;
  const config: ImportFilesConfig = {
    format: first.format,
    file: first.input.file,
    controller: options.controller ?? null,
    strict: options.strict ?? false,
    redact,
    files: files.map((f) => ({ file: f.input.file, format: f.format })),
  };
  const { seenAuditIds, sessionNewest, sessionEndedAt } = appendBaseOf(store, existing);
  let session: SessionInfo;
  try {
    session =
      existing ??
      store.createSession({
        name: options.session,
        source: `import:${first.format}` satisfies SessionSource,
        cluster: null,
        context: null,
        toolVersion: options.toolVersion,
        config,
      });
  } catch (error) {
    await closeAll(files);
    if (/UNIQUE/i.test((error as Error).message)) return { ok: false, reason: 'session-exists', message: `a session named "${options.session}" already exists in ${store.path}` };
    throw error;
  }

  // One parser per file; audit parsers share the auditIDs seen, so overlapping logs keep each event once.
  const parsers = files.map((f) => createParser(f.format, { ...(options.controller !== undefined ? { controller: options.controller } : {}), redact, seenAuditIds }));
  const batchSize = options.batchSize ?? defaultBatchSize;
  const countsByKind: Partial<Record<RecordKind, number>> = {};
  const perFile = files.map(() => 0);
  const problems: string[] = [];
  let problemCount = 0;
  let records = 0;
  let olderThanSession = 0;
  let batch: SessionRecord[] = [];
  let batchChars = 0;
  let lastObservedAt: string | null = null;
  let firstProblem: string | undefined;
  let interrupted = false;
  const lastLine = files.map(() => 0);

  const flush = () => {
    if (batch.length === 0) return;
    store.append(session.id, batch);
    batch = [];
    batchChars = 0;
  };
  const totalBytes = files.every((f) => f.input.totalBytes !== null) ? files.reduce((n, f) => n + f.input.totalBytes!, 0) : null;
  const bytesRead = () => files.reduce((n, f) => n + f.input.bytesRead(), 0);
  const progress = () => options.onProgress?.({ bytesRead: bytesRead(), totalBytes, records, problems: problemCount });

  // Placed before the first appended record: an append that added nothing (every audit event known) leaves no trace.
  let marker: MarkerRecord | undefined;
  if (existing) {
    marker = {
      record: 'marker',
      observedAt: null,
      origin: 'import',
      marker: 'imported',
      count: files.length,
      message: `appended ${files.map((f) => `${f.input.file === '-' ? 'stdin' : f.input.file} (${f.format})`).join(', ')}`,
    };
  }

  /** Per file: its parse events, one at a time; a read error ends the file with a problem. */
  async function* eventsOf(index: number): AsyncGenerator<ParseEvent> {
    const file = files[index]!;
    const parser = parsers[index]!;
    try {
      for (const chunk of file.readAhead.splice(0)) yield* parser.push(chunk);
      for (let next = await file.source.next(); !next.done; next = await file.source.next()) {
        if (options.signal?.aborted) {
          interrupted = true;
          return;
        }
        file.input.chunk(next.value);
        batchChars += next.value.length;
        yield* parser.push(next.value);
        progress();
      }
      yield* parser.end();
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      if (err.code === undefined || !err.syscall) throw error;
      yield { kind: 'problem', line: lastLine[index]!, problem: `reading stopped after ${file.input.bytesRead()} bytes: ${err.message}` };
    }
  }

  const streams = files.map((_, i) => eventsOf(i));
  const orders = files.map(() => new FileOrder());
  const heads: (OrderKey | undefined)[] = files.map(() => undefined);
  const pending: (SessionRecord | undefined)[] = files.map(() => undefined);

  /** Returns false when strict mode must stop. */
  const onProblem = (index: number, event: { line: number; problem: string }): boolean => {
    const text = problemText(files[index]!.input.name, event.line, event.problem);
    problemCount += 1;
    if (problems.length < maxReportedProblems) problems.push(text);
    if (options.strict) {
      firstProblem = text;
      return false;
    }
    return true;
  };
  /** Reads file `index` up to its next record (or its end); false when strict mode must stop. */
  const fill = async (index: number): Promise<boolean> => {
    heads[index] = undefined;
    pending[index] = undefined;
    for (let next = await streams[index]!.next(); !next.done; next = await streams[index]!.next()) {
      const event = next.value;
      lastLine[index] = event.line;
      if (event.kind === 'problem') {
        if (!onProblem(index, event)) return false;
        continue;
      }
      pending[index] = event.record;
      heads[index] = orders[index]!.key(event.record);
      return true;
    }
    return true;
  };

  let keepGoing = true;
  try {
    for (let i = 0; i < files.length && keepGoing; i += 1) keepGoing = await fill(i);
    while (keepGoing && !interrupted) {
      const index = firstHead(heads);
      if (index < 0) break;
      const record = pending[index]!;
      if (marker) batch.push(marker);
      marker = undefined;
      batch.push(record);
      records += 1;
      perFile[index]! += 1;
      countsByKind[record.record] = (countsByKind[record.record] ?? 0) + 1;
      const at = record.observedAt;
      if (at && (lastObservedAt === null || Date.parse(at) > Date.parse(lastObservedAt))) lastObservedAt = at;
      if (existing && at && Date.parse(at) < sessionNewest) olderThanSession += 1;
      if (batch.length >= batchSize || batchChars >= maxBatchChars) flush();
      keepGoing = await fill(index);
    }
    if (keepGoing) flush();
  } catch (error) {
    if (options.strict && !existing) store.deleteSession(session.id);
    else {
      try {
        store.markPartial(session.id, [`import failed: ${(error as Error).message}`]);
      } catch {
        // the database itself is failing: the error below says why
      }
    }
    throw error;
  } finally {
    await Promise.all(streams.map((s) => s.return(undefined)));
    await closeAll(files);
  }

  if (options.strict && !existing && (firstProblem !== undefined || interrupted)) {
    store.deleteSession(session.id);
    return {
      ok: false,
      reason: 'strict',
      message: firstProblem ?? 'import interrupted',
      hint: 'Nothing was imported (--strict is all or nothing). Fix the input, or import without --strict to keep every good record and mark the session partial.',
    };
  }
  if (records === 0 && !interrupted && !existing) {
    store.deleteSession(session.id);
    return {
      ok: false,
      reason: 'no-records',
      message: problems.length ? `nothing in ${files.map((f) => f.input.name).join(', ')} could be imported; first problem: ${problems[0]}` : `${files.map((f) => f.input.name).join(', ')} hold no records`,
      hint: problems.length ? 'Check each file\'s format (name it after the file: FILE:kubectl-watch, FILE:audit, FILE:ndjson).' : 'Nothing was imported.',
    };
  }

  const partial = finishImportedSession(store, session, {
    interruption: interrupted ? `import interrupted after ${bytesRead()} of ${totalBytes ?? '?'} bytes` : null,
    problems,
    problemCount,
    lastObservedAt,
    sessionEndedAt,
  });
  progress();

  const skipped: Record<string, number> = {};
  for (const parser of parsers) for (const [reason, n] of Object.entries(parser.skipped())) skipped[reason] = (skipped[reason] ?? 0) + n;
  return {
    ok: true,
    summary: {
      session: store.findSession(options.session) ?? session,
      files: files.map((f, i) => ({ name: f.input.name, format: f.format, formatDetected: f.formatDetected, records: perFile[i]!, bytesRead: f.input.bytesRead() })),
      records,
      countsByKind,
      problems,
      problemCount,
      skipped,
      bytesRead: bytesRead(),
      interrupted,
      partial,
      appended: existing !== undefined,
      duplicates: skipped[duplicateAuditReason] ?? 0,
      olderThanSession,
    },
  };
}
