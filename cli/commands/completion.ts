import { Argument, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openStore } from '../../store/index.js';
import { completionCandidates, completionScript, completionShells, type CompletionShell } from '../completion.js';
import type { CliContext } from '../context.js';

/** `kreplay completion bash|zsh|fish`, and the hidden `__complete` its scripts call (cli/completion.ts). */
export function registerCompletion(program: Command, context: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: commands, flags, session names and finding kinds')
    .addArgument(new Argument('<shell>', 'the shell').choices(completionShells))
    .addHelpText(
      'after',
      `
  bash:  source <(kreplay completion bash)          # or save it in ~/.local/share/bash-completion/completions/kreplay
  zsh:   source <(kreplay completion zsh)           # or save it as _kreplay in a directory of $fpath
  fish:  kreplay completion fish | source           # or save it in ~/.config/fish/completions/kreplay.fish`,
    )
    .action((shell: CompletionShell) => {
      context.output.out(completionScript(shell));
    });

  program
    .command('__complete', { hidden: true })
    .description('print the completion candidates of the last word (the completion scripts call this)')
    .argument('[words...]')
    .allowUnknownOption()
    .helpOption(false)
    .action((words: string[]) => {
      const candidates = completionCandidates(program, words.length ? words : [''], {
        sessions(db) {
          const path = db ? resolve(db) : context.dbPath();
          if (!existsSync(path)) return [];
          try {
            const store = openStore(path, { readonly: true });
            try {
              return store.listSessions().map((s) => s.name);
            } finally {
              store.close();
            }
          } catch {
            return [];
          }
        },
      });
      if (candidates.length) context.output.out(`${candidates.join('\n')}\n`);
    });
}
