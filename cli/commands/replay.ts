import type { Command } from 'commander';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { sessionControllerNames, type Finding } from '../../model/index.js';
import type { RecordAnnotation } from '../../replayer/index.js';
import type { AnalysisLoader } from '../../tui/index.js';
import { createContext, type CliContext } from '../context.js';
import { remoteRecorder } from '../remote.js';
import { mirrorRemoteSession } from './mirror.js';
import { ExitCode, UserError } from '../errors.js';
import { parsePositiveInt } from './sessions.js';

/**
 * `kreplay replay SESSION`: the terminal debugger. The UI is up in well under a second whatever the session's size;
 * the detectors (seconds to a minute on a million records) run in a worker thread that reads the same database
 * file through its own read-only connection, and their badges appear when they finish.
 *
 * This file is also that worker's entry point (see the bottom): the CLI is the one place allowed to wire the store
 * to the replayer.
 */

interface AnalysisRequest {
  readonly kreplayWorker: 'analyze';
  readonly dbPath: string;
  readonly sessionId: number;
  readonly controller: readonly string[];
  /** One worker for every run (`--follow`): its analysis stays alive and each run reads only what committed since. */
  readonly follow: boolean;
}

/** The TUI asks the worker for a run (the first starts on its own). */
interface RunRequest {
  readonly type: 'analyse';
}

type WorkerMessage =
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  | { readonly type: 'done'; readonly findings: Finding[]; readonly annotations: Array<[number, RecordAnnotation[]]> }
  | { readonly type: 'error'; readonly message: string };

/**
 * The worker's first code. Run from source (`tsx cli/run.ts`, the tests) this file is TypeScript, and a worker
 * does not inherit the parent's tsx loader on Node 20: register it first, then load this module.
 */
const workerBootstrap = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.tsLoader) (await import(workerData.tsLoader)).register();
  await import(workerData.entry);
})().catch((error) => parentPort.postMessage({ type: 'error', message: String((error && error.stack) || error) }));
`;

/**
 * Computes findings in a worker thread; aborting a run terminates it. `follow`: the worker outlives a run and the
 * next run goes on from the records the last one read (cli/followed-analysis.ts), instead of a new worker reading
 * the whole session again for every refresh.
 */
export function analysisInWorker(dbPath: string, sessionId: number, controller: readonly string[] = [], follow = false): AnalysisLoader {
  let kept: Worker | undefined;
  const start = (): Worker => {
    const request: AnalysisRequest = { kreplayWorker: 'analyze', dbPath, sessionId, controller: [...controller], follow };
    const worker = new Worker(workerBootstrap, {
      eval: true,
      workerData: { ...request, entry: import.meta.url, tsLoader: import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null },
      stdout: true,
      stderr: true,
    });
    // A kept worker waits between runs: it must not keep the process alive once the TUI has quit.
    if (follow) worker.unref();
    return worker;
  };
  return ({ signal, onProgress }) =>
    new Promise((resolve, reject) => {
      const fresh = kept === undefined;
      const worker = kept ?? start();
      if (follow) kept = worker;
      const end = (drop: boolean) => {
        signal.removeEventListener('abort', stop);
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (drop || !follow) {
          if (kept === worker) kept = undefined;
          void worker.terminate();
        }
      };
      const stop = () => end(true);
      const onMessage = (message: WorkerMessage) => {
        if (message.type === 'progress') return onProgress(message.done, message.total);
        if (message.type === 'done') {
          end(false);
          resolve({ findings: message.findings, annotations: new Map(message.annotations) });
        } else {
          end(true);
          reject(new Error(message.message));
        }
      };
      const onError = (error: Error) => {
        end(true);
        reject(error);
      };
      signal.addEventListener('abort', stop, { once: true });
      worker.on('message', onMessage);
      worker.on('error', onError);
      // A new worker starts its first run by itself.
      if (!fresh) worker.postMessage({ type: 'analyse' } satisfies RunRequest);
    });
}

/** `KIND/NS/NAME` or `KIND/NAME` (cluster-scoped). */
export function parseObjectOption(value: string): { kind: string; namespace: string | null; name: string } {
  const parts = value.split('/');
  if (parts.length === 3 && parts.every(Boolean)) return { kind: parts[0]!, namespace: parts[1]!, name: parts[2]! };
  if (parts.length === 2 && parts.every(Boolean)) return { kind: parts[0]!, namespace: null, name: parts[1]! };
  throw new UserError(`--object must be KIND/NAMESPACE/NAME or KIND/NAME, got "${value}"`, 'For example: --object Deployment/default/web');
}

export interface ReplaySessionOptions {
  readonly seq?: number | undefined;
  readonly object?: { kind: string; namespace: string | null; name: string } | undefined;
  /** Run the detectors in a worker thread (default true). */
  readonly analysis?: boolean;
  /** Findings already computed (`kreplay demo`): no worker then. */
  readonly findings?: readonly Finding[] | undefined;
  /** The session is being written (`--follow`): the timeline grows, the detectors re-run. */
  readonly follow?: boolean | undefined;
}

/**
 * Opens the TUI on a session of the context's database and resolves when the user quits. `kreplay replay` and
 * `kreplay demo` both call this; it refuses (exit 2) when stdin/stdout is not a terminal.
 */
export async function replaySession(context: CliContext, name: string, options: ReplaySessionOptions = {}): Promise<void> {
  if (!context.output.isTTY || !process.stdin.isTTY) {
    throw new UserError(
      'kreplay replay is an interactive terminal UI, and stdin/stdout is not a terminal',
      `For scripts and CI, \`kreplay check ${name}\` prints the findings and \`kreplay export ${name}\` writes a report; \`kreplay show ${name}\` summarises the session.`,
      ExitCode.usage,
    );
  }
  const store = context.openStore({ mustExist: true });
  try {
    const session = context.resolveSession(store, name);
    if (options.seq !== undefined && !store.record(session.id, options.seq)) {
      throw new UserError(`session ${session.name} has no record ${options.seq}`, `Run \`kreplay show ${session.name}\` to see its records.`);
    }
    const object = options.object;
    if (object && store.recordCount(session.id, { objectKind: object.kind, namespace: object.namespace ?? '', name: object.name }) === 0) {
      throw new UserError(`session ${session.name} has no records about ${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`, `Run \`kreplay show ${session.name}\` to list its objects.`);
    }
    // Loaded on demand: the other commands should not pay for React and Ink at startup. React picks its build when
    // first loaded: the development build (checks, warnings) renders several times slower.
    process.env.NODE_ENV ??= 'production';
    const { runReplay } = await import('../../tui/index.js');
    await runReplay({
      store,
      session,
      findings: options.findings,
      analysis: options.findings || options.analysis === false ? undefined : analysisInWorker(store.path, session.id, sessionControllerNames(session.config), options.follow ?? false),
      initialSeq: options.seq,
      initialObject: object,
      env: context.env,
      ...(options.follow ? { follow: { intervalMs: 1_000 } } : {}),
    });
  } finally {
    store.close();
  }
}

export function registerReplay(program: Command, context: CliContext): void {
  program
    .command('replay')
    .description('step through a session like a debugger: timeline, object diffs, watchpoints, findings (needs a terminal)')
    .argument('<session>', 'session name or id')
    .option('--seq <n>', 'start at this record')
    .option('--object <kind/ns/name>', 'show only this object at first (KIND/NAME when cluster-scoped)')
    .option('--no-analysis', 'do not run the detectors (no finding badges)')
    .option('--follow', 'the session is being recorded: the timeline grows and badges appear as records commit (T follows the tail)')
    .option('--from <url>', "with --follow: a running recorder's address (e.g. http://127.0.0.1:8090 after kubectl port-forward deploy/<controller> 8090)")
    .option('--token-file <file>', "with --from: file holding the recorder's bearer token (default: $KREPLAY_INGEST_TOKEN)")
    .action(async (name: string, options: { seq?: string; object?: string; analysis: boolean; follow?: boolean; from?: string; tokenFile?: string }) => {
      const replayOptions: ReplaySessionOptions = {
        seq: options.seq === undefined ? undefined : parsePositiveInt(options.seq, '--seq'),
        object: options.object === undefined ? undefined : parseObjectOption(options.object),
        analysis: options.analysis,
        follow: options.follow,
      };
      if (options.from === undefined) {
        if (options.tokenFile) throw new UserError('--token-file goes with --from');
        return replaySession(context, name, replayOptions);
      }
      if (!options.follow) throw new UserError('--from goes with --follow', `kreplay replay --follow ${name} --from ${options.from}; or kreplay pull ${options.from} ${name}, then kreplay replay ${name}`);
      const mirror = await mirrorRemoteSession(remoteRecorder(options.from, options.tokenFile, context.env), name);
      try {
        await replaySession(createContext({ db: mirror.dbPath, output: context.output, env: context.env }), mirror.sessionName, replayOptions);
      } finally {
        await mirror.stop();
      }
    });
}

// ---- the analysis worker ---------------------------------------------------------------------------------------

async function runAnalysisWorker(request: AnalysisRequest): Promise<void> {
  const port = parentPort!;
  try {
    const [{ openStore }, { FollowedAnalysis }] = await Promise.all([import('../../store/index.js'), import('../followed-analysis.js')]);
    const store = openStore(request.dbPath, { readonly: true });
    const followed = new FollowedAnalysis(store, request.sessionId, { annotate: true, controller: request.controller }, (done, total) =>
      port.postMessage({ type: 'progress', done, total } satisfies WorkerMessage),
    );
    let last: Extract<WorkerMessage, { type: 'done' }> | undefined;
    const run = () => {
      const { analysis } = followed.refresh();
      // Nothing committed since the last run: its result stands.
      if (analysis) last = { type: 'done', findings: analysis.findings, annotations: [...analysis.annotations].map(([seq, notes]) => [seq, [...notes]]) };
      port.postMessage(last!);
    };
    run();
    if (!request.follow) {
      store.close();
      return;
    }
    port.on('message', (message: RunRequest) => {
      if (message.type !== 'analyse') return;
      try {
        run();
      } catch (error) {
        port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerMessage);
      }
    });
  } catch (error) {
    port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerMessage);
  }
}

if (!isMainThread && (workerData as Partial<AnalysisRequest> | null)?.kreplayWorker === 'analyze') {
  void runAnalysisWorker(workerData as AnalysisRequest);
}
