import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { importFile, importFormats, type ImportFormat, type ImportProgress, type ImportSummary } from '../../importers/index.js';
import { defaultSessionName } from '../../model/index.js';
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

function describeCounts(summary: ImportSummary): string {
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

export function registerImport(program: Command, context: CliContext): void {
  program
    .command('import')
    .description('import a kubectl watch dump, a kube-apiserver audit log or kreplay NDJSON into a new session')
    .argument('<file>', 'the file to import, or - for stdin')
    .addOption(new Option('--format <format>', 'what the file holds (default: detected from its first records)').choices(importFormats))
    .option('--session <name>', 'name of the new session (default: import-<time>, as record names its sessions)')
    .option('--controller <name>', "the controller under debug: its audit user (system:serviceaccount:ops:my-operator) or field manager (watch dumps, NDJSON); kept with the session, alarms are about it")
    .option('--append', 'audit logs: add to the session if it exists, skipping events (by auditID) it already holds')
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

Importing the same audit events twice (a log imported again with --append, overlapping logs, a file holding an
event twice) keeps one: events are told apart by auditID, and the duplicates are counted under "skipped".

Without --format the format is detected from the first records (and printed); without --session the new
session is named import-<time>, as record names its sessions.

Exit codes: 0 imported (bad records skipped and listed, session marked partial); 2 unreadable input, a session
name that exists, a format that cannot be detected, nothing importable, or a bad record with --strict (then
nothing is imported).`,
    )
    .action(async (file: string, options: ImportCommandOptions) => {
      const store = context.openStore();
      const bar = progressBar();
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const outcome = await importFile(store, {
          ...(options.format !== undefined ? { format: options.format } : {}),
          session: options.session ?? defaultImportSessionName(store, new Date()),
          input: file === '-' ? { stream: process.stdin, name: '<stdin>' } : { path: file },
          ...(options.controller !== undefined ? { controller: options.controller } : {}),
          strict: options.strict ?? false,
          redact: options.redact ?? [],
          toolVersion,
          onProgress: bar.update,
          signal: abort.signal,
          append: options.append ?? false,
        });
        bar.stop();
        if (!outcome.ok) throw new UserError(outcome.message, outcome.hint, ExitCode.usage);
        const { summary } = outcome;
        const out = context.output;
        for (const problem of summary.problems.slice(0, problemsShown)) out.err(`${problem}\n`);
        if (summary.problemCount > problemsShown) out.err(`… and ${summary.problemCount - problemsShown} more problems (kreplay show ${summary.session.name} lists the first 100)\n`);
        out.out(`${summary.appended ? 'added' : 'imported'} ${summary.records} records${describeCounts(summary)} ${summary.appended ? 'to' : 'into'} session ${summary.session.name} from ${file === '-' ? 'stdin' : file} (${formatBytes(summary.bytesRead)})\n`);
        if (summary.formatDetected) out.out(`  format: ${summary.format} (detected; --format overrides)\n`);
        const skipped = Object.entries(summary.skipped);
        if (skipped.length) out.out(`  skipped: ${skipped.map(([reason, n]) => `${n} ${reason}`).join('; ')}\n`);
        if (summary.olderThanSession > 0) {
          out.err(`kreplay: ${summary.olderThanSession} added record${summary.olderThanSession === 1 ? ' is' : 's are'} older than the session's newest: the timeline follows import order, so import rotated logs oldest first\n`);
        }
        if (summary.interrupted) {
          throw new UserError(`import interrupted: session ${summary.session.name} keeps the ${summary.records} records read so far and is marked partial`);
        }
        if (summary.partial) {
          out.err(`kreplay: ${summary.problemCount} problem${summary.problemCount === 1 ? '' : 's'} in the input (skipped); everything else was imported and session ${summary.session.name} is marked partial\n`);
        }
      } finally {
        bar.stop();
        process.removeListener('SIGINT', onSigint);
        store.close();
      }
    });
}
