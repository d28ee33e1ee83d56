import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../store/index.js';
import type { WatchEventRecord } from '../model/index.js';
import type { Figure } from './run.js';
import { benchStream } from './fixtures.js';
import { benchNumber } from './env.js';

const OBJECTS = benchNumber('KREPLAY_BENCH_OBJECTS', 1_000);
const EVENTS = benchNumber('KREPLAY_BENCH_EVENTS', 100_000);
const BATCH = 1_000;

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // absent
    }
  }
  return total;
}

function batches(): Generator<WatchEventRecord[]> {
  return (function* () {
    let batch: WatchEventRecord[] = [];
    for (const event of benchStream(OBJECTS, EVENTS)) {
      batch.push(event);
      if (batch.length === BATCH) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  })();
}

/** Issue #3's store figures: append throughput against raw better-sqlite3, bytes per event, history reads. */
export default async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-store-'));
  try {
    // --- kreplay store: keyframes + brotli JSON-patch deltas, objects table, indexes.
    const storePath = join(dir, 'store.db');
    const store = openStore(storePath);
    const session = store.createSession({ name: 'bench', source: 'recorder', cluster: null, context: null, toolVersion: 'bench', config: {} });
    let storeMs = 0;
    let rawJsonBytes = 0;
    for (const batch of batches()) {
      for (const event of batch) rawJsonBytes += Buffer.byteLength(JSON.stringify({ type: event.type, object: event.object })) + 1;
      const started = performance.now();
      store.append(session.id, batch);
      storeMs += performance.now() - started;
    }
    store.close();
    const checkpoint = new Database(storePath);
    checkpoint.pragma('wal_checkpoint(TRUNCATE)');
    checkpoint.close();
    const storeBytes = fileBytes(storePath);

    // --- streaming the whole session back, objects rebuilt (what check and export do).
    const readStore = openStore(storePath);
    let readCount = 0;
    const streamStarted = performance.now();
    for (const record of readStore.records(session.id)) if (record.record === 'watch' && record.object) readCount += 1;
    const streamMs = performance.now() - streamStarted;
    const metaStarted = performance.now();
    for (const _ of readStore.records(session.id, { withObjects: false })) readCount += 0;
    const metaMs = performance.now() - metaStarted;
    readStore.close();

    // --- raw better-sqlite3: the same events' JSON, one row each, same batch size, one table with a rowid key.
    const rawPath = join(dir, 'raw.db');
    const raw = new Database(rawPath);
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.exec('CREATE TABLE events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL) STRICT');
    const insert = raw.prepare('INSERT INTO events (seq, body) VALUES (?, ?)');
    let rawMs = 0;
    let seq = 0;
    for (const batch of batches()) {
      const rows = batch.map((event) => JSON.stringify({ type: event.type, object: event.object }));
      const started = performance.now();
      raw.transaction(() => {
        for (const row of rows) insert.run(++seq, row);
      })();
      rawMs += performance.now() - started;
    }
    raw.close();

    // --- one object's full history of 1,000 versions.
    const historyPath = join(dir, 'history.db');
    const historyStore = openStore(historyPath);
    const historySession = historyStore.createSession({ name: 'history', source: 'recorder', cluster: null, context: null, toolVersion: 'bench', config: {} });
    const oneObject = [...benchStream(1, 1_000)];
    historyStore.append(historySession.id, oneObject);
    historyStore.close();
    const reader = openStore(historyPath);
    const uid = oneObject[0]!.uid!;
    reader.objectHistory(historySession.id, uid); // warm the page cache once
    const rounds = 5;
    const readStarted = performance.now();
    let versions = 0;
    for (let round = 0; round < rounds; round += 1) versions += reader.objectHistory(historySession.id, uid).length;
    const readMs = performance.now() - readStarted;
    reader.close();

    const storeRate = EVENTS / (storeMs / 1000);
    const rawRate = EVENTS / (rawMs / 1000);
    return [
      { name: 'store.append.throughput', value: Math.round(storeRate), unit: 'events/s' },
      { name: 'store.append.raw_sqlite_throughput', value: Math.round(rawRate), unit: 'events/s' },
      { name: 'store.append.slowdown_vs_raw', value: Number((rawRate / storeRate).toFixed(2)), unit: 'x' },
      { name: 'store.bytes_per_event', value: Math.round(storeBytes / EVENTS), unit: 'bytes' },
      { name: 'store.raw_json_bytes_per_event', value: Math.round(rawJsonBytes / EVENTS), unit: 'bytes' },
      { name: 'store.size_vs_raw_json', value: Number(((100 * storeBytes) / rawJsonBytes).toFixed(2)), unit: '%' },
      { name: 'store.stream_read_with_objects', value: Math.round(readCount / (streamMs / 1000)), unit: 'records/s' },
      { name: 'store.stream_read_without_objects', value: Math.round(EVENTS / (metaMs / 1000)), unit: 'records/s' },
      { name: 'store.history_read_per_version', value: Number(((readMs * 1000) / versions).toFixed(1)), unit: 'us' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
