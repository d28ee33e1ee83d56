import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Finding, SessionRecord } from '../model/index.js';
import { openStore, type SessionStore } from '../store/index.js';
import type { render as InkRender } from 'ink';
import type { createElement as ReactCreateElement } from 'react';
import type { Figure } from './run.js';
import { benchDeployment } from './fixtures.js';
import { benchNumber } from './env.js';

/**
 * Issue #6's TUI figures on a 1,000,000-record session in a real SQLite file: time from opening the database to
 * the first frame, and how long one step (next record, next page, jump, next change of the object, watchpoint)
 * takes from the key press to the frame that shows it.
 *
 * The session is generated once per run (about a minute); set KREPLAY_BENCH_TUI_DB to a path to keep and reuse it
 * between runs, and KREPLAY_BENCH_TUI_RECORDS to change its size.
 */

const RECORDS = benchNumber('KREPLAY_BENCH_TUI_RECORDS', 1_000_000);
const OBJECTS = 2_000;
const SESSION = 'bench-tui';
const base = Date.UTC(2026, 10, 25, 10, 0, 0);
const at = (i: number) => new Date(base + i * 10).toISOString();

/**
 * A controller's life as the recorder sees it: for each object, a status write by kube-controller-manager arrives
 * on the watch, the informer delivers it, the controller reconciles, and every so often writes status itself.
 * Every 250,000 records the watch expires (410) and the recorder relists. Deterministic.
 */
export function* replaySessionRecords(count: number, objects = OBJECTS): Generator<SessionRecord> {
  const steps = new Array<number>(objects).fill(0);
  const lastRv = new Array<number>(objects).fill(0);
  const kindFields = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment' };
  let emitted = 0;
  let rv = 10_000;
  let tick = 0;
  let nextRelist = 250_000;
  const room = () => emitted < count;
  while (room()) {
    const index = tick % objects;
    tick += 1;
    if (index === 0 && emitted >= nextRelist && count - emitted > objects + 10) {
      nextRelist += 250_000;
      yield { record: 'marker', observedAt: at(emitted++), origin: 'watch', marker: 'gone', ...kindFields, code: 410, resourceVersion: String(rv - 5_000), message: 'too old resource version' };
      yield { record: 'marker', observedAt: at(emitted++), origin: 'relist', marker: 'list-started', ...kindFields };
      for (let i = 0; i < objects; i++) {
        const object = benchDeployment(i, lastRv[i]!, Math.max(0, steps[i]! - 1));
        const meta = object.metadata!;
        yield {
          record: 'watch', observedAt: at(emitted++), origin: 'relist', ...kindFields, type: 'ADDED',
          namespace: meta.namespace!, name: meta.name!, uid: meta.uid!, resourceVersion: String(lastRv[i]), generation: meta.generation ?? null, object,
        };
      }
      yield { record: 'marker', observedAt: at(emitted++), origin: 'relist', marker: 'list-finished', ...kindFields, count: objects, resourceVersion: String(rv) };
      yield { record: 'marker', observedAt: at(emitted++), origin: 'watch', marker: 'watch-started', ...kindFields, resourceVersion: String(rv) };
    }
    const step = steps[index]!;
    steps[index] = step + 1;
    rv += 1;
    lastRv[index] = rv;
    const object = benchDeployment(index, rv, step);
    const meta = object.metadata!;
    const ref = { ...kindFields, namespace: meta.namespace!, name: meta.name!, uid: meta.uid! };
    yield {
      record: 'watch', observedAt: at(emitted++), origin: 'watch', ...kindFields,
      type: step === 0 ? 'ADDED' : 'MODIFIED', namespace: ref.namespace, name: ref.name, uid: ref.uid, resourceVersion: String(rv), generation: meta.generation ?? null, object,
    };
    if (!room()) break;
    yield { record: 'delivery', observedAt: at(emitted++), origin: 'ingest', controller: 'web-operator', handler: step === 0 ? 'add' : 'update', tombstone: false, object: ref, resourceVersion: String(rv), oldResourceVersion: step === 0 ? null : String(rv - objects) };
    if (!room()) break;
    const failed = step % 97 === 13;
    yield {
      record: 'reconcile', observedAt: at(emitted), origin: 'ingest', controller: 'web-operator', object: ref, startedAt: at(emitted), finishedAt: at(emitted + 1),
      observedResourceVersion: String(rv), observedGeneration: meta.generation ?? null,
      result: failed ? 'error' : 'success', errorReason: failed ? 'Conflict' : null, errorMessage: failed ? 'the object has been modified; please apply your changes to the latest version and try again' : null,
    };
    emitted += 1;
    if (!room()) break;
    if (step % 5 === 4) {
      yield {
        record: 'api', observedAt: at(emitted++), origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true, verb: 'patch', object: ref, subresource: 'status',
        code: failed ? 409 : 200, reason: failed ? 'Conflict' : null, resourceVersionBefore: String(rv), resourceVersionAfter: failed ? null : String(rv + 1),
      };
    }
  }
}

/** Writes the session in batches through the store, the way the recorder does. */
export function generateReplaySession(store: SessionStore, count: number, name = SESSION, log: (text: string) => void = () => {}): number {
  const session = store.createSession({ name, source: 'recorder', cluster: 'bench', context: null, toolVersion: 'bench', config: {} });
  let batch: SessionRecord[] = [];
  let written = 0;
  for (const record of replaySessionRecords(count)) {
    batch.push(record);
    if (batch.length === 2_000) {
      written += store.append(session.id, batch).count;
      batch = [];
      if (written % 100_000 === 0) log(`# generated ${written} records`);
    }
  }
  if (batch.length) written += store.append(session.id, batch).count;
  store.endSession(session.id, at(count));
  return session.id;
}

/** A stdout the TUI renders into, with a terminal's size, that records when each frame was written. */
class BenchTerminal extends Writable {
  columns = 160;
  rows = 48;
  isTTY = true;
  writes = 0;
  lastWrite = 0;
  /** Everything written since the last key press (incremental rendering writes changed lines only). */
  since = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.writes += 1;
    this.lastWrite = performance.now();
    this.since += String(chunk);
    callback();
  }
}

/** A stdin that Ink accepts (raw mode, readable events), fed key by key. */
class BenchKeyboard extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read = (): string | null => {
    const data = this.data;
    this.data = null;
    return data;
  };
  press(key: string): void {
    this.data = key;
    this.emit('readable');
    this.emit('data', key);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Presses a key and measures until the next frame is written, then until frames stop (writers, position). */
async function step(terminal: BenchTerminal, keyboard: BenchKeyboard, key: string, until?: (frame: string) => boolean): Promise<{ frame: number; settled: number }> {
  // Ink renders at most 60 times a second: start each step off the throttle window so it renders at once.
  await sleep(40);
  const before = terminal.writes;
  terminal.since = '';
  const started = performance.now();
  keyboard.press(key);
  while (terminal.writes === before || (until && !until(terminal.since))) {
    if (performance.now() - started > 60_000) {
      // eslint-disable-next-line no-control-regex
      const screen = terminal.since.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').slice(-600);
      throw new Error(`no frame after ${JSON.stringify(key)}; the terminal last showed: ${screen}`);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const frame = terminal.lastWrite - started;
  let seen = terminal.writes;
  for (;;) {
    await sleep(60);
    if (terminal.writes === seen) break;
    seen = terminal.writes;
  }
  return { frame, settled: terminal.lastWrite - started };
}

/** Findings spread over the session so next/previous finding has somewhere to go (the detectors take a minute). */
function syntheticFindings(lastSeq: number, count = 500): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const seq = Math.max(1, Math.floor(((i + 0.5) * lastSeq) / count));
    return {
      id: `hot-loop:bench:${seq}`,
      kind: 'hot-loop',
      severity: 'warning',
      object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-0', name: 'web-0000', uid: null },
      firstSeq: seq,
      lastSeq: seq + 10,
      resourceVersions: [],
      count: 1,
      message: 'bench finding',
      rule: 'bench',
      evidence: [{ seq, note: 'bench' }, { seq: seq + 10, note: 'bench' }],
    } satisfies Finding;
  });
}

export async function measureReplay(path: string, sessionName: string): Promise<Figure[]> {
  // As `kreplay replay` runs it: React's production build (the development build is several times slower).
  process.env.NODE_ENV ??= 'production';
  const [{ render }, { createElement }, tui] = await Promise.all([import('ink'), import('react'), import('../tui/index.js')]);
  const terminal = new BenchTerminal();
  const keyboard = new BenchKeyboard();

  // ---- open: database, data source, first frame ------------------------------------------------------------
  const opened = performance.now();
  const store = openStore(path);
  const session = store.findSession(sessionName)!;
  const source = new tui.StoreDataSource(store, session);
  const bounds = source.bounds();
  const analysis = { findings: syntheticFindings(bounds.lastSeq) };
  const app = render(createElement(tui.ReplayApp, { source, analysis, initialSeq: Math.floor(bounds.lastSeq / 2) }), {
    stdout: terminal as unknown as NodeJS.WriteStream,
    stdin: keyboard as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    incrementalRendering: true,
    maxFps: 60,
  });
  while (terminal.writes === 0) await new Promise((resolve) => setImmediate(resolve));
  const firstFrame = terminal.lastWrite - opened;
  await sleep(300);

  const figures: Figure[] = [
    { name: 'tui.session_records', value: bounds.count, unit: 'records' },
    { name: 'tui.open_to_first_frame', value: round(firstFrame), unit: 'ms' },
  ];
  const series = async (name: string, key: string | (() => string), times: number, until?: (frame: string) => boolean) => {
    const frames: number[] = [];
    const settled: number[] = [];
    // CPU time used by this process per step: on a busy machine wall time measures the machine, CPU time the code.
    const cpuBefore = process.cpuUsage();
    let idleSleeps = 0;
    for (let i = 0; i < times; i++) {
      const k = typeof key === 'function' ? key() : key;
      // A prompt: open it, paste the text, and time the Enter.
      if (k.length > 1 && k.endsWith('\r')) {
        keyboard.press(k[0]!);
        await sleep(40);
        keyboard.press(k.slice(1, -1));
        await sleep(40);
      }
      const result = await step(terminal, keyboard, k.length > 1 && k.endsWith('\r') ? '\r' : k, until);
      frames.push(result.frame);
      settled.push(result.settled);
      idleSleeps += 1;
    }
    const cpu = process.cpuUsage(cpuBefore);
    figures.push({ name: `tui.${name}.cpu_per_step`, value: round((cpu.user + cpu.system) / 1000 / Math.max(1, idleSleeps)), unit: 'ms' });
    figures.push(
      { name: `tui.${name}.p50`, value: round(percentile(frames, 50)), unit: 'ms' },
      { name: `tui.${name}.p95`, value: round(percentile(frames, 95)), unit: 'ms' },
      { name: `tui.${name}.settled_p95`, value: round(percentile(settled, 95)), unit: 'ms' },
    );
  };
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  await series('step_next', 'j', 60);
  await series('step_prev', 'k', 30);
  await series('page_down', '\u001b[6~', 20);
  await series('jump_to_seq', () => `:${1 + Math.floor(random() * (bounds.lastSeq - 1))}\r`, 15);
  await series('next_finding', 'f', 20);
  await series('next_change_of_object', ']', 20);
  let toEnd = false;
  await series('start_or_end', () => {
    toEnd = !toEnd;
    return toEnd ? 'G' : 'g';
  }, 6);
  // A watchpoint on the object under the cursor, continued forward: frames until the hit is on screen.
  const type = async (...inputs: string[]) => {
    for (const input of inputs) {
      keyboard.press(input);
      await sleep(60);
    }
  };
  // ctrl-u clears the prefilled prompt.
  await type(':', `${Math.floor(bounds.lastSeq / 2) + 1}`, '\r', 'w', '\u0015', '.status.readyReplicas', '\r');
  await sleep(300);
  const watch: number[] = [];
  for (let i = 0; i < 5; i++) watch.push((await step(terminal, keyboard, 'c', (frame) => frame.includes(' at seq '))).frame);
  figures.push({ name: 'tui.watch_continue.p50', value: round(percentile(watch, 50)), unit: 'ms' });

  app.unmount();
  store.close();
  figures.push(...(await inkFloor(render, createElement)));
  return figures;
}

/**
 * What Ink itself costs per frame at this size, with no kreplay code: a full-screen text frame whose rows all
 * change. Ink rebuilds the whole frame on every render, so this is the floor under every step figure above.
 */
async function inkFloor(render: typeof InkRender, createElement: typeof ReactCreateElement): Promise<Figure[]> {
  const { Box, Text } = await import('ink');
  const terminal = new BenchTerminal();
  const frame = (n: number) =>
    createElement(
      Box,
      { flexDirection: 'column' },
      ...Array.from({ length: terminal.rows - 1 }, (_, i) =>
        createElement(Text, { key: i }, `${String(n + i).padStart(8)} 11:23:19.990 deploy team-3/web-1993 MODIFIED 165994 kube-controller-manager/status`.padEnd(terminal.columns - 1, ' ')),
      ),
    );
  const app = render(frame(0), { stdout: terminal as unknown as NodeJS.WriteStream, patchConsole: false, incrementalRendering: true, maxFps: 1000 });
  await sleep(100);
  const cpu = process.cpuUsage();
  const frames = 40;
  for (let i = 1; i <= frames; i++) {
    app.rerender(frame(i));
    await sleep(5);
  }
  const used = process.cpuUsage(cpu);
  app.unmount();
  return [{ name: 'tui.ink_frame_floor_160x48.cpu_per_frame', value: round((used.user + used.system) / 1000 / frames), unit: 'ms' }];
}

/** The benchmark session at `path`: kept from an earlier run when the database already holds it, else generated. */
export function ensureReplaySession(path: string, records: number, session: string, label: string): void {
  if (existsSync(path)) {
    const store = openStore(path);
    const exists = store.findSession(session) !== undefined;
    store.close();
    if (exists) return;
  }
  const started = performance.now();
  const store = openStore(path);
  generateReplaySession(store, records, session, (text) => console.error(text));
  store.close();
  console.error(`# ${label}: ${records} records generated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

export default async function run(): Promise<Figure[]> {
  const keep = process.env.KREPLAY_BENCH_TUI_DB;
  const dir = keep ? undefined : mkdtempSync(join(tmpdir(), 'kreplay-bench-tui-'));
  const path = keep ?? join(dir!, 'tui.db');
  try {
    ensureReplaySession(path, RECORDS, SESSION, 'tui');
    return await measureReplay(path, SESSION);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
