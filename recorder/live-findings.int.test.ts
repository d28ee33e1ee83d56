import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding, SessionRecord } from '../model/index.js';
import { openStore } from '../store/index.js';
import { useTempDir } from '../test/temp.js';
import { LiveFindings, type SessionAnalysisFactory } from './live-findings.js';
import { createLogger } from './log.js';
import { RecorderMetrics } from './metrics.js';

/**
 * The log says what is new, not every run: a finding gets a line when found, and an "updated" line when its severity
 * or suppression changes or its count has doubled since its last line. The analysis here is a stand-in that reports
 * one growing finding (the detectors are tested elsewhere); the store and the runs are real.
 */
describe('LiveFindings log lines', () => {
  const tempDir = useTempDir();

  it('logs a growing finding once per doubling, and a severity change at once', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 'loop', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (line) => lines.push(line) });
    let records = 0;
    const analysis: SessionAnalysisFactory = () => ({
      push: () => void records++,
      report: () => {
        const finding: Finding = {
          id: 'hot-loop:uid-web:1',
          kind: 'hot-loop',
          severity: records >= 20 ? 'error' : 'warning',
          object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web', uid: 'uid-web' },
          firstSeq: 1,
          lastSeq: records,
          resourceVersions: [],
          count: records,
          message: `written ${records} times`,
          rule: 'hot-write',
          evidence: [{ seq: 1, note: 'first write' }],
        };
        return { findings: [finding], summary: {} };
      },
    });
    const findings = new LiveFindings({ store, analysis, log, minIntervalMs: 0, cpuShare: 1 });
    const marker = (i: number): SessionRecord => ({ record: 'marker', observedAt: new Date(Date.parse('2026-11-25T10:00:00Z') + i).toISOString(), origin: 'watch', marker: 'watch-started' });
    for (let i = 1; i <= 24; i++) {
      const result = store.append(session.id, [marker(i)]);
      findings.committed({ sessionId: session.id, lastSeq: result.lastSeq });
      await findings.analysed(session.id, result.lastSeq);
    }
    await findings.close();
    store.close();

    const logged = lines.filter((line) => line.includes('finding')).map((line) => `${/status=(\w+)/.exec(line)?.[1]}@${/count=(\d+)/.exec(line)?.[1]}`);
    // Found at 1; doubled at 2, 4, 8, 16; severity error from 20 (a line at once, counting from there); not again by 24.
    expect(logged).toEqual(['new@1', 'updated@2', 'updated@4', 'updated@8', 'updated@16', 'updated@20']);
    expect(findings.document()!.findings[0]!.count).toBe(24);
  });
});

describe('LiveFindings lag', () => {
  const tempDir = useTempDir();

  it('shows on /metrics how many committed records the analysis has not read yet', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 'lag', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    const metrics = new RecorderMetrics({ processMetrics: false });
    const lag = async () => (await metrics.analysisLag.get()).values[0]?.value;
    const analysis: SessionAnalysisFactory = () => ({ push: () => {}, report: () => ({ findings: [], summary: {} }) });
    // The first run starts at once; the next not before a minute has passed: what commits meanwhile waits.
    const findings = new LiveFindings({ store, analysis, metrics, minIntervalMs: 60_000, cpuShare: 1 });
    const marker = (i: number): SessionRecord => ({ record: 'marker', observedAt: new Date(Date.parse('2026-11-25T10:00:00Z') + i).toISOString(), origin: 'watch', marker: 'watch-started' });
    const commit = (n: number) => {
      const result = store.append(session.id, Array.from({ length: n }, (_, i) => marker(i)));
      findings.committed({ sessionId: session.id, lastSeq: result.lastSeq });
      return result.lastSeq;
    };
    commit(3);
    expect(await lag()).toBe(3);
    await findings.analysed(session.id, 3);
    expect(await lag()).toBe(0);
    commit(4);
    commit(3);
    expect(await lag()).toBe(7);
    await findings.close();
    store.close();
  });
});

describe('LiveFindings heap guard', () => {
  const tempDir = useTempDir();
  const marker = (i: number): SessionRecord => ({ record: 'marker', observedAt: new Date(Date.parse('2026-11-25T10:00:00Z') + i).toISOString(), origin: 'watch', marker: 'watch-started' });

  it('stops detection for good when the heap keeps more than heapShare of its limit, and the recording goes on', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 'big', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    const metrics = new RecorderMetrics({ processMetrics: false });
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (line) => lines.push(line) });
    let pushed = 0;
    const analysis: SessionAnalysisFactory = () => ({
      push: () => void pushed++,
      report: () => ({
        findings: [{ id: 'stuck:1', kind: 'stuck-finalizer', severity: 'warning', object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web', uid: 'u' }, firstSeq: 1, lastSeq: pushed, resourceVersions: [], count: pushed, message: 'stuck', rule: 'stuck', evidence: [] }],
        summary: {},
      }),
    });
    const limitBytes = 200 * 2 ** 20;
    // Full once the analysis has read 13 records: it finds out at the end of the slice that read them (5 a slice).
    const heap = () => ({ liveBytes: pushed >= 13 ? 150 * 2 ** 20 : 60 * 2 ** 20, limitBytes });
    const findings = new LiveFindings({ store, analysis, metrics, log, heap, heapShare: 0.7, minIntervalMs: 0, cpuShare: 1, chunkRecords: 5 });
    const commit = (n: number) => {
      const result = store.append(session.id, Array.from({ length: n }, (_, i) => marker(i)));
      findings.committed({ sessionId: session.id, lastSeq: result.lastSeq });
      return result.lastSeq;
    };
    await findings.analysed(session.id, commit(10));
    expect(findings.stopped).toBeUndefined();
    expect(findings.document()!.findings[0]!.count).toBe(10);

    await findings.analysed(session.id, commit(10));
    expect(pushed).toBe(15);
    expect(findings.stopped).toMatch(/stopped after seq 15: the recorder's heap kept 150 MB after a full collection, more than detection\.heapShare \(70 %\) of its 200 MB limit/);
    // What was published stays readable, and says why it no longer grows.
    expect(findings.document()!.findings[0]!.count).toBe(10);
    expect(findings.document()!.stopped).toBe(findings.stopped);
    expect((await metrics.analysisStopped.get()).values[0]?.value).toBe(1);
    expect(lines.filter((line) => line.includes('online detection stopped'))).toHaveLength(1);

    // Nothing is analysed any more; the session keeps growing.
    const last = commit(50);
    await findings.analysed(session.id, last);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pushed).toBe(15);
    expect(store.progress(session.id).lastSeq).toBe(70);
    await findings.close();
    store.close();
  });

  it('keeps running while the heap stays under heapShare', async () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession({ name: 'small', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    let pushed = 0;
    const analysis: SessionAnalysisFactory = () => ({ push: () => void pushed++, report: () => ({ findings: [], summary: {} }) });
    const findings = new LiveFindings({ store, analysis, heap: () => ({ liveBytes: 139 * 2 ** 20, limitBytes: 200 * 2 ** 20 }), heapShare: 0.7, minIntervalMs: 0, cpuShare: 1, chunkRecords: 5 });
    const result = store.append(session.id, Array.from({ length: 40 }, (_, i) => marker(i)));
    findings.committed({ sessionId: session.id, lastSeq: result.lastSeq });
    await findings.analysed(session.id, result.lastSeq);
    expect(pushed).toBe(40);
    expect(findings.stopped).toBeUndefined();
    await findings.close();
    store.close();
  });
});
