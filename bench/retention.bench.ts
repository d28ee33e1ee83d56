import Database from 'better-sqlite3';
import { rmSync, statSync } from 'node:fs';
import { parseSize } from '../recorder/config.js';
import { startBenchApi } from './fixtures.js';
import { sleep, startRecorder } from './recorder-process.js';
import type { Figure } from './run.js';
import { benchNumber } from './env.js';

/**
 * Issue 15: retention (`retention.maxSize`) holds the database under its limit while it records. `kreplay record`
 * runs against a fake API server at KREPLAY_BENCH_RATE events/s (default 1,000) on KREPLAY_BENCH_OBJECTS ConfigMaps
 * (default 1,000) for KREPLAY_BENCH_SECONDS (default 300; the hour is 3600) with `retention: {maxSize:
 * KREPLAY_BENCH_MAX_SIZE (default 16Mi), checkInterval: 5s}`. Every second a separate read-only connection reads the
 * database's pages in use (what retention limits), the file's size and its WAL's; the figures say how far above the
 * limit they went, how often, and how many segments the recorder rotated through. The session is recorded without
 * online detection (`--no-detect`): its cost is not what this measures.
 */
export default async function run(): Promise<Figure[]> {
  const seconds = benchNumber('KREPLAY_BENCH_SECONDS', 300);
  const rate = benchNumber('KREPLAY_BENCH_RATE', 1000);
  const objectCount = benchNumber('KREPLAY_BENCH_OBJECTS', 1000);
  const maxSizeText = process.env['KREPLAY_BENCH_MAX_SIZE'] ?? '16Mi';
  const limit = parseSize(maxSizeText);
  if (limit === undefined) throw new Error(`KREPLAY_BENCH_MAX_SIZE=${maxSizeText} is not a size (e.g. 16Mi)`);
  const { dir, dbPath, fake, url, churn } = await startBenchApi('retention', objectCount);
  const previousArgs = process.env['KREPLAY_BENCH_RECORDER_ARGS'];
  process.env['KREPLAY_BENCH_RECORDER_ARGS'] = `${previousArgs ?? ''} --no-detect`;
  const recorder = await startRecorder({ dir, dbPath, apiUrl: url, resources: 'v1/configmaps', namespaces: 'bench', extraConfig: `retention: {maxSize: ${maxSizeText}, checkInterval: 5s}` });
  if (previousArgs === undefined) delete process.env['KREPLAY_BENCH_RECORDER_ARGS'];
  else process.env['KREPLAY_BENCH_RECORDER_ARGS'] = previousArgs;
  const samples: { t: number; used: number; file: number; wal: number }[] = [];
  try {
    await recorder.ready();
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    const sizeOf = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    const sample = (t: number) => {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      const used = ((db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number)) * pageSize;
      samples.push({ t, used, file: sizeOf(dbPath), wal: sizeOf(`${dbPath}-wal`) });
    };
    const started = performance.now();
    let nextSample = started;
    while (performance.now() - started < seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (churn.sent < due) churn.next();
      if (performance.now() >= nextSample) {
        sample((performance.now() - started) / 1000);
        nextSample += 1000;
      }
      await sleep(10);
    }
    await sleep(6000); // one more retention check after the last write
    sample((performance.now() - started) / 1000);
    const sessions = db.prepare("SELECT name FROM sessions WHERE source = 'recorder' ORDER BY id").all() as { name: string }[];
    const kept = (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
    db.close();

    const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    // Retention acts every checkInterval, so the pages in use may pass the limit between two checks: how often.
    const over = samples.filter((s) => s.used > limit);
    const step = seconds >= 600 ? 60 : Math.max(1, Math.round(seconds / 10));
    for (let t = 0; t <= seconds; t += step) {
      const s = samples.reduce((best, x) => (Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best), samples[0]!);
      console.error(`# ${Math.round(s.t)} s: ${mib(s.used)} MiB in use, file ${mib(s.file)} MiB, WAL ${mib(s.wal)} MiB (limit ${mib(limit)} MiB)`);
    }
    console.error(`# ${churn.sent} events in ${seconds} s; ${sessions.length} recorder sessions left (${sessions.map((s) => s.name).join(', ')}); ${kept} records kept`);
    return [
      { name: 'retention.limit', value: mib(limit), unit: 'MiB' },
      { name: 'retention.used_max', value: mib(Math.max(...samples.map((s) => s.used))), unit: 'MiB' },
      { name: 'retention.over_limit', value: Math.round((over.length / samples.length) * 1000) / 10, unit: '% of samples' },
      // What the disk holds: the file and its WAL (up to ~4 MiB between checkpoints, on top of the pages in use).
      { name: 'retention.file_max', value: mib(Math.max(...samples.map((s) => s.file + s.wal))), unit: 'MiB' },
      { name: 'retention.sessions_left', value: sessions.length, unit: 'sessions' },
      { name: 'retention.records_kept', value: kept, unit: 'records' },
    ];
  } finally {
    await recorder.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
