import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../store/index.js';
import { compiledScript } from '../compiled-script.js';
import { imageRuntime } from '../image-runtime.js';
import type { MemorySample } from '../memory-sampler.js';
import { Random } from './random.js';
import { auditBody, badRequest, bigBodies, goodAuditEvent, goodDelivery, type FuzzRequest } from './requests.js';
import { send } from './send.js';

/**
 * The ingest fuzz run: a recorder ingest process of its own (ingest-process.ts, loopback, a real SQLite file), `count`
 * generated bad requests sent `concurrency` at a time, with good batches sent before, between and after them. It
 * returns what went wrong rather than throwing, so the test asserts and the npm script prints the same figures.
 */
export interface IngestFuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly dir: string;
  readonly concurrency?: number;
  /** A good batch goes out every this many bad requests. */
  readonly goodEvery?: number;
  readonly maxBatchRecords?: number;
  /** 'image' (the default): node as deploy/Dockerfile runs it; 'node': plain node. */
  readonly runtime?: FuzzRuntime;
}

export type FuzzRuntime = 'image' | 'node';

export interface IngestFuzzResult {
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byLabel: Record<string, number>;
  /** Requests answered with another status than expected, or audit batches of bad events that recorded some. */
  readonly wrong: string[];
  readonly goodDeliveries: number;
  readonly goodAuditEvents: number;
  /** Good records not found in the database after the run. */
  readonly missing: string[];
  /** Rows in the database that no good request sent: a refused batch that was written. */
  readonly unexpectedRows: number;
  /** The ingest process crashed, or exited with another code than 0. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null };
  readonly maxRssKiB: number;
  /** Where the ingest process's memory was once listening, at its peak and at the end (memory-sampler.ts). */
  readonly memory: { started?: MemorySample; atPeak?: MemorySample; atExit?: MemorySample };
  readonly seconds: number;
}

const token = 'fuzz-token-0123456789abcdef';
const processScript = fileURLToPath(new URL('./ingest-process.ts', import.meta.url));

export async function fuzzIngest(options: IngestFuzzOptions): Promise<IngestFuzzResult> {
  const started = performance.now();
  const random = new Random(options.seed);
  const dbPath = join(options.dir, 'fuzz.db');
  const maxBatchRecords = options.maxBatchRecords ?? 1000;
  const compiled = await compiledScript(processScript, options.dir);
  // The recorder as deployed: deploy/Dockerfile's V8 flags and malloc settings (KREPLAY_FUZZ_RUNTIME=node: plain
  // node, as `kreplay record` runs outside the image); KREPLAY_FUZZ_NODE_FLAGS adds flags (--trace-gc).
  const runtime = (options.runtime ?? 'image') === 'image' ? imageRuntime() : { nodeArgs: [], env: {} };
  const nodeFlags = [...runtime.nodeArgs, ...(process.env.KREPLAY_FUZZ_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(compiled.command, [...nodeFlags, ...compiled.args, dbPath, token, String(maxBatchRecords)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...runtime.env, ...compiled.env } });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let first = await lines.next();
  while (!first.done && !first.value.startsWith('{')) first = await lines.next();
  if (first.done) throw new Error('the ingest process exited before it listened');
  const { url, sessionId } = JSON.parse(first.value) as { url: string; sessionId: number };

  const big = bigBodies();
  const byStatus: Record<string, number> = {};
  const byLabel: Record<string, number> = {};
  const wrong: string[] = [];
  const goodNames: string[] = [];
  const goodAuditIds: string[] = [];
  const goodEvery = options.goodEvery ?? 50;

  async function sendGood(n: number): Promise<void> {
    const names = Array.from({ length: 5 }, (_, i) => `good-${n}-${i}`);
    const answer = await send(`${url}/v1/records`, { headers: { Authorization: `Bearer ${token}` }, body: names.map((name) => JSON.stringify(goodDelivery(name))).join('\n') });
    if (answer.status !== 202) wrong.push(`good batch ${n}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    else goodNames.push(...names);
    const id = `good-audit-${n}`;
    const audit = await send(`${url}/v1/audit`, { headers: { Authorization: `Bearer ${token}` }, body: auditBody([goodAuditEvent(id, `good-audit-${n}`)]) });
    if (audit.status !== 200 || audit.body.recorded !== 1) wrong.push(`good audit ${n}: ${audit.status} ${JSON.stringify(audit.body).slice(0, 300)}`);
    else goodAuditIds.push(id);
  }

  async function sendBad(request: FuzzRequest): Promise<void> {
    byLabel[request.label] = (byLabel[request.label] ?? 0) + 1;
    let answer;
    try {
      answer = await send(`${url}${request.endpoint}`, request);
    } catch (error) {
      wrong.push(`${request.endpoint} ${request.label}: no answer (${(error as Error).message})`);
      return;
    }
    byStatus[answer.status] = (byStatus[answer.status] ?? 0) + 1;
    if (answer.status !== request.status) wrong.push(`${request.endpoint} ${request.label}: ${answer.status}, expected ${request.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    else if (request.recordsNone && answer.body.recorded !== 0) wrong.push(`${request.endpoint} ${request.label}: recorded ${String(answer.body.recorded)} of a batch of bad events`);
  }

  await sendGood(0);
  let sent = 0;
  const concurrency = options.concurrency ?? 8;
  while (sent < options.count) {
    const wave: Promise<void>[] = [];
    for (let i = 0; i < concurrency && sent < options.count; i += 1, sent += 1) {
      wave.push(sendBad(badRequest(random, token, big, maxBatchRecords, sent)));
      if ((sent + 1) % goodEvery === 0) wave.push(sendGood(sent + 1));
    }
    await Promise.all(wave);
  }
  await sendGood(options.count + 1);

  child.kill('SIGTERM');
  let maxRssKiB = 0;
  let memory: IngestFuzzResult['memory'] = {};
  for (let next = await lines.next(); !next.done; next = await lines.next()) {
    // Not ours: a node flag's output (KREPLAY_FUZZ_NODE_FLAGS=--trace-gc prints to stdout).
    if (!next.value.startsWith('{')) {
      if (process.env.KREPLAY_FUZZ_DEBUG) console.error(next.value);
      continue;
    }
    const value = JSON.parse(next.value) as { maxRssKiB?: number } & IngestFuzzResult['memory'];
    if (value.maxRssKiB) {
      maxRssKiB = value.maxRssKiB;
      memory = { started: value.started, atPeak: value.atPeak, atExit: value.atExit };
    }
    if (process.env.KREPLAY_FUZZ_DEBUG) console.log(next.value);
  }
  const exit = await exited;

  // What the database holds: exactly the good records, each once.
  const store = openStore(dbPath);
  const seen = new Map<string, number>();
  let unexpectedRows = 0;
  try {
    for (const record of store.records(sessionId, { withObjects: false })) {
      const key = record.record === 'delivery' ? record.object.name : record.record === 'api' ? (record.auditId ?? '') : '';
      if (!key.startsWith('good-')) unexpectedRows += 1;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
  } finally {
    store.close();
  }
  const missing = [...goodNames, ...goodAuditIds].filter((key) => seen.get(key) !== 1);
  return {
    requests: sent,
    byStatus,
    byLabel,
    wrong,
    goodDeliveries: goodNames.length,
    goodAuditEvents: goodAuditIds.length,
    missing,
    unexpectedRows,
    exit,
    maxRssKiB,
    memory,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}
