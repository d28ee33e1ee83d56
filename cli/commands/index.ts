import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerCheck } from './check.js';
import { registerExport } from './export.js';
import { registerDemo } from './demo.js';
import { registerDiff } from './diff.js';
import { registerSessions } from './sessions.js';
import { registerShow } from './show.js';
import { registerImport } from './import.js';
import { registerProxy } from './proxy.js';
import { registerPull } from './pull.js';
import { registerRecord } from './record.js';
import { registerRbac } from './rbac.js';
import { registerReplay } from './replay.js';
import { registerSnapshot } from './snapshot.js';
import { registerCompletion } from './completion.js';

/** Every command of the CLI. Each lives in its own file and registers itself on the program. */
export function registerCommands(program: Command, context: CliContext): void {
  registerSessions(program, context);
  registerShow(program, context);
  registerImport(program, context);
  registerRecord(program, context);
  registerProxy(program, context);
  registerPull(program, context);
  registerRbac(program, context);
  registerCheck(program, context);
  registerDiff(program, context);
  registerExport(program, context);
  registerDemo(program, context);
  registerReplay(program, context);
  registerSnapshot(program, context);
  registerCompletion(program, context);
}
