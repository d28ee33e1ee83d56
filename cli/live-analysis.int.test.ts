import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckConfig } from '../model/check-config.js';
import { asNewRecord, type SessionRecord } from '../model/index.js';
import { LiveFindings, type LiveFindingsDocument } from '../recorder/live-findings.js';
import { RecorderMetrics } from '../recorder/metrics.js';
import { Writer } from '../recorder/writer.js';
import { openStore, type SessionStore } from '../store/index.js';
import { analyze } from '../replayer/index.js';
import { deployment, pairedUpdate, watchEvent } from '../test/builders.js';
import { createLogger } from '../recorder/log.js';
import { importScenario, labelledScenarios } from '../test/scenarios/labelled.js';
import { checkAnalysis, checkAnalysisInWorker } from './live-analysis.js';

/**
 * Online detection gives `check`'s findings: every labelled scenario (test/scenarios) is imported, then written
 * again through the recorder's real Writer in small batches into a new session, with LiveFindings on the writer's
 * "batch committed" notification. Each run's document (mid-stream ones included) must equal what `check` computes
 * over the records that run covered, and the last one what `check` says of the whole session.
 */

const scenarios = labelledScenarios();

let dir: string;
let source: SessionStore;
let live: SessionStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-live-'));
  source = openStore(join(dir, 'source.db'));
  live = openStore(join(dir, 'live.db'));
});

afterAll(() => {
  source?.close();
  live?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What `kreplay check --json` computes over seq 1..throughSeq of the session. */
function checkOf(store: SessionStore, sessionId: number, config: CheckConfig, throughSeq: number): { findings: unknown; summary: unknown } {
  const session = store.findSession(String(sessionId))!;
  const run = checkAnalysis(config)(session);
  for (const record of store.records(sessionId, { withObjects: 'lazy', toSeq: throughSeq })) run.push(record);
  return run.report(session);
}

describe('online detection equals check', () => {
  for (const { name, expected } of scenarios) {
    it(name, async () => {
      const from = await importScenario(source, name, expected.import, { strict: true });
      const config = CheckConfig.parse(expected.config ?? {});
      const session = live.createSession({ name, source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: from.config });
      const documents: LiveFindingsDocument[] = [];
      const metrics = new RecorderMetrics({ processMetrics: false });
      const findings = new LiveFindings({ store: live, analysis: checkAnalysis(config), metrics, minIntervalMs: 0, cpuShare: 1, chunkRecords: 7, onAnalysed: (d) => documents.push(d) });
      const writer = new Writer({ store: live, sessionId: session.id, flushIntervalMs: 1, batchSize: 13, queueSize: 100_000, onCommitted: (c) => findings.committed(c) });
      const records = [...source.records(from.id, { withObjects: true })].map(asNewRecord);
      // In slices, with a pause between them: runs happen while records still arrive.
      for (let i = 0; i < records.length; i += 40) {
        writer.push(records.slice(i, i + 40));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await writer.close();
      const lastSeq = live.lastSeq(session.id);
      await findings.analysed(session.id, lastSeq);
      await findings.close();

      const last = findings.document()!;
      expect(last.throughSeq).toBe(lastSeq);
      const whole = checkOf(live, session.id, config, lastSeq);
      expect(last.findings).toEqual(whole.findings);
      expect(last.summary).toEqual(whole.summary);
      // Runs happened while it recorded, not only at the end.
      if (records.length > 200) expect(documents.length).toBeGreaterThan(1);
      // Mid-stream runs are check's over the records they covered (a sample: the first, a middle one).
      for (const document of [documents[0]!, documents[Math.floor(documents.length / 2)]!]) {
        expect(document.findings).toEqual(checkOf(live, session.id, config, document.throughSeq).findings);
      }
      // The gauge counts the findings now reported, by kind and severity (not the suppressed ones).
      const gauge = (await metrics.findings.get()).values.reduce((n, v) => n + v.value, 0);
      expect(gauge).toBe(last.findings.filter((f) => !f.suppressed).length);
    });
  }
});

/**
 * The live analysis reads each record once; a row it already read can still change: the audit webhook's report of a
 * request the SDK reported first is merged into that request's row (model/api-pairing.ts), here with the object the
 * server answered. The run after such a merge must read the session again, or it reports the rows as they were.
 */
describe('a merge into a row already analysed', () => {
  const { at, sdk, audit } = pairedUpdate();

  it('waits for the partner of a request while both sources report, instead of starting over when it merges', async () => {
    const config = CheckConfig.parse({});
    const session = live.createSession({ name: 'both-sources', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    const metrics = new RecorderMetrics({ processMetrics: false });
    // The recorder's clock is the records' here: a request waits for its partner only within the retention time.
    const findings = new LiveFindings({ store: live, analysis: checkAnalysis(config), metrics, minIntervalMs: 0, cpuShare: 1, now: () => Date.parse(at(30_000)) });
    const writer = new Writer({ store: live, sessionId: session.id, flushIntervalMs: 1, batchSize: 100, queueSize: 1000, onCommitted: (c) => findings.committed(c) });
    const marker = (ms: number): SessionRecord => ({ record: 'marker', observedAt: at(ms), origin: 'watch', marker: 'watch-started' });
    // Both sources speak from the start (one request seen by both in one batch).
    writer.push([sdk(0), audit(0)]);
    await writer.flush();
    await findings.analysed(session.id, live.lastSeq(session.id));
    let held = 0;
    for (let i = 1; i < 8; i++) {
      writer.push([sdk(i), marker(i * 1000 + 500)]);
      await writer.flush();
      await new Promise((resolve) => setTimeout(resolve, 30));
      // The SDK's report waits for the audit webhook's: the analysis stops before it (and the marker after it).
      if (findings.document()!.throughSeq < live.lastSeq(session.id) - 1) held++;
      writer.push([audit(i)]);
      await writer.flush();
      await findings.analysed(session.id, live.lastSeq(session.id));
    }
    await findings.close();
    await writer.close();
    expect(held).toBe(7);
    expect((await metrics.analysisRestarts.get()).values[0]?.value ?? 0).toBe(0);
    const lastSeq = live.lastSeq(session.id);
    const document = findings.document()!;
    expect(document.throughSeq).toBe(lastSeq);
    const whole = checkOf(live, session.id, config, lastSeq);
    expect(document.findings).toEqual(whole.findings);
    expect(document.summary).toEqual(whole.summary);
  });

  for (const where of ['in process', 'in the worker'] as const) {
    it(`makes the next run read the session again (${where})`, async () => {
      const config = CheckConfig.parse({});
      const session = live.createSession({ name: `merged-${where}`, source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
      const findings = new LiveFindings({
        store: live,
        ...(where === 'in process' ? { analysis: checkAnalysis(config) } : { analyser: checkAnalysisInWorker(config, join(dir, 'live.db')) }),
        minIntervalMs: 0,
        cpuShare: 1,
      });
      const writer = new Writer({ store: live, sessionId: session.id, flushIntervalMs: 1, batchSize: 100, queueSize: 1000, onCommitted: (c) => findings.committed(c) });
      const reports = Array.from({ length: 12 }, (_, i) => sdk(i));
      writer.push(reports);
      await writer.flush();
      await findings.analysed(session.id, 12);
      // What the rows said before the merge (their payloads, read now).
      const before = [...live.records(session.id, { withObjects: 'lazy' })];

      writer.push([...reports.map((_, i) => audit(i)), { record: 'marker', observedAt: at(20_000), origin: 'watch', marker: 'watch-started' }]);
      await writer.flush();
      const lastSeq = live.lastSeq(session.id);
      expect(lastSeq).toBe(13); // the twelve audit events merged into rows 1-12
      await findings.analysed(session.id, lastSeq);
      await findings.close();
      await writer.close();

      const document = findings.document()!;
      const whole = checkOf(live, session.id, config, lastSeq);
      expect(document.throughSeq).toBe(lastSeq);
      expect(document.findings).toEqual(whole.findings);
      expect(document.summary).toEqual(whole.summary);
      // The test means something: the rows as first read (plus the marker) analyse differently from the merged ones.
      const stale = analyze([...before, ...live.records(session.id, { withObjects: 'lazy', fromSeq: 13 })], { controller: [] });
      const merged = analyze(live.records(session.id, { withObjects: 'lazy' }), { controller: [] });
      expect(stale.stats).not.toEqual(merged.stats);
    });
  }
});

describe('an analysis worker that runs out of its heap', () => {
  it('stops detection once, saying why, instead of failing every run', async () => {
    const session = live.createSession({ name: 'many-objects', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} });
    // 20,000 Deployments: the analysis keeps each one's latest version, far more than a 24 MB heap holds.
    for (let from = 0; from < 20_000; from += 1_000) {
      live.append(session.id, Array.from({ length: 1_000 }, (_, i) => watchEvent(deployment({ name: `web-${from + i}`, resourceVersion: String(from + i + 1) }), 'ADDED')));
    }
    const lines: string[] = [];
    const findings = new LiveFindings({
      store: live,
      analyser: checkAnalysisInWorker(CheckConfig.parse({}), join(dir, 'live.db'), { maxHeapMb: 24 }),
      log: createLogger({ level: 'info', write: (line) => lines.push(line) }),
      minIntervalMs: 0,
      cpuShare: 1,
    });
    findings.committed({ sessionId: session.id, lastSeq: 20_000 });
    await findings.analysed(session.id, 20_000);
    expect(findings.stopped).toMatch(/^online detection stopped after seq 0: the analysis worker ran out of its 24 MB heap \(--detect-worker\)\. The recording goes on/);
    // Later commits start no run: no error line per commit.
    live.append(session.id, [watchEvent(deployment({ name: 'late', resourceVersion: '20001' }), 'ADDED')]);
    findings.committed({ sessionId: session.id, lastSeq: 20_001 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await findings.close();
    expect(lines.filter((line) => line.includes('online analysis failed'))).toEqual([]);
    expect(lines.filter((line) => line.includes('online detection stopped'))).toHaveLength(1);
  });
});
