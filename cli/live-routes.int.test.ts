import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding, StoredRecord } from '../model/index.js';
import { parseConfig, type RecorderConfigInput } from '../recorder/config.js';
import { FakeApiServer, configMaps } from '../recorder/fake-apiserver.js';
import { silentLogger } from '../recorder/log.js';
import { Recorder } from '../recorder/recorder.js';
import { kubeConfigFor, waitFor } from '../recorder/test-helpers.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { checkAnalysis, exportReports } from './live-analysis.js';
import { runCli } from './testing/run-cli.js';
import { mirrorRemoteSession } from './commands/mirror.js';

/**
 * The recorder's read endpoints, on a real recorder (real HTTP, real SQLite file) watching a fake API server: online
 * findings and their metrics, sessions, exports and followed records while it keeps recording.
 */

const tempDir = useTempDir();
const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const token = 'reader-token-0123456789';

async function setup(config: Partial<RecorderConfigInput> = {}, options: { token?: string | undefined } = { token }) {
  const fake = new FakeApiServer([configMaps]);
  const url = await fake.start();
  cleanups.push(() => fake.close());
  const dbPath = join(tempDir(), 'kreplay.db');
  const store = openStore(dbPath);
  const parsed = parseConfig({
    resources: [{ version: 'v1', resource: 'configmaps', namespaces: ['ns1'] }],
    server: { listen: '127.0.0.1:0' },
    writer: { flushInterval: '20ms' },
    watch: { initialBackoff: '20ms', maxBackoff: '100ms', readInterval: '0ms' },
    check: { thresholds: { finalizerTimeout: '1s' } },
    ...config,
  });
  const recorder = await Recorder.start({
    config: parsed,
    kube: kubeConfigFor(url),
    store,
    dbPath,
    sessionName: 'live',
    toolVersion: '0.0.0-test',
    token: options.token,
    log: silentLogger,
    analysis: checkAnalysis(parsed.check),
    analysisPacing: { minIntervalMs: 50 },
    reports: exportReports({ SOURCE_DATE_EPOCH: '1800000000' }),
  });
  let stopped = false;
  cleanups.push(async () => {
    if (!stopped) await recorder.stop();
    store.close();
  });
  const stop = async () => {
    stopped = true;
    return recorder.stop();
  };
  await waitFor(() => recorder.readiness().ready, 5_000, 'the watch to sync');
  return { fake, store, recorder, dbPath, stop, base: recorder.url };
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function get(url: string, auth: string | undefined = token): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { headers: auth ? { Authorization: `Bearer ${auth}` } : {} });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

/** A ConfigMap deleted while a finalizer holds it, and a ticker that keeps the session's clock moving past the timeout. */
async function strandFinalizer(fake: FakeApiServer, ms = 1_400, done: () => boolean = () => false): Promise<void> {
  fake.create('', 'configmaps', 'ns1', 'held', { metadata: { finalizers: ['example.com/cleanup'] } });
  fake.create('', 'configmaps', 'ns1', 'ticker', { data: { n: '0' } });
  fake.update('', 'configmaps', 'ns1', 'held', { metadata: { finalizers: ['example.com/cleanup'], deletionTimestamp: new Date().toISOString() } });
  const until = Date.now() + ms;
  for (let n = 1; Date.now() < until && !done(); n++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    fake.update('', 'configmaps', 'ns1', 'ticker', { data: { n: String(n) } });
  }
}

describe('GET /v1/findings', () => {
  it('reports a stranded finalizer while recording, with its metrics, and ?since= returns only newer findings', async () => {
    const { fake, base } = await setup();
    await strandFinalizer(fake);
    const awaited = await until(
      async () => {
        const r = await get(`${base}/v1/findings`);
        if (r.status !== 200) return undefined;
        const doc = JSON.parse(r.text) as { session: string; summary: Record<string, unknown>; findings: Finding[]; throughSeq: number };
        return doc.findings.some((f) => f.kind === 'stuck-finalizer') ? doc : undefined;
      },
      10_000,
      'the stuck-finalizer finding',
    );
    expect(awaited.session).toBe('live');
    expect(Object.keys(awaited.summary)).toEqual(['records', 'objects', 'kinds', 'failOn', 'failing', 'suppressed', 'byKind', 'partial', 'problems', 'controller', 'coverage']);
    const stuck = awaited.findings.find((f) => f.kind === 'stuck-finalizer')!;
    expect(stuck.object.name).toBe('held');

    const metrics = await get(`${base}/metrics`, undefined);
    expect(metrics.text).toMatch(new RegExp(`^kreplay_findings\\{kind="stuck-finalizer",severity="${stuck.severity}"\\} 1$`, 'm'));
    expect(metrics.text).toMatch(new RegExp(`^kreplay_findings_total\\{kind="stuck-finalizer",severity="${stuck.severity}"\\} 1$`, 'm'));
    expect(metrics.text).not.toContain('held');

    const last = awaited.findings.at(-1)!;
    const since = JSON.parse((await get(`${base}/v1/findings?since=${encodeURIComponent(last.id)}`)).text) as { findings: Finding[] };
    expect(since.findings).toEqual([]);
    expect((await get(`${base}/v1/findings?since=nope`)).status).toBe(404);
    expect((await get(`${base}/v1/findings`, 'wrong-token-0123456789')).status).toBe(401);
  });
});

describe('GET /v1/findings when the heap is nearly full', () => {
  it('says detection stopped and why, on the API and /metrics, while the recorder goes on recording', async () => {
    // A share no heap is under: the first reading after a full collection stops detection.
    const { fake, store, base } = await setup({ detection: { heapShare: 0.001 } });
    // A full collection on demand (--expose-gc at run time gives a fresh context a gc()): its reading is the heap's.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    let n = 0;
    const stopped = await until(
      async () => {
        fake.create('', 'configmaps', 'ns1', `cm-${n++}`, {});
        const r = await get(`${base}/v1/findings`);
        return r.text.includes('online detection stopped') ? r : undefined;
      },
      10_000,
      'detection to stop',
    );
    // Stopped before its first run, or after some: either way the reason is in the answer.
    const reason = stopped.status === 503 ? (JSON.parse(stopped.text) as { error: string }).error : (JSON.parse(stopped.text) as { stopped: string }).stopped;
    expect(reason).toMatch(/^online detection stopped after seq \d+: the recorder's heap kept \d+ MB after a full collection, more than detection\.heapShare \(0 %\) of its \d+ MB limit\. The recording goes on/);
    expect((await get(`${base}/metrics`, undefined)).text).toMatch(/^kreplay_recorder_analysis_stopped 1$/m);
    fake.create('', 'configmaps', 'ns1', 'after-the-stop', {});
    await until(async () => ([...store.records(store.findSession('live')!.id, { withObjects: false })].some((r) => r.record === 'watch' && r.name === 'after-the-stop') ? true : undefined), 5_000, 'the recording to go on');
  });
});

describe('kreplay pull', () => {
  it('copies the session out of the running recorder; check on it reports the finding the recorder reports; never overwrites', async () => {
    const { fake, base } = await setup();
    await strandFinalizer(fake);
    const remote = await until(
      async () => {
        const r = await get(`${base}/v1/findings`);
        const doc = r.status === 200 ? (JSON.parse(r.text) as { findings: Finding[] }) : undefined;
        return doc?.findings.find((f) => f.kind === 'stuck-finalizer');
      },
      10_000,
      'the stuck-finalizer finding',
    );
    const dir = tempDir();
    const db = join(dir, 'local.db');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${token}\n`);
    const pulled = await runCli(['--db', db, 'pull', base, 'live', '--token-file', tokenFile]);
    expect(pulled.err).toMatch(/^pulled session live from http:\/\/127\.0\.0\.1:\d+: \d+ record\(s\) \(still recording there: this is a snapshot\)/);
    expect(pulled.code).toBe(0);
    const checked = await runCli(['--db', db, 'check', 'live', '--json', '--finalizer-timeout', '1s']);
    process.exitCode = 0;
    const local = (JSON.parse(checked.out) as { findings: Finding[] }).findings.find((f) => f.kind === 'stuck-finalizer');
    expect(local).toEqual(remote);

    const again = await runCli(['--db', db, 'pull', base, 'live', '--token-file', tokenFile]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('a session named "live" already exists');
    expect((await runCli(['--db', db, 'pull', base, 'live', '--token-file', tokenFile, '--as', 'live-2'])).code).toBe(0);
    const unauthorized = await runCli(['--db', db, 'pull', base, 'live', '--as', 'live-3']);
    expect(unauthorized.code).toBe(2);
    expect(unauthorized.err).toContain('answered 401');
  });
});

describe('kreplay check --follow', () => {
  it('prints the finding as it appears, from the local database being written and from --from URL, and exits at the first with --exit-on-first', async () => {
    const { fake, base, dbPath } = await setup();
    const tokenFile = join(tempDir(), 'token');
    writeFileSync(tokenFile, token);
    const remote = runCli(['check', '--follow', 'live', '--from', base, '--token-file', tokenFile, '--exit-on-first', '--interval', '100ms']);
    const local = runCli(['--db', dbPath, 'check', '--follow', 'live', '--exit-on-first', '--interval', '100ms', '--finalizer-timeout', '1s']);
    let followed = false;
    const stranding = strandFinalizer(fake, 10_000, () => followed);
    const [fromRemote, fromLocal] = await Promise.all([remote, local]);
    followed = true;
    const exitCode = process.exitCode;
    process.exitCode = 0;
    expect(exitCode).toBe(1);
    for (const run of [fromRemote, fromLocal]) {
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/^(WARNING|ERROR) stuck-finalizer \(finalizer-timeout\) {2}ConfigMap ns1\/held {2}seq \d+/m);
      expect(run.err).toMatch(/a finding at or above --fail-on; 1 finding\(s\) at or above warning/);
    }
    await stranding;
  });
});

describe('sessions and exports', () => {
  it('lists sessions as sessions --json does and exports one session as a consistent SQLite file and as reports', async () => {
    const { fake, base, store, recorder } = await setup();
    await strandFinalizer(fake, 300);
    await waitFor(() => store.lastSeq(recorder.sessionId) > 5, 5_000, 'records');
    const sessions = JSON.parse((await get(`${base}/v1/sessions`)).text) as { sessions: { name: string; recordCount: number }[] };
    expect(sessions.sessions.map((s) => s.name)).toEqual(['live']);

    const sqlite = await fetch(`${base}/v1/sessions/live/export?format=sqlite`, { headers: { Authorization: `Bearer ${token}` } });
    expect(sqlite.status).toBe(200);
    const file = join(tempDir(), 'pulled.db');
    writeFileSync(file, Buffer.from(await sqlite.arrayBuffer()));
    const copy = openStore(file);
    try {
      const listed = copy.listSessions();
      expect(listed.map((s) => s.name)).toEqual(['live']);
      const records = [...copy.records(listed[0]!.id)];
      const seqs = records.map((r) => r.seq);
      // A consistent prefix of the session: seq 1..n with nothing missing, identical to the live database's rows.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(records).toEqual([...store.records(recorder.sessionId, { toSeq: seqs.length })]);
    } finally {
      copy.close();
    }

    const json = JSON.parse((await get(`${base}/v1/sessions/live/export?format=json`)).text) as { kind: string; session: { name: string } };
    expect(json.session.name).toBe('live');
    const markdown = await get(`${base}/v1/sessions/live/export?format=markdown`);
    expect(markdown.headers.get('content-type')).toMatch(/^text\/markdown/);
    expect(markdown.text).toContain('live');
    expect((await get(`${base}/v1/sessions/live/export?format=pdf`)).status).toBe(400);
    expect((await get(`${base}/v1/sessions/nope/export?format=json`)).status).toBe(404);
  });
});

describe('GET /v1/sessions/{name}/records', () => {
  it('streams the records from a seq, then follows new ones as they commit, and ends when the recorder stops', async () => {
    const { fake, base, stop } = await setup();
    fake.create('', 'configmaps', 'ns1', 'first', {});
    const lines: StoredRecord[] = [];
    let ended = false;
    const request = http.get(`${base}/v1/sessions/live/records?fromSeq=1&follow=true`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, newline)) as StoredRecord);
          buffer = buffer.slice(newline + 1);
        }
      });
      res.on('end', () => (ended = true));
    });
    cleanups.push(() => void request.destroy());
    await waitFor(() => lines.some((r) => r.record === 'watch' && r.name === 'first'), 5_000, 'the first object');
    fake.create('', 'configmaps', 'ns1', 'second', {});
    await waitFor(() => lines.some((r) => r.record === 'watch' && r.name === 'second'), 5_000, 'an object created while following');
    const seqs = lines.map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    await stop();
    await waitFor(() => ended, 5_000, 'the stream to end');

    const fromThree = await get(`${base}/v1/sessions/live/records?fromSeq=3`).catch(() => undefined);
    expect(fromThree).toBeUndefined(); // stopped: the listener is closed
  });

  it('answers from seq N without following, one JSON record per line', async () => {
    const { fake, base, store, recorder } = await setup();
    fake.create('', 'configmaps', 'ns1', 'a', {});
    fake.create('', 'configmaps', 'ns1', 'b', {});
    await waitFor(() => store.lastSeq(recorder.sessionId) >= 5, 5_000, 'records');
    const through = store.lastSeq(recorder.sessionId);
    const r = await get(`${base}/v1/sessions/live/records?fromSeq=3`);
    const records = r.text.trim().split('\n').map((line) => JSON.parse(line) as StoredRecord);
    expect(records[0]!.seq).toBe(3);
    expect(records.length).toBeGreaterThanOrEqual(through - 2);
    expect((await get(`${base}/v1/sessions/live/records?fromSeq=x`)).status).toBe(400);
  });

  it('sends every version of every object as stored, across pages of deltas', async () => {
    const { fake, base, store, recorder } = await setup();
    // 7 objects rewritten 80 times: pages of 200 records hold versions of every object, each a delta on the last sent.
    for (let round = 0; round < 80; round++) for (let i = 0; i < 7; i++) (round ? fake.update : fake.create).call(fake, '', 'configmaps', 'ns1', `cm-${i}`, { data: { round: String(round), fixed: 'x'.repeat(50) } });
    await waitFor(() => [...store.records(recorder.sessionId, { withObjects: false })].filter((r) => r.record === 'watch').length >= 560, 10_000, 'the writes');
    const stored = [...store.records(recorder.sessionId, { withObjects: true })];
    const r = await get(`${base}/v1/sessions/live/records?fromSeq=1`);
    const sent = r.text.trim().split('\n').map((line) => JSON.parse(line) as StoredRecord);
    expect(sent.length).toBeGreaterThanOrEqual(stored.length);
    expect(sent.slice(0, stored.length)).toEqual(JSON.parse(JSON.stringify(stored)));
    expect(sent.filter((x) => x.record === 'watch' && (x.object?.data as { round?: string } | undefined)?.round === '79')).toHaveLength(7);
  });
});

describe('replay --follow --from: the mirror', () => {
  it('copies the remote session into a local file and keeps appending what the recorder commits', async () => {
    const { fake, base, store, recorder } = await setup();
    fake.create('', 'configmaps', 'ns1', 'before', {});
    await waitFor(() => store.lastSeq(recorder.sessionId) >= 3, 5_000, 'records');
    const mirror = await mirrorRemoteSession({ base, token }, 'live');
    cleanups.push(() => mirror.stop());
    const local = openStore(mirror.dbPath, { readonly: true });
    cleanups.push(() => local.close());
    const id = local.findSession('live')!.id;
    await waitFor(() => local.lastSeq(id) >= 3, 5_000, 'the first records in the mirror');
    fake.create('', 'configmaps', 'ns1', 'after', {});
    await waitFor(() => [...local.records(id)].some((r) => r.record === 'watch' && r.name === 'after'), 5_000, 'a record committed after the mirror started');
    const through = local.lastSeq(id);
    expect([...local.records(id, { toSeq: through })]).toEqual([...store.records(recorder.sessionId, { toSeq: through })]);
  });
});

describe('read endpoints without a token', () => {
  it('answer on a loopback-only listener', async () => {
    const { base } = await setup({}, { token: undefined });
    expect((await get(`${base}/v1/sessions`, undefined)).status).toBe(200);
  });

  it('are off on a listener others can reach', async () => {
    const { recorder } = await setup({ server: { listen: '0.0.0.0:0' } }, { token: undefined });
    const port = new URL(recorder.url).port;
    const r = await get(`http://127.0.0.1:${port}/v1/sessions`, undefined);
    expect(r.status).toBe(403);
    expect(r.text).toContain('no bearer token is configured');
    expect((await get(`http://127.0.0.1:${port}/healthz`, undefined)).status).toBe(200);
  });
});
