// Healthy controllers converge under every fault profile (issue 17): the zoo's healthy client-go controller runs
// behind `kreplay proxy --faults <profile>` on the real control plane while a workload churns Widgets (created and
// deleted, so that deletes meet expiries and relists) until the profile's faults have fired; then the faults stop
// (SIGUSR1) and the controller must bring the cluster, and its own view, to the same end state as a fault-free run
// of the same workload: `kreplay diff` finds nothing. The rounds of churn end on conditions (the faults fired), never
// after a fixed time, so a loaded machine only makes the test slower.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultProfiles, type FaultProfileName, type MarkerRecord, type StoredRecord } from '../model/index.js';
import { createNamespace, eventually, type Cluster, useE2e } from './harness.js';
import {
  buildZoo,
  checkSession,
  createWidget,
  deleteWidget,
  ensureWidgetCrd,
  kreplayCli,
  must,
  namespaceSettled,
  releaseAndDeleteNamespace,
  resizeWidget,
  sessionRecords,
  startProxied,
  waitChild,
  waitSynced,
  waitViewConverged,
  widgetsPath,
  type ProxiedRun,
} from './proxy-harness.js';

const e2e = useE2e('proxy-profiles');
let zoo: string;
let dir: string | undefined;
const cleanSession = 'profiles-clean';
let cleanNamespace: string | undefined;

const kept = ['w1', 'w2', 'w3'] as const;
const finalSize = (name: string) => 10 + kept.indexOf(name as (typeof kept)[number]);
/** At most this many rounds of churn; a profile whose faults have not all fired by then fails the test. */
const maxRounds = 40;

const faultMarkers = (records: StoredRecord[]) => records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'fault');

/** What must have happened before the faults stop, per profile: each of its kinds of fault at least once. */
const firedEnough: Record<FaultProfileName, (messages: string[]) => string | undefined> = {
  'relist-storm': (m) =>
    !m.some((x) => x.startsWith('fault "relist-storm: expire": withheld'))
      ? 'no expiry yet'
      : !m.some((x) => x.includes('410 Expired') && x.startsWith('fault "relist-storm: expire": answered'))
        ? 'no resume answered 410 yet'
        : !m.some((x) => x.startsWith('fault "relist-storm: close"'))
          ? 'no close yet'
          : undefined,
  // Its stale lists are served only where a real server may serve one (fault-engine.ts mayServeStale): a list at
  // resourceVersion 0, or one not older than asked for. client-go 0.36 asks for neither (its watch-lists are
  // consistent reads, or not older than what it has seen), so against it the profile is its relists after 410s.
  'stale-restart': (m) => (!m.some((x) => x.startsWith('fault "stale-restart: expire": answered')) ? 'no resume answered 410 yet' : undefined),
  'flaky-network': (m) =>
    !m.some((x) => /^fault "flaky-network: (500|429|409)"/.test(x))
      ? 'no failed write yet'
      : !m.some((x) => /^fault "flaky-network: (delay|duplicate|close)"/.test(x))
        ? 'no event fault yet'
        : undefined,
};

/**
 * The workload: three Widgets kept to the end (created, resized once, set to their final size), and rounds of churn
 * (two Widgets created, their children awaited, then deleted) until `enough` says the faults it waits for have fired.
 * The end state does not depend on the number of rounds: churned Widgets and their children are all gone at the end.
 */
async function workload(cluster: Cluster, namespace: string, run: ProxiedRun, enough: (() => string | undefined) | undefined): Promise<number> {
  for (const name of kept) await createWidget(cluster, namespace, name, 1);
  for (const name of kept) await waitChild(cluster, namespace, name, 1, 60_000);
  for (const name of kept) await resizeWidget(cluster, namespace, name, 2);
  let rounds = 0;
  for (;;) {
    rounds += 1;
    const pair = [`churn-${rounds}-a`, `churn-${rounds}-b`];
    for (const name of pair) await createWidget(cluster, namespace, name, rounds);
    for (const name of pair) await waitChild(cluster, namespace, name, rounds, 60_000);
    for (const name of pair) await deleteWidget(cluster, namespace, name);
    const missing = enough?.();
    if (!missing) break;
    if (rounds >= maxRounds) throw new Error(`after ${rounds} rounds of churn the profile's faults have not all fired (${missing})\n${run.output().slice(-2000)}`);
  }
  for (const name of kept) await resizeWidget(cluster, namespace, name, finalSize(name));
  return rounds;
}

/** Waits until the cluster and the controller's view hold the end state: the kept Widgets in sync, no churn left. */
async function converged(cluster: Cluster, namespace: string, run: ProxiedRun): Promise<void> {
  for (const name of kept) await waitChild(cluster, namespace, name, finalSize(name), 120_000);
  // The garbage collector removes the churned Widgets' children (seconds on a busy machine).
  await eventually(async () => {
    const res = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}/configmaps`);
    const left = (JSON.parse(res.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).filter((n) => n.startsWith('churn-'));
    if (left.length) throw new Error(`churned children not collected yet: ${left.join(', ')}`);
  }, 120_000, 500);
  // A ConfigMap written after everything else: once the controller's watch delivers it, it has delivered every change
  // before it (a watch is in resourceVersion order), the garbage collector's deletes included.
  await must(cluster, 'POST', `/api/v1/namespaces/${namespace}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'workload-end' }, data: { done: 'true' } });
  await eventually(async () => {
    if (!sessionRecords(run.db, run.session).some((r) => r.record === 'watch' && r.name === 'workload-end')) throw new Error('workload-end not delivered to the controller yet');
  }, 120_000, 500);
  for (const name of kept) await waitViewConverged(run, name, 120_000);
  const widgets = await cluster.http.request('GET', widgetsPath(namespace));
  expect((JSON.parse(widgets.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name).sort()).toEqual([...kept]);
}

beforeAll(async () => {
  zoo = await buildZoo();
  await ensureWidgetCrd(e2e.cluster);
  // The fault-free run every profile is compared with.
  cleanNamespace = await createNamespace(e2e.cluster, 'profiles-clean');
  await namespaceSettled(e2e.cluster, cleanNamespace);
  const clean = startProxied({ zoo, controller: 'healthy-clientgo', namespace: cleanNamespace, session: cleanSession, adminKubeconfig: e2e.cluster.paths.kubeconfig });
  dir = path.dirname(clean.db);
  try {
    await waitSynced(clean, ['widgets', 'configmaps']);
    await workload(e2e.cluster, cleanNamespace, clean, undefined);
    await converged(e2e.cluster, cleanNamespace, clean);
    expect(await clean.stop(), clean.output()).toBe(0);
  } finally {
    await clean.stop();
  }
}, 30 * 60_000);

afterAll(async () => {
  if (cleanNamespace) await releaseAndDeleteNamespace(e2e.cluster, cleanNamespace);
});

describe('healthy controllers converge under every fault profile', () => {
  for (const profile of Object.keys(faultProfiles) as FaultProfileName[]) {
    it(`${profile}: healthy-clientgo meets the profile's faults, and once they stop its end state is the fault-free run's`, async () => {
      const cluster = e2e.cluster;
      const namespace = await createNamespace(cluster, `profile-${profile}`);
      await namespaceSettled(cluster, namespace);
      const session = `profile-${profile}`;
      const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session, adminKubeconfig: cluster.paths.kubeconfig, faultsProfile: profile, dir: dir! });
      try {
        await waitSynced(run, ['widgets', 'configmaps'], 120_000);
        const rounds = await workload(cluster, namespace, run, () => firedEnough[profile](faultMarkers(sessionRecords(run.db, run.session)).map((m) => m.message ?? '')));
        await run.stopFaults();
        const stoppedAt = faultMarkers(sessionRecords(run.db, run.session)).find((m) => m.message?.startsWith('fault injection stopped'))!.seq;
        await converged(cluster, namespace, run);
        expect(await run.stop(), run.output()).toBe(0);

        const records = sessionRecords(run.db, run.session);
        const injected = faultMarkers(records).filter((m) => m.seq < stoppedAt);
        expect(injected.length, `${rounds} round(s)`).toBeGreaterThan(0);
        // Nothing is injected once the faults stopped (an expiry armed but not yet answered is forgotten).
        const after = faultMarkers(records).filter((m) => m.seq > stoppedAt);
        expect(after.map((m) => m.message)).toEqual([]);

        const diff = await kreplayCli(run.db, ['diff', cleanSession, session, '--json', '--map-namespace', `${cleanNamespace}=${namespace}`]);
        expect(diff.code, diff.stdout + diff.stderr).toBe(0);
        expect(JSON.parse(diff.stdout)).toMatchObject({ same: true, onlyInA: [], onlyInB: [], changed: [] });

        // A correct client-go controller copes with every fault of the profile: no finding at warning or above blames
        // it. What the faults did to its view is reported as such (a delivery twice, transitions a relist skipped),
        // each naming the fault; a tombstone it was handed is context (its reconciles are not in this session).
        const check = await checkSession(run.db, run.session, 'zoo-healthy-clientgo');
        const theFault = (f: (typeof check.findings)[number]) => (f.kind === 'duplicate-event' || f.kind === 'lost-event') && f.message.includes('An injected fault preceded it');
        const alarms = check.findings.filter((f) => f.severity !== 'info' && !theFault(f));
        expect(alarms, JSON.stringify(alarms, null, 2)).toEqual([]);
      } finally {
        await run.stop();
        await releaseAndDeleteNamespace(cluster, namespace);
      }
    }, 15 * 60_000);
  }
});
