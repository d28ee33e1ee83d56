import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { imageRuntime } from '../test/image-runtime.js';
import { freePort } from '../test/free-port.js';

/**
 * `kreplay record` as its own process against a fake API server, measured from outside through /proc: what the
 * recorder and burst benchmarks share. The built CLI when dist/ exists (else the sources through tsx, whose loader
 * adds ~100 MB of RSS that a deployed recorder does not have), with deploy/Dockerfile's V8 and malloc settings.
 *
 * KREPLAY_BENCH_CLI (a built run.js), KREPLAY_BENCH_NODE_ARGS (node flags), KREPLAY_BENCH_RECORDER_ARGS (extra CLI
 * arguments), KREPLAY_BENCH_STDERR (a file to copy the recorder's output to).
 */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const clockTicks = 100; // getconf CLK_TCK on Linux

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds the process has used (utime + stime). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Bytes the process caused to be written to storage (/proc/PID/io write_bytes): the WAL, checkpoints, the log. */
export function writeBytes(pid: number): number | undefined {
  try {
    const match = /^write_bytes:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}


export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * The recorder's node flags: deploy/Dockerfile's NODE_OPTIONS and ENTRYPOINT, read from the file (a small young
 * generation, V8's background threads off, a heap cap below the sidecar's limit), unless KREPLAY_BENCH_NODE_ARGS.
 */
export function recorderNodeArgs(): string[] {
  const flags = process.env['KREPLAY_BENCH_NODE_ARGS'];
  return flags !== undefined ? flags.split(' ').filter(Boolean) : imageRuntime().nodeArgs;
}

/** The image's other ENV lines (MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_: glibc reads them at start). */
export function recorderEnv(): Record<string, string> {
  return imageRuntime().env;
}

export interface RecorderProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly built: boolean;
  /** The last 20,000 characters of its stderr. */
  log(): string;
  /** Resolves once /readyz answers 200 (listed and watching). */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after 20 s. */
  stop(): Promise<void>;
}

/** Starts `kreplay record -c <dir>/recorder.yaml` for session `bench` in `dbPath`, watching `resources`. */
export async function startRecorder(options: { dir: string; dbPath: string; apiUrl: string; resources: string; namespaces: string; extraConfig?: string }): Promise<RecorderProcess> {
  const port = await freePort();
  writeFileSync(
    join(options.dir, 'recorder.yaml'),
    `resources: [${options.resources}]\nnamespaces: [${options.namespaces}]\nserver:\n  listen: 127.0.0.1:${port}\n${options.extraConfig ? `${options.extraConfig.trimEnd()}\n` : ''}`,
  );
  writeFileSync(
    join(options.dir, 'kubeconfig'),
    `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${options.apiUrl}\n    insecure-skip-tls-verify: true\nusers:\n- name: bench\n  user:\n    token: bench-token\ncontexts:\n- name: fake\n  context: {cluster: fake, user: bench}\ncurrent-context: fake\n`,
  );
  const cli = process.env['KREPLAY_BENCH_CLI'] ?? join(repoRoot, 'dist', 'cli', 'run.js');
  const built = existsSync(cli);
  const args = [...recorderNodeArgs(), ...(built ? [cli] : ['--import', 'tsx', join(repoRoot, 'cli', 'run.ts')])];
  const child = spawn(
    process.execPath,
    [...args, '--db', options.dbPath, 'record', '-c', join(options.dir, 'recorder.yaml'), '--kubeconfig', join(options.dir, 'kubeconfig'), '-s', 'bench', ...(process.env['KREPLAY_BENCH_RECORDER_ARGS'] ?? '').split(' ').filter(Boolean)],
    {
      cwd: repoRoot,
      stdio: ['ignore', process.env['KREPLAY_BENCH_STDERR'] ? 'pipe' : 'ignore', 'pipe'],
      env: { ...recorderEnv(), ...process.env, KUBECONFIG: '' },
    },
  );
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000)));
  const outputCopy = process.env['KREPLAY_BENCH_STDERR'];
  if (outputCopy) {
    const file = createWriteStream(outputCopy);
    child.stderr!.pipe(file);
    child.stdout!.pipe(file);
  }
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    child,
    pid: child.pid!,
    port,
    built,
    log: () => log,
    async ready(timeoutMs = 120_000) {
      for (const deadline = Date.now() + timeoutMs; ; ) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`the recorder did not become ready:\n${log}`);
        await sleep(200);
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
