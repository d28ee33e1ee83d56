import type { Command } from 'commander';
import { sessionControllerNames, type SessionRecord } from '../../model/index.js';
import { analyze } from '../../replayer/index.js';
import type { SessionStore } from '../../store/index.js';
import { demoSession, DEMO_SESSION_NAME } from '../demo/scenario.js';
import { readZooRuns, writeZooRuns } from '../demo/zoo-runs.js';
import type { CliContext } from '../context.js';
import { formatReport } from './check.js';
import { replaySession } from './replay.js';
import { toolVersion } from '../version.js';

/** Appending in batches keeps each transaction short, so a TUI already reading the database is never starved. */
const appendBatch = 1000;

/** Writes the demo session, replacing an earlier one; returns its id. */
export function writeDemoSession(store: SessionStore, records?: readonly SessionRecord[]): { id: number; records: number } {
  const demo = demoSession(toolVersion);
  const existing = store.findSession(DEMO_SESSION_NAME);
  if (existing) store.deleteSession(existing.id);
  const session = store.createSession(demo.session);
  const all = records ?? demo.records;
  for (let i = 0; i < all.length; i += appendBatch) store.append(session.id, all.slice(i, i + appendBatch));
  store.endSession(session.id, demo.endedAt);
  return { id: session.id, records: all.length };
}

export function registerDemo(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('record-free tour: write a realistic demo session (a WebApp operator with one incident per finding kind) and open it')
    .option('--no-open', 'do not open the replay TUI, print the findings instead (the default when stdout is not a terminal)')
    .option('--zoo', 'instead: two real recordings of one controller from the zoo (e2e/zoo), a healthy run and a hot-looping one')
    .addHelpText(
      'after',
      `
The session "demo" is generated (no cluster needed) and replaces an earlier one in the database
(--db, $KREPLAY_DB, or kreplay.db in your data directory). Then:
  kreplay replay demo                  step through it in the TUI
  kreplay check demo                   the findings, as CI would see them
  kreplay export demo -o demo.html     a self-contained report to share

With --zoo it writes zoo-healthy and zoo-hot-loop instead: two runs recorded on a real kube-apiserver by
kreplay record (watch, the controller's Go SDK, the audit webhook), bundled with kreplay (no cluster needed).
The controllers differ in one line; kreplay check finds nothing in the first and the hot loop in the second.`,
    )
    .action(async (options: { open?: boolean; zoo?: boolean }) => {
      if (options.zoo) {
        await zooDemo(context, options.open !== false);
        return;
      }
      const written = context.withStore((store) => writeDemoSession(store));
      const out = context.output.out;
      out(`Wrote session "${DEMO_SESSION_NAME}" (${written.records} records, 15 minutes of a WebApp operator) to ${context.dbPath()}\n`);
      // The findings are computed here either way: the TUI then opens with them, without an analysis worker.
      const analysis = context.withStore((store) => {
        const session = context.resolveSession(store, DEMO_SESSION_NAME);
        return analyze(store.records(session.id, { withObjects: 'lazy' }), { controller: sessionControllerNames(session.config) });
      });
      if (options.open !== false && context.output.isTTY && process.stdin.isTTY) {
        await replaySession(context, DEMO_SESSION_NAME, { findings: analysis.findings });
        return;
      }
      out('\n');
      // The report's last line is check's verdict ("… failing"): the demo stages these incidents on purpose.
      out(formatReport(DEMO_SESSION_NAME, analysis, 'warning').replace(/\n+[^\n]*(?:: failing\.|Nothing at or above \w+\.)\n$/, '\n'));
      out(`\nThe demo stages one incident per finding kind; each finding above says what to change in the operator.\n`);
      out(`
Next:
  kreplay replay ${DEMO_SESSION_NAME}                  step through the session in the TUI
  kreplay export ${DEMO_SESSION_NAME} -o demo.html     a self-contained HTML report
`);
    });
}

/** `kreplay demo --zoo`: the bundled zoo runs, each checked; the buggy one opened in the TUI on a terminal. */
async function zooDemo(context: CliContext, open: boolean): Promise<void> {
  const runs = readZooRuns().runs;
  const written = context.withStore((store) => writeZooRuns(store, runs));
  const out = context.output.out;
  for (const w of written) out(`Wrote session "${w.name}" (${w.records} records: ${w.about}) to ${context.dbPath()}\n`);
  const analyses = context.withStore((store) =>
    written.map((w) => {
      const session = context.resolveSession(store, w.name);
      return { name: w.name, analysis: analyze(store.records(session.id, { withObjects: 'lazy' }), { controller: sessionControllerNames(session.config) }) };
    }),
  );
  const buggy = analyses.find((a) => a.analysis.findings.some((f) => f.severity !== 'info')) ?? analyses[analyses.length - 1]!;
  if (open && context.output.isTTY && process.stdin.isTTY) {
    await replaySession(context, buggy.name, { findings: buggy.analysis.findings });
    return;
  }
  for (const { name, analysis } of analyses) out(`\n${formatReport(name, analysis, 'warning')}`);
  out(`
Next:
${analyses.map((a) => `  kreplay replay ${a.name}`.padEnd(40) + (a === buggy ? 'step through the buggy run in the TUI' : 'the healthy run, for comparison')).join('\n')}
  kreplay export ${buggy.name} -o zoo.html   a self-contained HTML report
`);
}
