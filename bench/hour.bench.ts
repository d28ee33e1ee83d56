import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './recorder-process.js';
import type { Figure } from './run.js';
import { ensureReplaySession } from './tui.bench.js';
import { benchNumber } from './env.js';

/**
 * Issue 15: an hour's recording is usable. A session of KREPLAY_BENCH_HOUR_RECORDS (default 3,600,000: an hour at
 * 1,000 events/s) written through the store with the TUI benchmark's generator, then each command in its own
 * process, timed with its peak RSS (GNU time): `kreplay check`, `kreplay sessions`, and the TUI benchmark's open and
 * step figures on that database (`npm run bench -- tui` with KREPLAY_BENCH_TUI_DB). Targets: check ≤ 30 s and
 * ≤ 500 MB, TUI open ≤ 1 s, step ≤ 50 ms.
 *
 * KREPLAY_BENCH_HOUR_DB keeps the database at that path (and reuses it when it already holds the session).
 */
const RECORDS = benchNumber('KREPLAY_BENCH_HOUR_RECORDS', 3_600_000);
const SESSION = 'bench-tui';

/**
 * Runs a command under GNU time: wall seconds, CPU seconds (user + system, every thread), peak RSS in MB, and its
 * stdout. On a shared machine the wall time measures the machine as much as the code; the CPU time does not.
 */
function timed(args: readonly string[], env: NodeJS.ProcessEnv = {}, okStatuses: readonly number[] = [0]): { seconds: number; cpuSeconds: number; rssMb: number; stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  // The last line is GNU time's (a TUI may leave terminal escapes before it on the same line).
  const match = /(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\s*$/.exec(result.stderr);
  const seconds = match ? Number(match[1]) : undefined;
  const kib = match ? Number(match[4]) : undefined;
  if (!okStatuses.includes(result.status ?? -1) || !match || seconds === undefined || kib === undefined) throw new Error(`${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { seconds, cpuSeconds: Math.round((Number(match[2]) + Number(match[3])) * 100) / 100, rssMb: Math.round(kib / 1024), stdout: result.stdout };
}

export default async function run(): Promise<Figure[]> {
  const keep = process.env['KREPLAY_BENCH_HOUR_DB'];
  const dir = keep ? undefined : mkdtempSync(join(tmpdir(), 'kreplay-bench-hour-'));
  const path = keep ?? join(dir!, 'hour.db');
  try {
    ensureReplaySession(path, RECORDS, SESSION, 'hour');
    const cli = join(repoRoot, 'dist', 'cli', 'run.js');
    const kreplay = existsSync(cli) ? [process.execPath, cli] : [process.execPath, '--import', 'tsx', join(repoRoot, 'cli', 'run.ts')];
    const loadBefore = loadavg()[0]!;
    // Exit 1 is `check` finding something (cli/errors.ts), which is what it is for.
    const check = timed([...kreplay, '--db', path, 'check', SESSION], {}, [0, 1]);
    const sessions = timed([...kreplay, '--db', path, 'sessions']);
    const tui = timed([process.execPath, '--import', 'tsx', join(repoRoot, 'bench', 'run.ts'), 'tui'], { KREPLAY_BENCH_TUI_DB: path });
    const tuiFigures = tui.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Figure)
      .map((figure) => ({ ...figure, name: figure.name.replace(/^tui\./, 'hour.tui.') }));
    return [
      { name: 'hour.records', value: RECORDS, unit: 'records' },
      { name: 'hour.check.wall_time', value: check.seconds, unit: 's' },
      { name: 'hour.check.peak_rss', value: check.rssMb, unit: 'MB' },
      { name: 'hour.check.cpu_time', value: check.cpuSeconds, unit: 's' },
      // The machine's 1-minute load average before check started: the wall times above depend on it.
      { name: 'hour.load_average', value: Math.round(loadBefore * 100) / 100, unit: 'load' },
      { name: 'hour.sessions.wall_time', value: sessions.seconds, unit: 's' },
      { name: 'hour.sessions.peak_rss', value: sessions.rssMb, unit: 'MB' },
      { name: 'hour.tui.peak_rss', value: tui.rssMb, unit: 'MB' },
      ...tuiFigures,
    ];
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
