// A recorder restart loses nothing the API server still has (issue 18): `kreplay record` as a child process on a real
// kube-apiserver, ConfigMap writes at ~200/s by this file, the recorder killed (SIGKILL) or stopped (SIGTERM) and
// started again on the same session ~5 s later. Each watch resumes from the resourceVersion committed with its last
// records (recorder/checkpoint.ts), which the API server's watch cache still holds (at least 75 s:
// apiserver pkg/storage/cacher DefaultEventFreshDuration), so every acknowledged write is in the session, deletions
// included, with no relist. Past the history window (forced honestly: etcd compaction and an API server restart, as
// e2e/faults and the zoo's deleteUnseen do) the resume is refused with 410: exactly one relist, tombstones for what
// vanished, and every object's final state right.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarkerRecord, StoredRecord, WatchEventRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { compact, eventually, restoreBaseline, rv, sleep, useE2e } from './harness.js';
import { freePort, startRecorder, stopRecorder, waitSynced, type RunningRecorder } from './recorder-process.js';

const e2e = useE2e('resume');
const sessionName = 'e2e-resume';

let workDir: string;
let dbPath: string;
let configPath: string;
let listenPort: number;
let running: RunningRecorder | undefined;
let writer: KeepAliveClient;
/** One load for the whole file: it knows which names exist, so later phases update and delete them too. */
let load: WriteLoad;

const recorderOptions = () => ({ dbPath, configPath, kubeconfigPath: e2e.cluster.paths.kubeconfig, session: sessionName, listenPort });

// ---- the session ----------------------------------------------------------------------------------------------------

type Watch = StoredRecord & WatchEventRecord;
type Marker = StoredRecord & MarkerRecord;

function readSession(): StoredRecord[] {
  const store = openStore(dbPath, { readonly: true });
  try {
    const session = store.findSession(sessionName);
    return session ? [...store.records(session.id, { withObjects: false })] : [];
  } finally {
    store.close();
  }
}

const configMapEvents = (records: readonly StoredRecord[]) =>
  records.filter((r): r is Watch => r.record === 'watch' && r.resource === 'configmaps' && r.type !== 'BOOKMARK' && r.namespace === e2e.namespace);
const markers = (records: readonly StoredRecord[], kind: MarkerRecord['marker']) =>
  records.filter((r): r is Marker => r.record === 'marker' && r.marker === kind && (r.resource === undefined || r.resource === 'configmaps'));

// ---- ~200 writes/s over one keep-alive connection pool -------------------------------------------------------------

/** The harness's client opens a TLS connection per request; 200 writes/s want keep-alive. */
class KeepAliveClient {
  private constructor(
    private readonly server: URL,
    private readonly agent: https.Agent,
    private readonly authorization: string,
  ) {}

  static async create(kubeConfig: k8s.KubeConfig, server: string): Promise<KeepAliveClient> {
    const options: https.RequestOptions = {};
    await kubeConfig.applyToHTTPSOptions(options);
    const authorization = (options.headers as Record<string, unknown> | undefined)?.['Authorization'];
    if (typeof authorization !== 'string') throw new Error('the e2e kubeconfig has no bearer token');
    return new KeepAliveClient(new URL(server), new https.Agent({ ca: options.ca, keepAlive: true, maxSockets: 16 }), authorization);
  }

  request(method: string, pathAndQuery: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        {
          method,
          hostname: this.server.hostname,
          port: this.server.port,
          path: pathAndQuery,
          agent: this.agent,
          headers: { Authorization: this.authorization, Accept: 'application/json', ...(payload ? { 'Content-Type': 'application/json' } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${pathAndQuery}: no answer in 30 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface Ack {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly name: string;
  readonly uid: string;
  /** The RV the API server answered with (a delete answers with a Status: none). */
  readonly rv: string | undefined;
}

/**
 * Creates, updates and deletes ConfigMaps from a pool of names at a target rate, at most one write per name in
 * flight (so each answer is that name's latest state), and keeps every acknowledged write.
 */
class WriteLoad {
  readonly acks: Ack[] = [];
  failures = 0;
  private readonly live = new Map<string, string>(); // name → uid
  private readonly busy = new Set<string>();
  private stopped = false;
  private done: Promise<void> | undefined;
  private n = 0;

  constructor(
    private readonly client: KeepAliveClient,
    private readonly namespace: string,
    private readonly names = 60,
  ) {}

  start(perSecond: number): void {
    this.stopped = false;
    this.done = this.loop(perSecond);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async loop(perSecond: number): Promise<void> {
    const started = Date.now();
    let launched = 0;
    const inFlight = new Set<Promise<void>>();
    while (!this.stopped) {
      const due = Math.floor(((Date.now() - started) / 1000) * perSecond);
      while (launched < due && inFlight.size < 16) {
        const name = this.pick();
        if (name === undefined) break;
        launched += 1;
        const write = this.write(name).finally(() => inFlight.delete(write));
        inFlight.add(write);
      }
      await sleep(2);
    }
    await Promise.all(inFlight);
  }

  private pick(): string | undefined {
    for (let tries = 0; tries < 8; tries += 1) {
      const name = `load-${Math.floor(Math.random() * this.names)}`;
      if (!this.busy.has(name)) return name;
    }
    return undefined;
  }

  private async write(name: string): Promise<void> {
    this.busy.add(name);
    const base = `/api/v1/namespaces/${this.namespace}/configmaps`;
    const uid = this.live.get(name);
    const n = String((this.n += 1));
    try {
      if (uid === undefined) {
        const res = await this.client.request('POST', base, { metadata: { name }, data: { n } });
        if (res.status !== 201) throw new Error(`create ${name}: ${res.status}`);
        const meta = res.body['metadata'] as { uid: string; resourceVersion: string };
        this.live.set(name, meta.uid);
        this.acks.push({ type: 'ADDED', name, uid: meta.uid, rv: meta.resourceVersion });
      } else if (Math.random() < 0.1) {
        const res = await this.client.request('DELETE', `${base}/${name}`);
        if (res.status !== 200) throw new Error(`delete ${name}: ${res.status}`);
        this.live.delete(name);
        this.acks.push({ type: 'DELETED', name, uid, rv: undefined });
      } else {
        // No resourceVersion in the body: an unconditional update (ConfigMaps allow it), never a 409.
        const res = await this.client.request('PUT', `${base}/${name}`, { metadata: { name }, data: { n } });
        if (res.status !== 200) throw new Error(`update ${name}: ${res.status}`);
        const meta = res.body['metadata'] as { uid: string; resourceVersion: string };
        this.acks.push({ type: 'MODIFIED', name, uid: meta.uid, rv: meta.resourceVersion });
      }
    } catch {
      // An answer we did not get is not acknowledged: it is simply not asserted.
      this.failures += 1;
    } finally {
      this.busy.delete(name);
    }
  }
}

/** Every acknowledged write is in the session: its RV as a watch record; a deletion as a DELETED of that uid. */
function missingAcks(records: readonly StoredRecord[], acks: readonly Ack[], origins: readonly string[] = ['watch']): string[] {
  const events = configMapEvents(records).filter((r) => origins.includes(r.origin));
  const rvs = new Set(events.map((r) => r.resourceVersion));
  const deleted = new Set(events.filter((r) => r.type === 'DELETED').map((r) => r.uid));
  return acks.filter((a) => (a.type === 'DELETED' ? !deleted.has(a.uid) : !rvs.has(a.rv!))).map((a) => `${a.type} ${a.name}@${a.rv ?? a.uid}`);
}

async function expectAllAcked(acks: readonly Ack[], origins?: readonly string[]): Promise<StoredRecord[]> {
  let records: StoredRecord[] = [];
  await eventually(async () => {
    records = readSession();
    const missing = missingAcks(records, acks, origins);
    if (missing.length) throw new Error(`${missing.length} acknowledged write(s) not in the session yet: ${missing.slice(0, 10).join(', ')}`);
  }, 30_000, 500);
  return records;
}

/** The watch delivered each version once, in RV order: a resume neither skips nor repeats. */
function expectNoDuplicates(records: readonly StoredRecord[]): void {
  const rvs = configMapEvents(records)
    .filter((r) => r.origin === 'watch')
    .map((r) => rv(r.resourceVersion));
  const out = rvs.findIndex((value, i) => i > 0 && value <= rvs[i - 1]!);
  expect(out, `watch RVs out of order or repeated at ${out}: ${rvs[out - 1]} then ${rvs[out]}`).toBe(-1);
}

/** Kill or stop, write meanwhile, start again: what the restart looks like in the session, and how long it took. */
async function restartUnderLoad(signal: NodeJS.Signals, downMs: number) {
  const code = await stopRecorder(running!, signal);
  if (signal === 'SIGTERM') expect(code).toBe(0);
  const stoppedAt = Date.now();
  const lastBefore = readSession().at(-1)!.seq;
  const acksWhileDown = load.acks.length;
  await sleep(downMs);
  const restartedAt = Date.now();
  const acksAtRestart = load.acks.length;
  running = startRecorder(recorderOptions());
  await waitSynced(running, ['v1/configmaps'], 60_000);
  const readyAt = Date.now();
  return { lastBefore, stoppedAt, restartedAt, readyAt, acksAtStop: acksWhileDown, acksAtRestart };
}

function resumeMarkers(records: readonly StoredRecord[], afterSeq: number) {
  const fresh = records.filter((r) => r.seq > afterSeq);
  return {
    gap: markers(fresh, 'gap')[0],
    resumed: markers(fresh, 'watch-started').filter((m) => m.resume !== undefined),
    lists: markers(fresh, 'list-started'),
    gone: markers(fresh, 'gone'),
  };
}

/** The resume point committed before the restart: the last configmaps watch event, bookmark or list RV. */
function lastCommittedRV(records: readonly StoredRecord[], throughSeq: number): string | undefined {
  for (let i = records.length - 1; i >= 0; i -= 1) {
    const r = records[i]!;
    if (r.seq > throughSeq) continue;
    if (r.record === 'watch' && r.resource === 'configmaps' && r.origin === 'watch') return r.resourceVersion;
    if (r.record === 'marker' && r.marker === 'list-finished' && r.resource === 'configmaps') return r.resourceVersion;
  }
  return undefined;
}

// ---- lifecycle --------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'kreplay-e2e-resume-'));
  dbPath = path.join(workDir, 'kreplay.db');
  configPath = path.join(workDir, 'recorder.yaml');
  listenPort = await freePort();
  writeFileSync(
    configPath,
    ['resources:', '  - v1/configmaps', `namespaces: [${e2e.namespace}]`, 'server:', `  listen: 127.0.0.1:${listenPort}`, 'writer:', '  flushInterval: 100ms', 'watch:', '  maxBackoff: 2s', ''].join('\n'),
  );
  writer = await KeepAliveClient.create(e2e.cluster.kubeConfig, e2e.cluster.server);
  load = new WriteLoad(writer, e2e.namespace);
});

afterAll(async () => {
  if (running) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  writer?.close();
  await restoreBaseline();
  if (process.env['KREPLAY_E2E_KEEP'] !== '1') rmSync(workDir, { recursive: true, force: true });
});

describe('a recorder restart on the same session', () => {
  it('kill -9 under ~200 writes/s, restarted ~5 s later: every acknowledged write is in the session, the watch resumed', async () => {
    running = startRecorder(recorderOptions());
    await waitSynced(running, ['v1/configmaps'], 60_000);
    const from = load.acks.length;
    load.start(200);
    const loadStarted = Date.now();
    await sleep(3_000);
    const restart = await restartUnderLoad('SIGKILL', 5_000);
    await sleep(2_000);
    await load.stop();
    const loadSeconds = (Date.now() - loadStarted) / 1000;

    const records = await expectAllAcked(load.acks);
    expectNoDuplicates(records);
    const { gap, resumed, lists, gone } = resumeMarkers(records, restart.lastBefore);
    expect(gap?.message).toMatch(/ended without recorder-stopped .*1 of 1 watch\(es\) resume from the resourceVersion committed/);
    // The watch went on from exactly where the committed records end: no list, no 410.
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ resume: 'resumed', resourceVersion: lastCommittedRV(records, restart.lastBefore) });
    expect(lists).toEqual([]);
    expect(gone).toEqual([]);
    // Deletions made while no recorder ran were delivered by the resumed watch itself, not inferred by a relist.
    const whileDown = load.acks.slice(restart.acksAtStop, restart.acksAtRestart).filter((a) => a.type === 'DELETED');
    expect(whileDown.length).toBeGreaterThan(0);
    expect(missingAcks(records, whileDown, ['watch'])).toEqual([]);

    const resumedAt = Date.parse(resumed[0]!.observedAt!);
    const figures = {
      test: 'kill -9',
      acknowledged: load.acks.length - from,
      present: load.acks.length - from - missingAcks(records, load.acks.slice(from)).length,
      acknowledgedWhileDown: restart.acksAtRestart - restart.acksAtStop,
      writesPerSecond: Math.round((load.acks.length - from) / loadSeconds),
      failedWrites: load.failures,
      downMs: restart.restartedAt - restart.stoppedAt,
      startToResumedMs: resumedAt - restart.restartedAt,
      // From the session opened (the gap marker) to the resumed watch: the rest of the start is Node and its loader.
      openToResumedMs: resumedAt - Date.parse(gap!.observedAt!),
      startToReadyMs: restart.readyAt - restart.restartedAt,
    };
    console.log(`[resume] ${JSON.stringify(figures)}`);
    expect(figures.present).toBe(figures.acknowledged);
  }, 90_000);

  it('SIGTERM under load, restarted ~5 s later: the same, after a clean recorder-stopped', async () => {
    const from = load.acks.length;
    load.start(200);
    const loadStarted = Date.now();
    await sleep(2_000);
    const restart = await restartUnderLoad('SIGTERM', 5_000);
    await sleep(2_000);
    await load.stop();
    const loadSeconds = (Date.now() - loadStarted) / 1000;

    const records = await expectAllAcked(load.acks);
    expectNoDuplicates(records);
    const before = records.filter((r) => r.seq <= restart.lastBefore);
    expect(before.at(-1)).toMatchObject({ record: 'marker', marker: 'recorder-stopped' });
    const { gap, resumed, lists, gone } = resumeMarkers(records, restart.lastBefore);
    expect(gap?.message).toMatch(/stopped at .* and restarted; .*1 of 1 watch\(es\) resume/);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ resume: 'resumed', resourceVersion: lastCommittedRV(records, restart.lastBefore) });
    expect(lists).toEqual([]);
    expect(gone).toEqual([]);
    const figures = {
      test: 'SIGTERM',
      acknowledged: load.acks.length - from,
      present: load.acks.length - from - missingAcks(records, load.acks.slice(from)).length,
      acknowledgedWhileDown: restart.acksAtRestart - restart.acksAtStop,
      writesPerSecond: Math.round((load.acks.length - from) / loadSeconds),
      startToResumedMs: Date.parse(resumed[0]!.observedAt!) - restart.restartedAt,
      openToResumedMs: Date.parse(resumed[0]!.observedAt!) - Date.parse(gap!.observedAt!),
    };
    console.log(`[resume] ${JSON.stringify(figures)}`);
    expect(figures.present).toBe(figures.acknowledged);
  }, 90_000);

  it('past the history window (etcd compacted, API server restarted): one relist, tombstones, every final state right', async () => {
    await stopRecorder(running!, 'SIGKILL');
    const before = readSession();
    const lastBefore = before.at(-1)!.seq;
    const knownBefore = new Set(configMapEvents(before).map((r) => r.uid));
    // Changes while no recorder runs: updates, deletions, creations.
    const from = load.acks.length;
    load.start(100);
    await sleep(1_500);
    await load.stop();
    const whileDown = load.acks.slice(from);
    expect(whileDown.some((a) => a.type === 'DELETED')).toBe(true);
    // The committed RV is now gone from etcd and from the (rebuilt) watch cache.
    await compact();
    running = startRecorder(recorderOptions());
    await waitSynced(running, ['v1/configmaps'], 60_000);

    const list = (await e2e.cluster.http.json('GET', `/api/v1/namespaces/${e2e.namespace}/configmaps`)) as {
      items: { metadata: { name: string; uid: string; resourceVersion: string } }[];
    };
    let records: StoredRecord[] = [];
    await eventually(async () => {
      records = readSession();
      if (!markers(records.filter((r) => r.seq > lastBefore), 'list-finished').length) throw new Error('no list-finished after the restart yet');
    }, 30_000, 500);
    const { resumed, lists, gone } = resumeMarkers(records, lastBefore);
    expect(resumed).toEqual([]);
    expect(lists).toHaveLength(1);
    // The 410 for the committed RV is said by the relist itself: the gap is the recorder's, not the watch's.
    expect(lists[0]).toMatchObject({ resume: 'relisted', code: 410, resourceVersion: lastCommittedRV(records, lastBefore), message: expect.stringMatching(/too old \(410: too old resource version/) });
    expect(gone).toEqual([]);

    // Each object's final state: the session's last record of every uid is the cluster's current version, and every
    // uid the session still holds live exists.
    const last = new Map<string, Watch>();
    for (const r of configMapEvents(records)) last.set(r.uid!, r);
    const current = new Map(list.items.filter((i) => i.metadata.name.startsWith('load-')).map((i) => [i.metadata.uid, i.metadata.resourceVersion]));
    for (const [uid, resourceVersion] of current) expect(last.get(uid), `uid ${uid}`).toMatchObject({ resourceVersion, type: expect.not.stringMatching(/^DELETED$/) });
    const stillLive = [...last.values()].filter((r) => r.type !== 'DELETED' && r.name!.startsWith('load-'));
    expect(stillLive.map((r) => r.uid).sort()).toEqual([...current.keys()].sort());
    // What vanished meanwhile is a tombstone of the relist (a DELETED with origin relist).
    // (Objects both created and deleted while it was down were never known to the session: nothing to mark.)
    const deletedMeanwhile = whileDown.filter((a) => a.type === 'DELETED' && !current.has(a.uid) && knownBefore.has(a.uid));
    expect(deletedMeanwhile.length).toBeGreaterThan(0);
    for (const a of deletedMeanwhile) expect(last.get(a.uid), a.name).toMatchObject({ type: 'DELETED' });
    expect(missingAcks(records, deletedMeanwhile, ['relist'])).toEqual([]);
  }, 120_000);
});
