import { APPENDER_CACHE_KIB, openStore } from '../../store/index.js';
import { IngestServer } from '../../recorder/ingest-server.js';
import { Writer } from '../../recorder/writer.js';
import { MemoryWatch } from '../memory-sampler.js';

/**
 * The recorder's ingest path in a process of its own, for the fuzz harness to measure: the real ingest server and
 * audit webhook receiver, the real writer, a real SQLite file. No watches (those need an API server and are not what
 * a hostile client reaches). Loopback only, port chosen by the system.
 *
 *   node --import tsx test/fuzz/ingest-process.ts DB TOKEN [MAX_BATCH_RECORDS]
 *
 * Prints one JSON line {"url"} once listening; on SIGTERM drains, closes and prints {"maxRssKiB"} (the process's
 * peak resident set, getrusage), and where its memory was once listening, at the largest of 10 samples a second and
 * at the end (memory-sampler.ts) before exiting.
 */
const [dbPath, token, maxBatch] = process.argv.slice(2);
if (!dbPath || !token) throw new Error('usage: ingest-process.ts DB TOKEN');

async function main(dbPath: string, token: string): Promise<void> {
// As `kreplay record` opens it.
const store = openStore(dbPath, { cacheKiB: APPENDER_CACHE_KIB });
const session = store.createSession({ name: 'fuzz', source: 'recorder', cluster: null, context: null, toolVersion: 'fuzz', config: {} });
const writer = new Writer({ store, sessionId: session.id, flushIntervalMs: 50, batchSize: 500, queueSize: 200_000 });
const server = new IngestServer({
  host: '127.0.0.1',
  port: 0,
  token,
  maxBodyBytes: 4 * 1024 * 1024,
  maxBatchRecords: Number(maxBatch ?? 10_000),
  recordsPerSecond: 10_000_000,
  burst: 10_000_000,
  sink: writer,
  audit: { scope: 'all', resources: [], controllerUsernames: ['system:serviceaccount:shop:web-operator'] },
});
const { url } = await server.start();
const memory = new MemoryWatch();
process.stdout.write(`${JSON.stringify({ url, sessionId: session.id })}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    await server.close();
    await writer.close();
    store.close();
    const atExit = memory.sample();
    memory.stop();
    process.stdout.write(`${JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, started: memory.first, atPeak: memory.peak, atExit })}\n`);
    process.exit(0);
  })();
});
}

void main(dbPath, token);
