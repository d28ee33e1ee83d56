import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckConfig } from '../model/check-config.js';
import type { KubeObject, WatchEventRecord } from '../model/index.js';
import { createAnalyzer } from '../replayer/index.js';
import { DecodedBodies, openStore } from '../store/index.js';
import { configMapFields } from './fixtures.js';
import type { Figure } from './run.js';
import { benchNumber } from './env.js';

const OBJECTS = benchNumber('KREPLAY_BENCH_OBJECTS', 1_000);
const SECONDS = benchNumber('KREPLAY_BENCH_LIVE_SECONDS', 180);
const RATE = 1_000;
/** What the recorder commits at a time at this rate (100 ms of events), and how it slices and reports (live-findings.ts). */
const COMMIT = 100;
const SLICE = 100;
const REPORT_EVERY = 1_000;

/** The recorder benchmark's load as the recorder stores it: the ConfigMaps rewritten in turn, 1,000 a second. */
function* churn(): Generator<WatchEventRecord> {
  const start = Date.UTC(2026, 11, 7, 10, 0, 0);
  let rv = 1_000;
  for (let i = 0; i < SECONDS * RATE; i++) {
    const index = i % OBJECTS;
    const generation = Math.floor(i / OBJECTS);
    const fields = configMapFields(index, generation) as { data: unknown; metadata: Record<string, unknown> };
    const name = `obj-${index}`;
    rv += 1;
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      data: fields.data,
      metadata: { ...fields.metadata, name, namespace: 'bench', uid: `bench-uid-${index}`, resourceVersion: String(rv), creationTimestamp: '2026-12-07T09:00:00Z' },
    } as KubeObject;
    yield {
      record: 'watch',
      observedAt: new Date(start + i).toISOString(),
      origin: 'watch',
      group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap',
      type: generation === 0 ? 'ADDED' : 'MODIFIED',
      namespace: 'bench', name, uid: `bench-uid-${index}`, resourceVersion: String(rv), generation: null,
      object,
    };
  }
}

/**
 * The recorder's online detection (recorder/live-findings.ts) without the recorder: the recorder benchmark's session
 * (every object rewritten once a second by one writer, so every one is a hot loop) is stored first, then analysed as
 * the recorder does, in slices of 100 records with decoded bodies carried over and a report every 1,000 records (a
 * run a second). KREPLAY_BENCH_LIVE_SECONDS (default 180: long enough for the loops to have learnt what they
 * can) and KREPLAY_BENCH_OBJECTS set the session. Prints what a record and a report cost, and the CPU over the
 * session's span: the share of a core detection needs to keep up with this load.
 */
export default async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-live-'));
  try {
    const store = openStore(join(dir, 'kreplay.db'));
    const session = store.createSession({ name: 'bench', source: 'recorder', cluster: null, context: null, toolVersion: 'bench', config: {} });
    const batch: WatchEventRecord[] = [];
    for (const record of churn()) {
      batch.push(record);
      if (batch.length === COMMIT) store.append(session.id, batch.splice(0));
    }
    if (batch.length) store.append(session.id, batch);

    // What cli/live-analysis.ts's checkAnalysis runs, less check's summary (benchmarks do not import cli/).
    const analysis = createAnalyzer({ parsedConfig: CheckConfig.parse({}), controller: [] });
    const bodies = new DecodedBodies();
    const last = store.lastSeq(session.id);
    let pushMs = 0;
    let reportMs = 0;
    let runs = 0;
    let findings = 0;
    const cpuBefore = process.cpuUsage();
    for (let from = 1; from <= last; from += REPORT_EVERY) {
      const to = Math.min(last, from + REPORT_EVERY - 1);
      const pushStarted = performance.now();
      for (let slice = from; slice <= to; slice += SLICE) {
        for (const record of store.records(session.id, { fromSeq: slice, toSeq: Math.min(to, slice + SLICE - 1), withObjects: 'lazy', parallel: false, bodies })) analysis.push(record);
      }
      pushMs += performance.now() - pushStarted;
      const reportStarted = performance.now();
      findings = analysis.report().findings.length;
      reportMs += performance.now() - reportStarted;
      runs += 1;
    }
    const cpu = process.cpuUsage(cpuBefore);
    store.close();
    console.error(`# live analysis: ${last} records of ${OBJECTS} objects (${SECONDS} s at ${RATE}/s), ${runs} reports, ${findings} findings`);
    return [
      { name: 'live.records', value: last, unit: 'records' },
      { name: 'live.findings', value: findings, unit: 'findings' },
      { name: 'live.push_per_record', value: Number(((1000 * pushMs) / last).toFixed(1)), unit: 'us' },
      { name: 'live.report_per_run', value: Number((reportMs / runs).toFixed(1)), unit: 'ms' },
      { name: 'live.cpu_share', value: Number(((100 * (cpu.user + cpu.system)) / 1e6 / SECONDS).toFixed(1)), unit: '% of a core' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
