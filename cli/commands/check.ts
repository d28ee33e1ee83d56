import { readFileSync } from 'node:fs';
import { styleText } from 'node:util';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CheckConfig, parseDuration, type CheckConfigInput } from '../../model/check-config.js';
import {
  terminalText,
  findingKindRegistry,
  findingKinds,
  namespacedName,
  severities,
  severityRank,
  type Coverage,
  type Finding,
  type FindingKind,
  type KindCoverage,
  type Severity,
  type SessionInfo,
  sessionControllerNames,
} from '../../model/index.js';
import { analyze, coverageHint, type Analysis, type ControllerIdentity } from '../../replayer/index.js';
import { colorsAllowed, severityColors } from '../../tui/palette.js';
import type { CliContext } from '../context.js';
import { remoteRecorder } from '../remote.js';
import { followLocal, followRemote } from './check-follow.js';
import { ExitCode, UserError } from '../errors.js';

interface CheckFlags {
  json?: boolean;
  failOn?: string;
  only?: string;
  skip?: string;
  config?: string;
  finalizerTimeout?: string;
  hotLoopWrites?: string;
  hotLoopWindow?: string;
  unreconciledAfter?: string;
  notfoundRetries?: string;
  conflictRetries?: string;
  staleReadGrace?: string;
  reconcileLag?: string;
  hungReconcileAfter?: string;
  controller?: string[];
  follow?: boolean;
  from?: string;
  tokenFile?: string;
  exitOnFirst?: boolean;
  interval?: string;
}

/** Threshold flags: flag name → config key. Flags win over the config file. */
const thresholdFlags = [
  ['finalizerTimeout', 'finalizerTimeout', 'duration'],
  ['hotLoopWrites', 'hotLoopWrites', 'count'],
  ['hotLoopWindow', 'hotLoopWindow', 'duration'],
  ['unreconciledAfter', 'unreconciledAfter', 'duration'],
  ['notfoundRetries', 'notFoundRetries', 'count'],
  ['conflictRetries', 'conflictRetries', 'count'],
  ['staleReadGrace', 'staleReadGrace', 'duration'],
  ['reconcileLag', 'reconcileLag', 'duration'],
  ['hungReconcileAfter', 'hungReconcileAfter', 'duration'],
] as const;

function kebab(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `--only a,b`: every id must be a registry kind, or exit 2 naming it and listing the valid ones. */
export function parseKinds(text: string, flag: string): FindingKind[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !(findingKinds as readonly string[]).includes(id));
  if (unknown.length) {
    throw new UserError(`${flag}: unknown finding kind${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}`, `Valid kinds: ${findingKinds.join(', ')}`);
  }
  if (ids.length === 0) throw new UserError(`${flag} needs at least one finding kind`, `Valid kinds: ${findingKinds.join(', ')}`);
  return ids as FindingKind[];
}

function readConfigFile(path: string): CheckConfigInput {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(`cannot read the config file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    // YAML 1.2 is a superset of JSON: one parser reads both.
    value = parseYaml(text);
  } catch (error) {
    throw new UserError(`${path} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new UserError(`${path} must hold a mapping (thresholds, only, skip, failOn, suppress)`);
  return value as CheckConfigInput;
}

/** Merges the config file and the flags, then validates the whole through the one schema. */
export function resolveCheckConfig(flags: CheckFlags): CheckConfig {
  const input: Record<string, unknown> = flags.config ? { ...readConfigFile(flags.config) } : {};
  const thresholds: Record<string, unknown> = { ...((input.thresholds as Record<string, unknown> | undefined) ?? {}) };
  for (const [flag, key, type] of thresholdFlags) {
    const value = flags[flag];
    if (value === undefined) continue;
    if (type === 'count') {
      if (!/^\d+$/.test(value)) throw new UserError(`${kebab(flag)}: "${value}" is not a whole number`);
      thresholds[key] = Number(value);
    } else thresholds[key] = value;
  }
  input.thresholds = thresholds;
  if (flags.controller?.length) input.controller = flags.controller;
  if (flags.only !== undefined) input.only = parseKinds(flags.only, '--only');
  if (flags.skip !== undefined) input.skip = parseKinds(flags.skip, '--skip');
  if (flags.failOn !== undefined) {
    if (!(severities as readonly string[]).includes(flags.failOn)) throw new UserError(`--fail-on: unknown severity "${flags.failOn}"`, `Use one of: ${severities.join(', ')}`);
    input.failOn = flags.failOn;
  }
  const parsed = CheckConfig.safeParse(input);
  if (!parsed.success) {
    const where = flags.config ? ` (flags and ${flags.config})` : '';
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new UserError(`invalid check options${where}: ${issues}`, 'See docs/findings.md for thresholds, kinds and suppressions.');
  }
  return parsed.data;
}

/** The `summary` of `check --json` (and of the recorder's GET /v1/findings): a public shape, keep its keys. */
export function checkSummary(session: Pick<SessionInfo, 'partial'>, analysis: Analysis, config: Pick<CheckConfig, 'failOn'>): Record<string, unknown> {
  return {
    records: analysis.stats.records,
    objects: analysis.stats.objects,
    kinds: analysis.stats.kinds,
    failOn: config.failOn,
    failing: failingFindings(analysis.findings, config.failOn).length,
    suppressed: analysis.stats.suppressed,
    byKind: analysis.stats.findings,
    partial: session.partial,
    problems: analysis.stats.problems,
    controller: analysis.stats.controller,
    coverage: analysis.stats.coverage,
  };
}

/** Findings that fail the check: not suppressed, at or above the severity. */
export function failingFindings(findings: readonly Finding[], failOn: Severity): Finding[] {
  const rank = severityRank(failOn);
  return findings.filter((f) => !f.suppressed && severityRank(f.severity) >= rank);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Whom the alarms are about, and how kreplay knows. */
export function describeController(controller: ControllerIdentity): string {
  const names = controller.names.join(', ');
  if (controller.basis === 'given') return `controller under debug: ${names}`;
  if (controller.basis === 'inferred') return `controller under debug: ${names} (inferred: the busiest writer that is not Kubernetes or a tool; set --controller to choose)`;
  return 'controller under debug: none identified (every writer is Kubernetes or a tool; set --controller to choose)';
}

/** Which kinds had no input, or only part of it: "no findings" claims nothing for those. */
export function describeCoverage(coverage: Coverage): string[] {
  const lines: string[] = [];
  const entries = Object.entries(coverage) as [FindingKind, KindCoverage][];
  const none = entries.filter(([, c]) => c.status === 'not-evaluated');
  const partly = entries.filter(([, c]) => c.status === 'partly');
  if (none.length) lines.push(`  not evaluated: ${none.map(([kind, c]) => `${kind} (${c.missing.join('; ')})`).join(', ')}`);
  if (partly.length) lines.push(`  partly evaluated: ${partly.map(([kind, c]) => `${kind} (${c.missing.join('; ')})`).join(', ')}`);
  if (lines.length) lines.push(`  (${coverageHint})`);
  return lines;
}

/** Paints a severity's text; the identity when output is not for a colour terminal. */
export type SeverityPaint = (severity: Severity, text: string) => string;
export const noPaint: SeverityPaint = (_severity, text) => text;

/** Severity colours on a terminal (the TUI's palette); none when piped, with NO_COLOR or TERM=dumb. */
export function severityPaint(isTTY: boolean, env: Record<string, string | undefined>): SeverityPaint {
  if (!isTTY || !colorsAllowed(env)) return noPaint;
  // styleText does not look at the stream or NO_COLOR on Node 20: the decision above is the whole of it.
  return (severity, text) => styleText([severityColors[severity], 'bold'], text);
}

/** The readable report: findings grouped by object, worst first inside each group. */
export function formatReport(sessionName: string, analysis: Analysis, failOn: Severity, paint: SeverityPaint = noPaint): string {
  const { findings, stats } = analysis;
  const lines: string[] = [];
  const bySeverity = severities
    .slice()
    .reverse()
    .map((s) => [s, findings.filter((f) => f.severity === s && !f.suppressed).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => paint(s, `${n} ${s}`));
  const suppressed = findings.filter((f) => f.suppressed).length;
  lines.push(
    `Session ${sessionName}: ${findings.length === 0 ? 'no findings' : plural(findings.length - suppressed, 'finding')}${bySeverity.length ? ` (${bySeverity.join(', ')})` : ''}${suppressed ? `, ${suppressed} suppressed` : ''}`,
  );
  lines.push(`  ${stats.records} records, ${stats.objects} objects${stats.firstTime ? `, ${stats.firstTime} → ${stats.lastTime}` : ''}; kinds checked: ${stats.kinds.length === findingKinds.length ? 'all' : stats.kinds.join(', ')}`);
  // Cluster strings (names, messages, controller names) pass through terminalText: never a raw escape sequence.
  lines.push(`  ${terminalText(describeController(stats.controller))}`);
  lines.push(...describeCoverage(stats.coverage));
  for (const problem of stats.problems) lines.push(`  note: ${terminalText(problem)}`);
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const o = finding.object;
    const key = `${o.kind} ${namespacedName(o.namespace, o.name)}${o.uid ? ` (uid ${o.uid})` : ''}`;
    const list = groups.get(key);
    if (list) list.push(finding);
    else groups.set(key, [finding]);
  }
  for (const [object, list] of groups) {
    lines.push('');
    lines.push(terminalText(`${object}  ${list[0]!.object.apiVersion}`));
    list.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.firstSeq - b.firstSeq);
    for (const f of list) {
      const span = f.firstSeq === f.lastSeq ? `seq ${f.firstSeq}` : `seq ${f.firstSeq}–${f.lastSeq}`;
      lines.push(`  ${paint(f.severity, f.severity.toUpperCase())}${' '.repeat(Math.max(0, 7 - f.severity.length))} ${f.kind} (${f.rule})  ${span}${f.count > 1 ? `  ×${f.count}` : ''}  — ${findingKindRegistry[f.kind].title}`);
      lines.push(`          ${terminalText(f.message)}`);
      for (const e of f.evidence.slice(0, 6)) lines.push(terminalText(`          #${e.seq}${e.resourceVersion ? ` rv ${e.resourceVersion}` : ''}: ${e.note}`));
      if (f.evidence.length > 6) lines.push(`          … ${f.evidence.length - 6} more evidence records (--json shows all)`);
      if (f.suppressed) lines.push(`          suppressed: ${terminalText(f.suppressed.reason)}`);
      else lines.push(`          fix: ${findingKindRegistry[f.kind].fix}`);
    }
  }
  const failing = failingFindings(findings, failOn).length;
  lines.push('');
  const blind = Object.values(stats.coverage).some((c) => c !== undefined && c.status !== 'evaluated');
  lines.push(failing ? `${plural(failing, 'finding')} at or above ${failOn}: failing.` : `Nothing at or above ${failOn}${blind ? ' in what this session could show (see "not evaluated" and "partly" above)' : ''}.`);
  return `${lines.join('\n')}\n`;
}

async function follow(context: CliContext, name: string, flags: CheckFlags, config: CheckConfig): Promise<void> {
  const intervalMs = flags.interval === undefined ? 1_000 : parseDuration(flags.interval);
  if (intervalMs === undefined || intervalMs <= 0) throw new UserError(`--interval: "${flags.interval}" is not a duration above 0 (e.g. 1s, 500ms)`);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  const options = { config, json: flags.json ?? false, exitOnFirst: flags.exitOnFirst ?? false, intervalMs, paint: severityPaint(context.output.isTTY, context.env), signal: abort.signal };
  try {
    if (flags.from) return await followRemote(context, remoteRecorder(flags.from, flags.tokenFile, context.env), name, options);
    if (flags.tokenFile) throw new UserError('--token-file goes with --from');
    const store = context.openStore({ mustExist: true });
    try {
      await followLocal(context, store, name, options);
    } finally {
      store.close();
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}

export function registerCheck(program: Command, context: CliContext): void {
  program
    .command('check')
    .description('run the detectors over a session and report findings (exit 1 when any is at or above --fail-on)')
    .argument('<session>', 'session name or id')
    .option('--json', 'print {"session", "summary", "findings"} as JSON')
    .option('--fail-on <severity>', `exit 1 when a finding at or above this severity is found: ${severities.join(', ')} (default: warning)`)
    .option('--only <kinds>', 'comma-separated finding kinds to run')
    .option('--skip <kinds>', 'comma-separated finding kinds not to run')
    .option('--config <file>', 'YAML or JSON file with thresholds, only/skip, failOn and suppressions')
    .option('--finalizer-timeout <duration>', 'stuck-finalizer: how long finalizers may hold a deleting object (default 5m)')
    .option('--hot-loop-writes <n>', 'hot-loop: writes (or reconciles) of one object by one manager ... (default 10)')
    .option('--hot-loop-window <duration>', '... within this window (default 60s)')
    .option('--unreconciled-after <duration>', 'unreconciled: how long a generation may stay unobserved (default 1m)')
    .option('--notfound-retries <n>', 'notfound-retry: NotFound outcomes in a row (default 3)')
    .option('--conflict-retries <n>', 'status-spec-race: 409 Conflicts in a row (default 3)')
    .option('--controller <name>', "the controller under debug: its field manager or audit user (repeatable); alarms are about it (default: the session's, else the busiest writer that is not Kubernetes or a tool)", (value: string, previous: string[] = []) => [...previous, value])
    .option('--stale-read-grace <duration>', 'stale-read: how long before a reconcile a newer version must have been delivered (default 1s)')
    .option('--reconcile-lag <duration>', 'reconcile-lag: how long a change may wait for its reconcile, and how long late changes may keep arriving (default 30s)')
    .option('--hung-reconcile-after <duration>', 'hung-reconcile: how long one reconcile may run (default 1m)')
    .option('--follow', 'keep going: print findings as they appear while a recorder writes the session (local database, or --from)')
    .option('--from <url>', "with --follow: a running recorder's address (e.g. http://127.0.0.1:8090 after kubectl port-forward deploy/<controller> 8090)")
    .option('--token-file <file>', "with --from: file holding the recorder's bearer token (default: $KREPLAY_INGEST_TOKEN)")
    .option('--exit-on-first', 'with --follow: exit 1 at the first finding at or above --fail-on (smoke tests in a pipeline)')
    .option('--interval <duration>', 'with --follow: how often to look for new records or findings (default 1s)')
    .addHelpText(
      'after',
      `\nFinding kinds: ${findingKinds.join(', ')}\nExit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage or input error.\nSuppress per object in the config file (suppress: [{finding, kind, namespace, name, reason}]) or with the\nannotation kreplay.dev/suppress: "<kind>[,<kind>]: <reason>". Suppressed findings are listed, never fail.`,
    )
    .action(async (name: string, flags: CheckFlags) => {
      const config = resolveCheckConfig(flags);
      if (flags.follow) return follow(context, name, flags, config);
      if (flags.from || flags.exitOnFirst || flags.interval) throw new UserError('--from, --exit-on-first and --interval go with --follow');
      const { session, analysis } = context.withStore(
        (store) => {
          const session = context.resolveSession(store, name);
          const controller = config.controller.length ? config.controller : sessionControllerNames(session.config);
          const analysis = analyze(store.records(session.id, { withObjects: 'lazy' }), { parsedConfig: config, controller });
          return { session, analysis };
        },
        { mustExist: true },
      );
      const failing = failingFindings(analysis.findings, config.failOn);
      if (flags.json) {
        const summary = checkSummary(session, analysis, config);
        context.output.out(`${JSON.stringify({ session: session.name, summary, findings: analysis.findings }, null, 2)}\n`);
      } else {
        let report = formatReport(session.name, analysis, config.failOn, severityPaint(context.output.isTTY, context.env));
        if (session.partial) report = `Note: session ${session.name} is partial (records were skipped or dropped); findings may be incomplete.\n${report}`;
        context.output.out(report);
      }
      if (failing.length > 0) process.exitCode = ExitCode.findings;
    });
}
