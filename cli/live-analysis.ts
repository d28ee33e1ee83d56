import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { CheckConfig } from '../model/check-config.js';
import { sessionControllerNames, type Finding, type SessionInfo } from '../model/index.js';
import { AnalyserGoneError, type SessionAnalyser, type SessionAnalysisFactory, type SessionAnalysisRun } from '../recorder/live-findings.js';
import type { DecodedBodies } from '../store/index.js';
import type { SessionReports } from '../recorder/read-routes.js';
import { createAnalyzer } from '../replayer/index.js';
import { checkSummary } from './commands/check.js';
import { buildReport, generatedAt } from './commands/export.js';

/**
 * What the recorder's online detection runs (recorder/live-findings.ts): `kreplay check`'s analysis with the same
 * options resolved the same way (the config's controller, else the session's), and its `--json` summary. Wired here
 * because the recorder may not import the replayer (STYLE.md's dependency rules).
 */
export function checkAnalysis(config: CheckConfig): SessionAnalysisFactory {
  return (session) => {
    const controller = config.controller.length ? config.controller : sessionControllerNames(session.config);
    const analyzer = createAnalyzer({ parsedConfig: config, controller });
    return {
      push: (record) => analyzer.push(record),
      report: (now) => {
        const analysis = analyzer.report();
        return { findings: analysis.findings, summary: checkSummary(now, analysis, config) };
      },
    };
  };
}

/** The recorder's json/markdown/html exports: `kreplay export SESSION --format F` of the whole session. */
export function exportReports(env: NodeJS.ProcessEnv): SessionReports {
  return {
    render: (store, session, format) =>
      buildReport(store, session, {
        format,
        window: { objects: [] },
        windowText: { from: null, to: null },
        redactPaths: [],
        summary: false,
        fullReportHint: `kreplay export ${session.name} --format markdown`,
        generatedAt: generatedAt(env),
      }).chunks,
  };
}

// ---- off the recorder's thread ---------------------------------------------------------------------------------

interface WorkerRequest {
  readonly id: number;
  readonly session: SessionInfo;
  readonly throughSeq: number;
  readonly changedFromSeq?: number | undefined;
}

type WorkerReply =
  | { readonly id: number; readonly findings: Finding[]; readonly summary: Record<string, unknown>; readonly busyMs: number }
  | { readonly id: number; readonly error: string };

interface WorkerSetup {
  readonly kreplayWorker: 'live-analysis';
  readonly dbPath: string;
  /** Already parsed (plain data: it crosses to the worker as it is). */
  readonly config: CheckConfig;
}

/**
 * The worker's old generation: a heap of its own next to the recorder's (the image caps that at 136 MB, and the
 * container at 256 MiB); 96 MB holds the analysis of ~20,000 objects while their per-object rings fill.
 */
const defaultWorkerHeapMb = 96;

/** The worker's first code: from source (tsx, the tests) it registers the TypeScript loader first (as replay.ts). */
const workerBootstrap = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  if (workerData.tsLoader) (await import(workerData.tsLoader)).register();
  await import(workerData.entry);
})().catch((error) => parentPort.postMessage({ id: 0, error: String((error && error.stack) || error) }));
`;

/**
 * `check`'s analysis in one long-lived worker thread with its own read-only connection to the recorder's database
 * file: one pass over the records per run (no chunking, so deltas decode in sequence), and the recorder's event loop
 * never waits for it.
 */
export function checkAnalysisInWorker(config: CheckConfig, dbPath: string, limits: { maxHeapMb?: number } = {}): SessionAnalyser {
  const setup: WorkerSetup = { kreplayWorker: 'live-analysis', dbPath, config };
  const maxHeapMb = limits.maxHeapMb ?? defaultWorkerHeapMb;
  const worker = new Worker(workerBootstrap, {
    eval: true,
    workerData: { ...setup, entry: import.meta.url, tsLoader: import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null },
    // The sidecar's memory: a small young generation, as the recorder's own (deploy/Dockerfile's NODE_OPTIONS), and
    // an old generation of its own size: past it the worker alone ends (ERR_WORKER_OUT_OF_MEMORY), not the process.
    resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: maxHeapMb },
  });
  worker.unref();
  const pending = new Map<number, { resolve: (reply: WorkerReply) => void }>();
  let next = 1;
  let failed: Error | undefined;
  const failAll = (error: Error) => {
    if (failed) return; // an 'error' is followed by its 'exit': the first says what happened
    failed = error;
    for (const { resolve } of pending.values()) resolve({ id: 0, error: error.message });
    pending.clear();
  };
  worker.on('message', (reply: WorkerReply) => {
    if (reply.id === 0 && 'error' in reply) return failAll(new AnalyserGoneError(`the analysis worker could not start: ${reply.error}`));
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
  });
  worker.on('error', (error: NodeJS.ErrnoException) =>
    failAll(new AnalyserGoneError(error.code === 'ERR_WORKER_OUT_OF_MEMORY' ? `the analysis worker ran out of its ${maxHeapMb} MB heap (--detect-worker)` : `the analysis worker failed: ${error.message}`)),
  );
  worker.on('exit', (code) => failAll(new AnalyserGoneError(`the analysis worker exited (code ${code})`)));
  return {
    async analyse(session, throughSeq, changedFromSeq) {
      if (failed) throw failed;
      const id = next++;
      const reply = await new Promise<WorkerReply>((resolve) => {
        pending.set(id, { resolve });
        worker.postMessage({ id, session, throughSeq, changedFromSeq } satisfies WorkerRequest);
      });
      // A reply the worker's end made up: say what ended it (the analyser is gone for good).
      if ('error' in reply) throw failed ?? new Error(reply.error);
      return reply;
    },
    async close() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

async function serveLiveAnalysis(setup: WorkerSetup): Promise<void> {
  const port = parentPort!;
  const { openStore, DecodedBodies } = await import('../store/index.js');
  // A small page cache, as the recorder's own connection has (cli/commands/record.ts): the OS caches the file.
  const store = openStore(setup.dbPath, { readonly: true, cacheKiB: 2048 });
  const factory = checkAnalysis(setup.config);
  /** The analysis stays alive between requests: each reads only the records after the last one's. */
  let live: { sessionId: number; run: SessionAnalysisRun; throughSeq: number; bodies: DecodedBodies } | undefined;
  port.on('message', (request: WorkerRequest) => {
    try {
      const started = performance.now();
      const { session, throughSeq, changedFromSeq } = request;
      // A new segment, or a row already read that changed (a merged API request): read the session again.
      if (!live || live.sessionId !== session.id || throughSeq < live.throughSeq || (changedFromSeq !== undefined && changedFromSeq <= live.throughSeq)) {
        live = { sessionId: session.id, run: factory(session), throughSeq: 0, bodies: new DecodedBodies() };
      }
      // (A read that fails half-way leaves a half-read analysis: the catch drops it, the next request starts again.)
      for (const record of store.records(session.id, { withObjects: 'lazy', fromSeq: live.throughSeq + 1, toSeq: throughSeq, parallel: false, bodies: live.bodies })) live.run.push(record);
      live.throughSeq = Math.max(live.throughSeq, throughSeq);
      const { findings, summary } = live.run.report(session);
      port.postMessage({ id: request.id, findings, summary, busyMs: performance.now() - started } satisfies WorkerReply);
    } catch (error) {
      live = undefined;
      port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
}

if (!isMainThread && (workerData as Partial<WorkerSetup> | null)?.kreplayWorker === 'live-analysis') {
  void serveLiveAnalysis(workerData as WorkerSetup);
}
