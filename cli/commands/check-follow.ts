import type { CheckConfig } from '../../model/check-config.js';
import { namespacedName, sessionControllerNames, severityRank, terminalText, type Finding } from '../../model/index.js';
import type { SessionStore } from '../../store/index.js';
import type { CliContext } from '../context.js';
import { FollowedAnalysis } from '../followed-analysis.js';
import { ExitCode, UserError } from '../errors.js';
import { remoteGet, type RemoteRecorder } from '../remote.js';
import { failingFindings, type SeverityPaint } from './check.js';

/**
 * `kreplay check --follow SESSION`: findings as they appear, from a local database a recorder is writing (one
 * analysis kept alive and fed the records as they commit, cli/followed-analysis.ts; paced like the recorder's own,
 * recorder/live-findings.ts) or from a running
 * recorder's GET /v1/findings?since= (`--from URL`). Each new finding is printed once, as it is first reported.
 * Ends when the session ends (local), on SIGINT, or with --exit-on-first at the first finding at or above --fail-on.
 */

export interface FollowOptions {
  readonly config: CheckConfig;
  readonly json: boolean;
  readonly exitOnFirst: boolean;
  readonly intervalMs: number;
  readonly paint: SeverityPaint;
  /** Stops following (tests; SIGINT). */
  readonly signal?: AbortSignal | undefined;
}

/** Share of a core a local follow's re-analyses may take, as the recorder's (live-findings.ts). */
const cpuShare = 0.1;

export function formatFindingLine(finding: Finding, paint: SeverityPaint): string {
  const o = finding.object;
  const span = finding.firstSeq === finding.lastSeq ? `seq ${finding.firstSeq}` : `seq ${finding.firstSeq}–${finding.lastSeq}`;
  const suppressed = finding.suppressed ? `  (suppressed: ${finding.suppressed.reason})` : '';
  return terminalText(`${paint(finding.severity, finding.severity.toUpperCase())} ${finding.kind} (${finding.rule})  ${o.kind} ${namespacedName(o.namespace, o.name)}  ${span}  — ${finding.message}${suppressed}`);
}

class Printer {
  private readonly seen = new Set<string>();
  failing = 0;
  constructor(
    private readonly context: CliContext,
    private readonly options: FollowOptions,
  ) {}

  /** Prints the findings not printed before; true when one of them fails the check and --exit-on-first is set. */
  print(findings: readonly Finding[]): boolean {
    const fresh = findings.filter((f) => !this.seen.has(f.id));
    for (const finding of fresh) {
      this.seen.add(finding.id);
      this.context.output.out(this.options.json ? `${JSON.stringify(finding)}\n` : `${formatFindingLine(finding, this.options.paint)}\n`);
    }
    const failing = failingFindings(fresh, this.options.config.failOn).length;
    this.failing += failing;
    return this.options.exitOnFirst && failing > 0;
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}

function finish(context: CliContext, printer: Printer, options: FollowOptions, why: string): void {
  if (!options.json) context.output.err(`kreplay check --follow: ${why}; ${printer.failing} finding(s) at or above ${options.config.failOn}\n`);
  if (printer.failing > 0) process.exitCode = ExitCode.findings;
}

/** Follows a session of a local database (one a recorder is writing, or any). */
export async function followLocal(context: CliContext, store: SessionStore, name: string, options: FollowOptions): Promise<void> {
  const printer = new Printer(context, options);
  const session = context.resolveSession(store, name);
  const controller = options.config.controller.length ? options.config.controller : sessionControllerNames(session.config);
  const analysis = new FollowedAnalysis(store, session.id, { parsedConfig: options.config, controller });
  for (;;) {
    if (!store.findSession(String(session.id))) throw new UserError(`session ${session.name} was deleted while it was followed`);
    const started = performance.now();
    const refresh = analysis.refresh();
    let pause = options.intervalMs;
    if (refresh.analysis) {
      if (printer.print(refresh.analysis.findings)) return finish(context, printer, options, 'a finding at or above --fail-on');
      const busy = performance.now() - started;
      pause = Math.max(pause, (busy * (1 - cpuShare)) / cpuShare);
    }
    // Read with the last seq in one statement: an ended session's records are all analysed by now.
    if (refresh.progress.ended) return finish(context, printer, options, `session ${session.name} ended`);
    if (options.signal?.aborted) return finish(context, printer, options, 'stopped');
    await sleep(pause, options.signal);
  }
}

/** Follows the live session of a running recorder through GET /v1/findings?since=. */
export async function followRemote(context: CliContext, remote: RemoteRecorder, name: string, options: FollowOptions): Promise<void> {
  const printer = new Printer(context, options);
  let since: string | undefined;
  for (;;) {
    if (options.signal?.aborted) return finish(context, printer, options, 'stopped');
    let response: Response;
    try {
      response = await remoteGet(remote, `/v1/findings${since ? `?since=${encodeURIComponent(since)}` : ''}`);
    } catch (error) {
      // The first analysis is still running (503), or the recorder started a new segment (the id is unknown): retry.
      if (error instanceof UserError && / answered 503 /.test(error.message)) {
        await sleep(options.intervalMs, options.signal);
        continue;
      }
      if (error instanceof UserError && / answered 404 /.test(error.message) && since !== undefined) {
        since = undefined;
        continue;
      }
      throw error;
    }
    const document = (await response.json()) as { session: string; findings: Finding[]; newest: string | null };
    if (document.session !== name && !document.session.startsWith(`${name}.`)) {
      throw new UserError(`the recorder at ${remote.base} records session ${document.session}, not ${name}`, 'Its live session is the only one it analyses; name that one.');
    }
    // Worst first within a poll, so --exit-on-first shows the alarm that stops it.
    const findings = [...document.findings].sort((a, b) => a.firstSeq - b.firstSeq || severityRank(b.severity) - severityRank(a.severity));
    if (printer.print(findings)) return finish(context, printer, options, 'a finding at or above --fail-on');
    since = document.newest ?? since;
    await sleep(options.intervalMs, options.signal);
  }
}
