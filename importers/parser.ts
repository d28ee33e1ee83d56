import type { z } from 'zod';
import { SessionRecord, recordKinds } from '../model/index.js';

/**
 * What a parser makes of its input: records, or problems tied to the line they start on. Parsers are pure state
 * machines over text chunks: no I/O, no clock. The driver (import-file.ts) feeds them and owns the store.
 */
export type ParseEvent =
  | { kind: 'record'; line: number; record: SessionRecord }
  | {
      kind: 'problem';
      line: number;
      problem: string;
      /**
       * The input is not of the parser's format at all here (broken JSON, a value of another format), as opposed to
       * a value of the format that breaks a rule. The recorder's audit webhook refuses a body with such a problem.
       */
      malformed?: true;
    };

export interface ImportParser {
  /** Feeds the next chunk of text (any size, split anywhere); returns what it completed. */
  push(chunk: string): ParseEvent[];
  /** Ends the input: flushes what is pending and reports a value cut off by the end of the input. */
  end(): ParseEvent[];
  /**
   * Input that was read and deliberately not imported, by reason ("successful reads": 23). These are not
   * problems: they do not make a session partial.
   */
  skipped(): Readonly<Record<string, number>>;
}

/** A tally of deliberately skipped input, by reason. */
export class SkipCounter {
  private readonly counts = new Map<string, number>();
  add(reason: string, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** Runs a parser over whole strings: for tests and small inputs. */
export function parseAll(parser: ImportParser, chunks: string | readonly string[]): ParseEvent[] {
  const events: ParseEvent[] = [];
  for (const chunk of typeof chunks === 'string' ? [chunks] : chunks) events.push(...parser.push(chunk));
  events.push(...parser.end());
  return events;
}

/**
 * One line per zod issue, prefixed with the record kind when the input named a valid one:
 * `reconcile.errorReason: an error result needs an errorReason`.
 */
export function describeIssues(error: z.ZodError, input: unknown, maxIssues = 3): string {
  const kind = typeof input === 'object' && input !== null ? (input as { record?: unknown }).record : undefined;
  const known = typeof kind === 'string' && (recordKinds as readonly string[]).includes(kind);
  if (!known) {
    const got = kind === undefined ? 'no "record" field' : `unknown record kind ${JSON.stringify(kind)}`;
    return `record: ${got}; expected one of ${recordKinds.join(', ')}`;
  }
  const prefix = kind;
  const issues = error.issues.slice(0, maxIssues).map((issue) => {
    const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
    return `${prefix}${path}: ${issue.message}`;
  });
  const more = error.issues.length > maxIssues ? `; and ${error.issues.length - maxIssues} more` : '';
  return issues.join('; ') + more;
}

/**
 * Every record leaves a parser through the schema, so an importer can never write what the recorder could not:
 * the model is the one source of truth for every boundary (STYLE.md rule 3).
 */
export function checkedRecord(candidate: unknown, line: number): ParseEvent {
  const parsed = SessionRecord.safeParse(candidate);
  if (parsed.success) return { kind: 'record', line, record: parsed.data };
  return { kind: 'problem', line, problem: describeIssues(parsed.error, candidate) };
}

/** Parses one JSON text, turning a syntax error into a problem. */
export function parseJson(text: string, line: number): { ok: true; value: unknown } | { ok: false; event: ParseEvent } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, event: { kind: 'problem', line, problem: `not valid JSON: ${(error as Error).message}`, malformed: true } };
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
