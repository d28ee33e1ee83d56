import Database from 'better-sqlite3';
import { MessageChannel, Worker, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { origins, recordKinds, watchEventTypes, type Origin, type RecordKind, type WatchEventType } from '../model/index.js';
import { BatchText, PayloadDecoder, PayloadEncoder, type Shape } from './payload-columns.js';

/**
 * A long lazy read (`kreplay check` over a million records) split over two cores: a worker thread steps through the
 * rows on its own read-only connection and hands them over in columnar batches, while the caller's thread turns them
 * into records and folds them. Handing a row from SQLite to JavaScript costs about 2.5 µs (a value per column); a row
 * read from a batch costs a tenth of that, so the caller's thread keeps the fold's pace instead of SQLite's.
 *
 * A batch is a Float64Array of numeric columns (transferred, not copied), and one string holding the row's
 * strings back to back (observedAt, resourceVersion, and the JSON payload of non-watch records), sliced by offsets.
 * The caller pulls batches synchronously (Atomics.wait on a shared counter, then receiveMessageOnPort), so a read
 * stays a plain iterator; the worker stays at most a few batches ahead, so memory stays bounded.
 *
 * The worker also parses the JSON payloads of non-watch records and hands them over as columns (payload-columns.ts):
 * the caller's thread rebuilds each from its shape instead of parsing it.
 */

/** The SELECT list the worker reads: the lazy reader's columns (see sqlite-store.ts). */
export interface ParallelReadRequest {
  readonly path: string;
  /** SELECT ... FROM records r WHERE ... ORDER BY r.seq: columns as in LAZY_COLUMNS order. */
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly batchSize?: number;
}

/** One row as the lazy reader consumes it (the same layout as a LazyRow). */
export type ParallelRow = [
  seq: number,
  kind: RecordKind,
  origin: Origin,
  observedAt: string | null,
  objectId: number | null,
  type: WatchEventType | null,
  resourceVersion: string | null,
  generation: number | null,
  payload: string | null,
  flags: number,
  factsId: number | null,
  observedGeneration: number | null,
  specHash: number | null,
  chunkId: number | null,
  bodyOffset: number | null,
  bodyLength: number | null,
  /** The payload, already rebuilt (with its seq), when the worker could encode it; else parse `payload`. */
  parsed: Record<string, unknown> | null,
];

/** Numeric columns per row in a batch (the last two: the payload's shape id, or NaN, and where its values start). */
const NUMBERS = 15;
/** String columns per row: observedAt, resourceVersion, payload; two offsets each (start, length; -1 for null). */
const STRINGS = 3;
/** How many batches the worker may run ahead of the reader. */
const AHEAD = 4;
const DEFAULT_BATCH = 4096;

interface Batch {
  readonly count: number;
  readonly numbers: Float64Array;
  readonly offsets: Int32Array;
  readonly text: string;
  /** Encoded payloads' values, and the shapes and dictionary words first used in this batch. */
  readonly values: Float64Array;
  readonly shapes: readonly Shape[];
  readonly words: readonly string[];
}

type WorkerMessage = { readonly batch: Batch } | { readonly done: true } | { readonly error: string };

/** Control words shared with the worker: batches produced, batches consumed. */
const PRODUCED = 0;
const CONSUMED = 1;

const kindCodes = new Map<string, number>(recordKinds.map((kind, i) => [kind, i]));
const originCodes = new Map<string, number>(origins.map((origin, i) => [origin, i]));
const typeCodes = new Map<string, number>(watchEventTypes.map((type, i) => [type, i]));

/**
 * The worker's first code. Run from source (tsx, the tests) this file is TypeScript, and a worker does not inherit
 * the parent's tsx loader on Node 20: register it first, then load this module (as cli/commands/replay.ts does).
 */
const bootstrap = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsLoader) (await import(workerData.tsLoader)).register();
  await import(workerData.entry);
})().catch((error) => {
  workerData.port.postMessage({ error: String((error && error.stack) || error) });
  const control = new Int32Array(workerData.control);
  Atomics.add(control, 0, 1);
  Atomics.notify(control, 0);
});
`;

/** Rows of `request`, read by a worker thread, in order. Breaking out of the loop stops the worker. */
export function* parallelRows(request: ParallelReadRequest): Generator<ParallelRow> {
  const control = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(bootstrap, {
    eval: true,
    workerData: {
      kreplayWorker: 'parallel-read',
      request,
      port: port2,
      control: control.buffer,
      entry: import.meta.url,
      tsLoader: import.meta.url.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : null,
    },
    transferList: [port2],
  });
  worker.unref();
  let received = 0;
  const payloads = new PayloadDecoder();
  try {
    for (;;) {
      // Block until the worker has produced the next batch (or its end, or an error).
      Atomics.wait(control, PRODUCED, received);
      const message = receiveMessageOnPort(port1)?.message as WorkerMessage | undefined;
      if (message === undefined) continue;
      received++;
      Atomics.store(control, CONSUMED, received);
      Atomics.notify(control, CONSUMED);
      if ('error' in message) throw new Error(`reading the session failed: ${message.error}`);
      if ('done' in message) return;
      payloads.learn(message.batch.shapes, message.batch.words);
      yield* rowsOf(message.batch, payloads);
    }
  } finally {
    port1.close();
    void worker.terminate();
  }
}

function* rowsOf(batch: Batch, payloads: PayloadDecoder): Generator<ParallelRow> {
  const { numbers, offsets, text, count, values } = batch;
  for (let i = 0; i < count; i++) {
    const n = i * NUMBERS;
    const o = i * STRINGS * 2;
    const objectId = numbers[n + 3]!;
    const shape = numbers[n + 13]!;
    yield [
      numbers[n]!,
      recordKinds[numbers[n + 1]!]!,
      origins[numbers[n + 2]!]!,
      slice(text, offsets, o),
      Number.isNaN(objectId) ? null : objectId,
      Number.isNaN(numbers[n + 4]!) ? null : watchEventTypes[numbers[n + 4]!]!,
      slice(text, offsets, o + 2),
      nullable(numbers[n + 5]!),
      slice(text, offsets, o + 4),
      numbers[n + 6]!,
      nullable(numbers[n + 7]!),
      nullable(numbers[n + 8]!),
      nullable(numbers[n + 9]!),
      nullable(numbers[n + 10]!),
      nullable(numbers[n + 11]!),
      nullable(numbers[n + 12]!),
      Number.isNaN(shape) ? null : payloads.decode(shape, values, numbers[n + 14]!, text, numbers[n]!),
    ];
  }
}

function nullable(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

function slice(text: string, offsets: Int32Array, at: number): string | null {
  const start = offsets[at]!;
  return start < 0 ? null : text.substring(start, start + offsets[at + 1]!);
}

// ---- the worker -------------------------------------------------------------------------------------------------

function runWorker(data: { request: ParallelReadRequest; port: MessagePort; control: SharedArrayBuffer }): void {
  const { request, port } = data;
  const control = new Int32Array(data.control);
  const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => {
    // Never more than AHEAD batches in flight: wait for the reader to take one.
    while (Atomics.load(control, PRODUCED) - Atomics.load(control, CONSUMED) >= AHEAD) Atomics.wait(control, CONSUMED, Atomics.load(control, CONSUMED));
    port.postMessage(message, transfer);
    Atomics.add(control, PRODUCED, 1);
    Atomics.notify(control, PRODUCED);
  };
  let db: Database.Database | undefined;
  try {
    db = new Database(request.path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const size = request.batchSize ?? DEFAULT_BATCH;
    let numbers = new Float64Array(size * NUMBERS);
    let offsets = new Int32Array(size * STRINGS * 2);
    const sink = new BatchText();
    let count = 0;
    const encoder = new PayloadEncoder();
    const put = (value: unknown, at: number) => {
      if (typeof value !== 'string') {
        offsets[at] = -1;
        offsets[at + 1] = 0;
        return;
      }
      offsets[at] = sink.text(value);
      offsets[at + 1] = value.length;
    };
    const code = (codes: Map<string, number>, value: unknown, column: string): number => {
      const found = codes.get(value as string);
      if (found === undefined) throw new Error(`row has an unknown ${column} ${JSON.stringify(value)}: the database is damaged`);
      return found;
    };
    const flush = () => {
      if (count === 0) return;
      const { shapes, words } = encoder.takeNew();
      const values = encoder.values;
      const batch: Batch = { count, numbers, offsets, text: sink.take(), values, shapes, words };
      send({ batch }, [numbers.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer, values.buffer as ArrayBuffer]);
      encoder.reset();
      numbers = new Float64Array(size * NUMBERS);
      offsets = new Int32Array(size * STRINGS * 2);
      count = 0;
    };
    const statement = db.prepare(request.sql).raw(true);
    for (const row of statement.iterate(...request.params) as IterableIterator<unknown[]>) {
      const n = count * NUMBERS;
      const o = count * STRINGS * 2;
      const kind = code(kindCodes, row[1], 'record kind');
      numbers[n] = row[0] as number;
      numbers[n + 1] = kind;
      numbers[n + 2] = code(originCodes, row[2], 'origin');
      numbers[n + 3] = (row[4] as number | null) ?? Number.NaN;
      // The type column matters only for watch records; the others are rebuilt from their payload.
      numbers[n + 4] = recordKinds[kind] === 'watch' && row[4] !== null ? code(typeCodes, row[5], 'watch event type') : Number.NaN;
      numbers[n + 5] = (row[7] as number | null) ?? Number.NaN;
      numbers[n + 6] = row[9] as number;
      numbers[n + 7] = (row[10] as number | null) ?? Number.NaN;
      numbers[n + 8] = (row[11] as number | null) ?? Number.NaN;
      numbers[n + 9] = (row[12] as number | null) ?? Number.NaN;
      numbers[n + 10] = (row[13] as number | null) ?? Number.NaN;
      numbers[n + 11] = (row[14] as number | null) ?? Number.NaN;
      numbers[n + 12] = (row[15] as number | null) ?? Number.NaN;
      put(row[3], o);
      put(row[6], o + 2);
      const payload = row[8];
      const encoded = typeof payload === 'string' ? encoder.encode(payload, sink) : undefined;
      if (encoded && encoded.shape >= 0) {
        numbers[n + 13] = encoded.shape;
        numbers[n + 14] = encoded.start;
        put(null, o + 4);
      } else {
        numbers[n + 13] = Number.NaN;
        numbers[n + 14] = 0;
        put(payload, o + 4);
      }
      if (++count === size) flush();
    }
    flush();
    send({ done: true });
  } catch (error) {
    send({ error: (error as Error).message });
  } finally {
    db?.close();
  }
}

const data = workerData as { kreplayWorker?: string } | null;
if (!isMainThread && data?.kreplayWorker === 'parallel-read') runWorker(workerData as Parameters<typeof runWorker>[0]);
