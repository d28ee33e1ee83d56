import type { Command, Option } from 'commander';
import { findingKinds, severities } from '../model/index.js';

/**
 * Shell completion, the kubectl/helm convention: `kreplay completion bash|zsh|fish` prints a script that asks
 * `kreplay __complete -- <words so far>` for the candidates of the last word, so the script stays small and the
 * candidates always match this build's commands and flags, the database's sessions and the finding kinds.
 *
 * The answer is one candidate per line, already filtered by the word's prefix; a first line `:files` asks the shell
 * to complete file names instead (import's files, --config, -o).
 */

export const completionShells = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof completionShells)[number];

export const filesDirective = ':files';

/** Where the candidates that are not in the program come from. */
export interface CompletionSources {
  /** Session names in the database (`--db` from the words, else the default database); [] when there is none. */
  sessions(db: string | undefined): readonly string[];
}

/** Option values people pick from a list: a flag's choices, and these. */
const valueLists: Readonly<Record<string, readonly string[]>> = {
  '--fail-on': severities,
  '--only': findingKinds,
  '--skip': findingKinds,
  '--log-level': ['debug', 'info', 'warn', 'error'],
};
/** Option values that are files. */
const fileOptions = new Set(['--config', '-c', '--output', '-o', '--kubeconfig', '--token-file', '--db']);
/** Option values that are session names. */
const sessionOptions = new Set(['--session', '-s']);
/** Commands whose arguments are files. */
const fileArguments = new Set(['import', 'snapshot']);

function optionFor(command: Command, word: string): Option | undefined {
  return command.options.find((o) => o.long === word || o.short === word);
}

function takesValue(option: Option | undefined): boolean {
  return option !== undefined && (option.required || option.optional);
}

function flagsOf(command: Command): string[] {
  const flags: string[] = [];
  for (const option of command.options) {
    if (option.hidden) continue;
    if (option.long) flags.push(option.long);
    if (option.short) flags.push(option.short);
  }
  return [...flags, '--help'];
}

/**
 * The candidates for the last of `words` (the words after `kreplay`, the last one being typed, maybe empty).
 * Comma-separated lists (`--only hot-loop,st`) complete their last item.
 */
export function completionCandidates(program: Command, words: readonly string[], sources: CompletionSources): string[] {
  const current = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  let db: string | undefined;
  let i = 0;
  // Global options before the command.
  for (; i < before.length && before[i]!.startsWith('-'); i++) {
    if (before[i] === '--db') db = before[++i];
  }
  const filter = (list: readonly string[]) => [...new Set(list)].filter((c) => c.startsWith(current));
  const visible = program.commands.filter((c) => !c.name().startsWith('__'));
  if (i >= before.length) {
    if (before[before.length - 1] === '--db') return [filesDirective];
    return current.startsWith('-') ? filter(flagsOf(program)) : filter(visible.map((c) => c.name()));
  }
  const name = before[i]!;
  const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
  if (!command) return [];
  const rest = before.slice(i + 1);
  const previous = rest[rest.length - 1];
  if (previous && previous.startsWith('-')) {
    const option = optionFor(command, previous);
    if (takesValue(option)) {
      if (option!.long === '--db') db = current;
      const list = option!.argChoices ?? valueLists[option!.long ?? ''];
      if (list) {
        const comma = current.lastIndexOf(',');
        const head = comma < 0 ? '' : current.slice(0, comma + 1);
        const tail = current.slice(comma + 1);
        return list.filter((v) => v.startsWith(tail)).map((v) => head + v);
      }
      if (fileOptions.has(previous) || fileOptions.has(option!.long ?? '')) return [filesDirective];
      if (sessionOptions.has(previous)) return filter(sources.sessions(db));
      return [];
    }
  }
  if (current.startsWith('-')) return filter(flagsOf(command));
  // Positional arguments: what the command's next argument is.
  let positional = 0;
  for (let k = 0; k < rest.length; k++) {
    const word = rest[k]!;
    if (word.startsWith('-')) {
      if (takesValue(optionFor(command, word))) k++;
      continue;
    }
    positional++;
  }
  const args = command.registeredArguments;
  const arg = args[Math.min(positional, args.length - 1)];
  if (!arg || (positional >= args.length && !arg.variadic)) return [];
  if (command.name() === 'completion') return filter(completionShells);
  if (fileArguments.has(command.name())) return [filesDirective];
  if (arg.name() === 'session') return filter(sources.sessions(db));
  return [];
}

/** The script for one shell. `bin` is the command the script runs (kreplay). */
export function completionScript(shell: CompletionShell, bin = 'kreplay'): string {
  switch (shell) {
    case 'bash':
      return `# kreplay completion for bash: source <(kreplay completion bash), or save it in
# /etc/bash_completion.d/kreplay (or ~/.local/share/bash-completion/completions/kreplay)
_kreplay() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out
  out=$(${bin} __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  if [[ "\${out%%$'\\n'*}" == "${filesDirective}" ]]; then
    compopt -o filenames 2>/dev/null
    local IFS=$'\\n'
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
  fi
  local IFS=$'\\n'
  COMPREPLY=($out)
}
complete -F _kreplay ${bin}
`;
    case 'zsh':
      return `#compdef ${bin}
# kreplay completion for zsh: source <(kreplay completion zsh), or save it as _kreplay in a directory of $fpath
_kreplay() {
  local out
  out=$(${bin} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  if [[ "\${out%%$'\\n'*}" == "${filesDirective}" ]]; then
    _files
    return
  fi
  local -a candidates
  candidates=("\${(@f)out}")
  compadd -- "\${candidates[@]}"
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _kreplay "$@"
else
  compdef _kreplay ${bin}
fi
`;
    case 'fish':
      return `# kreplay completion for fish: kreplay completion fish | source, or save it in
# ~/.config/fish/completions/kreplay.fish
function __kreplay_complete
    set -l tokens (commandline -opc) (commandline -ct)
    set -e tokens[1]
    set -l out (${bin} __complete -- $tokens 2>/dev/null)
    if test "$out[1]" = "${filesDirective}"
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c ${bin} -f -a '(__kreplay_complete)'
`;
  }
}
