// `kreplay proxy -- <controller>` on the real control plane: a real client-go controller (the zoo's healthy-clientgo)
// talks to the API server only through the proxy; the session must hold what it was delivered (its watches' events
// with their resourceVersions) and what it wrote, and `check` must judge that view healthy.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiRequestRecord, MarkerRecord, StoredRecord, WatchEventRecord } from '../model/index.js';
import { createNamespace, useE2e } from './harness.js';
import { buildZoo, checkSession, createWidget, deleteWidget, ensureWidgetCrd, resizeWidget, sessionRecords, startProxied, waitChild, waitSynced, releaseAndDeleteNamespace } from './proxy-harness.js';

const e2e = useE2e('proxy');
let zoo: string;

beforeAll(async () => {
  zoo = await buildZoo();
  await ensureWidgetCrd(e2e.cluster);
}, 30 * 60_000);

const watches = (records: StoredRecord[], resource: string) => records.filter((r): r is StoredRecord & WatchEventRecord => r.record === 'watch' && r.resource === resource);
const markers = (records: StoredRecord[], kind: MarkerRecord['marker']) => records.filter((r): r is StoredRecord & MarkerRecord => r.record === 'marker' && r.marker === kind);
const apis = (records: StoredRecord[]) => records.filter((r): r is StoredRecord & ApiRequestRecord => r.record === 'api');

describe('kreplay proxy -- zoo healthy-clientgo', () => {
  it("records the controller's own view and writes, streams watch events as they happen, and a healthy run has no findings", async () => {
    const cluster = e2e.cluster;
    const namespace = await createNamespace(cluster, 'proxy-healthy');
    const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session: 'healthy', adminKubeconfig: cluster.paths.kubeconfig });
    try {
      await waitSynced(run, ['widgets', 'configmaps']);
      expect(existsSync(run.kubeconfig)).toBe(true);
      // A client that would take protobuf (client-go configured for it) gets JSON, which the proxy can record.
      const proxyUrl = /server: (\S+)/.exec(readFileSync(run.kubeconfig, 'utf8'))![1]!;
      const asked = await fetch(`${proxyUrl}/api/v1/namespaces/${namespace}/configmaps`, { headers: { Accept: 'application/vnd.kubernetes.protobuf, */*' } });
      expect(asked.headers.get('content-type')).toMatch(/^application\/json/);
      expect(((await asked.json()) as { kind: string }).kind).toBe('ConfigMapList');

      const created = await createWidget(cluster, namespace, 'w1', 1);
      // The controller only learns of w1 through the proxy's watch: its child appearing proves the event got through
      // while the watch stayed open (no buffering until the stream ends).
      await waitChild(cluster, namespace, 'w1', 1);
      const resized = await resizeWidget(cluster, namespace, 'w1', 2);
      await waitChild(cluster, namespace, 'w1', 2);
      const deleted = await deleteWidget(cluster, namespace, 'w1');
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const code = await run.stop();
      expect(code, run.output()).toBe(0);

      const records = sessionRecords(run.db, run.session);
      const widgetEvents = watches(records, 'widgets').filter((r) => r.name === 'w1' && r.origin === 'watch');
      // Every change of w1, delivered with the resourceVersion the API server gave it.
      const added = widgetEvents.find((r) => r.type === 'ADDED');
      expect(added?.resourceVersion).toBe(created.metadata.resourceVersion);
      expect(added?.uid).toBe(created.metadata.uid);
      expect(widgetEvents.some((r) => r.type === 'MODIFIED' && r.resourceVersion === resized.metadata.resourceVersion)).toBe(true);
      const deletedEvent = widgetEvents.find((r) => r.type === 'DELETED');
      expect(deletedEvent).toBeDefined();
      expect(Number(deletedEvent!.resourceVersion)).toBeGreaterThan(Number(resized.metadata.resourceVersion));
      void deleted;

      // The controller's writes: the child's create and update, the Widget's status, each with its answer's RV.
      const writes = apis(records);
      const childCreate = writes.find((r) => r.verb === 'create' && r.object.resource === 'configmaps' && r.object.name === 'w1-config');
      expect(childCreate).toMatchObject({ origin: 'proxy', code: 201, byController: true, actor: 'zoo-healthy-clientgo', object: { kind: 'ConfigMap', namespace } });
      const childEvents = watches(records, 'configmaps').filter((r) => r.name === 'w1-config');
      // The create's answer and the watch agree on the version, and the watch delivered it after the request passed.
      const childAdded = childEvents.find((r) => r.type === 'ADDED' && r.origin === 'watch');
      expect(childAdded?.resourceVersion).toBe(childCreate!.resourceVersionAfter);
      expect(added!.seq).toBeLessThan(childCreate!.seq);
      // The first status write may race the workload's resize (it lands between the child's create and the status
      // update) and get 409, as it would without the proxy: the one that went through is checked.
      const statusWrite = writes.find((r) => r.verb === 'update' && r.subresource === 'status' && r.object.name === 'w1' && r.code !== 409);
      expect(statusWrite).toMatchObject({ code: 200, object: { kind: 'Widget', group: 'zoo.kreplay.dev' } });
      expect(statusWrite!.resourceVersionBefore).toBeTruthy();
      expect(widgetEvents.some((r) => r.resourceVersion === statusWrite!.resourceVersionAfter)).toBe(true);
      const childUpdate = writes.find((r) => r.verb === 'update' && r.object.name === 'w1-config');
      expect(childUpdate?.code).toBe(200);
      // The resize reached the controller before it rewrote the child.
      const resizedEvent = widgetEvents.find((r) => r.resourceVersion === resized.metadata.resourceVersion)!;
      expect(resizedEvent.seq).toBeLessThan(childUpdate!.seq);

      // The watches themselves: started (client-go 0.36 lists with sendInitialEvents, so the initial state ends with
      // list-finished at the initial-events-end bookmark), and closed when the controller stopped.
      for (const resource of ['widgets', 'configmaps']) {
        expect(markers(records, 'watch-started').some((m) => m.resource === resource && m.namespace === namespace && m.kind)).toBe(true);
        expect(markers(records, 'watch-closed').some((m) => m.resource === resource)).toBe(true);
      }
      expect(records.every((r) => r.record === 'watch' || r.origin === 'proxy')).toBe(true);
      expect(records.at(-1)).toMatchObject({ record: 'marker', marker: 'recorder-stopped' });

      const check = await checkSession(run.db, run.session, 'zoo-healthy-clientgo');
      const alarms = check.findings.filter((f) => f.severity !== 'info');
      expect(alarms, JSON.stringify(alarms, null, 2)).toEqual([]);
    } finally {
      await run.stop();
      await releaseAndDeleteNamespace(cluster, namespace);
    }
  }, 180_000);

  it('beyond loopback: the proxy serves TLS with its own CA, and client-go (Go crypto/tls) connects with the written kubeconfig alone', async () => {
    const cluster = e2e.cluster;
    const namespace = await createNamespace(cluster, 'proxy-tls');
    // Every interface: the kubeconfig names this machine's external address (or loopback, on a machine with none).
    const run = startProxied({ zoo, controller: 'healthy-clientgo', namespace, session: 'tls', adminKubeconfig: cluster.paths.kubeconfig, listen: '0.0.0.0:0' });
    try {
      await waitSynced(run, ['widgets', 'configmaps']);
      const kubeconfig = readFileSync(run.kubeconfig, 'utf8');
      expect(kubeconfig).toMatch(/server: https:\/\//);
      expect(kubeconfig).toContain('certificate-authority-data:');
      expect(kubeconfig).toContain('client-certificate-data:');
      // Plain HTTP is not served, and a TLS client without the run's client certificate is turned away.
      const url = /server: (\S+)/.exec(kubeconfig)![1]!;
      await expect(fetch(url.replace(/^https/, 'http'))).rejects.toThrow();
      await expect(fetch(url)).rejects.toThrow();
      await createWidget(cluster, namespace, 't1', 3);
      await waitChild(cluster, namespace, 't1', 3);
      expect(await run.stop(), run.output()).toBe(0);
      const records = sessionRecords(run.db, run.session);
      expect(apis(records).some((r) => r.verb === 'create' && r.object.name === 't1-config' && r.code === 201)).toBe(true);
      expect(records[0]).toMatchObject({ record: 'marker', marker: 'recorder-started', message: expect.stringContaining('proxy on https://') });
    } finally {
      await run.stop();
      await releaseAndDeleteNamespace(cluster, namespace);
    }
  }, 180_000);
});
