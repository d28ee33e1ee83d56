import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Finding, SessionRecord, StoredRecord } from '../../model/index.js';
import { StoreDataSource } from '../data-source.js';
import { HidingDataSource } from '../own-writes.js';
import { fixtureFindings, fixtureSession, fixtureStored } from '../testing/fixture.js';
import { MemoryReader } from '../testing/memory-reader.js';
import { ThemeContext, monoTheme } from '../theme.js';
import { ReplayApp } from './ReplayApp.js';

// Where `kreplay replay` opens: at the first alarm, with the API server's own writes (by identity) left out of the
// timeline until `a` shows them; --seq wins over both.

const tick = (ms = 25) => new Promise((resolve) => setTimeout(resolve, ms));
const bootstrapAt = (s: number) => new Date(Date.UTC(2026, 10, 25, 9, 59, s)).toISOString();

/** What an audit import of a fresh API server starts with: its own writes, one with the version the log held. */
function bootstrap(): SessionRecord[] {
  const api = (s: number, resource: string, kind: string, name: string, actor = 'system:apiserver'): SessionRecord => ({
    record: 'api', observedAt: bootstrapAt(s), origin: 'audit', actor, byController: false, verb: 'create',
    object: { group: 'apiregistration.k8s.io', version: 'v1', resource, kind, namespace: null, name }, code: 201, resourceVersionAfter: String(40 + s),
  });
  return [
    api(1, 'apiservices', 'APIService', 'v1.apps'),
    {
      record: 'watch', observedAt: bootstrapAt(1), origin: 'audit', group: 'apiregistration.k8s.io', version: 'v1', resource: 'apiservices', kind: 'APIService',
      type: 'ADDED', namespace: null, name: 'v1.apps', uid: 'apisvc-1', resourceVersion: '41', generation: 1, object: { metadata: { name: 'v1.apps', uid: 'apisvc-1', resourceVersion: '41' } },
    },
    api(2, 'prioritylevelconfigurations', 'PriorityLevelConfiguration', 'workload-low'),
    // Named like a bootstrap object, written by someone else: shown (identity decides, not the name).
    api(3, 'apiservices', 'APIService', 'v1.batch', 'system:serviceaccount:ops:web-operator'),
  ];
}

const shift = bootstrap().length;

function records(): StoredRecord[] {
  return [...bootstrap(), ...fixtureStored().map(({ seq: _seq, ...r }) => r as SessionRecord)].map((r, i) => ({ ...r, seq: i + 1 }) as StoredRecord);
}

function findings(): Finding[] {
  return fixtureFindings().map((f) => ({ ...f, firstSeq: f.firstSeq + shift, lastSeq: f.lastSeq + shift, evidence: f.evidence.map((e) => ({ ...e, seq: e.seq + shift })) }));
}

let app: ReturnType<typeof render> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

function open(options: { initialSeq?: number; findings?: Finding[] } = {}) {
  const source = new StoreDataSource(new MemoryReader(records()), { ...fixtureSession, source: 'import:audit' });
  app = render(
    <ThemeContext.Provider value={monoTheme}>
      <ReplayApp source={source} analysis={{ findings: options.findings ?? findings() }} initialSeq={options.initialSeq} size={{ columns: 110, rows: 34 }} openAtFirstAlarm hideApiServerWrites />
    </ThemeContext.Provider>,
  );
  return app;
}

async function settle() {
  let count = app!.frames.length;
  for (let i = 0; i < 40; i++) {
    await tick(60);
    if (app!.frames.length === count) return;
    count = app!.frames.length;
  }
}
async function press(key: string) {
  app!.stdin.write(key);
  await settle();
}
const frame = () => app!.lastFrame() ?? '';
const header = () => frame().split('\n')[0] ?? '';
const statusLine = () => frame().split('\n').at(-1) ?? '';
const timelineSeqs = () => [...frame().matchAll(/^..\d\d:\d\d:\d\d\.\d{3}\s+(\d+) /gm)].map((m) => Number(m[1]));

describe('opening where the story is', { timeout: 30_000 }, () => {
  it('opens at the first alarm and says so in the status line', async () => {
    open();
    await settle();
    // The dfsu-gap warning comes later than the error; the first alarm is the earliest, whatever its severity.
    expect(header()).toContain(`seq ${12 + shift}`);
    expect(statusLine()).toContain(`opened at the first alarm (seq ${12 + shift})`);
    expect(statusLine()).toContain('✖ web-operator reconciled generation 1');
  });

  it('hides the API server\'s own writes with a count, and a shows them', async () => {
    open();
    await settle();
    expect(frame()).toContain("3 API server writes hidden (a shows)");
    await press('g');
    expect(timelineSeqs()[0]).toBe(4);
    expect(frame()).not.toContain('v1.apps');
    expect(frame()).toContain('v1.batch');
    await press('a');
    expect(frame()).toContain("API server's own writes shown (a hides)");
    expect(statusLine()).toContain("showing the API server's own writes (3)");
    await press('g');
    expect(timelineSeqs().slice(0, 4)).toEqual([1, 2, 3, 4]);
    expect(frame()).toContain('v1.apps');
    await press('a');
    expect(frame()).toContain('3 API server writes hidden (a shows)');
  });

  it('--seq wins: on a hidden record it shows them, and no jump to the alarm', async () => {
    open({ initialSeq: 2 });
    await settle();
    expect(header()).toContain('seq 2');
    expect(frame()).toContain("API server's own writes shown (a hides)");
    expect(statusLine()).not.toContain('first alarm');
  });

  it('stays at the start when the session has no alarm, and lists the key in the help', async () => {
    open({ findings: findings().map((f) => ({ ...f, severity: 'info' as const })) });
    await settle();
    expect(header()).toContain('seq 4');
    await press('?');
    expect(frame()).toMatch(/a\s+API server's own writes/);
  });

  it('counts hidden rows without reading every record: positions skip them', () => {
    const hider = new HidingDataSource(new StoreDataSource(new MemoryReader(records()), fixtureSession));
    expect(hider.hiddenSeqs({})).toEqual([1, 2, 3]);
    expect(hider.count({})).toBe(records().length - 3);
    expect(hider.indexOf(4, {})).toBe(0);
    expect(hider.rowsAfter(0, 2, {}).map((r) => r.seq)).toEqual([4, 5]);
    expect(hider.rowsBefore(5, 5, {}).map((r) => r.seq)).toEqual([4]);
    expect(hider.hides(2)).toBe(true);
    expect(hider.hides(4)).toBe(false);
  });
});
