import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import cliProgress from 'cli-progress';
import { importFile, importFiles, importFormats, type ImportFileSpec, type ImportFilesSummary, type ImportFormat, type ImportProgress, type ImportSummary } from '../../importers/index.js';
import { defaultSessionName } from '../../model/index.js';
import { APPENDER_CACHE_KIB } from '../../store/appender-cache.js';
import type { SessionStore } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { ExitCode, UserError } from '../errors.js';
import { formatBytes } from '../format.js';
import { toolVersion } from '../version.js';

interface ImportCommandOptions {
  format?: ImportFormat;
  session?: string;
  controller?: string;
  strict?: boolean;
  redact?: string[];
  append?: boolean;
}

/** Files smaller than this import in well under a second: no progress bar. */
const progressThresholdBytes = 8 * 1024 * 1024;
const problemsShown = 20;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function describeCounts(summary: Pick<ImportSummary, 'countsByKind'>): string {
  const parts = Object.entries(summary.countsByKind).map(([kind, n]) => `${n} ${kind}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** A progress bar on stderr, by bytes, only when stderr is a terminal and the file is large. */
function progressBar(): { update: (progress: ImportProgress) => void; stop: () => void } {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(progress) {
      if (progress.totalBytes === null || progress.totalBytes < progressThresholdBytes) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'importing [{bar}] {percentage}% | {read}/{size} | {records} records, {problems} problems | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(progress.totalBytes, 0, { read: formatBytes(0), size: formatBytes(progress.totalBytes), records: 0, problems: 0 });
      }
      bar.update(progress.bytesRead, { read: formatBytes(progress.bytesRead), records: progress.records, problems: progress.problems });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/** `import-<time>`, as `record` names its sessions; `-2`, `-3`... when that name is taken (two imports in a second). */
export function defaultImportSessionName(store: SessionStore, now: Date): string {
  const base = defaultSessionName('import', now);
  let name = base;
  for (let n = 2; store.findSession(name)?.name === name; n += 1) name = `${base}-${n}`;
  return name;
}

/**
 * One command-line file: `foos.json`, or `foos.json:kubectl-watch` naming its format (the suffix counts only when it
 * is a format's name and no file has the whole argument as its name, so a path with a colon still works).
 */
export function fileSpecOf(arg: string, format: ImportFormat | undefined, exists: (path: string) => boolean = existsSync): { path: string; format?: ImportFormat } {
  const colon = arg.lastIndexOf(':');
  if (colon > 0) {
    const suffix = arg.slice(colon + 1);
    if ((importFormats as readonly string[]).includes(suffix) && !exists(arg)) return { path: arg.slice(0, colon), format: suffix as ImportFormat };
  }
  return { path: arg, ...(format !== undefined ? { format } : {}) };
}

export function registerImport(program: Command, context: CliContext): void {
  program
    .command('import')
    .description('import kubectl watch dumps, kube-apiserver audit logs or kreplay NDJSON into a new session')
    .argument('<files...>', 'the files to import (several are merged in resourceVersion order), - for stdin; FILE:FORMAT names one file\'s format')
    .addOption(new Option('--format <format>', 'what the files hold (default: detected from each file\'s first records; FILE:FORMAT for one file)').choices(importFormats))
    .option('--session <name>', 'name of the new session (default: import-<time>, as record names its sessions)')
    .option('--controller <name>', "the controller under debug: its audit user (system:serviceaccount:ops:my-operator) or field manager (watch dumps, NDJSON); kept with the session, alarms are about it")
    .option('--append', 'add the files to the session if it exists, after what it holds and behind an "imported" marker, skipping audit events (by auditID) it already holds')
    .option('--strict', 'stop at the first bad record and import nothing (default: skip bad records, mark the session partial)')
    .option('--redact <path>', 'also redact this field on every object, e.g. spec.auth.token or /spec/auth/token (repeatable; Secret data is always redacted)', collect)
    .addHelpText(
      'after',
      `
Formats:
  kubectl-watch  kubectl get RES -w --output-watch-events -o json (also without --output-watch-events,
                 and kubectl get -o json Lists)
  audit          kube-apiserver --audit-log-path JSON lines, or audit webhook EventList bodies
  ndjson         kreplay NDJSON, one record per line (docs/format.md)

Several files (one kubectl watch dump per resource type, an audit log of the same window) make one session:
  kreplay import foos.json deployments.json audit.log --session incident
Their records are merged in resourceVersion order (etcd revisions, shared by every resource), each file's own
order kept; an audit write goes just before the watch event of the version it produced. Each file's format is
detected, or named after it: foos.json:kubectl-watch, audit.log:audit, events.ndjson:ndjson (--format names
every file's). --append adds files to an existing session, behind an "imported" marker naming them.

Importing the same audit events twice (a log imported again with --append, overlapping logs, a file holding an
event twice) keeps one: events are told apart by auditID, and the duplicates are counted under "skipped".

Without --format the format is detected from the first records (and printed); without --session the new
session is named import-<time>, as record names its sessions.

Exit codes: 0 imported (bad records skipped and listed, session marked partial); 2 unreadable input, a session
name that exists, a format that cannot be detected, nothing importable, or a bad record with --strict (then
nothing is imported).`,
    )
    .action(async (args: string[], options: ImportCommandOptions) => {
      const specs = args.map((arg) => (arg === '-' ? { path: '-', ...(options.format !== undefined ? { format: options.format } : {}) } : fileSpecOf(arg, options.format)));
      if (specs.length > 1 || options.append) return importSeveral(context, specs, options);
      const spec = specs[0]!;
      const file = spec.path;
      await runImport(context, async (store, onProgress, signal) => {
        const outcome = await importFile(store, {
          ...(spec.format !== undefined ? { format: spec.format } : {}),
          session: options.session ?? defaultImportSessionName(store, new Date()),
          input: file === '-' ? { stream: process.stdin, name: '<stdin>' } : { path: file },
          ...(options.controller !== undefined ? { controller: options.controller } : {}),
          strict: options.strict ?? false,
          redact: options.redact ?? [],
          toolVersion,
          onProgress,
          signal,
          append: options.append ?? false,
        });
        return outcome.ok ? { ok: true, done: () => reportOne(context, outcome.summary, file) } : outcome;
      });
    });
}

/** Several files, or any file added with --append: merged into one session (importers/import-files.ts). */
async function importSeveral(context: CliContext, specs: readonly { path: string; format?: ImportFormat }[], options: ImportCommandOptions): Promise<void> {
  const files: ImportFileSpec[] = specs.map((spec) => ({
    input: spec.path === '-' ? { stream: process.stdin, name: '<stdin>' } : { path: spec.path },
    ...(spec.format !== undefined ? { format: spec.format } : {}),
  }));
  await runImport(context, async (store, onProgress, signal) => {
    const outcome = await importFiles(store, {
      files,
      session: options.session ?? defaultImportSessionName(store, new Date()),
      ...(options.controller !== undefined ? { controller: options.controller } : {}),
      strict: options.strict ?? false,
      redact: options.redact ?? [],
      toolVersion,
      onProgress,
      signal,
      append: options.append ?? false,
    });
    return outcome.ok ? { ok: true, done: () => reportSeveral(context, outcome.summary) } : outcome;
  });
}

/**
 * One import run: the store, the progress bar and Ctrl-C (which stops the import, keeping what was read), all
 * released whatever happens; a refused import is a usage error with the importer's message and hint.
 */
async function runImport(
  context: CliContext,
  run: (store: SessionStore, onProgress: (progress: ImportProgress) => void, signal: AbortSignal) => Promise<{ ok: true; done: () => void } | { ok: false; message: string; hint?: string }>,
): Promise<void> {
  // Bounded like the recorder's: the default page cache grew by 16 MiB over a large import.
  const store = context.openStore({ cacheKiB: APPENDER_CACHE_KIB });
  const bar = progressBar();
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const outcome = await run(store, bar.update, abort.signal);
    bar.stop();
    if (!outcome.ok) throw new UserError(outcome.message, outcome.hint, ExitCode.usage);
    outcome.done();
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
    store.close();
  }
}

function reportOne(context: CliContext, summary: ImportSummary, file: string): void {
  const out = context.output;
  reportProblems(context, summary);
  out.out(`${summary.appended ? 'added' : 'imported'} ${summary.records} records${describeCounts(summary)} ${summary.appended ? 'to' : 'into'} session ${summary.session.name} from ${file === '-' ? 'stdin' : file} (${formatBytes(summary.bytesRead)})\n`);
  if (summary.formatDetected) out.out(`  format: ${summary.format} (detected; --format overrides)\n`);
  reportOutcome(context, summary);
}

function reportSeveral(context: CliContext, summary: ImportFilesSummary): void {
  const out = context.output;
  reportProblems(context, summary);
  const n = summary.files.length;
  out.out(`${summary.appended ? 'added' : 'imported'} ${summary.records} records${describeCounts(summary)} ${summary.appended ? 'to' : 'into'} session ${summary.session.name} from ${n} file${n === 1 ? '' : 's'} (${formatBytes(summary.bytesRead)}), merged in resourceVersion order\n`);
  for (const file of summary.files) {
    out.out(`  ${file.name === '<stdin>' ? 'stdin' : file.name}: ${file.format}${file.formatDetected ? ' (detected)' : ''}, ${file.records} records\n`);
  }
  reportOutcome(context, summary);
}

/** What both kinds of import share of a summary. */
type ImportOutcomeSummary = Pick<ImportFilesSummary, 'session' | 'records' | 'problems' | 'problemCount' | 'skipped' | 'olderThanSession' | 'interrupted' | 'partial'>;

function reportProblems(context: CliContext, summary: ImportOutcomeSummary): void {
  const out = context.output;
  for (const problem of summary.problems.slice(0, problemsShown)) out.err(`${problem}\n`);
  if (summary.problemCount > problemsShown) out.err(`… and ${summary.problemCount - problemsShown} more problems (kreplay show ${summary.session.name} lists the first 100)\n`);
}

/** After the headline: what was skipped on purpose, out-of-order appends, an interrupted or partial import. */
function reportOutcome(context: CliContext, summary: ImportOutcomeSummary): void {
  const out = context.output;
  const skipped = Object.entries(summary.skipped);
  if (skipped.length) out.out(`  skipped: ${skipped.map(([reason, k]) => `${k} ${reason}`).join('; ')}\n`);
  if (summary.olderThanSession > 0) {
    out.err(`kreplay: ${summary.olderThanSession} added record${summary.olderThanSession === 1 ? ' is' : 's are'} older than the session's newest: the timeline follows import order, so import rotated logs oldest first\n`);
  }
  if (summary.interrupted) throw new UserError(`import interrupted: session ${summary.session.name} keeps the ${summary.records} records read so far and is marked partial`);
  if (summary.partial) {
    out.err(`kreplay: ${summary.problemCount} problem${summary.problemCount === 1 ? '' : 's'} in the input (skipped); everything else was imported and session ${summary.session.name} is marked partial\n`);
  }
}
