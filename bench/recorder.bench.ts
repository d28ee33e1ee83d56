import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../store/index.js';
import { startBenchApi } from './fixtures.js';
import { cpuSeconds, percentile, recorderEnv, recorderNodeArgs, repoRoot, rssBytes, sleep, startRecorder, writeBytes } from './recorder-process.js';
import type { Figure } from './run.js';
import { benchNumber } from './env.js';

/**
 * The recorder as a sidecar at a sustained watch rate (default 1,000 events/s), measured from outside: `kreplay
 * record` runs as its own process (the built CLI when dist/ exists, else through tsx) against a fake API server on
 * loopback, so the figures are the recorder's alone: RSS and CPU from /proc, and watch-to-disk latency from the
 * moment the fake server writes an event to the moment a separate read-only connection sees it committed (polled
 * every 5 ms, so latencies are upper bounds by up to 5 ms).
 *
 * KREPLAY_BENCH_SECONDS (default 20; the issue's full run is 60), KREPLAY_BENCH_RATE (default 1000 events/s),
 * KREPLAY_BENCH_OBJECTS (default 1000 live objects). Targets: ≤ 100 MB RSS, ≤ 10 % of a core, p99 ≤ 250 ms.
 *
 * Issue 15's figures, from the same run:
 * - write amplification: bytes the recorder caused to be written (/proc/PID/io write_bytes: WAL frames, checkpoints,
 *   its log) over the bytes the database grew (pages in use, read from a separate connection), over the run's first
 *   and last fifth, and as a series (per minute, or per tenth of a short run) printed to stderr;
 * - the CPU floor: bench/watch-floor.ts, a process that only reads the same watch stream with the same read pacing
 *   and JSON.parses it, measured over the same window.
 *
 * Online detection (recorder/live-findings.ts) runs as it does in a sidecar; KREPLAY_BENCH_RECORDER_ARGS=--no-detect
 * measures without it. KREPLAY_BENCH_READERS=1 adds what a workstation does while it records: a follower of
 * GET /v1/sessions/bench/records?follow=true for the whole run, and a pull (GET .../export?format=sqlite) every
 * KREPLAY_BENCH_PULL_EVERY seconds (default 10), so their cost shows in the recorder's CPU and watch-to-disk latency.
 * KREPLAY_BENCH_KEEP=1 keeps the recorded database (its path goes to stderr), to profile what reads it.
 */

/** The database's pages in use, in bytes: what the session grew by, indexes and half-filled pages included. */
function storedBytes(db: Database.Database): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * pageSize;
}

interface IoSample {
  /** Seconds since the measurement started. */
  t: number;
  written: number;
  stored: number;
}

/** Bytes written over bytes stored between the samples nearest to `from` and `to` seconds. */
function amplification(samples: readonly IoSample[], from: number, to: number): { written: number; stored: number; ratio: number } {
  const nearest = (t: number) => samples.reduce((best, s) => (Math.abs(s.t - t) < Math.abs(best.t - t) ? s : best), samples[0]!);
  const a = nearest(from);
  const b = nearest(to);
  const written = b.written - a.written;
  const stored = b.stored - a.stored;
  return { written, stored, ratio: stored > 0 ? written / stored : Number.NaN };
}

/** Online detection's runs, from the recorder's own histogram: how many, and their mean and total CPU time. */
function analysisFigures(metrics: string): Figure[] {
  const sum = Number(/^kreplay_recorder_analysis_duration_seconds_sum (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
  const count = Number(/^kreplay_recorder_analysis_duration_seconds_count (\S+)$/m.exec(metrics)?.[1] ?? 0);
  if (!count) return [{ name: 'recorder.analysis_runs', value: 0, unit: 'runs' }];
  return [
    { name: 'recorder.analysis_runs', value: count, unit: 'runs' },
    { name: 'recorder.analysis_run_mean', value: Math.round((sum / count) * 1000), unit: 'ms' },
    { name: 'recorder.analysis_cpu_total', value: Math.round(sum * 10) / 10, unit: 's' },
    // Committed records not analysed yet when the load stopped: a lag near a run's worth keeps up; a growing one does not.
    { name: 'recorder.analysis_lag_at_end', value: Number(/^kreplay_recorder_analysis_lag_records (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN), unit: 'records' },
    // 1 when detection stopped itself for the heap (detection.heapShare): many objects (KREPLAY_BENCH_OBJECTS).
    { name: 'recorder.analysis_stopped', value: Number(/^kreplay_recorder_analysis_stopped (\S+)$/m.exec(metrics)?.[1] ?? 0), unit: 'bool' },
  ];
}

export default async function run(): Promise<Figure[]> {
  const seconds = benchNumber('KREPLAY_BENCH_SECONDS', 20);
  const rate = benchNumber('KREPLAY_BENCH_RATE', 1000);
  const objectCount = benchNumber('KREPLAY_BENCH_OBJECTS', 1000);
  const { dir, dbPath, fake, url, churn } = await startBenchApi('recorder', objectCount);
  // KREPLAY_BENCH_CONFIG: extra recorder config lines, e.g. 'writer: {flushInterval: 200ms}'.
  const extraConfig = process.env['KREPLAY_BENCH_CONFIG'] ? `${process.env['KREPLAY_BENCH_CONFIG']}\n` : '';
  const recorder = await startRecorder({ dir, dbPath, apiUrl: url, resources: 'v1/configmaps', namespaces: 'bench', extraConfig });
  const { pid, port, built } = recorder;
  const nodeArgs = recorderNodeArgs();
  let floorProcess: ReturnType<typeof spawn> | undefined;

  try {
    await recorder.ready();
    await sleep(1000);

    // The floor: the same watch stream, read with the same pacing and parsed, and nothing else.
    const readInterval = /readInterval:\s*(\d+)ms/.exec(extraConfig)?.[1] ?? (/readInterval:\s*0\b/.test(extraConfig) ? '0' : '50');
    const floor = spawn(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', join(repoRoot, 'bench', 'watch-floor.ts'), `${url}/api/v1/namespaces/bench/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${fake.currentRevision}`, readInterval],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...recorderEnv(), ...process.env } },
    );
    floorProcess = floor;
    let floorOutput = '';
    floor.stdout!.on('data', (chunk: Buffer) => (floorOutput += chunk.toString()));
    const floorExited = new Promise<void>((resolve) => floor.on('exit', () => resolve()));
    await sleep(2000); // its loader compiles at start: not part of the floor

    const sizeDb = new Database(dbPath, { readonly: true, fileMustExist: true });
    const store = openStore(dbPath, { readonly: true });
    const session = store.findSession('bench')!;
    let lastSeq = store.page(session.id, { beforeSeq: Number.MAX_SAFE_INTEGER, limit: 1 })[0]?.seq ?? 0;
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const rows = store.page(session.id, { afterSeq: lastSeq, limit: 10_000, filter: { kinds: ['watch'] } });
        const now = performance.now();
        for (const row of rows) {
          lastSeq = row.seq;
          if (row.record !== 'watch' || row.origin !== 'watch') continue;
          const sent = sentAt.get(row.resourceVersion);
          if (sent !== undefined) {
            latencies.push(now - sent);
            sentAt.delete(row.resourceVersion);
          }
        }
        await sleep(5);
      }
    })();

    // KREPLAY_BENCH_READERS: a records follower and periodic pulls, from this process, while the recorder records.
    const readers = Boolean(process.env['KREPLAY_BENCH_READERS']);
    const pullEvery = benchNumber('KREPLAY_BENCH_PULL_EVERY', 10) * 1000;
    let followed = 0;
    const pulls: { ms: number; bytes: number }[] = [];
    const stopReaders = new AbortController();
    const follower = readers
      ? (async () => {
          const response = await fetch(`http://127.0.0.1:${port}/v1/sessions/bench/records?fromSeq=1&follow=true`, { signal: stopReaders.signal });
          for await (const chunk of response.body as AsyncIterable<Uint8Array>) for (const byte of chunk) if (byte === 10) followed += 1;
        })().catch(() => undefined)
      : Promise.resolve();
    const puller = readers
      ? (async () => {
          while (!stopReaders.signal.aborted) {
            await sleep(pullEvery);
            if (stopReaders.signal.aborted) break;
            const t0 = performance.now();
            const response = await fetch(`http://127.0.0.1:${port}/v1/sessions/bench/export?format=sqlite`, { signal: stopReaders.signal }).catch(() => undefined);
            if (!response) break;
            const bytes = (await response.arrayBuffer()).byteLength;
            pulls.push({ ms: performance.now() - t0, bytes });
          }
        })().catch(() => undefined)
      : Promise.resolve();

    // Drive `rate` updates a second, in 10 ms ticks, catching up if a tick is late.
    const rssSamples: number[] = [];
    const ioSamples: IoSample[] = [];
    const cpuStart = cpuSeconds(pid)!;
    const floorStart = cpuSeconds(floor.pid!)!;
    const writtenStart = writeBytes(pid);
    const started = performance.now();
    ioSamples.push({ t: 0, written: writtenStart ?? 0, stored: storedBytes(sizeDb) });
    let nextIoSample = started + 1000;
    let nextSample = started;
    while (performance.now() - started < seconds * 1000) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (churn.sent < due) sentAt.set(churn.next().metadata!.resourceVersion!, performance.now());
      if (performance.now() >= nextIoSample) {
        ioSamples.push({ t: (performance.now() - started) / 1000, written: writeBytes(pid) ?? 0, stored: storedBytes(sizeDb) });
        nextIoSample += 1000;
      }
      if (performance.now() >= nextSample) {
        rssSamples.push(rssBytes(pid));
        nextSample += 500;
        if (process.env['KREPLAY_BENCH_DEBUG'] && rssSamples.length % 20 === 0) {
          const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          const heap = /nodejs_heap_size_used_bytes (\d+)/.exec(metrics)?.[1];
          console.error(`# t=${Math.round((performance.now() - started) / 1000)}s rss=${Math.round(rssSamples.at(-1)! / 1e6)}MB heapUsed=${Math.round(Number(heap) / 1e6)}MB`);
        }
      }
      await sleep(10);
    }
    const elapsed = (performance.now() - started) / 1000;
    const cpuEnd = cpuSeconds(pid)!;
    const finalMetrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    stopReaders.abort();
    await Promise.all([follower, puller]);
    const floorEnd = cpuSeconds(floor.pid!)!;
    const writtenEnd = writeBytes(pid);
    ioSamples.push({ t: elapsed, written: writtenEnd ?? 0, stored: storedBytes(sizeDb) });
    sizeDb.close();
    floor.kill('SIGTERM');
    await Promise.race([floorExited, sleep(5000)]);
    if (process.env['KREPLAY_BENCH_DEBUG']) {
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      console.error(metrics.split('\n').filter((l) => /heap_size|external_memory|resident|gc_duration_seconds_sum|queue_depth |commit_duration_seconds_(sum|count)|receive_to_commit_seconds_(sum|count|bucket)/.test(l) && !l.startsWith('#')).join('\n'));
    }
    // Let the last batches land.
    for (const deadline = Date.now() + 10_000; sentAt.size > 0 && Date.now() < deadline; ) await sleep(50);
    polling = false;
    await poller;
    store.close();

    const sorted = [...latencies].sort((a, b) => a - b);
    const cpuShare = ((cpuEnd - cpuStart) / elapsed) * 100;
    const floorShare = ((floorEnd - floorStart) / elapsed) * 100;
    const floorEvents = Number(floorOutput.trim());
    const first = amplification(ioSamples, 0, elapsed / 5);
    const last = amplification(ioSamples, (elapsed * 4) / 5, elapsed);
    const whole = amplification(ioSamples, 0, elapsed);
    // The series: per minute, or per tenth of a run shorter than ten minutes.
    const step = elapsed >= 600 ? 60 : elapsed / 10;
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
    for (let from = 0; from + step <= elapsed + 0.5; from += step) {
      const part = amplification(ioSamples, from, from + step);
      console.error(
        `# write amplification ${Math.round(from)}–${Math.round(from + step)} s: ${mib(part.written)} MiB written, ${mib(part.stored)} MiB stored, ${part.ratio.toFixed(2)}× (${(part.written / 1024 / 1024 / step).toFixed(2)} MiB/s)`,
      );
    }
    console.error(`# floor: ${floorEvents} events parsed, ${floorShare.toFixed(1)} % of a core`);
    const figures: Figure[] = [
      { name: 'recorder.events_per_second', value: Math.round(churn.sent / elapsed), unit: 'events/s' },
      { name: 'recorder.duration', value: Math.round(elapsed), unit: 's' },
      { name: 'recorder.rss_max', value: Math.round(Math.max(...rssSamples) / 1024 / 1024), unit: 'MB' },
      { name: 'recorder.rss_mean', value: Math.round(rssSamples.reduce((a, b) => a + b, 0) / rssSamples.length / 1024 / 1024), unit: 'MB' },
      { name: 'recorder.cpu', value: Math.round(cpuShare * 10) / 10, unit: '% of a core' },
      { name: 'recorder.watch_to_disk_p50', value: Math.round(percentile(sorted, 50)), unit: 'ms' },
      { name: 'recorder.watch_to_disk_p99', value: Math.round(percentile(sorted, 99)), unit: 'ms' },
      { name: 'recorder.watch_to_disk_max', value: Math.round(sorted.at(-1) ?? Number.NaN), unit: 'ms' },
      { name: 'recorder.events_lost', value: sentAt.size, unit: 'events' },
      ...analysisFigures(finalMetrics),
      ...(readers
        ? [
            { name: 'recorder.followed_records', value: followed, unit: 'records' },
            { name: 'recorder.pulls', value: pulls.length, unit: 'pulls' },
            { name: 'recorder.pull_max', value: Math.round(Math.max(0, ...pulls.map((p) => p.ms))), unit: 'ms' },
            { name: 'recorder.pull_size_max', value: Math.round(Math.max(0, ...pulls.map((p) => p.bytes)) / 1024 / 1024), unit: 'MiB' },
          ]
        : []),
      ...(writtenStart !== undefined && writtenEnd !== undefined
        ? [{ name: 'recorder.disk_writes', value: Math.round(((writtenEnd - writtenStart) / elapsed / 1024 / 1024) * 100) / 100, unit: 'MiB/s' }]
        : []),
      { name: 'recorder.write_amplification', value: Number(last.ratio.toFixed(2)), unit: 'x' },
      { name: 'recorder.write_amplification_first', value: Number(first.ratio.toFixed(2)), unit: 'x' },
      { name: 'recorder.write_amplification_whole', value: Number(whole.ratio.toFixed(2)), unit: 'x' },
      { name: 'recorder.stored_bytes_per_event', value: Math.round(whole.stored / churn.sent), unit: 'bytes' },
      { name: 'recorder.written_bytes_per_event', value: Math.round(whole.written / churn.sent), unit: 'bytes' },
      { name: 'recorder.cpu_floor', value: Math.round(floorShare * 10) / 10, unit: '% of a core' },
      { name: 'recorder.cpu_vs_floor', value: Number((cpuShare / floorShare).toFixed(2)), unit: 'x' },
    ];
    console.error(`# recorder: ${churn.sent} events in ${elapsed.toFixed(1)} s via ${built ? 'dist/' : 'tsx'}; ${latencies.length} seen committed`);
    return figures;
  } finally {
    if (floorProcess && floorProcess.exitCode === null) floorProcess.kill('SIGKILL');
    await recorder.stop();
    await fake.close();
    if (process.env.KREPLAY_BENCH_KEEP) console.error(`# kept ${dbPath} (KREPLAY_BENCH_KEEP)`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
