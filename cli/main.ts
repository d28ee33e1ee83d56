import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { DatabaseTooNewError } from '../store/index.js';
import { createContext, type Output } from './context.js';
import { ExitCode, UserError } from './errors.js';
import { registerCommands } from './commands/index.js';
import { toolVersion } from './version.js';

export function buildProgram(output: Output, env: NodeJS.ProcessEnv): Command {
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
  registerCommands(program, context);
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
  if (error instanceof DatabaseTooNewError) {
    output.err(`kreplay: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof ZodError) {
    output.err(`kreplay: invalid input:\n${error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`).join('\n')}\n`);
    return ExitCode.usage;
  }
  const err = error as NodeJS.ErrnoException;
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
  const program = buildProgram(output, env);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return reportError(error, output);
  }
}
