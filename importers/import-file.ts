import { open, type FileHandle } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { SessionName, type RecordKind, type SessionInfo, type SessionRecord, type SessionSource } from '../model/index.js';
import type { SessionStore } from '../store/index.js';
import { createAuditParser, duplicateAuditReason } from './audit.js';
import type { AuditIdSet } from './audit-id-set.js';
import { FormatDetector } from './detect.js';
import { createKubectlWatchParser } from './kubectl-watch.js';
import { createNdjsonParser } from './ndjson.js';
import type { ImportParser, ParseEvent } from './parser.js';
import { problemText } from './problem-text.js';
import { appendBaseOf, finishImportedSession } from './import-session.js';

/**
 * The importers' one I/O edge: streams a file (or stdin) through a format's parser into a new session.
 *
 *   file ──chunks──▶ parser ──records──▶ batches of ≤1000 ──append (one transaction each)──▶ store
 *                          └─problems──▶ "file:line: why" ──▶ markPartial
 *
 * Non-strict (the default) keeps every good record, before and after a bad one, and marks the session partial
 * with the problems. Strict is all or nothing: at the first problem it stops and deletes the session, so the
 * database is as it was and the same command can run again once the input is fixed.
 */

export const importFormats = ['kubectl-watch', 'audit', 'ndjson'] as const;
export const ImportFormat = z.enum(importFormats);
export type ImportFormat = z.infer<typeof ImportFormat>;

/** What the session's `config` records about the import, verbatim. */
export const ImportConfig = z.object({
  format: ImportFormat,
  /** Absolute path of the input, or '-' for stdin. */
  file: z.string().min(1),
  controller: z.string().min(1).nullable(),
  strict: z.boolean(),
  redact: z.array(z.string()),
});
export type ImportConfig = z.infer<typeof ImportConfig>;

export interface ImportProgress {
  bytesRead: number;
  /** Null when the input's size is unknown (stdin, a pipe). */
  totalBytes: number | null;
  records: number;
  problems: number;
}

export type ImportInput = { path: string } | { stream: Readable; name: string };

export interface ImportFileOptions {
  /** Undefined: detected from the first values of the input (detect.ts). */
  format?: ImportFormat;
  session: string;
  input: ImportInput;
  /** `--controller`: the controller's user name; its API requests get byController. */
  controller?: string;
  strict?: boolean;
  /** Extra dotted paths to redact on every object (`spec.auth.token`), on top of Secret data. */
  redact?: readonly string[];
  toolVersion: string;
  /** Records per append (one transaction each). */
  batchSize?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** Aborting stops reading; what was imported stays, marked partial (strict: deleted). */
  signal?: AbortSignal;
  /**
   * Audit logs only: add to the session if it exists (an earlier import of the audit format), skipping events whose
   * auditID it already holds. Not with `strict` (an append cannot be undone as one transaction).
   */
  append?: boolean;
}

export interface ImportSummary {
  session: SessionInfo;
  format: ImportFormat;
  /** The format was detected from the input, not given. */
  formatDetected: boolean;
  records: number;
  countsByKind: Partial<Record<RecordKind, number>>;
  /** `file:line: why`, the first `maxReportedProblems` of them. */
  problems: string[];
  problemCount: number;
  /** Input read and deliberately not imported, by reason: not problems. */
  skipped: Record<string, number>;
  bytesRead: number;
  interrupted: boolean;
  partial: boolean;
  /** The records went into an existing session (`append`). */
  appended: boolean;
  /** Audit events skipped because the session (or the input itself) already held their auditID. */
  duplicates: number;
  /** Appended records observed before the session's newest record: the timeline is in import order, not time order. */
  olderThanSession: number;
}

export type ImportFailureReason = 'invalid-options' | 'unreadable' | 'session-exists' | 'strict' | 'no-records' | 'unknown-format';

/** Expected failures are values (STYLE.md rule 7); the CLI turns them into a message and exit code 2. */
export type ImportOutcome =
  | { ok: true; summary: ImportSummary }
  | { ok: false; reason: ImportFailureReason; message: string; hint?: string };

export const defaultBatchSize = 1000;
/** Appends also happen after this many characters of input, so a batch of huge objects stays small in memory. */
const maxBatchChars = 16 * 1024 * 1024;
const maxReportedProblems = 1000;
/** What a session's `problems` holds at most (the store keeps 100). */
const readChunkBytes = 1024 * 1024;
/** How much input format detection reads before giving up: one List item or a few lines are enough. */
const maxDetectChars = 32 * 1024 * 1024;

/**
 * The dotted form model's redactObject takes (the recorder's `redaction.paths`), from `spec.auth.token` or the JSON
 * pointer `/spec/auth/token`; undefined when the text names no field or a key holds a dot (inexpressible dotted).
 */
export function redactionPath(text: string): string | undefined {
  const segments = text.startsWith('/') ? text.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')) : text.split('.');
  if (segments.length === 0 || segments.some((s) => s === '' || (text.startsWith('/') && s.includes('.')))) return undefined;
  return segments.join('.');
}

export function createParser(format: ImportFormat, options: { controller?: string; redact?: readonly string[]; seenAuditIds?: AuditIdSet }): ImportParser {
  const redact = options.redact ?? [];
  switch (format) {
    case 'kubectl-watch':
      return createKubectlWatchParser({ redact });
    case 'audit':
      return createAuditParser({
        redact,
        ...(options.controller !== undefined ? { controller: options.controller } : {}),
        ...(options.seenAuditIds ? { seenAuditIds: options.seenAuditIds } : {}),
      });
    case 'ndjson':
      return createNdjsonParser({ redact });
  }
}

export interface OpenedInput {
  stream: Readable;
  name: string;
  file: string;
  totalBytes: number | null;
  /** Bytes consumed so far; `chunk` is called with every chunk the importer reads. */
  bytesRead: () => number;
  chunk: (text: string) => void;
  close: () => Promise<void>;
}

export async function openInput(input: ImportInput): Promise<OpenedInput | { error: string; hint?: string }> {
  if ('stream' in input) {
    let bytes = 0;
    input.stream.setEncoding('utf8');
    return {
      stream: input.stream,
      name: input.name,
      file: '-',
      totalBytes: null,
      bytesRead: () => bytes,
      chunk: (text) => {
        bytes += Buffer.byteLength(text);
      },
      close: async () => {},
    };
  }
  const path = input.path;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.message;
    return { error: `cannot read ${path}: ${why}`, hint: err.code === 'ENOENT' ? 'Check the path; use "-" to read from stdin.' : undefined };
  }
  const stat = await handle.stat();
  if (stat.isDirectory()) {
    await handle.close();
    return { error: `cannot read ${path}: it is a directory`, hint: 'Name a file, or "-" to read from stdin.' };
  }
  const stream = handle.createReadStream({ encoding: 'utf8', highWaterMark: readChunkBytes });
  return {
    stream,
    name: path,
    file: resolve(path),
    totalBytes: stat.isFile() ? stat.size : null,
    bytesRead: () => stream.bytesRead,
    chunk: () => undefined,
    close: async () => {
      stream.destroy();
      await handle.close().catch(() => undefined);
    },
  };
}

/**
 * What every import checks of its options before it opens a file: the session name, the redaction paths (returned
 * dotted) and that an all-or-nothing import is not an append. One place, so one file and several agree.
 */
export function checkImportOptions(options: { session: string; redact?: readonly string[]; append?: boolean; strict?: boolean }):
  | { ok: true; redact: string[] }
  | { ok: false; reason: ImportFailureReason; message: string; hint?: string } {
  const name = SessionName.safeParse(options.session);
  if (!name.success) return { ok: false, reason: 'invalid-options', message: `invalid session name "${options.session}": ${name.error.issues[0]!.message}` };
  const redact: string[] = [];
  for (const path of options.redact ?? []) {
    const dotted = redactionPath(path);
    if (dotted === undefined) {
      return {
        ok: false,
        reason: 'invalid-options',
        message: `"${path}" is not a redaction path: name a field from the object's root, dotted or as a JSON pointer`,
        hint: 'Example: --redact spec.auth.token (or /spec/auth/token; keys that contain dots cannot be named yet)',
      };
    }
    redact.push(dotted);
  }
  if (options.append && options.strict) {
    return { ok: false, reason: 'invalid-options', message: '--append cannot be combined with --strict', hint: 'An append is committed batch by batch; --strict needs the import to be all or nothing.' };
  }
  return { ok: true, redact };
}

export async function importFile(store: SessionStore, options: ImportFileOptions): Promise<ImportOutcome> {
  const checked = checkImportOptions(options);
  if (!checked.ok) return checked;
  const { redact } = checked;
  if (options.append && options.format !== undefined && options.format !== 'audit') {
    return { ok: false, reason: 'invalid-options', message: `--append is for audit logs (events carry an auditID to skip those already imported), not ${options.format}` };
  }
  const existing = store.findSession(options.session)?.name === options.session ? store.findSession(options.session) : undefined;
  if (existing && !options.append) {
    return {
      ok: false,
      reason: 'session-exists',
      message: `a session named "${options.session}" already exists in ${store.path}`,
      hint: `Choose another --session name, or delete the old session first: kreplay delete ${options.session}${existing.source === 'import:audit' ? `; to add another audit log to it, skipping events it already holds: --append` : ''}`,
    };
  }
  if (existing && existing.source !== 'import:audit') {
    return { ok: false, reason: 'invalid-options', message: `--append adds audit logs to a session imported from one; ${options.session} is ${existing.source}` };
  }

  const input = await openInput(options.input);
  if ('error' in input) return { ok: false, reason: 'unreadable', message: input.error, ...(input.hint ? { hint: input.hint } : {}) };

  // Chunks read to detect the format are replayed to the parser: stdin cannot be read twice.
  const source = (input.stream as AsyncIterable<string>)[Symbol.asyncIterator]();
  const readAhead: string[] = [];
  let format = options.format;
  if (format === undefined) {
    const detector = new FormatDetector();
    let chars = 0;
    try {
      while (!detector.settled && chars < maxDetectChars) {
        const next = await source.next();
        if (next.done) {
          detector.end();
          break;
        }
        readAhead.push(next.value);
        chars += next.value.length;
        detector.push(next.value);
      }
    } catch (error) {
      await input.close();
      const err = error as NodeJS.ErrnoException;
      if (err.code === undefined || !err.syscall) throw error;
      return { ok: false, reason: 'unreadable', message: `cannot read ${input.name}: ${err.message}` };
    }
    format = detector.end();
    if (format !== undefined && format !== 'audit' && options.append) {
      await input.close();
      return { ok: false, reason: 'invalid-options', message: `--append is for audit logs; ${input.name} holds ${format}` };
    }
    if (format === undefined) {
      await input.close();
      return {
        ok: false,
        reason: 'unknown-format',
        message: chars === 0 ? `${input.name} holds no records` : `cannot tell what ${input.name} holds: it starts with no kubectl watch event or object, audit event or kreplay record`,
        hint: chars === 0 ? 'Nothing was imported.' : 'Name the format with --format kubectl-watch, audit or ndjson; the problems it then reports say what is wrong.',
      };
    }
  }
  async function* chunks(): AsyncGenerator<string> {
    yield* readAhead.splice(0);
    for (let next = await source.next(); !next.done; next = await source.next()) yield next.value;
  }

  const config: ImportConfig = {
    format,
    file: input.file,
    controller: options.controller ?? null,
    strict: options.strict ?? false,
    redact,
  };
  let session: SessionInfo;
  // Appending: what the session holds already, to skip it and to say when the new records are older.
  const { seenAuditIds, sessionNewest, sessionEndedAt } = appendBaseOf(store, existing);
  try {
    session = existing ?? store.createSession({
      name: options.session,
      source: `import:${format}` satisfies SessionSource,
      cluster: null,
      context: null,
      toolVersion: options.toolVersion,
      config,
    });
  } catch (error) {
    await input.close();
    if (/UNIQUE/i.test((error as Error).message)) {
      return { ok: false, reason: 'session-exists', message: `a session named "${options.session}" already exists in ${store.path}` };
    }
    throw error;
  }

  const parser = createParser(format, { ...options, redact, seenAuditIds });
  let olderThanSession = 0;
  const batchSize = options.batchSize ?? defaultBatchSize;
  const countsByKind: Partial<Record<RecordKind, number>> = {};
  const problems: string[] = [];
  let problemCount = 0;
  let records = 0;
  let batch: SessionRecord[] = [];
  let charsSinceAppend = 0;
  let lastObservedAt: string | null = null;
  let firstProblem: string | undefined;
  let interrupted = false;
  let lastLine = 0;

  const flush = () => {
    if (batch.length === 0) return;
    store.append(session.id, batch);
    batch = [];
    charsSinceAppend = 0;
  };
  /** Returns false when strict mode must stop. */
  const take = (events: readonly ParseEvent[]): boolean => {
    for (const event of events) {
      lastLine = event.line;
      if (event.kind === 'problem') {
        const text = problemText(input.name, event.line, event.problem);
        problemCount += 1;
        if (problems.length < maxReportedProblems) problems.push(text);
        if (options.strict) {
          firstProblem = text;
          return false;
        }
        continue;
      }
      batch.push(event.record);
      records += 1;
      countsByKind[event.record.record] = (countsByKind[event.record.record] ?? 0) + 1;
      const at = event.record.observedAt;
      if (at && (lastObservedAt === null || Date.parse(at) > Date.parse(lastObservedAt))) lastObservedAt = at;
      if (existing && at && Date.parse(at) < sessionNewest) olderThanSession += 1;
      if (batch.length >= batchSize) flush();
    }
    return true;
  };
  const progress = () =>
    options.onProgress?.({ bytesRead: input.bytesRead(), totalBytes: input.totalBytes, records, problems: problemCount });

  let readError: Error | undefined;
  let keepGoing = true;
  try {
    for await (const chunk of chunks()) {
      input.chunk(chunk);
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      keepGoing = take(parser.push(chunk));
      if (!keepGoing) break;
      charsSinceAppend += chunk.length;
      if (charsSinceAppend >= maxBatchChars) flush();
      progress();
    }
    if (keepGoing && !interrupted) keepGoing = take(parser.end());
    if (keepGoing) flush();
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    if (err.code === undefined || !err.syscall) {
      // Not an input error: a bug or a database failure. Leave a session that says it is incomplete.
      if (options.strict && !existing) store.deleteSession(session.id);
      else {
        try {
          store.markPartial(session.id, [`import failed at ${input.name}:${lastLine}: ${err.message}`]);
        } catch {
          // the database itself is failing: the error below says why
        }
      }
      throw error;
    }
    readError = err;
  } finally {
    await input.close();
  }

  if (readError) {
    const text = `${input.name}: reading stopped after ${input.bytesRead()} bytes: ${readError.message}`;
    problemCount += 1;
    problems.push(text);
    firstProblem ??= text;
    if (!options.strict) flush();
  }
  if (options.strict && !existing && (firstProblem !== undefined || interrupted)) {
    store.deleteSession(session.id);
    return {
      ok: false,
      reason: 'strict',
      message: firstProblem ?? `import interrupted at ${input.name}:${lastLine}`,
      hint: 'Nothing was imported (--strict is all or nothing). Fix the input, or import without --strict to keep every good record and mark the session partial.',
    };
  }

  if (records === 0 && !interrupted && !existing) {
    // An empty session helps nobody: a wrong --format, or a dump that never got any output.
    store.deleteSession(session.id);
    return {
      ok: false,
      reason: 'no-records',
      message: problems.length ? `nothing in ${input.name} could be imported; first problem: ${problems[0]}` : `${input.name} holds no records`,
      hint: problems.length ? `Check --format (${format} was ${options.format === undefined ? 'detected' : 'given'}).` : 'Nothing was imported.',
    };
  }

  const partial = finishImportedSession(store, session, {
    interruption: interrupted ? `${input.name}: import interrupted after ${input.bytesRead()} of ${input.totalBytes ?? '?'} bytes (line ${lastLine})` : null,
    problems,
    problemCount,
    lastObservedAt,
    sessionEndedAt,
  });
  progress();

  return {
    ok: true,
    summary: {
      session: store.findSession(options.session) ?? session,
      format,
      formatDetected: options.format === undefined,
      records,
      countsByKind,
      problems,
      problemCount,
      skipped: parser.skipped() as Record<string, number>,
      bytesRead: input.bytesRead(),
      interrupted,
      partial,
      appended: existing !== undefined,
      duplicates: (parser.skipped() as Record<string, number>)[duplicateAuditReason] ?? 0,
      olderThanSession,
    },
  };
}
