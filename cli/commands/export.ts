import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { sessionControllerNames, type SessionInfo, type StoredRecord } from '../../model/index.js';
import { createAnalyzer, type Analysis } from '../../replayer/index.js';
import type { SessionStore } from '../../store/index.js';
import {
  describeSelector,
  findingKindsOf,
  findingsInWindow,
  htmlReport,
  jsonReport,
  markdownReport,
  markdownSummary,
  parseBound,
  parseObjectSelector,
  redactRecord,
  REPORT_API_VERSION,
  REPORT_KIND,
  selectorMatches,
  SummaryBuilder,
  WindowFilter,
  type Bound,
  type ObjectSelector,
  type ReportHeader,
  type ReportInput,
  type ReportRecord,
} from '../../exporters/index.js';
import type { CliContext } from '../context.js';
import { UserError } from '../errors.js';
import { toolVersion } from '../version.js';
import type { CheckConfig } from '../../model/check-config.js';
import { resolveCheckConfig } from './check.js';

export const exportFormats = ['json', 'markdown', 'html'] as const;
export type ExportFormat = (typeof exportFormats)[number];

interface ExportOptions {
  format?: ExportFormat;
  output?: string;
  from?: string;
  to?: string;
  object?: string[];
  redact?: string[];
  config?: string;
  progress?: boolean;
  summary?: boolean;
}

/** Sessions smaller than this export in well under a second: no progress bar. */
const progressThreshold = 50_000;
/** Past this many records an HTML report still works but a browser takes seconds to open it. */
const htmlComfortLimit = 100_000;
/** Chunks are gathered to about this size before a write: fewer syscalls, bounded memory. */
const writeBatchBytes = 256 * 1024;

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `/spec/auth/token` (JSON pointer, as `import --redact` takes) or `spec.auth.token` → the dotted form redactObject takes. */
export function redactPath(text: string): string {
  if (!text.startsWith('/')) return text;
  return text
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

export function formatFromPath(path: string | undefined): ExportFormat | undefined {
  const ext = path ? extname(path).toLowerCase() : '';
  return ext === '.html' || ext === '.htm' ? 'html' : ext === '.md' || ext === '.markdown' ? 'markdown' : ext === '.json' ? 'json' : undefined;
}

/**
 * The report format: --format, else the -o extension. An -o path whose extension names no format is refused
 * rather than silently getting JSON (`-o demo.txt`).
 */
export function resolveExportFormat(format: ExportFormat | undefined, output: string | undefined): ExportFormat {
  if (format) return format;
  if (output === undefined || output === '-') return 'json';
  const fromPath = formatFromPath(output);
  if (fromPath) return fromPath;
  const ext = extname(output);
  throw new UserError(
    `cannot tell the report format from ${ext ? `the extension "${ext}" of ` : ''}${output}`,
    'Name the file .json, .md or .html, or give --format json|markdown|html.',
  );
}

function parseWindowBound(text: string | undefined, flag: string): Bound | undefined {
  if (text === undefined) return undefined;
  const bound = parseBound(text);
  if ('error' in bound) throw new UserError(`${flag}: ${bound.error}`, 'Give a seq number (see `kreplay show`, the TUI or `check`) or an RFC 3339 time such as 2026-11-25T10:04:00Z.');
  return bound;
}

/** Every --object must name at least one object of the session: a typo would silently export nothing. */
function resolveSelectors(store: SessionStore, session: SessionInfo, texts: readonly string[]): ObjectSelector[] {
  if (texts.length === 0) return [];
  const objects = store.objects(session.id);
  return texts.map((text) => {
    const selector = parseObjectSelector(text);
    if ('error' in selector) throw new UserError(`--object: ${selector.error}`);
    if (objects.some((o) => selectorMatches(selector, { ...o, resource: o.resource ?? undefined }))) return selector;
    const similar = [...new Set(objects.filter((o) => o.name.includes(selector.name) || selector.name.includes(o.name)).map((o) => `${o.kind}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`))].slice(0, 8);
    throw new UserError(
      `--object ${describeSelector(selector)}: no such object in session ${session.name}`,
      similar.length ? `Similar objects: ${similar.join(', ')}` : 'Run `kreplay show SESSION` to list its objects.',
    );
  });
}

/** Reproducible builds' convention: SOURCE_DATE_EPOCH pins the report's generatedAt (golden files, diffs). */
export function generatedAt(env: NodeJS.ProcessEnv): string {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (epoch && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}

interface Progress {
  tick(): void;
  stop(): void;
}

/** A progress bar on stderr over both passes (analysis, then writing), only on a terminal and for big sessions. */
function progressBar(total: number, enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY || total < progressThreshold) return { tick: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: '{phase} [{bar}] {percentage}% | {value}/{total} records | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 200 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total * 2, 0, { phase: 'analysing' });
  let done = 0;
  return {
    tick() {
      done += 1;
      // Redrawing per record would cost more than the export: every 1000 records is smooth enough.
      if (done % 1000 === 0) bar.update(done, { phase: done <= total ? 'analysing' : 'writing  ' });
    },
    stop() {
      bar.stop();
    },
  };
}

/** Writes chunks to a file (via a temporary file renamed at the end: no half-written report) or to stdout. */
class Sink {
  private buffer: string[] = [];
  private size = 0;
  private fd: number | null = null;
  private readonly temp: string | null;

  constructor(
    private readonly path: string | null,
    private readonly out: (text: string) => void,
  ) {
    this.temp = path ? join(dirname(path), `.${basename(path)}.${process.pid}.tmp`) : null;
    if (this.temp) {
      try {
        this.fd = openSync(this.temp, 'w', 0o644);
      } catch (error) {
        throw new UserError(`cannot write ${path}: ${(error as Error).message}`, 'Check that the directory exists and is writable.');
      }
    }
  }

  write(chunk: string): void {
    this.buffer.push(chunk);
    this.size += chunk.length;
    if (this.size >= writeBatchBytes) this.flush();
  }

  private flush(): void {
    if (this.size === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (this.fd !== null) writeSync(this.fd, text);
    else this.out(text);
  }

  commit(): void {
    this.flush();
    if (this.fd !== null) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = null;
      renameSync(this.temp!, this.path!);
    }
  }

  abort(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
      rmSync(this.temp!, { force: true });
    }
  }
}

export interface ReportOptions {
  readonly format: ExportFormat;
  readonly config?: CheckConfig | undefined;
  readonly window: { from?: Bound | undefined; to?: Bound | undefined; objects: ObjectSelector[] };
  /** The window as the user wrote it, for the header. */
  readonly windowText: { from: string | null; to: string | null };
  readonly redactPaths: readonly string[];
  readonly summary: boolean;
  readonly fullReportHint: string;
  readonly generatedAt: string;
  /** Called once per record read (progress bars). */
  readonly tick?: () => void;
}

/**
 * One report of one session (`kreplay export`, and the recorder's GET /v1/sessions/{name}/export): pass 1 runs the
 * replayer over the whole session now; the returned chunks stream pass 2 (the window's records) as they are read.
 */
export function buildReport(store: SessionStore, session: SessionInfo, options: ReportOptions): { chunks: Iterable<string>; findings: number; kept: number; cut: boolean; empty: boolean } {
  const { config, format } = options;
  const tick = options.tick ?? (() => undefined);
  // Pass 1: the replayer sees the whole session (a finding's cause may precede the window); the window
  // filter counts what the export will hold.
  const analyzer = createAnalyzer({ annotate: true, ...(config ? { parsedConfig: config } : {}), controller: config?.controller.length ? config.controller : sessionControllerNames(session.config) });
  const filter = new WindowFilter(options.window);
  const summary = new SummaryBuilder();
  for (const record of store.records(session.id, { withObjects: 'lazy' })) {
    analyzer.push(record);
    if (filter.includes(record)) summary.add(record);
    tick();
  }
  const analysis: Analysis = analyzer.finish();
  const seqRange = summary.seqRange;
  const findings = findingsInWindow(analysis.findings, filter, seqRange);
  const kept = summary.build([]).records;
  const header: ReportHeader = {
    apiVersion: REPORT_API_VERSION,
    kind: REPORT_KIND,
    generator: { name: 'kreplay', version: toolVersion },
    generatedAt: options.generatedAt,
    session,
    window: { ...options.windowText, objects: options.window.objects, cut: filter.cut },
    summary: summary.build(findings),
    controller: { names: [...analysis.stats.controller.names], basis: analysis.stats.controller.basis },
    coverage: analysis.stats.coverage,
    findingKinds: findingKindsOf(findings),
    findings,
  };
  // Pass 2: stream the window's records, redacted, with the replayer's notes.
  function* records(): Generator<ReportRecord> {
    if (!seqRange) return;
    const again = new WindowFilter(options.window);
    for (const record of store.records(session.id, { fromSeq: seqRange.first, toSeq: seqRange.last }) as Iterable<StoredRecord>) {
      tick();
      if (!again.includes(record)) continue;
      yield redactRecord(record, analysis.annotations.get(record.seq), options.redactPaths);
    }
  }
  const input: ReportInput = { header, records: records() };
  const chunks =
    format === 'html'
      ? htmlReport(input)
      : format === 'markdown'
        ? options.summary
          ? markdownSummary(input, { fullReportHint: options.fullReportHint })
          : markdownReport(input)
        : jsonReport(input);
  return { chunks, findings: findings.length, kept, cut: filter.cut, empty: !seqRange };
}

export function registerExport(program: Command, context: CliContext): void {
  program
    .command('export')
    .description('write a session report (JSON, Markdown or a self-contained HTML page) to attach to an incident')
    .argument('<session>', 'session name or id')
    .addOption(new Option('-f, --format <format>', 'report format (default: from the -o extension, else json)').choices(exportFormats))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--from <seq|time>', 'start of the window: a seq number or an RFC 3339 time')
    .option('--to <seq|time>', 'end of the window (inclusive)')
    .option('--object <KIND/NAMESPACE/NAME>', 'only this object: KIND/NAMESPACE/NAME, KIND/NAME or NAME (repeatable)', collect)
    .option('--redact <path>', 'also redact this field on every object, e.g. spec.auth.token or /spec/auth/token (repeatable; Secret data is always redacted)', collect)
    .option('--config <file>', 'check config (thresholds, only/skip, suppressions) for the findings, as for `kreplay check`')
    .option('--no-progress', 'never show a progress bar')
    .option('--summary', 'Markdown only: the header, the findings with their top evidence and a cut timeline, under 60,000 bytes (fits a GitHub comment)')
    .addHelpText(
      'after',
      `
Findings are computed over the whole session, then the report keeps the records in the window and the
findings that touch it. Secret data never appears. The JSON schema is docs/export-schema.md; set
SOURCE_DATE_EPOCH to pin generatedAt.

Examples:
  kreplay export demo -o incident.html
  kreplay export demo --format markdown --from 2026-11-24T14:07:00Z --to 2026-11-24T14:09:00Z
  kreplay export demo --format markdown --summary | gh issue comment 42 --body-file -
  kreplay export prod-2026-11-25 --object WebApp/shop/catalog --object Deployment/shop/catalog -o catalog.json`,
    )
    .action((name: string, options: ExportOptions) => {
      const format = resolveExportFormat(options.format, options.output);
      if (options.summary && format !== 'markdown') throw new UserError(`--summary is for Markdown reports, not ${format}`, 'Add --format markdown (or write to a .md file).');
      const from = parseWindowBound(options.from, '--from');
      const to = parseWindowBound(options.to, '--to');
      if (from && to && 'seq' in from && 'seq' in to && from.seq > to.seq) throw new UserError(`--from ${from.seq} is after --to ${to.seq}`);
      if (from && to && 'ms' in from && 'ms' in to && from.ms > to.ms) throw new UserError(`--from ${options.from} is after --to ${options.to}`);
      const config = options.config ? resolveCheckConfig({ config: options.config }) : undefined;
      const redactPaths = (options.redact ?? []).map(redactPath);
      const outputPath = options.output && options.output !== '-' ? resolve(options.output) : null;

      context.withStore(
        (store) => {
          const session = context.resolveSession(store, name);
          const objects = resolveSelectors(store, session, options.object ?? []);
          const total = store.recordCount(session.id);
          const progress = progressBar(total, options.progress !== false);
          const windowOptions = { from, to, objects };
          let findingCount = 0;
          try {
            const report = buildReport(store, session, {
              format,
              config,
              window: windowOptions,
              redactPaths,
              summary: options.summary ?? false,
              fullReportHint: `kreplay export ${session.name} --format markdown${options.from ? ` --from ${options.from}` : ''}${options.to ? ` --to ${options.to}` : ''}`,
              generatedAt: generatedAt(context.env),
              windowText: { from: options.from ?? null, to: options.to ?? null },
              tick: () => progress.tick(),
            });
            findingCount = report.findings;
            if (report.cut && report.empty) context.output.err('kreplay: the window holds no records; the report is empty\n');
            if (format === 'html' && report.kept > htmlComfortLimit) {
              context.output.err(`kreplay: the HTML report holds ${report.kept} records; browsers get slow past about ${htmlComfortLimit}. Cut it to the incident with --from/--to or --object.\n`);
            }
            const chunks = report.chunks;
            const sink = new Sink(outputPath, (text) => context.output.out(text));
            try {
              for (const chunk of chunks) sink.write(chunk);
              sink.commit();
            } catch (error) {
              sink.abort();
              throw error;
            }
          } finally {
            progress.stop();
          }
          if (outputPath) {
            const n = findingCount;
            context.output.err(`wrote ${format}${options.summary ? ' summary' : ''} report of session ${session.name} to ${outputPath}${n ? ` (${n} finding${n === 1 ? '' : 's'})` : ''}\n`);
          }
        },
        { mustExist: true },
      );
    });
}
