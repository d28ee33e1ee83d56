import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckConfig } from '../model/check-config.js';
import { importFile } from '../importers/import-file.js';
import type { SessionRecord, StoredRecord } from '../model/index.js';
import { LiveFindings, type LiveFindingsDocument } from '../recorder/live-findings.js';
import { RecorderMetrics } from '../recorder/metrics.js';
import { Writer } from '../recorder/writer.js';
import { openStore, type SessionStore } from '../store/index.js';
import { checkAnalysis } from './live-analysis.js';

/**
 * Online detection gives `check`'s findings: every labelled scenario (test/scenarios) is imported, then written
 * again through the recorder's real Writer in small batches into a new session, with LiveFindings on the writer's
 * "batch committed" notification. Each run's document (mid-stream ones included) must equal what `check` computes
 * over the records that run covered, and the last one what `check` says of the whole session.
 */

const scenarioRoot = join(import.meta.dirname, '..', 'test', 'scenarios');
const scenarios = readdirSync(scenarioRoot)
  .filter((name) => statSync(join(scenarioRoot, name)).isDirectory())
  .sort()
  .map((name) => ({ name, expected: JSON.parse(readFileSync(join(scenarioRoot, name, 'expected.json'), 'utf8')) as { import: { format: 'ndjson' | 'kubectl-watch' | 'audit'; file: string; controller?: string }; config?: unknown } }));

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

/** A stored record as the writer is given it: without the seq the store assigns. */
function asNew(record: StoredRecord): SessionRecord {
  const { seq: _seq, loadObject: _load, facts: _facts, ...rest } = record as StoredRecord & { loadObject?: unknown; facts?: unknown };
  return rest as SessionRecord;
}

/** What `kreplay check --json` computes over seq 1..throughSeq of the session. */
function checkOf(store: SessionStore, sessionId: number, config: CheckConfig, throughSeq: number): { findings: unknown; summary: unknown } {
  const session = store.findSession(String(sessionId))!;
  const run = checkAnalysis(config)(session);
  for (const record of store.records(sessionId, { withObjects: 'lazy', toSeq: throughSeq })) run.push(record);
  return run.finish();
}

describe('online detection equals check', () => {
  for (const { name, expected } of scenarios) {
    it(name, async () => {
      const imported = await importFile(source, {
        format: expected.import.format,
        session: name,
        input: { path: join(scenarioRoot, name, expected.import.file) },
        ...(expected.import.controller ? { controller: expected.import.controller } : {}),
        strict: true,
        toolVersion: 'test',
      });
      if (!imported.ok) throw new Error(`import of ${name} failed: ${imported.message}`);
      const from = imported.summary.session;
      const config = CheckConfig.parse(expected.config ?? {});
      const session = live.createSession({ name, source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: from.config });
      const documents: LiveFindingsDocument[] = [];
      const metrics = new RecorderMetrics({ processMetrics: false });
      const findings = new LiveFindings({ store: live, analysis: checkAnalysis(config), metrics, minIntervalMs: 0, cpuShare: 1, chunkRecords: 7, onAnalysed: (d) => documents.push(d) });
      const writer = new Writer({ store: live, sessionId: session.id, flushIntervalMs: 1, batchSize: 13, queueSize: 100_000, onCommitted: (c) => findings.committed(c) });
      const records = [...source.records(from.id, { withObjects: true })].map(asNew);
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
