import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionRecord } from '../model/index.js';
import { analyze } from '../replayer/index.js';
import { openStore } from '../store/index.js';
import { benchDeployment } from './fixtures.js';
import type { Figure } from './run.js';
import { benchNumber } from './env.js';

/**
 * Issue #4's target: `kreplay check` over a 1,000,000-record session in ≤ 10 s and ≤ 500 MB peak RSS.
 *
 * The session is written through the store into a real SQLite file: a list, then a watch of Deployments whose
 * MODIFIED events carry full objects (delta-encoded by the store), interleaved with the controller's reconcile
 * reports and audit API records, a 410 Gone with its relist, bookmarks, deletions and re-creations, and ten objects
 * that loop hot for a while (status rewritten every ~1.3 s with nothing but a timestamp changing, so hot-loop
 * decodes their bodies to see what changes: the lazy path is measured, not only the facts). Then the
 * check runs in a fresh child process (so its peak RSS is the check's alone): store.records() streams into
 * analyze() with objects materialised, exactly what `kreplay check` does.
 */

const RECORDS = benchNumber('KREPLAY_BENCH_CHECK_RECORDS', 1_000_000);
const OBJECTS = benchNumber('KREPLAY_BENCH_CHECK_OBJECTS', 2_000);
const BATCH = 2_000;
/** Hot loops: HOT_OBJECTS objects get an extra write every HOT_EVERY records for HOT_SPAN records. */
const HOT_OBJECTS = 10;
const HOT_EVERY = 10;
const HOT_SPAN = 60_000;
const start = Date.UTC(2026, 10, 25, 10, 0, 0);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The session, generated lazily in seq order. */
export function* session(total: number, objects: number): Generator<SessionRecord> {
  let rv = 100_000;
  let n = 0;
  const steps = new Array<number>(objects).fill(0);
  /** The resourceVersion of each object's newest version: what the controller reads and writes against. */
  const lastRv = new Array<number>(objects).fill(rv);
  const gvr = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' };
  const hotReady: number[] = [];
  const hotFrom = Math.floor(total * 0.4);
  const watch = (type: 'ADDED' | 'MODIFIED' | 'DELETED', index: number, origin: 'watch' | 'relist', readyIndex = n): SessionRecord => {
    // A relist returns each object as it is: its newest version, not a new one.
    const version = origin === 'relist' ? lastRv[index]! : rv;
    const object = benchDeployment(index, version, steps[index]!, n, readyIndex);
    lastRv[index] = version;
    return {
      record: 'watch',
      observedAt: iso(start + n * 13),
      origin,
      ...gvr,
      type,
      namespace: object.metadata!.namespace!,
      name: object.metadata!.name!,
      uid: object.metadata!.uid!,
      resourceVersion: String(version),
      generation: object.metadata!.generation ?? null,
      object,
    };
  };
  const at = () => iso(start + n * 13);
  yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'list-started', ...gvr };
  n++;
  for (let i = 0; i < objects; i++, n++) yield watch('ADDED', i, 'relist');
  yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'list-finished', ...gvr, resourceVersion: String(rv), count: objects };
  yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'watch-started', ...gvr, resourceVersion: String(rv) };
  n += 2;
  while (n < total) {
    const index = n % objects;
    const kind = n % 10;
    if (kind < 8) {
      rv++;
      steps[index]! += 1;
      yield watch('MODIFIED', index, 'watch');
    } else if (kind === 8) {
      const object = benchDeployment(index, lastRv[index]!, steps[index]!, n);
      const started = start + n * 13 - 40;
      yield {
        record: 'reconcile',
        observedAt: at(),
        origin: 'ingest',
        controller: 'web-operator',
        object: { ...gvr, namespace: object.metadata!.namespace!, name: object.metadata!.name!, uid: object.metadata!.uid! },
        startedAt: iso(started),
        finishedAt: iso(started + 30),
        observedResourceVersion: object.metadata!.resourceVersion!,
        observedGeneration: object.metadata!.generation ?? null,
        result: 'success',
      };
    } else {
      const object = benchDeployment(index, lastRv[index]!, steps[index]!, n);
      yield {
        record: 'api',
        observedAt: at(),
        origin: 'audit',
        actor: 'system:serviceaccount:shop:web-operator',
        byController: true,
        verb: 'patch',
        object: { ...gvr, namespace: object.metadata!.namespace!, name: object.metadata!.name!, uid: object.metadata!.uid! },
        subresource: null,
        code: 200,
        resourceVersionBefore: null,
        resourceVersionAfter: object.metadata!.resourceVersion!,
      };
    }
    n++;
    if (n % HOT_EVERY === 0 && n >= hotFrom && n < hotFrom + HOT_SPAN) {
      // The status writer rewrites the same status again and again with only a new timestamp.
      const index = (n / HOT_EVERY) % HOT_OBJECTS;
      rv++;
      yield watch('MODIFIED', index, 'watch', hotReady[index] ??= n);
      n++;
    }
    if (n % 100_000 === 0) {
      yield { record: 'watch', observedAt: at(), origin: 'watch', ...gvr, type: 'BOOKMARK', namespace: null, name: null, uid: null, resourceVersion: String(rv), generation: null, object: null };
      n++;
    }
    if (n % 250_000 === 0 && n < total - objects - 10) {
      // A 410 Gone and the relist after it.
      yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'gone', ...gvr, code: 410, resourceVersion: String(rv - 5000) };
      yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'list-started', ...gvr };
      n += 2;
      for (let i = 0; i < objects; i++, n++) yield watch('ADDED', i, 'relist');
      yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'list-finished', ...gvr, resourceVersion: String(rv), count: objects };
      yield { record: 'marker', observedAt: at(), origin: 'watch', marker: 'watch-started', ...gvr, resourceVersion: String(rv) };
      n += 2;
    }
  }
}

function generate(path: string): number {
  const store = openStore(path);
  try {
    const info = store.createSession({ name: 'bench-check', source: 'demo', cluster: null, context: null, toolVersion: 'bench', config: {} });
    let batch: SessionRecord[] = [];
    for (const record of session(RECORDS, OBJECTS)) {
      batch.push(record);
      if (batch.length === BATCH) {
        store.append(info.id, batch);
        batch = [];
      }
    }
    if (batch.length) store.append(info.id, batch);
    store.endSession(info.id, null);
    return store.recordCount(info.id);
  } finally {
    store.close();
  }
}

/** The child: only the check, so maxRSS is the check's. Prints one JSON line. */
function child(path: string): void {
  const started = performance.now();
  const store = openStore(path);
  const id = store.findSession('bench-check')!.id;
  const analysis = analyze(store.records(id, { withObjects: 'lazy' }));
  store.close();
  const ms = performance.now() - started;
  const maxRssKiB = process.resourceUsage().maxRSS;
  process.stdout.write(`${JSON.stringify({ ms, maxRssMiB: maxRssKiB / 1024, records: analysis.stats.records, findings: analysis.findings.length })}\n`);
}

export default async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-check-'));
  const path = join(dir, 'bench.db');
  try {
    const generatedAt = performance.now();
    const records = generate(path);
    const generateMs = performance.now() - generatedAt;
    const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
      env: { ...process.env, KREPLAY_BENCH_CHECK_CHILD: path },
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (result.status !== 0) throw new Error(`check child failed: ${result.stderr}`);
    const figures = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { ms: number; maxRssMiB: number; records: number; findings: number };
    return [
      { name: 'check.records', value: records, unit: 'records' },
      { name: 'check.generate_time', value: Math.round(generateMs), unit: 'ms' },
      { name: 'check.wall_time', value: Math.round(figures.ms), unit: 'ms' },
      { name: 'check.throughput', value: Math.round(records / (figures.ms / 1000)), unit: 'records/s' },
      { name: 'check.peak_rss', value: Math.round(figures.maxRssMiB), unit: 'MiB' },
      { name: 'check.findings', value: figures.findings, unit: 'findings' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env.KREPLAY_BENCH_CHECK_CHILD) child(process.env.KREPLAY_BENCH_CHECK_CHILD);
/** `KREPLAY_BENCH_CHECK_GENERATE=file` writes the session and stops (for profiling by hand). */
if (process.env.KREPLAY_BENCH_CHECK_GENERATE) generate(process.env.KREPLAY_BENCH_CHECK_GENERATE);
