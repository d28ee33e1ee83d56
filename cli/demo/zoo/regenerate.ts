// Remakes cli/demo/zoo/zoo-runs.json.gz from a zoo run (e2e/zoo/README.md):
//
//   npm run e2e:up && KREPLAY_ZOO_ONLY=healthy,hot-loop npm run test:zoo
//   npx tsx cli/demo/zoo/regenerate.ts [--db e2e/zoo/out/zoo.db]
//
// It takes the `record` sessions of the two controllers (watch + SDK + audit webhook), names them zoo-healthy and
// zoo-hot-loop, and writes them, records as stored minus their seq (the store assigns it again), gzipped.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { openStore } from '../../../store/index.js';
import { ZooRunsFile, zooRunsFile, type ZooRun } from '../zoo-runs.js';

const runs = [
  { from: 'healthy-record', name: 'zoo-healthy', about: 'the healthy controller: finalizer, owned ConfigMap, status only when it changes' },
  { from: 'hot-loop-record', name: 'zoo-hot-loop', about: 'the same controller stamping status.lastSyncTime = now on every reconcile: a hot loop' },
] as const;

const dbFlag = process.argv.indexOf('--db');
const db = dbFlag > 0 ? process.argv[dbFlag + 1]! : path.join('e2e', 'zoo', 'out', 'zoo.db');
const store = openStore(db, { readonly: true });
try {
  const out: ZooRun[] = runs.map(({ from, name, about }) => {
    const session = store.findSession(from);
    if (!session) throw new Error(`${db} has no session ${from}: run the zoo first (KREPLAY_ZOO_ONLY=healthy,hot-loop npm run test:zoo)`);
    if (!session.startedAt || !session.endedAt) throw new Error(`${from} has no start or end time: was the run cut short?`);
    const records = [...store.records(session.id)].map(({ seq: _seq, ...record }) => record);
    return {
      about,
      session: { name, source: session.source, cluster: session.cluster, context: session.context, toolVersion: session.toolVersion, config: session.config, startedAt: session.startedAt },
      endedAt: session.endedAt,
      records,
    } as ZooRun;
  });
  const file = ZooRunsFile.parse({
    note: `Two kreplay record sessions of e2e/zoo controllers on a real kube-apiserver, made by cli/demo/zoo/regenerate.ts on ${new Date().toISOString().slice(0, 10)}.`,
    runs: out,
  });
  const body = gzipSync(JSON.stringify(file), { level: 9 });
  writeFileSync(zooRunsFile, body);
  console.log(`wrote ${zooRunsFile}: ${out.map((r) => `${r.session.name} (${r.records.length} records)`).join(', ')}, ${body.length} bytes`);
} finally {
  store.close();
}
