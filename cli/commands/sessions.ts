import type { Command } from 'commander';
import { missingWalWarning, type CliContext } from '../context.js';
import { UserError } from '../errors.js';
import { formatBytes, formatSpan, table } from '../format.js';

export function registerSessions(program: Command, context: CliContext): void {
  program
    .command('sessions')
    .description('list the sessions in the database')
    .option('--json', 'print JSON instead of a table')
    .action((options: { json?: boolean }) => {
      const { sessions, walWarning } = context.withStore((store) => {
        const listed = store.listSessions();
        return { sessions: listed, walWarning: missingWalWarning(store, listed) };
      }, { mustExist: !options.json });
      if (walWarning) context.output.err(`kreplay: ${walWarning}\n`);
      if (options.json) {
        context.output.out(`${JSON.stringify({ sessions }, null, 2)}\n`);
        return;
      }
      if (sessions.length === 0) {
        context.output.out('No sessions yet. Try `kreplay demo`, `kreplay import` or `kreplay record`.\n');
        return;
      }
      context.output.out(
        table(
          ['NAME', 'SOURCE', 'SPAN', 'RECORDS', 'OBJECTS', 'SIZE', 'STATUS'],
          sessions.map((s) => [
            s.name,
            s.source,
            formatSpan(s.firstObservedAt ?? s.startedAt, s.lastObservedAt ?? s.endedAt),
            `${s.recordCount}`,
            `${s.objectCount}`,
            formatBytes(s.bytesOnDisk),
            s.partial ? `partial (${s.problems.length} problem${s.problems.length === 1 ? '' : 's'})` : s.endedAt ? 'complete' : 'open',
          ]),
        ),
      );
    });

  program
    .command('delete')
    .description('delete a session and everything recorded in it')
    .argument('<session>', 'session name or id')
    .action((name: string) => {
      context.withStore((store) => {
        const session = context.resolveSession(store, name);
        store.deleteSession(session.id);
        context.output.out(`deleted session ${session.name}\n`);
      }, { mustExist: true });
    });
}

export function parsePositiveInt(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new UserError(`${flag} must be a positive whole number, got "${value}"`);
  return parsed;
}
