import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckConfig } from '../../model/check-config.js';
import { FindingKind, findingKinds, type Finding } from '../../model/index.js';
import { importFile, ImportFormat } from '../../importers/import-file.js';
import { analyze } from '../../replayer/index.js';
import { openStore, type SessionStore } from '../../store/index.js';

/**
 * The labelled scenario suite: every test/scenarios/<name>/ holds an input in one of the three import formats and
 * an expected.json written by hand. Each input is imported into a real SQLite store file by the real importer, the
 * detectors run over store.records(), and findings are matched to the labels by (kind, object name, rule when the
 * label gives one). Precision and recall per kind over the whole suite must stay at or above 0.95.
 */

const Expected = z.object({
  description: z.string(),
  import: z.object({ format: ImportFormat, file: z.string(), controller: z.string().optional() }),
  config: z.record(z.string(), z.unknown()).optional(),
  findings: z.array(z.object({ kind: FindingKind, name: z.string(), rule: z.string().optional() })),
});
type Expected = z.infer<typeof Expected>;

const root = dirname(fileURLToPath(import.meta.url));
const scenarios = readdirSync(root)
  .filter((name) => statSync(join(root, name)).isDirectory())
  .sort()
  .map((name) => ({ name, expected: Expected.parse(JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8'))) }));

interface Tally {
  tp: number;
  fp: number;
  fn: number;
}
const tally = new Map<string, Tally>(findingKinds.map((k) => [k, { tp: 0, fp: 0, fn: 0 }]));
const mismatches: string[] = [];

function matches(finding: Finding, label: Expected['findings'][number]): boolean {
  return finding.kind === label.kind && finding.object.name === label.name && (label.rule === undefined || finding.rule === label.rule);
}

let dir: string;
let store: SessionStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-scenarios-'));
  store = openStore(join(dir, 'scenarios.db'));
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  const rows = [...tally].map(([kind, t]) => {
    const precision = t.tp + t.fp === 0 ? 1 : t.tp / (t.tp + t.fp);
    const recall = t.tp + t.fn === 0 ? 1 : t.tp / (t.tp + t.fn);
    return `${kind.padEnd(17)} tp ${String(t.tp).padStart(2)}  fp ${String(t.fp).padStart(2)}  fn ${String(t.fn).padStart(2)}  precision ${precision.toFixed(2)}  recall ${recall.toFixed(2)}`;
  });
  console.log(`scenario suite (${scenarios.length} scenarios)\n${rows.join('\n')}${mismatches.length ? `\nmismatches:\n  ${mismatches.join('\n  ')}` : ''}`);
});

describe('labelled scenarios', () => {
  for (const { name, expected } of scenarios) {
    it(`${name}: ${expected.description.slice(0, 80)}`, async () => {
      const outcome = await importFile(store, {
        format: expected.import.format,
        session: name,
        input: { path: join(root, name, expected.import.file) },
        ...(expected.import.controller ? { controller: expected.import.controller } : {}),
        strict: true,
        toolVersion: 'test',
      });
      if (!outcome.ok) throw new Error(`import of ${name} failed: ${outcome.message}`);
      const session = outcome.summary.session;
      const parsedConfig = CheckConfig.parse(expected.config ?? {});
      // What `kreplay check` reads: version facts computed at append, bodies decoded only where a detector looks.
      const analysis = analyze(store.records(session.id, { withObjects: 'lazy' }), { parsedConfig });
      const found = analysis.findings;
      // The same records with every body decoded and no facts (how tests, NDJSON and pre-schema-4 sessions are
      // read) must give the same findings: the fold computes the facts from the bodies with the same functions.
      const fromBodies = analyze(store.records(session.id, { withObjects: true }), { parsedConfig });
      expect(fromBodies.findings).toEqual(found);
      for (const label of expected.findings) {
        const t = tally.get(label.kind)!;
        if (found.some((f) => matches(f, label))) t.tp++;
        else {
          t.fn++;
          mismatches.push(`${name}: missed ${label.kind} ${label.name}${label.rule ? ` (${label.rule})` : ''}`);
        }
      }
      for (const finding of found) {
        if (expected.findings.some((label) => matches(finding, label))) continue;
        tally.get(finding.kind)!.fp++;
        mismatches.push(`${name}: unexpected ${finding.kind} ${finding.object.name} (${finding.rule}): ${finding.message}`);
      }
      // Every finding must be explainable: evidence that points at records of this session.
      for (const finding of found) {
        expect(finding.evidence.length).toBeGreaterThan(0);
        for (const e of finding.evidence) expect(store.record(session.id, e.seq)).toBeDefined();
      }
    });
  }

  it('keeps precision and recall per kind at or above 0.95', () => {
    for (const [kind, t] of tally) {
      const precision = t.tp + t.fp === 0 ? 1 : t.tp / (t.tp + t.fp);
      const recall = t.tp + t.fn === 0 ? 1 : t.tp / (t.tp + t.fn);
      expect({ kind, precision }).toEqual({ kind, precision: expect.any(Number) as number });
      expect(precision, `${kind} precision`).toBeGreaterThanOrEqual(0.95);
      expect(recall, `${kind} recall`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('labels every finding kind at least once', () => {
    const labelled = new Set(scenarios.flatMap((s) => s.expected.findings.map((f) => f.kind)));
    expect(findingKinds.filter((k) => !labelled.has(k))).toEqual([]);
  });
});
