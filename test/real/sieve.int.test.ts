import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CheckConfig } from '../../model/check-config.js';
import { FindingKind, type Finding, type KubeObject } from '../../model/index.js';
import { importFile } from '../../importers/import-file.js';
import { analyze } from '../../replayer/index.js';
import { openStore, type SessionStore } from '../../store/index.js';

/**
 * Ten recordings of real operators on a real kube-apiserver (Sieve's learning runs, test/fixtures/real/README.md),
 * as `kubectl get -w --output-watch-events -o json` prints them. Each is imported by the real importer into a real
 * SQLite file and checked against its labels: the streams are complete server-side histories, so nothing is
 * duplicated or lost; leader-election objects renew by design, so they are never a hot loop; every alarm says
 * whom it blames, and that is the operator (the labels' `controller`, which the import must infer by itself).
 */

const Run = z.object({
  format: z.literal('kubectl-watch'),
  controller: z.string(),
  expect: z.array(z.object({ kind: FindingKind, name: z.string(), namespace: z.string().optional(), rule: z.string().optional() })),
  forbid: z.array(z.object({ kind: FindingKind, name: z.string(), namespace: z.string(), objectKind: z.string().optional(), why: z.string() })),
  forbidAllOf: z.array(FindingKind),
  description: z.string(),
  stats: z.object({ events: z.number().int().positive(), kinds: z.record(z.string(), z.number()) }),
});

const root = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/real/sieve');
const runs = readdirSync(root)
  .filter((name) => statSync(join(root, name)).isDirectory())
  .sort()
  .map((name) => ({ name, labels: Run.parse(JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8'))) }));

/** client-go's resourcelock record on ConfigMap and Endpoints locks (tools/leaderelection/resourcelock). */
const leaderAnnotation = 'control-plane.alpha.kubernetes.io/leader';

function isLeaderElectionObject(object: KubeObject): boolean {
  if (object.kind === 'Lease') return true;
  const annotations = (object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  return annotations?.[leaderAnnotation] !== undefined;
}

const key = (namespace: string | null | undefined, name: string) => `${namespace ?? ''}/${name}`;
const isAlarm = (f: Finding) => f.severity === 'warning' || f.severity === 'error';
const show = (f: Finding) => `${f.severity} ${f.kind} ${f.object.kind} ${key(f.object.namespace, f.object.name)} (${f.rule}): ${f.message}`;

let dir: string;
let store: SessionStore;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-sieve-'));
  store = openStore(join(dir, 'sieve.db'));
});

afterAll(() => {
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('real operators recorded by Sieve', () => {
  it('has all ten runs', () => {
    expect(runs).toHaveLength(10);
  });

  for (const { name, labels } of runs) {
    it(`${name}: imports, and reports what its labels allow`, async () => {
      const input = createReadStream(join(root, name, 'watch.json.gz')).pipe(createGunzip());
      const outcome = await importFile(store, { format: labels.format, session: name, input: { stream: input, name: `${name}/watch.json` }, strict: true, toolVersion: 'test' });
      if (!outcome.ok) throw new Error(`import of ${name} failed: ${outcome.message}`);
      const { summary } = outcome;
      expect(summary.problems).toEqual([]);
      // One record per event of the stream: nothing dropped, nothing invented.
      expect(summary.countsByKind.watch).toBe(labels.stats.events);

      const session = summary.session;
      const analysis = analyze(store.records(session.id, { withObjects: 'lazy' }), { parsedConfig: CheckConfig.parse({}) });
      const findings = analysis.findings;
      const alarms = findings.filter(isAlarm);
      // The same records with every body decoded (no version facts) give the same findings.
      expect(analyze(store.records(session.id, { withObjects: true }), { parsedConfig: CheckConfig.parse({}) }).findings).toEqual(findings);

      // The operator is the busiest writer that is neither Kubernetes nor a tool: no --controller needed.
      expect(analysis.stats.controller.names).toContain(labels.controller);

      // Complete server-side streams: no duplicate or lost events, at any severity.
      expect(findings.filter((f) => labels.forbidAllOf.includes(f.kind)).map(show)).toEqual([]);

      // Leader-election objects, named by the labels or recognised by their content, are never a hot loop.
      const leaderObjects = new Set(labels.forbid.filter((f) => f.kind === 'hot-loop').map((f) => key(f.namespace, f.name)));
      for (const record of store.records(session.id, { withObjects: true })) {
        if (record.record === 'watch' && record.object && record.name && isLeaderElectionObject(record.object)) leaderObjects.add(key(record.namespace, record.name));
      }
      const leaderKinds = Object.keys(labels.stats.kinds).includes('Lease');
      if (leaderKinds) expect(leaderObjects.size).toBeGreaterThan(0);
      expect(findings.filter((f) => f.kind === 'hot-loop' && leaderObjects.has(key(f.object.namespace, f.object.name))).map(show)).toEqual([]);
      for (const forbidden of labels.forbid) {
        expect(findings.filter((f) => f.kind === forbidden.kind && f.object.name === forbidden.name && f.object.namespace === forbidden.namespace).map(show), forbidden.why).toEqual([]);
      }

      // Every alarm names whom it blames, and it is the operator: the rest is context (info).
      for (const alarm of alarms) {
        expect(alarm.blame, show(alarm)).toBeDefined();
        expect(alarm.blame!.role, show(alarm)).toBe('controller');
      }
      // Every finding is explainable: evidence pointing at records of this session.
      for (const finding of findings) {
        expect(finding.evidence.length).toBeGreaterThan(0);
        for (const e of finding.evidence) expect(store.record(session.id, e.seq)).toBeDefined();
      }

      for (const wanted of labels.expect) {
        expect(findings.some((f) => f.kind === wanted.kind && f.object.name === wanted.name && (wanted.rule === undefined || f.rule === wanted.rule)), `${wanted.kind} ${wanted.name}`).toBe(true);
      }
      if (alarms.length) console.log(`${name}: ${alarms.length} alarm(s)\n  ${alarms.map(show).join('\n  ')}`);
    });
  }
});
