import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findingKinds } from '../model/index.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { completionCandidates, filesDirective } from './completion.js';
import { buildProgram } from './main.js';
import { runCli } from './testing/run-cli.js';

// Shell completion: the candidates (commands, flags, option values, session names, finding kinds), and each shell's
// script run by the real shell against the real CLI, which it finds on PATH as kreplay.

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;

async function candidates(words: string[], sessions: string[] = ['incident-42', 'import-1']) {
  const program = await buildProgram({ out: () => undefined, err: () => undefined, isTTY: false }, {});
  return completionCandidates(program, words, { sessions: () => sessions });
}

describe('completion candidates', () => {
  it('completes commands, then each command\'s flags, without the hidden __complete', async () => {
    expect(await candidates([''])).toEqual(expect.arrayContaining(['sessions', 'import', 'record', 'check', 'export', 'replay', 'completion']));
    expect(await candidates([''])).not.toContain('__complete');
    expect(await candidates(['ex'])).toEqual(['export']);
    expect(await candidates(['check', '--fa'])).toEqual(['--fail-on']);
    expect(await candidates(['--db', 'x.db', 'import', '--ap'])).toEqual(['--append']);
  });

  it('completes option values: choices, severities, finding kinds item by item, files', async () => {
    expect(await candidates(['check', '--fail-on', ''])).toEqual(['info', 'warning', 'error']);
    expect(await candidates(['check', '--only', ''])).toEqual([...findingKinds]);
    expect(await candidates(['check', 'incident-42', '--skip', 'hot-loop,st'])).toEqual(['hot-loop,status-spec-race', 'hot-loop,stuck-finalizer', 'hot-loop,stale-read']);
    expect(await candidates(['export', 'x', '--format', ''])).toEqual(['json', 'markdown', 'html']);
    expect(await candidates(['export', 'x', '-o', ''])).toEqual([filesDirective]);
    expect(await candidates(['import', ''])).toEqual([filesDirective]);
    expect(await candidates(['completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });

  it('completes session names where a session goes, and nothing past the last argument', async () => {
    expect(await candidates(['replay', ''])).toEqual(['incident-42', 'import-1']);
    expect(await candidates(['check', '--json', 'inc'])).toEqual(['incident-42']);
    expect(await candidates(['import', 'a.json', '--session', 'imp'])).toEqual(['import-1']);
    expect(await candidates(['show', 'incident-42', ''])).toEqual([]);
  });
});

describe('completion scripts in real shells', { timeout: 60_000 }, () => {
  const tempDir = useTempDir();

  /** A database with two sessions and a `kreplay` on PATH that runs this checkout. */
  async function setup(): Promise<NodeJS.ProcessEnv> {
    const dir = tempDir();
    const db = join(dir, 'k.db');
    const store = openStore(db);
    for (const name of ['incident-42', 'import-1']) store.createSession({ name, source: 'demo', cluster: null, context: null, toolVersion: 'test', config: {} });
    store.close();
    const bin = join(dir, 'kreplay');
    writeFileSync(bin, `#!/bin/sh\ncd '${repoRoot}' && exec '${process.execPath}' --import tsx cli/run.ts "$@"\n`);
    chmodSync(bin, 0o755);
    const script = await runCli(['completion', 'bash']);
    expect(script.code).toBe(0);
    return { PATH: `${dir}:${process.env.PATH}`, KREPLAY_DB: db, HOME: dir };
  }

  it('bash: complete -p registers it, and COMP_WORDS calls give commands, flags and session names', async () => {
    const env = await setup();
    const run = (words: string[]) =>
      execFileSync('bash', ['--norc', '--noprofile', '-c', `source <(kreplay completion bash); complete -p kreplay; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _kreplay; printf '%s\\n' "\${COMPREPLY[@]}"`], { env, encoding: 'utf8' }).trim().split('\n');
    const commands = run(['kreplay', 're']);
    expect(commands[0]).toBe('complete -F _kreplay kreplay');
    expect(commands.slice(1)).toEqual(['record', 'replay']);
    expect(run(['kreplay', 'replay', '']).slice(1)).toEqual(['incident-42', 'import-1']);
    expect(run(['kreplay', 'check', 'incident-42', '--only', 'h']).slice(1)).toEqual(['hot-loop', 'hung-reconcile']);
    expect(run(['kreplay', 'check', '--fail-on', 'e']).slice(1)).toEqual(['error']);
  });

  it.skipIf(!has('zsh'))('zsh: the function gives the candidates to compadd', async () => {
    const env = await setup();
    const out = execFileSync('zsh', ['-f', '-c', `compdef() { :; }; compadd() { shift; print -l -- "$@"; }; _files() { print FILES; }; source <(kreplay completion zsh); words=(kreplay replay ''); CURRENT=3; _kreplay; words=(kreplay import ''); CURRENT=3; _kreplay`], { env, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(['incident-42', 'import-1', 'FILES']);
  });

  it.skipIf(!has('fish'))('fish: complete -C completes a command line', async () => {
    const env = await setup();
    const out = execFileSync('fish', ['--no-config', '-c', `kreplay completion fish | source; complete -C 'kreplay sh'; complete -C 'kreplay show '`], { env, encoding: 'utf8' });
    // fish sorts what it shows.
    expect(out.trim().split('\n')).toEqual(['show', 'import-1', 'incident-42']);
  });
});
