// Faults injected by `kreplay proxy --faults` into what a real client-go controller sees, on the real control plane,
// and what `check` then finds in the controller's own view:
//   - expire (410 after a delete): the zoo's dfsu controller, which drops DeletedFinalStateUnknown, never releases the
//     deleted Widget's reservation; with its reconciles reported into the session (--ingest), check reports dfsu-gap
//     (tombstone-not-reconciled) naming the fault
//   - drop: the child ConfigMap's ADDED never reaches the controller: lost-event
//   - duplicate: a Widget's MODIFIED is delivered twice: duplicate-event
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarkerRecord, StoredRecord } from '../model/index.js';
import { createNamespace, eventually, useE2e } from './harness.js';
import { buildZoo, checkSession, kreplayCli, waitViewConverged, createWidget, deleteWidget, ensureWidgetCrd, namespaceSettled, resizeWidget, sessionRecords, startProxied, waitChild, waitSynced, releaseAndDeleteNamespace } from './proxy-harness.js';

const e2e = useE2e('proxy-faults');
let zoo: string;

beforeAll(async () => {
  zoo = await buildZoo();
  await ensureWidgetCrd(e2e.cluster);
}, 30 * 60_000);

const faultMarkers = (records: StoredRecord[]) => records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === 'fault');

describe('kreplay proxy --faults on the zoo', () => {
  it('expire after a delete: the dfsu controller gets a tombstone it drops, and check reports dfsu-gap after the fault', async () => {
    const cluster = e2e.cluster;
    const namespace = await createNamespace(cluster, 'proxy-dfsu');
    await namespaceSettled(cluster, namespace);
    const faults = `seed: 7
rules:
  - name: lose-the-delete
    match: { resource: widgets, name: lost, event: DELETED }
    when: { count: 1 }
    action: expire
`;
    const run = startProxied({ zoo, controller: 'dfsu', namespace, session: 'dfsu', adminKubeconfig: cluster.paths.kubeconfig, faults, ingest: true });
    try {
      await waitSynced(run, ['widgets', 'configmaps']);
      await createWidget(cluster, namespace, 'kept', 1);
      await createWidget(cluster, namespace, 'lost', 2);
      await waitChild(cluster, namespace, 'kept', 1);
      await waitChild(cluster, namespace, 'lost', 2);
      await deleteWidget(cluster, namespace, 'lost');
      // The watch is closed, its resume answered 410, and the controller relists (sendInitialEvents) without `lost`.
      await eventually(async () => {
        const relisted = sessionRecords(run.db, run.session).filter((r) => r.record === 'marker' && r.marker === 'list-finished' && r.resource === 'widgets');
        if (relisted.length < 2) throw new Error('no relist of widgets yet');
      }, 30_000);
      await resizeWidget(cluster, namespace, 'kept', 3);
      await waitChild(cluster, namespace, 'kept', 3);
      await waitViewConverged(run, 'kept');
      // The garbage collector deletes lost's child once it sees the owner gone (seconds on a busy machine): the view
      // must hold that before the proxy stops, or the oracle below compares a run cut short.
      await eventually(async () => {
        const gone = sessionRecords(run.db, run.session).some((r) => r.record === 'watch' && r.name === 'lost-config' && r.type === 'DELETED');
        if (!gone) throw new Error('lost-config not deleted in the faulted run');
      }, 30_000);
      expect(await run.stop(), run.output()).toBe(0);

      // The planted bug, as the controller logs it: the reservation of `lost` is never released.
      expect(run.output()).not.toMatch(/released the reservation of a deleted Widget.*lost/);
      const records = sessionRecords(run.db, run.session);
      const injected = faultMarkers(records);
      expect(injected.map((m) => m.code)).toEqual([410, 410]);
      expect(injected[0]!.message).toContain('withheld the DELETED');
      expect(injected[1]!.message).toContain('410 Expired');
      // The controller saw no DELETED of lost, a 410 on its resume, then a relist without it.
      expect(records.some((r) => r.record === 'watch' && r.name === 'lost' && r.type === 'DELETED')).toBe(false);
      const gone = records.find((r) => r.record === 'marker' && r.marker === 'gone' && r.resource === 'widgets');
      expect(gone?.seq).toBeGreaterThan(injected[1]!.seq);

      const check = await checkSession(run.db, run.session, 'zoo-dfsu');
      const dfsu = check.findings.filter((f) => f.kind === 'dfsu-gap' && f.object.name === 'lost');
      expect(dfsu, JSON.stringify(check.findings, null, 2)).toHaveLength(1);
      // Its reconciles say it never handled the key: the controller dropped the tombstone.
      expect(dfsu[0]!.rule).toBe('tombstone-not-reconciled');
      expect(dfsu[0]!.severity).not.toBe('info');
      expect(dfsu[0]!.message).toContain('lose-the-delete');

      // The same workload with no faults, for the oracle: the cluster ends the same (the leak is the controller's
      // own memory, which no object shows), so `kreplay diff` finds no difference between the two views.
      const cleanNamespace = await createNamespace(cluster, 'proxy-dfsu-clean');
      await namespaceSettled(cluster, cleanNamespace);
      const clean = startProxied({ zoo, controller: 'dfsu', namespace: cleanNamespace, session: 'dfsu-clean', adminKubeconfig: cluster.paths.kubeconfig, dir: path.dirname(run.db) });
      try {
        await waitSynced(clean, ['widgets', 'configmaps']);
        await createWidget(cluster, cleanNamespace, 'kept', 1);
        await createWidget(cluster, cleanNamespace, 'lost', 2);
        await waitChild(cluster, cleanNamespace, 'kept', 1);
        await waitChild(cluster, cleanNamespace, 'lost', 2);
        await deleteWidget(cluster, cleanNamespace, 'lost');
        await resizeWidget(cluster, cleanNamespace, 'kept', 3);
        await waitChild(cluster, cleanNamespace, 'kept', 3);
        await waitViewConverged(clean, 'kept');
        await eventually(async () => {
          const gone = sessionRecords(clean.db, clean.session).some((r) => r.record === 'watch' && r.name === 'lost-config' && r.type === 'DELETED');
          if (!gone) throw new Error('lost-config not deleted yet');
        }, 30_000);
        expect(await clean.stop(), clean.output()).toBe(0);
        expect(clean.output()).toMatch(/released the reservation of a deleted Widget.*lost/);
      } finally {
        await clean.stop();
        await releaseAndDeleteNamespace(cluster, cleanNamespace);
      }
      const diff = await kreplayCli(run.db, ['diff', 'dfsu-clean', 'dfsu', '--json', '--map-namespace', `${cleanNamespace}=${namespace}`]);
      expect(diff.code, diff.stdout).toBe(0);
      expect(JSON.parse(diff.stdout)).toMatchObject({ same: true, onlyInA: [], onlyInB: [], changed: [] });
    } finally {
      await run.stop();
      await releaseAndDeleteNamespace(cluster, namespace);
    }
  }, 180_000);

  it("drop and duplicate: the controller's view loses its child's ADDED (lost-event) and gets a Widget change twice (duplicate-event)", async () => {
    const cluster = e2e.cluster;
    const namespace = await createNamespace(cluster, 'proxy-dropdup');
    const faults = `seed: 11
rules:
  - name: drop-child-added
    match: { resource: configmaps, name: a-config, event: ADDED }
    when: { count: 1 }
    action: drop
  - name: twice
    match: { resource: widgets, name: b, event: MODIFIED }
    when: { count: 1 }
    action: duplicate
`;
    const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session: 'dropdup', adminKubeconfig: cluster.paths.kubeconfig, faults });
    try {
      await waitSynced(run, ['widgets', 'configmaps']);
      await createWidget(cluster, namespace, 'a', 1);
      await createWidget(cluster, namespace, 'b', 1);
      await waitChild(cluster, namespace, 'a', 1);
      await waitChild(cluster, namespace, 'b', 1);
      // b's child, created after a's, is delivered: the watch went past the dropped version. The controller never
      // learns that a-config exists (its informer missed it): it would try to create it again on a's next change.
      await eventually(async () => {
        const seen = sessionRecords(run.db, run.session).some((r) => r.record === 'watch' && r.name === 'b-config');
        if (!seen) throw new Error('b-config not delivered yet');
      }, 30_000);
      await resizeWidget(cluster, namespace, 'b', 2);
      await waitChild(cluster, namespace, 'b', 2);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await run.stop(), run.output()).toBe(0);

      const records = sessionRecords(run.db, run.session);
      const injected = faultMarkers(records);
      expect(injected.map((m) => m.message?.split(':')[0])).toEqual(expect.arrayContaining(['fault "drop-child-added"', 'fault "twice"']));
      expect(records.some((r) => r.record === 'watch' && r.name === 'a-config' && r.type === 'ADDED')).toBe(false);

      const check = await checkSession(run.db, run.session, 'zoo-healthy-clientgo');
      const lost = check.findings.find((f) => f.kind === 'lost-event' && f.object.name === 'a-config');
      expect(lost, JSON.stringify(check.findings, null, 2)).toBeDefined();
      expect(lost!.message).toContain('drop-child-added');
      const duplicate = check.findings.find((f) => f.kind === 'duplicate-event' && f.object.name === 'b');
      expect(duplicate, JSON.stringify(check.findings, null, 2)).toBeDefined();
      expect(duplicate!.message).toContain('twice');
    } finally {
      await run.stop();
      await releaseAndDeleteNamespace(cluster, namespace);
    }
  }, 180_000);
});
