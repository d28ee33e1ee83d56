import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerCheck } from '../../cli/commands/check.js';
import { createContext, type Output } from '../../cli/context.js';
import { reportError } from '../../cli/main.js';
import { importFile } from '../../importers/import-file.js';
import { Finding } from '../../model/index.js';
import { openStore } from '../../store/index.js';

/** `kreplay check` end to end on a real database file: output contract and exit codes (0 ok, 1 findings, 2 usage). */

const root = dirname(fileURLToPath(import.meta.url));
let dir: string;
let db: string;

async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const output: Output = { out: (t) => (out += t), err: (t) => (err += t), isTTY: false };
  const program = new Command('kreplay').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerCheck(program, createContext({ db, output, env: {} }));
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  const before = process.exitCode;
  process.exitCode = undefined;
  let code: number;
  try {
    await program.parseAsync(['check', ...args], { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    code = reportError(error, output);
  } finally {
    process.exitCode = before;
  }
  return { code, out, err };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kreplay-check-'));
  db = join(dir, 'check.db');
  const store = openStore(db);
  for (const [session, file] of [
    ['hot', 'ndjson-hot-loop-status-timestamp/session.ndjson'],
    ['race', 'ndjson-status-spec-race/session.ndjson'],
    ['clean', 'ndjson-clean-sample-controller/session.ndjson'],
    ['watch-only', 'kubectl-clean-rollout/watch.json'],
  ] as const) {
    const format = file.endsWith('.json') ? 'kubectl-watch' : 'ndjson';
    const outcome = await importFile(store, { format, session, input: { path: join(root, file) }, toolVersion: 'test' });
    if (!outcome.ok) throw new Error(outcome.message);
  }
  store.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kreplay check', () => {
  it('exits 0 on a clean session and says so', async () => {
    const r = await check('clean');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Session clean: no findings/);
  });

  it('says which kinds a session could not show: a watch dump has no reconciles and no requests', async () => {
    const r = await check('watch-only');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}not evaluated: .*notfound-retry \(needs request or reconcile records\), stale-read \(needs reconcile records with the resourceVersion they read\)/m);
    expect(r.out).toMatch(/^ {2}partly evaluated: .*hot-loop \(hot-reconcile needs reconcile records\)/m);
    expect(r.out).toMatch(/Nothing at or above warning in what this session could show/);
    const json = JSON.parse((await check('watch-only', '--json')).out) as { summary: { coverage: Record<string, { status: string; missing: string[] }> } };
    expect(json.summary.coverage['stale-read']?.status).toBe('not-evaluated');
    expect(json.summary.coverage['duplicate-event']).toEqual({ status: 'evaluated', missing: [] });
    // With the SDK's reconciles and requests, the same words are not there.
    expect((await check('clean')).out).not.toContain('stale-read (needs');
  });

  it('exits 1 on findings at or above --fail-on, and prints them grouped by object', async () => {
    const r = await check('race');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^Foo default\/checkout .*samplecontroller\.k8s\.io\/v1alpha1$/m);
    expect(r.out).toMatch(/ERROR\s+status-spec-race \(stale-status\)/);
  });

  it('exits 0 when every finding is below --fail-on', async () => {
    expect((await check('hot', '--fail-on', 'error')).code).toBe(0);
    expect((await check('hot')).code).toBe(1);
  });

  it('prints the JSON contract with --json', async () => {
    const r = await check('race', '--json');
    expect(r.code).toBe(1);
    const body = z.object({ session: z.literal('race'), summary: z.object({ failing: z.number() }).loose(), findings: z.array(Finding) }).parse(JSON.parse(r.out));
    expect(body.findings.map((f) => [f.kind, f.object.name, f.rule])).toEqual([
      ['status-spec-race', 'checkout', 'stale-status'],
      ['status-spec-race', 'ledger', 'lost-update'],
      ['status-spec-race', 'orders', 'conflict-retry'],
    ]);
    for (const f of body.findings) expect(Object.keys(f)).toEqual(expect.arrayContaining(['id', 'kind', 'severity', 'object', 'firstSeq', 'lastSeq', 'resourceVersions', 'count', 'message', 'evidence']));
  });

  it('exits 2 naming an unknown kind and listing the valid ones', async () => {
    const r = await check('race', '--only', 'status-spec-race,hot-loops');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown finding kind "hot-loops"/);
    expect(r.err).toMatch(/Valid kinds: duplicate-event, lost-event/);
  });

  it('exits 2 on a bad threshold, a bad severity and a missing session', async () => {
    expect((await check('hot', '--hot-loop-window', 'a minute')).code).toBe(2);
    expect((await check('hot', '--fail-on', 'critical')).code).toBe(2);
    const missing = await check('nope');
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no session named "nope"/);
  });

  it('reads thresholds and suppressions from a YAML config file; flags win', async () => {
    const file = join(dir, 'kreplay.yaml');
    writeFileSync(file, 'thresholds:\n  hotLoopWrites: 100\n');
    expect((await check('hot', '--config', file)).code).toBe(0);
    expect((await check('hot', '--config', file, '--hot-loop-writes', '10')).code).toBe(1);
    writeFileSync(file, 'suppress:\n  - finding: hot-loop\n    name: tick*\n    reason: status heartbeat, tracked in OPS-42\n');
    const r = await check('hot', '--config', file);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/suppressed: status heartbeat, tracked in OPS-42/);
    writeFileSync(file, '{"suppress": [{"name": "x"}]}');
    expect((await check('hot', '--config', file)).code).toBe(2);
  });
});
