import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WatchEventRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import type { Figure } from './run.js';
import { benchStream } from './fixtures.js';
import { benchNumber } from './env.js';

/**
 * Reads by object on a long session (issue 15: the layout that made disk writes flat must keep these as fast):
 * a session of KREPLAY_BENCH_HISTORY_RECORDS (default 1,000,000) watch events over 1,000 Deployments, one of which
 * (the "hot" object) has every 100th event: 10,000 versions. Measured on a fresh reader, warm (each read once first):
 * - object history: every version of the hot object, bodies rebuilt (what `kreplay history` and the TUI's history
 *   view read);
 * - the TUI's object filter (`uid:`), as tui/data-source.ts applies it: the count, the position of the cursor, a page
 *   of 50 rows after and before it; for the hot object and for an ordinary one (~990 records).
 */
const RECORDS = benchNumber('KREPLAY_BENCH_HISTORY_RECORDS', 1_000_000);

function* session(): Generator<WatchEventRecord[]> {
  const hot = benchStream(1, Math.ceil(RECORDS / 100));
  const rest = benchStream(999, RECORDS);
  let batch: WatchEventRecord[] = [];
  for (let i = 0; i < RECORDS; i += 1) {
    const next = (i % 100 === 0 ? hot.next() : rest.next()).value as WatchEventRecord;
    // Two streams, two name spaces: the hot object is "hot-0000", the others keep their names.
    batch.push(i % 100 === 0 ? { ...next, name: 'hot-0000', uid: 'hot-uid', object: { ...next.object!, metadata: { ...next.object!.metadata, name: 'hot-0000', uid: 'hot-uid' } } } : next);
    if (batch.length === 1000) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

function time(rounds: number, read: () => unknown): number {
  read();
  const started = performance.now();
  for (let i = 0; i < rounds; i += 1) read();
  return (performance.now() - started) / rounds;
}

export default async function run(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-history-'));
  try {
    const path = join(dir, 'history.db');
    const writer = openStore(path);
    const created = writer.createSession({ name: 'long', source: 'recorder', cluster: null, context: null, toolVersion: 'bench', config: {} });
    const buildStarted = performance.now();
    for (const batch of session()) writer.append(created.id, batch);
    writer.close();
    console.error(`# object-history: ${RECORDS} records written in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);

    const store = openStore(path);
    const id = created.id;
    const lastSeq = store.lastSeq(id);
    let versions = 0;
    const historyMs = time(3, () => (versions = store.objectHistory(id, 'hot-uid').length));
    const ordinaryUid = '5f2c7a3e-0000-4000-8000-000000000500';
    const filter = (uid: string) => () => {
      const f = { uid };
      const count = store.recordCount(id, f);
      const cursor = Math.floor(lastSeq / 2);
      const index = store.indexOfSeq(id, cursor, f);
      const after = store.page(id, { afterSeq: cursor, limit: 50, filter: f });
      const before = store.page(id, { beforeSeq: cursor, limit: 50, filter: f });
      return count + index + after.length + before.length;
    };
    const hotFilterMs = time(10, filter('hot-uid'));
    const ordinaryFilterMs = time(10, filter(ordinaryUid));
    const pageMs = time(20, () => store.page(id, { afterSeq: Math.floor(lastSeq / 3), limit: 50, filter: { uid: ordinaryUid } }));
    const objectAtMs = time(20, () => store.objectAt(id, Math.floor(lastSeq / 2) + 1));
    store.close();
    console.error(`# object-history: hot object ${versions} versions`);
    const round = (ms: number) => Number(ms.toFixed(2));
    return [
      { name: 'history.session_records', value: lastSeq, unit: 'records' },
      { name: 'history.hot_object_versions', value: versions, unit: 'versions' },
      { name: 'history.object_history_10k_versions', value: round(historyMs), unit: 'ms' },
      { name: 'history.tui_object_filter_hot', value: round(hotFilterMs), unit: 'ms' },
      { name: 'history.tui_object_filter_ordinary', value: round(ordinaryFilterMs), unit: 'ms' },
      { name: 'history.filtered_page_50', value: round(pageMs), unit: 'ms' },
      { name: 'history.object_at', value: round(objectAtMs), unit: 'ms' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
