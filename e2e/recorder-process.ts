// `kreplay record` as a child process (`node --import tsx cli/run.ts record`), exactly as a user runs it: shared by
// the e2e files that record a real API server and read the database it writes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './harness.js';
export { freePort } from '../test/free-port.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RecorderOptions {
  readonly dbPath: string;
  readonly configPath: string;
  readonly kubeconfigPath: string;
  readonly session: string;
  /** The port the config's `server.listen` names: /readyz, SDK ingest and the audit webhook. */
  readonly listenPort: number;
}

export interface RunningRecorder {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly listenPort: number;
  log(): string;
}


export function startRecorder(options: RecorderOptions): RunningRecorder {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/run.ts', '--db', options.dbPath, 'record', '-c', options.configPath, '--kubeconfig', options.kubeconfigPath, '-s', options.session, '--log-level', 'debug'],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, listenPort: options.listenPort, log: () => output };
}

export async function recorderHealth(listenPort: number): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${listenPort}/readyz`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Waits until the recorder answers and the named resources have listed (a CRD's may not exist yet). */
export async function waitSynced(recorder: RunningRecorder, resources: readonly string[], timeoutMs = 150_000): Promise<void> {
  await eventually(async () => {
    const readyz = await recorderHealth(recorder.listenPort);
    if (!readyz) throw new Error(`the recorder does not answer yet\n${recorder.log().slice(-3000)}`);
    const watches = readyz.body['watches'] as { resource: string; synced: boolean }[];
    const missing = resources.filter((r) => !watches.some((w) => w.resource.startsWith(r) && w.synced));
    if (missing.length) throw new Error(`not synced yet: ${missing.join(', ')}\n${recorder.log().slice(-2000)}`);
  }, timeoutMs, 500);
}

export async function stopRecorder(recorder: RunningRecorder, signal: NodeJS.Signals): Promise<number | null> {
  recorder.child.kill(signal);
  return recorder.exited;
}
