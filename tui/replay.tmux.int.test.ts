import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findingKindRegistry, findingKinds } from '../model/index.js';
import { useTempDir } from '../test/temp.js';
import { findingBadges } from './findings-index.js';

/**
 * The whole `kreplay replay` flow in a real terminal: tmux runs the CLI on the demo session (written by
 * `kreplay demo --no-open`, which has one incident per finding kind), the test types keys with send-keys and reads
 * the screen with capture-pane. It checks what a user sees after stepping to a finding.
 */
const run = promisify(execFile);
const repo = fileURLToPath(new URL('..', import.meta.url));
const tmux = '/usr/bin/tmux';
// A private tmux server: never touches the user's sessions, and is killed at the end.
const socket = `kreplay-test-${process.pid}`;
const target = 'replay';

function tmuxCmd(...args: string[]): string {
  return execFileSync(tmux, ['-L', socket, ...args], { encoding: 'utf8' });
}

function screen(): string {
  return tmuxCmd('capture-pane', '-p', '-t', target);
}

async function waitFor(predicate: (text: string) => boolean, what: string, timeoutMs = 90_000): Promise<string> {
  const started = Date.now();
  let text = '';
  while (Date.now() - started < timeoutMs) {
    text = screen();
    if (predicate(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}; the screen shows:\n${text}`);
}

function keys(...sequence: string[]): void {
  tmuxCmd('send-keys', '-t', target, ...sequence);
}

const header = (text: string) => text.split('\n')[0] ?? '';
const cursorRow = (text: string) => text.split('\n').find((line) => line.startsWith('▶')) ?? '';

describe.skipIf(!existsSync(tmux))('kreplay replay in a real terminal (tmux)', () => {
  const tempDir = useTempDir();

  afterAll(() => {
    try {
      tmuxCmd('kill-server');
    } catch {
      // already gone
    }
  });

  it('opens at 80×24, steps to a finding and explains it', { timeout: 300_000 }, async () => {
    const db = join(tempDir(), 'kreplay.db');
    const cli = ['--import', 'tsx', join(repo, 'cli/run.ts'), '--db', db];
    await run(process.execPath, [...cli, 'demo', '--no-open'], { cwd: repo, env: { ...process.env, NO_COLOR: '1' } });

    // Ink writes nothing until exit when it thinks it runs in CI: the terminal must not look like CI.
    const command = ['env', '-u', 'CI', '-u', 'GITHUB_ACTIONS', 'TERM=xterm-256color', process.execPath, ...cli, 'replay', 'demo'].map((a) => `'${a}'`).join(' ');
    tmuxCmd('new-session', '-d', '-s', target, '-x', '80', '-y', '24', `cd '${repo}' && ${command}; echo "exit=$?"; sleep 600`);

    let text = await waitFor((t) => header(t).includes('kreplay') && header(t).includes('seq 1 '), 'the first frame');
    expect(text).toContain('Timeline');
    expect(text).toContain('1 Diff');
    expect(text.trimEnd().split('\n').length).toBeLessThanOrEqual(24);

    // The detectors run in a worker thread; the header shows their verdict when they finish.
    text = await waitFor((t) => /✖ \d+|▲ \d+/.test(header(t)), 'the analysis', 120_000);

    keys('f');
    text = await waitFor((t) => !header(t).includes('seq 1 ') && cursorRow(t) !== '', 'a step to the first finding');
    const badges = Object.values(findingBadges);
    expect(badges.some((badge) => cursorRow(text).includes(badge))).toBe(true);

    keys('4');
    text = await waitFor((t) => t.includes('Fix:'), 'the findings pane');
    const titles = findingKinds.map((kind) => findingKindRegistry[kind].title);
    expect(titles.some((title) => text.includes(title))).toBe(true);

    // Into the findings pane, Enter jumps to the selected finding's first evidence record.
    keys('Tab');
    keys('Enter');
    text = await waitFor((t) => /evidence \d+\/\d+/.test(t), "the jump to evidence");

    keys('?');
    text = await waitFor((t) => t.includes('Keys') && t.includes('reverse-continue'), 'the help');
    keys('Escape');
    await waitFor((t) => t.includes('Timeline'), 'the help to close');

    keys('q');
    await waitFor((t) => t.includes('exit=0'), 'the exit');
  });
});

describe.skipIf(!existsSync(tmux))('kreplay replay --follow in a real terminal (tmux)', () => {
  const tempDir = useTempDir();
  const followTarget = 'follow';

  afterAll(() => {
    try {
      tmuxCmd('kill-session', '-t', followTarget);
    } catch {
      // already gone
    }
  });

  it('shows records another process commits while it is open, and T follows the tail', { timeout: 300_000 }, async () => {
    const db = join(tempDir(), 'kreplay.db');
    const cli = ['--import', 'tsx', join(repo, 'cli/run.ts'), '--db', db];
    await run(process.execPath, [...cli, 'demo', '--no-open'], { cwd: repo, env: { ...process.env, NO_COLOR: '1' } });
    const command = ['env', '-u', 'CI', '-u', 'GITHUB_ACTIONS', 'TERM=xterm-256color', process.execPath, ...cli, 'replay', '--follow', 'demo'].map((a) => `'${a}'`).join(' ');
    tmuxCmd('new-session', '-d', '-s', followTarget, '-x', '120', '-y', '30', `cd '${repo}' && ${command}; sleep 600`);
    const shown = () => tmuxCmd('capture-pane', '-p', '-t', followTarget);
    const until = async (predicate: (text: string) => boolean, what: string) => {
      const started = Date.now();
      while (!predicate(shown())) {
        if (Date.now() - started > 120_000) throw new Error(`timed out waiting for ${what}; the screen shows:\n${shown()}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return shown();
    };
    let text = await until((t) => header(t).includes('LIVE (T: follow)') && /✖ \d+|▲ \d+/.test(header(t)), 'the first frame and the analysis');
    const total = /\/([\d,]+)/.exec(header(text))![1]!.replace(/,/g, '');
    tmuxCmd('send-keys', '-t', followTarget, 'T');
    text = await until((t) => header(t).includes('● LIVE'), 'following the tail');
    // Another process commits to the session, as a recorder does.
    const { openStore } = await import('../store/index.js');
    const store = openStore(db);
    try {
      store.append(store.findSession('demo')!.id, [{ record: 'marker', observedAt: '2026-11-24T14:17:11.000Z', origin: 'watch', marker: 'gap', message: 'committed while followed' }]);
    } finally {
      store.close();
    }
    const next = Number(total) + 1;
    text = await until((t) => header(t).includes(`${next.toLocaleString('en-US')}/${next.toLocaleString('en-US')}`), 'the new record at the cursor');
    expect(text).toContain('committed while followed');
  });
});

describe('kreplay replay without a terminal', () => {
  const tempDir = useTempDir();

  it('refuses with exit 2 and points at check and export', { timeout: 120_000 }, async () => {
    const db = join(tempDir(), 'kreplay.db');
    const cli = ['--import', 'tsx', join(repo, 'cli/run.ts'), '--db', db];
    await run(process.execPath, [...cli, 'demo', '--no-open'], { cwd: repo });
    const result = await run(process.execPath, [...cli, 'replay', 'demo'], { cwd: repo }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('not a terminal');
    expect(result.stderr).toContain('kreplay check demo');
    expect(result.stderr).toContain('kreplay export demo');
  });
});
