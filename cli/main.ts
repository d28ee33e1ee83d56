import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { DatabaseTooNewError, DatabaseUnreadableError, MissingWalError } from '../store/index.js';
import { createContext, type Output } from './context.js';
import { ExitCode, UserError } from './errors.js';
import { toolVersion } from './version.js';

/**
 * The command a command line runs: its first word that is not an option (or `--db`'s value). `kreplay record` loads
 * only the record command: the sidecar then does not carry the replayer, exporters, importers and TUI code in its
 * heap (~4 MB of resident memory).
 */
export function commandOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--db') i += 1;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

export async function buildProgram(output: Output, env: NodeJS.ProcessEnv, only?: 'record'): Promise<Command> {
  const program = new Command('kreplay')
    .description('Flight recorder and replay debugger for Kubernetes controllers')
    .version(toolVersion, '-V, --version')
    .option('--db <path>', 'the kreplay database file (default: $KREPLAY_DB, else kreplay.db in your data directory)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .exitOverride();
  const context = createContext({
    get db() {
      return program.opts<{ db?: string }>().db;
    },
    output,
    env,
  });
  if (only === 'record') (await import('./commands/record.js')).registerRecord(program, context);
  else (await import('./commands/index.js')).registerCommands(program, context);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) });
  return program;
}

/** The one error handler: what was wrong, where, and what to do; then a documented exit code. */
export function reportError(error: unknown, output: Output): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof UserError) {
    output.err(`kreplay: ${error.message}\n`);
    if (error.hint) output.err(`  ${error.hint}\n`);
    return error.exitCode;
  }
  if (error instanceof DatabaseTooNewError || error instanceof MissingWalError || error instanceof DatabaseUnreadableError) {
    output.err(`kreplay: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof ZodError) {
    output.err(`kreplay: invalid input:\n${error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n')}\n`);
    return ExitCode.usage;
  }
  const err = error as NodeJS.ErrnoException;
  if (err?.code === 'SQLITE_READONLY') {
    output.err(`kreplay: the database is read-only here (${err.message}): this command writes to it, and nothing was written.\n  Run it where the file and its folder are writable, or point --db / KREPLAY_DB at a copy.\n`);
    return ExitCode.usage;
  }
  if (err?.code === 'SQLITE_NOTADB' || err?.code === 'SQLITE_CORRUPT') {
    output.err(`kreplay: the database file is not a kreplay database or is damaged (${err.message})\n`);
    return ExitCode.usage;
  }
  output.err(`kreplay: internal error: ${err?.stack ?? String(error)}\n  Please report this with the command you ran.\n`);
  return ExitCode.internal;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const output: Output = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stdout.isTTY),
  };
  const program = await buildProgram(output, env, commandOf(argv) === 'record' ? 'record' : undefined);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return reportError(error, output);
  }
}
