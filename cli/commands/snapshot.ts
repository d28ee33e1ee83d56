import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../format.js';

export function registerSnapshot(program: Command, context: CliContext): void {
  program
    .command('snapshot')
    .description('write a consistent copy of the database to one file, safe while the recorder is writing')
    .argument('<out.db>', 'the file to write (must not exist)')
    .addHelpText(
      'after',
      `
While kreplay records, recent data is in kreplay.db-wal, not in kreplay.db: copying kreplay.db alone gives an
empty or truncated database. A snapshot is one self-contained file (no -wal) with every committed record:

  kubectl exec -n team-a <pod> -c recorder -- kreplay --db /var/lib/kreplay/kreplay.db snapshot /tmp/kreplay.db
  kubectl cp -n team-a <pod>:/tmp/kreplay.db ./kreplay.db -c recorder
  kubectl exec -n team-a <pod> -c recorder -- rm /tmp/kreplay.db`,
    )
    .action((out: string) => {
      const target = resolve(out);
      if (existsSync(target)) throw new UserError(`${target} already exists`, 'Name a new file: a snapshot never overwrites one.');
      context.withStore((store) => {
        if (resolve(store.path) === target) throw new UserError('the snapshot must be a different file from the database');
        store.snapshot(target);
      }, { mustExist: true });
      context.output.err(`wrote a snapshot of ${context.dbPath()} to ${target} (${formatBytes(statSync(target).size)})\n`);
    });
}
