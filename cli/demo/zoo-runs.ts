// Two real recordings for `kreplay demo --zoo`: one run of the zoo's healthy controller and one of its hot-loop
// twin (the same reconcile but for one line: `status.lastSyncTime = now`), each recorded by `kreplay record` on a
// real kube-apiserver (watch + the controller's Go SDK reports + the audit webhook). They are stored in the repository
// as one gzipped JSON file, cli/demo/zoo/zoo-runs.json.gz, made by cli/demo/zoo/regenerate.ts (see its README).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { NewSession, SessionRecord, Timestamp } from '../../model/index.js';
import type { SessionStore } from '../../store/index.js';

/** Where the file lives, relative to the package root (the compiled CLI in dist/ reads the same file). */
export const zooRunsFile = path.join('cli', 'demo', 'zoo', 'zoo-runs.json.gz');

export const ZooRun = z.strictObject({
  /** What the run shows, one line. */
  about: z.string().min(1),
  session: NewSession.extend({ startedAt: Timestamp }),
  endedAt: Timestamp,
  records: z.array(SessionRecord),
});
export type ZooRun = z.infer<typeof ZooRun>;

export const ZooRunsFile = z.strictObject({
  /** How the runs were made, for whoever opens the file. */
  note: z.string(),
  runs: z.array(ZooRun).min(1),
});
export type ZooRunsFile = z.infer<typeof ZooRunsFile>;

/** The package root: the nearest directory above this module with the zoo runs file in it. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, zooRunsFile))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`${zooRunsFile} not found above ${fileURLToPath(import.meta.url)}: the package is incomplete`);
    dir = parent;
  }
}

export function zooRunsPath(): string {
  return path.join(packageRoot(), zooRunsFile);
}

/** Reads and validates the bundled runs. */
export function readZooRuns(file = zooRunsPath()): ZooRunsFile {
  let json: unknown;
  try {
    json = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
  } catch (error) {
    throw new Error(`${file}: not a gzipped JSON file (${(error as Error).message})`);
  }
  const parsed = ZooRunsFile.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Appending in batches keeps each transaction short, so a TUI already reading the database is never starved. */
const appendBatch = 1000;

/** Writes each run as a session of its own name, replacing an earlier one of that name. */
export function writeZooRuns(store: SessionStore, runs: readonly ZooRun[]): { name: string; records: number; about: string }[] {
  return runs.map((run) => {
    const existing = store.findSession(run.session.name);
    if (existing) store.deleteSession(existing.id);
    const session = store.createSession(run.session);
    for (let i = 0; i < run.records.length; i += appendBatch) store.append(session.id, run.records.slice(i, i + appendBatch));
    store.endSession(session.id, run.endedAt);
    return { name: run.session.name, records: run.records.length, about: run.about };
  });
}
