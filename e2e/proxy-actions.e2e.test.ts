// The fault actions the first proxy e2e did not drive, on the real control plane with the zoo's healthy client-go
// controller behind `kreplay proxy --faults`: delay, close and coalesce. Each test checks the controller's view
// (the fault marker, and what the controller was then given), that the controller still brings the cluster where
// the workload asks, and what `check` says: nothing where a correct client-go controller copes (delay, close), the
// hidden spec changes where the fault broke what one watch guarantees (coalesce). And stale-list where a real server
// can serve one: the first LIST of a restarted controller, at resourceVersion 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarkerRecord, StoredRecord, WatchEventRecord } from '../model/index.js';
import { createNamespace, eventually, useE2e } from './harness.js';
import {
  buildZoo,
  checkSession,
  createWidget,
  deleteWidget,
  ensureWidgetCrd,
  must,
  releaseAndDeleteNamespace,
  type ProxiedRun,
  resizeWidget,
  sessionRecords,
  startProxied,
  waitChild,
  waitSynced,
  waitViewConverged,
  widgetsPath,
} from './proxy-harness.js';

const e2e = useE2e('proxy-actions');
let zoo: string;

beforeAll(async () => {
  zoo = await buildZoo();
  await ensureWidgetCrd(e2e.cluster);
}, 30 * 60_000);

const markers = (records: StoredRecord[], kind: MarkerRecord['marker'], resource = 'widgets') =>
  records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === kind && r.resource === resource);
const widgetEvents = (records: StoredRecord[], name: string) =>
  records.filter((r): r is StoredRecord & WatchEventRecord => r.record === 'watch' && r.resource === 'widgets' && r.name === name && r.type !== 'BOOKMARK');
type Check = Awaited<ReturnType<typeof checkSession>>;
const alarmsOf = (findings: Check['findings']) => findings.filter((f) => f.severity !== 'info');

/**
 * One test's frame: a namespace of its own, the zoo's healthy client-go controller behind `kreplay proxy --faults`,
 * synced; `drive` runs the workload and waits until it converged; then the proxy must stop cleanly, and the session's
 * records and `check` findings are the test's to judge. The namespace goes whatever happens.
 */
async function faultedRun(name: string, faults: string, drive: (run: ProxiedRun, namespace: string) => Promise<void>): Promise<{ records: StoredRecord[]; check: Check }> {
  const cluster = e2e.cluster;
  const namespace = await createNamespace(cluster, `proxy-${name}`);
  const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session: name, adminKubeconfig: cluster.paths.kubeconfig, faults });
  try {
    await waitSynced(run, ['widgets', 'configmaps']);
    await drive(run, namespace);
    expect(await run.stop(), run.output()).toBe(0);
    return { records: sessionRecords(run.db, run.session), check: await checkSession(run.db, run.session, 'zoo-healthy-clientgo') };
  } finally {
    await run.stop();
    await releaseAndDeleteNamespace(cluster, namespace);
  }
}

describe('kreplay proxy --faults: delay, close, coalesce on the zoo', () => {
  it('delay: the Widget change reaches the controller late, everything behind it waits, and nothing is wrong with the controller', async () => {
    const cluster = e2e.cluster;
    const faults = `rules:
  - name: late
    match: { resource: widgets, name: d, event: MODIFIED }
    when: { count: 1 }
    action: delay
    delay: 2s
`;
    const { records, check } = await faultedRun('delay', faults, async (run, namespace) => {
      await createWidget(cluster, namespace, 'd', 1);
      await waitChild(cluster, namespace, 'd', 1);
      await resizeWidget(cluster, namespace, 'd', 2);
      await createWidget(cluster, namespace, 'e', 1);
      await waitChild(cluster, namespace, 'd', 2);
      await waitChild(cluster, namespace, 'e', 1);
      await waitViewConverged(run, 'd');
      await waitViewConverged(run, 'e');
    });
    const [fault, ...more] = markers(records, 'fault');
    expect(more).toEqual([]);
    expect(fault!.message).toMatch(/^fault "late": held the MODIFIED of .*\/d at resourceVersion \d+ for 2000 ms/);
    // The held event itself arrives two seconds after the marker, and the watch keeps its order behind it.
    const held = widgetEvents(records, 'd').find((r) => r.resourceVersion === fault!.resourceVersion)!;
    expect(held.seq).toBeGreaterThan(fault!.seq);
    expect(Date.parse(held.observedAt!) - Date.parse(fault!.observedAt!)).toBeGreaterThanOrEqual(1900);
    const after = records.filter((r): r is StoredRecord & WatchEventRecord => r.record === 'watch' && r.resource === 'widgets' && r.type !== 'BOOKMARK' && r.seq > fault!.seq);
    expect(after.map((r) => Number(r.resourceVersion))).toEqual([...after.map((r) => Number(r.resourceVersion))].sort((a, b) => a - b));
    // One watch throughout: a delay is not a disconnection.
    expect(markers(records, 'watch-closed').map((m) => m.message)).toEqual(['closed by the controller']);
    expect(alarmsOf(check.findings), JSON.stringify(check.findings, null, 2)).toEqual([]);
  }, 180_000);

  it('close: the watch ends after the event, client-go resumes from that resourceVersion (no relist), and nothing is wrong', async () => {
    const cluster = e2e.cluster;
    const faults = `rules:
  - name: cut
    match: { resource: widgets, name: c, event: MODIFIED }
    when: { count: 1 }
    action: close
`;
    const { records, check } = await faultedRun('close', faults, async (run, namespace) => {
      await createWidget(cluster, namespace, 'c', 1);
      await waitChild(cluster, namespace, 'c', 1);
      await eventually(async () => {
        if (markers(sessionRecords(run.db, run.session), 'fault').length === 0) throw new Error('the close has not fired yet');
      }, 30_000);
      await resizeWidget(cluster, namespace, 'c', 2);
      await waitChild(cluster, namespace, 'c', 2);
      await waitViewConverged(run, 'c');
    });
    const [fault] = markers(records, 'fault');
    expect(fault!.message).toMatch(/^fault "cut": closed the watch after the MODIFIED of .*\/c at resourceVersion (\d+)/);
    const closed = markers(records, 'watch-closed').find((m) => m.seq > fault!.seq)!;
    expect(closed.message).toBe('closed by fault "cut"');
    expect(closed.resourceVersion).toBe(fault!.resourceVersion);
    // client-go's reflector watches again from the last resourceVersion it was given: a resume, not a relist.
    const resumed = markers(records, 'watch-started').find((m) => m.seq > closed.seq)!;
    expect(resumed.resourceVersion).toBe(fault!.resourceVersion);
    expect(markers(records, 'list-finished').filter((m) => m.seq > closed.seq)).toEqual([]);
    // The resize came over the resumed watch.
    expect(widgetEvents(records, 'c').filter((r) => r.seq > resumed.seq && r.generation === 2).length).toBeGreaterThan(0);
    expect(alarmsOf(check.findings), JSON.stringify(check.findings, null, 2)).toEqual([]);
  }, 180_000);

  it('coalesce: the spec changes inside the window are hidden (lost-event generation-jump, naming the fault); a level-based controller still converges', async () => {
    const cluster = e2e.cluster;
    // The first MODIFIED of k is the controller's own status write; the second is the workload's first resize.
    const faults = `rules:
  - name: unobserved
    match: { resource: widgets, name: k, event: MODIFIED }
    when: { skip: 1, count: 1 }
    action: coalesce
    delay: 3s
`;
    const { records, check } = await faultedRun('coalesce', faults, async (run, namespace) => {
      await createWidget(cluster, namespace, 'k', 1);
      await waitChild(cluster, namespace, 'k', 1);
      await waitViewConverged(run, 'k');
      for (const size of [2, 3, 4]) await resizeWidget(cluster, namespace, 'k', size);
      await waitChild(cluster, namespace, 'k', 4);
      await waitViewConverged(run, 'k');
    });
    const [fault, ...more] = markers(records, 'fault');
    expect(more).toEqual([]);
    expect(fault!.message).toMatch(/^fault "unobserved": held .*\/k for 3000 ms and delivered only its last version .*; hid resourceVersion\(s\) \d+, \d+/);
    // The controller never saw generations 2 and 3.
    const generations = widgetEvents(records, 'k').map((r) => r.generation);
    expect(generations).not.toContain(2);
    expect(generations).not.toContain(3);
    expect(generations).toContain(4);
    const jump = check.findings.find((f) => f.kind === 'lost-event' && f.rule === 'generation-jump' && f.object.name === 'k');
    expect(jump, JSON.stringify(check.findings, null, 2)).toBeDefined();
    expect(jump!.message).toContain('fault "unobserved"');
    expect(alarmsOf(check.findings).filter((f) => f !== jump), JSON.stringify(check.findings, null, 2)).toEqual([]);
  }, 180_000);
});

describe('kreplay proxy --faults: stale-list on a controller restart (Sieve\'s stale state)', () => {
  it("the restarted controller's first LIST (resourceVersion=0: any state) is answered with the previous list; it sees the deleted Widget again, then the watch from the old resourceVersion replays the delete and it converges", async () => {
    const cluster = e2e.cluster;
    const namespace = await createNamespace(cluster, 'proxy-stale');
    const faults = `rules:
  - name: lagging-cache
    match: { resource: widgets }
    when: { count: 1 }
    action: stale-list
`;
    // Both Widgets exist before the controller starts, so its first list (the snapshot a stale list serves) has them.
    await createWidget(cluster, namespace, 'a', 1);
    await createWidget(cluster, namespace, 'b', 1);
    const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session: 'stale', adminKubeconfig: cluster.paths.kubeconfig, faults, standalone: true });
    // The LIST path of client-go's reflector (WatchListClient off, as in client-go before 0.35 and in controllers
    // that turn it off): the first list of a process asks for resourceVersion 0, which a server may answer from a
    // cache that lags (k8s.io/client-go tools/cache/reflector.go relistResourceVersion).
    const controller = (): ChildProcess =>
      spawn(zoo, ['healthy-clientgo', '--kubeconfig', run.kubeconfig, '--namespace', namespace], { stdio: 'ignore', env: { ...process.env, KUBECONFIG: '', KUBE_FEATURE_WatchListClient: 'false' } });
    const stopped = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    let first: ChildProcess | undefined;
    let second: ChildProcess | undefined;
    try {
      await eventually(async () => {
        if (!existsSync(run.kubeconfig)) throw new Error(`the proxy has not written its kubeconfig yet\n${run.output()}`);
      }, 60_000);
      first = controller();
      await waitSynced(run, ['widgets', 'configmaps']);
      await waitChild(cluster, namespace, 'a', 1);
      await waitChild(cluster, namespace, 'b', 1);
      first.kill('SIGTERM');
      await stopped(first);
      // While the controller is away: b and its child are deleted, a is resized. The child is deleted here rather
      // than left to kube-controller-manager's garbage collector, which after the API server restarts of earlier
      // tests may take minutes to collect again (its discovery failed while the server was down): not what this tests.
      const b = await must(cluster, 'GET', widgetsPath(namespace, 'b'));
      await deleteWidget(cluster, namespace, 'b');
      await cluster.http.request('DELETE', `/api/v1/namespaces/${namespace}/configmaps/b-config`);
      await eventually(async () => {
        const res = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}/configmaps/b-config`);
        if (res.status !== 404) throw new Error(`b-config still there (${res.status})`);
      }, 60_000, 250);
      await resizeWidget(cluster, namespace, 'a', 2);
      second = controller();
      await waitChild(cluster, namespace, 'a', 2, 60_000);
      await waitViewConverged(run, 'a', 60_000);
      // The view ends without b: the watch from the stale list's resourceVersion delivered its DELETED.
      await eventually(async () => {
        if (!widgetEvents(sessionRecords(run.db, run.session), 'b').some((r) => r.type === 'DELETED')) throw new Error("b's DELETED not delivered yet");
      }, 60_000, 250);
      // A child the controller may have recreated for the stale b names the deleted b as its owner: garbage the
      // collector removes (its owner is gone), not a child the controller keeps. Removed here for the same reason.
      const recreated = await cluster.http.request('GET', `/api/v1/namespaces/${namespace}/configmaps/b-config`);
      if (recreated.status !== 404) {
        const owners = ((JSON.parse(recreated.body) as { metadata?: { ownerReferences?: { uid: string }[] } }).metadata?.ownerReferences ?? []).map((o) => o.uid);
        expect(owners).toEqual([b.metadata.uid]);
        await cluster.http.request('DELETE', `/api/v1/namespaces/${namespace}/configmaps/b-config`);
      }
      second.kill('SIGTERM');
      await stopped(second);
      expect(await run.stop(), run.output()).toBe(0);

      const records = sessionRecords(run.db, run.session);
      const [fault, ...more] = markers(records, 'fault');
      expect(more).toEqual([]);
      expect(fault!.message).toMatch(/^fault "lagging-cache": answered the LIST with the previous list \(resourceVersion (\d+), 2 object\(s\)\)/);
      const lists = markers(records, 'list-finished');
      expect(lists).toHaveLength(2);
      expect(lists[1]!.resourceVersion).toBe(lists[0]!.resourceVersion);
      // The restarted controller was shown b, deleted before it started, at its old version...
      const bEvents = widgetEvents(records, 'b');
      const relisted = bEvents.find((r) => r.seq > fault!.seq && r.origin === 'relist');
      expect(relisted?.uid).toBe(b.metadata.uid);
      // ...then, on the watch from the stale resourceVersion, the delete it had missed.
      const deleted = bEvents.find((r) => r.type === 'DELETED')!;
      expect(deleted.seq).toBeGreaterThan(relisted!.seq);
      expect(deleted.origin).toBe('watch');

      // What check says is the fault, seen in the view: the relist went back in time, for both Widgets. Nothing
      // blames the controller (it acted on what it was shown, then on the replayed delete).
      const check = await checkSession(run.db, run.session, 'zoo-healthy-clientgo');
      const back = check.findings.filter((f) => f.kind === 'lost-event' && f.rule === 'relist-gap');
      expect(back.map((f) => f.object.name).sort(), JSON.stringify(check.findings, null, 2)).toEqual(['a', 'b']);
      for (const f of back) {
        expect(f.message).toMatch(/went back from resourceVersion/);
        expect(f.message).toContain('fault "lagging-cache"');
      }
      expect(alarmsOf(check.findings).filter((f) => !back.includes(f)), JSON.stringify(check.findings, null, 2)).toEqual([]);
    } finally {
      first?.kill('SIGTERM');
      second?.kill('SIGTERM');
      await run.stop();
      await releaseAndDeleteNamespace(cluster, namespace);
    }
  }, 240_000);
});
