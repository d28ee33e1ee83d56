import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRecord } from '../../model/index.js';
import { StoreDataSource } from '../data-source.js';
import type { AnalysisLoader } from '../hooks.js';
import { fixtureFindings, fixtureSession, fixtureStored } from '../testing/fixture.js';
import { MemoryReader } from '../testing/memory-reader.js';
import { ThemeContext, monoTheme } from '../theme.js';
import { ReplayApp } from './ReplayApp.js';

/**
 * `kreplay replay --follow`: a session that grows while it is on screen. The reader below gains records the way a
 * database a recorder writes does; the analysis loader answers for the records there are when it runs, as the
 * worker does on the real database.
 */

const tick = (ms = 25) => new Promise((resolve) => setTimeout(resolve, ms));
let app: ReturnType<typeof render> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

const all = fixtureStored();

function marker(seq: number): StoredRecord {
  return { record: 'marker', seq, observedAt: `2026-11-25T10:01:${String(seq).padStart(2, '0')}.000Z`, origin: 'watch', marker: 'gap', message: `tick ${seq}` } as StoredRecord;
}

async function until(probe: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last frame:\n${app?.lastFrame()}`);
    await tick(20);
  }
}

const frame = () => app!.lastFrame() ?? '';
const header = () => frame().split('\n')[0] ?? '';
const cursorLine = () => frame().split('\n').find((line) => line.startsWith('▶')) ?? '';

async function press(key: string): Promise<void> {
  app!.stdin.write(key);
  await tick(120);
}

describe('ReplayApp --follow', { timeout: 30_000 }, () => {
  it('grows the timeline, shows badges as the detectors find them, keeps the cursor put, and follows the tail with T', async () => {
    const reader = new MemoryReader(all.slice(0, 10));
    let runs = 0;
    // The detectors over the records present when the run starts: the error at seq 12 exists only once it arrived.
    const analysis: AnalysisLoader = async () => {
      runs += 1;
      const last = reader.records.at(-1)!.seq;
      await tick(5);
      return { findings: fixtureFindings().filter((f) => f.lastSeq <= last) };
    };
    const source = new StoreDataSource(reader, fixtureSession);
    app = render(
      <ThemeContext.Provider value={monoTheme}>
        <ReplayApp source={source} analysis={analysis} follow={{ intervalMs: 20 }} size={{ columns: 120, rows: 30 }} />
      </ThemeContext.Provider>,
    );
    await until(() => header().includes('no findings'), 'the first analysis');
    expect(header()).toContain('1/10');
    expect(header()).toContain('LIVE (T: follow)');
    await press('j');
    await press('j');
    expect(header()).toContain('seq 3');

    // Records commit: the timeline grows, the cursor stays where the user put it, the new findings get badges.
    reader.records.push(...all.slice(10));
    await until(() => header().includes('3/18'), 'the timeline to grow');
    expect(header()).toContain('seq 3');
    expect(cursorLine()).toMatch(/^▶ 10:00:03.000 +3 /);
    await until(() => header().includes('✖ 1') && header().includes('▲ 1'), 'the badges of the findings that arrived');
    expect(runs).toBeGreaterThanOrEqual(2);
    // Stepping back works while records arrive.
    await press('k');
    expect(header()).toContain('seq 2');

    // T: at head. The cursor goes to the last record and rides the tail as more arrive.
    await press('T');
    expect(header()).toContain('seq 18');
    expect(header()).toContain('● LIVE');
    reader.records.push(marker(19), marker(20));
    await until(() => header().includes('seq 20'), 'the cursor to follow the tail');
    expect(header()).toContain('20/20');

    // A move stops following: new records arrive under a cursor that stays put.
    await press('k');
    expect(header()).toContain('seq 19');
    expect(header()).toContain('LIVE (T: follow)');
    reader.records.push(marker(21));
    await until(() => header().includes('19/21'), 'the timeline to grow again');
    expect(header()).toContain('seq 19');
  });
});
