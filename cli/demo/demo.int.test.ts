import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findingKinds, SessionRecord, sessionControllerNames } from '../../model/index.js';
import { analyze } from '../../replayer/index.js';
import { openStore } from '../../store/index.js';
import { useTempDir } from '../../test/temp.js';
import { demoSession, DEMO_SESSION_NAME } from './scenario.js';
import { readZooRuns } from './zoo-runs.js';
import { runCli } from '../testing/run-cli.js';

async function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ out: string; err: string }> {
  const result = await runCli(args, env);
  if (result.code !== 0) throw new Error(`kreplay ${args.join(' ')} failed (${result.code}): ${result.err}`);
  return result;
}

describe('kreplay demo', () => {
  const tempDir = useTempDir();

  it('generates valid, time-ordered, deterministic records', () => {
    const a = demoSession('0.1.0');
    const b = demoSession('0.1.0');
    expect(JSON.stringify(a.records)).toBe(JSON.stringify(b.records));
    expect(a.records.length).toBeGreaterThan(1000);
    let previous = '';
    for (const record of a.records) {
      SessionRecord.parse(record);
      expect(record.observedAt! >= previous).toBe(true);
      previous = record.observedAt!;
    }
    const minutes = (Date.parse(a.endedAt) - Date.parse(a.session.startedAt)) / 60_000;
    expect(minutes).toBe(15);
    // resourceVersions only ever grow, as etcd revisions do (a no-op write makes none: it answers with the object's).
    const rvs = a.records.flatMap((r) => (r.record === 'api' && r.code < 300 && r.resourceVersionAfter && r.resourceVersionAfter !== r.resourceVersionBefore ? [Number(r.resourceVersionAfter)] : []));
    for (let i = 1; i < rvs.length; i++) expect(rvs[i]!).toBeGreaterThanOrEqual(rvs[i - 1]!);
  });

  it('writes the session, replacing an earlier one, and analysing it yields every finding kind', async () => {
    const db = join(tempDir(), 'kreplay.db');
    const env = { KREPLAY_DB: db };
    await run(['demo'], env);
    const { out } = await run(['demo'], env);
    expect(out).toContain(`Wrote session "${DEMO_SESSION_NAME}"`);
    // Not a terminal: the check report and how to open the replay.
    expect(out).toMatch(/Session demo: \d+ findings/);
    expect(out).toContain('kreplay replay demo');

    const store = openStore(db);
    try {
      const sessions = store.listSessions();
      expect(sessions.map((s) => s.name)).toEqual([DEMO_SESSION_NAME]);
      expect(sessions[0]!.source).toBe('demo');
      expect(sessions[0]!.endedAt).not.toBeNull();
      // What `kreplay check demo` runs: the controller the session's config names.
      const analysis = analyze(store.records(sessions[0]!.id), { controller: sessionControllerNames(sessions[0]!.config) });
      const fired = new Set(analysis.findings.map((f) => f.kind));
      expect([...findingKinds].filter((kind) => !fired.has(kind))).toEqual([]);
      // The operator's own incidents are alarms about it, not context (only campaign-operator's cluster-wide watch is).
      const context = analysis.findings.filter((f) => f.severity === 'info').map((f) => `${f.kind} ${f.blame?.actor ?? ''}`);
      expect(context).toEqual(['cluster-wide-watch system:serviceaccount:marketing:campaign-operator']);
      // Each incident of the script is where the story says it is.
      const where = (kind: string) => analysis.findings.filter((f) => f.kind === kind).map((f) => `${f.object.kind}/${f.object.namespace}/${f.object.name}`);
      expect(where('stuck-finalizer')).toContain('WebApp/shop/legacy-portal');
      expect(where('dfsu-gap')).toContain('WebApp/shop/tmp-preview');
      expect(where('unreconciled')).toContain('WebApp/marketing/docs');
      expect(where('hot-loop')).toContain('WebApp/shop/search');
      expect(where('lost-event')).toContain('WebApp/marketing/blog');
      expect(where('notfound-retry')).toContain('WebApp/shop/promo-banner');
      expect(where('stale-read')).toContain('WebApp/shop/checkout');
      expect(where('status-spec-race')).toContain('WebApp/shop/catalog');
      expect(where('duplicate-event')).toContain('Deployment/shop/storefront');
      expect(where('reconcile-lag')).toEqual(['WebApp/shop/api-gateway']);
      expect(where('hung-reconcile')).toEqual(['WebApp/shop/checkout']);
    } finally {
      store.close();
    }
  });

  it('--zoo writes the bundled real runs: the healthy one is silent, its hot-looping twin has the hot loop and nothing else', async () => {
    const runs = readZooRuns().runs;
    expect(runs.map((r) => r.session.name)).toEqual(['zoo-healthy', 'zoo-hot-loop']);
    const db = join(tempDir(), 'kreplay.db');
    const env = { KREPLAY_DB: db };
    await run(['demo'], env);
    const { out } = await run(['demo', '--zoo'], env);
    expect(out).toContain('Wrote session "zoo-healthy"');
    expect(out).toContain('Session zoo-hot-loop: 1 finding');
    expect(out).toContain('kreplay replay zoo-hot-loop');
    const store = openStore(db);
    try {
      // The generated demo stays; the zoo runs come beside it.
      expect(store.listSessions().map((s) => s.name).sort()).toEqual([DEMO_SESSION_NAME, 'zoo-healthy', 'zoo-hot-loop']);
      const alarms = (name: string) => {
        const session = store.findSession(name)!;
        expect(session.source).toBe('recorder');
        expect(session.endedAt).toBe(runs.find((r) => r.session.name === name)!.endedAt);
        const analysis = analyze(store.records(session.id), { controller: sessionControllerNames(session.config) });
        return analysis.findings.filter((f) => f.severity !== 'info').map((f) => `${f.kind} ${f.object.kind}/${f.object.namespace}/${f.object.name}`);
      };
      expect(alarms('zoo-healthy')).toEqual([]);
      expect(alarms('zoo-hot-loop')).toEqual(['hot-loop Widget/zoo-hot-loop/hot']);
    } finally {
      store.close();
    }
  });
});
