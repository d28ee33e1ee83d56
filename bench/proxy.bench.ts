import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer, configMaps } from '../recorder/fake-apiserver.js';
import { benchNumber } from './env.js';

/**
 * The overhead of `kreplay proxy` (docs/proxy.md), measured from outside: the proxy runs as its own process (through
 * tsx, as `kreplay proxy`) in front of a fake API server on loopback, recording into a real SQLite file. The same
 * client reads the same server directly and through the proxy at the same time, so the differences are the proxy's:
 *
 *   - per request: LISTs of 1 and of 50 ConfigMaps (~1 and ~50 KB) one after another, direct and proxied: added p50/p99
 *   - per watch event: one watch direct and one through the proxy on the same server, events at a sustained rate;
 *     each event's latency from the server's write to the client's read: added p50/p99
 *   - the proxy's CPU (utime + stime from /proc) while it relays and records that rate
 *
 * KREPLAY_BENCH_SECONDS (default 15), KREPLAY_BENCH_RATE (default 1000 events/s), KREPLAY_BENCH_REQUESTS (default 300).
 */

interface Figure {
  name: string;
  value: number;
  unit: string;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const clockTicks = 100;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The proxy's node process: tsx's wrapper spawns it; its CPU is what counts. */
function nodeChildOf(pid: number): number {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children.length ? nodeChildOf(children[0]!) : pid;
  } catch {
    return pid;
  }
}

const agent = new http.Agent({ keepAlive: true });

function get(base: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get(`${base}${path}`, { agent, headers: { Accept: 'application/json' } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(performance.now() - started));
      })
      .on('error', reject);
  });
}

/** A watch whose events are timed on arrival against the moment the server wrote them. */
function watch(base: string, path: string, writtenAt: Map<string, number>, latencies: number[]): { close(): void } {
  const req = http.get(`${base}${path}`, { agent: new http.Agent({ keepAlive: false }), headers: { Accept: 'application/json' } }, (res) => {
    let carried = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const now = performance.now();
      const text = carried + chunk;
      const lines = text.split('\n');
      carried = lines.pop() ?? '';
      for (const line of lines) {
        const rv = /"resourceVersion":"(\d+)"/.exec(line)?.[1];
        const at = rv ? writtenAt.get(rv) : undefined;
        if (at !== undefined) latencies.push(now - at);
      }
    });
  });
  req.on('error', () => undefined);
  return { close: () => req.destroy() };
}

export default async function bench(): Promise<Figure[]> {
  const seconds = benchNumber('KREPLAY_BENCH_SECONDS', 15);
  const rate = benchNumber('KREPLAY_BENCH_RATE', 1000);
  const requests = benchNumber('KREPLAY_BENCH_REQUESTS', 300);
  const dir = mkdtempSync(join(tmpdir(), 'kreplay-bench-proxy-'));
  const fake = new FakeApiServer([configMaps]);
  const server = await fake.start();
  const objects = 200;
  for (let i = 0; i < objects; i++) fake.create('', 'configmaps', 'bench', `cm-${i}`, { data: { value: 'x'.repeat(800), i: String(i) } });
  writeFileSync(join(dir, 'upstream.kubeconfig'), `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${server}\nusers:\n- name: fake\n  user:\n    token: bench\ncontexts:\n- name: fake\n  context: { cluster: fake, user: fake }\ncurrent-context: fake\n`);
  const out = join(dir, 'proxy.kubeconfig');
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/run.ts', '--db', join(dir, 'proxy.db'), 'proxy', '--kubeconfig', join(dir, 'upstream.kubeconfig'), '--listen', '127.0.0.1:0', '--write-kubeconfig', out, '--session', 'bench', '--log-level', 'warn'], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const figures: Figure[] = [];
  try {
    for (let i = 0; i < 200 && !existsSync(out); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (!existsSync(out)) throw new Error('kreplay proxy did not write its kubeconfig within 20 s');
    const proxy = /server: (\S+)/.exec(readFileSync(out, 'utf8'))![1]!;

    // Per request: the same LIST direct and proxied, interleaved so both see the same machine load. A list of one
    // item stands for a small request (a GET, a write: one record); a list of 50 shows what recording items costs.
    for (const [label, limit] of [['request', 1], ['list50', 50]] as const) {
      const list = `/api/v1/namespaces/bench/configmaps?limit=${limit}`;
      for (let i = 0; i < 20; i++) await Promise.all([get(server, list), get(proxy, list)]); // warm up (discovery, JIT)
      const direct: number[] = [];
      const proxied: number[] = [];
      for (let i = 0; i < requests; i++) {
        direct.push(await get(server, list));
        proxied.push(await get(proxy, list));
      }
      direct.sort((a, b) => a - b);
      proxied.sort((a, b) => a - b);
      figures.push(
        { name: `proxy.${label}.direct.p50`, value: round(quantile(direct, 0.5)), unit: 'ms' },
        { name: `proxy.${label}.proxied.p50`, value: round(quantile(proxied, 0.5)), unit: 'ms' },
        { name: `proxy.${label}.added.p50`, value: round(quantile(proxied, 0.5) - quantile(direct, 0.5)), unit: 'ms' },
        { name: `proxy.${label}.added.p99`, value: round(quantile(proxied, 0.99) - quantile(direct, 0.99)), unit: 'ms' },
      );
    }

    // Per watch event, at the sustained rate; CPU of the proxy over the same window.
    const writtenAt = new Map<string, number>();
    const directEvents: number[] = [];
    const proxiedEvents: number[] = [];
    const rv = fake.currentRevision;
    const path = `/api/v1/namespaces/bench/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=3600`;
    const watches = [watch(server, path, writtenAt, directEvents), watch(proxy, path, writtenAt, proxiedEvents)];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const pid = nodeChildOf(child.pid!);
    const ticksBefore = cpuTicks(pid);
    const started = performance.now();
    let sent = 0;
    const perTick = Math.max(1, Math.round(rate / 100));
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - started;
        if (elapsed >= seconds * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        const due = Math.floor((elapsed / 1000) * rate);
        for (let n = 0; sent < due && n < perTick * 4; n++, sent++) {
          const object = fake.update('', 'configmaps', 'bench', `cm-${sent % objects}`, { data: { value: 'x'.repeat(800), i: String(sent) } });
          writtenAt.set(object.metadata!.resourceVersion!, performance.now());
        }
      }, 10);
    });
    const wall = (performance.now() - started) / 1000;
    const cpu = (cpuTicks(pid) - ticksBefore) / clockTicks / wall;
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const w of watches) w.close();
    directEvents.sort((a, b) => a - b);
    proxiedEvents.sort((a, b) => a - b);
    figures.push(
      { name: 'proxy.watch.events', value: sent, unit: 'events' },
      { name: 'proxy.watch.rate', value: Math.round(sent / wall), unit: 'events/s' },
      { name: 'proxy.watch.delivered', value: proxiedEvents.length, unit: 'events' },
      { name: 'proxy.watch.direct.p50', value: round(quantile(directEvents, 0.5)), unit: 'ms' },
      { name: 'proxy.watch.proxied.p50', value: round(quantile(proxiedEvents, 0.5)), unit: 'ms' },
      { name: 'proxy.watch.added.p50', value: round(quantile(proxiedEvents, 0.5) - quantile(directEvents, 0.5)), unit: 'ms' },
      { name: 'proxy.watch.added.p99', value: round(quantile(proxiedEvents, 0.99) - quantile(directEvents, 0.99)), unit: 'ms' },
      { name: 'proxy.cpu', value: Math.round(cpu * 1000) / 10, unit: '% of a core' },
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    agent.destroy();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
