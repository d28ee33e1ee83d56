// The control plane is a real kube-apiserver at the pinned version: core kinds and CRDs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { eventually, isApiStatus, rv, useE2e } from './harness.js';

const e2e = useE2e('api');

function pinnedVersion(): string {
  const goMod = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'cluster', 'go.mod'), 'utf8');
  const match = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/m.exec(goMod);
  if (match?.[1] === undefined) throw new Error('no k8s.io/kubernetes line in e2e/cluster/go.mod');
  return match[1];
}

describe('kube-apiserver', () => {
  it('reports the pinned Kubernetes version', async () => {
    const version = (await e2e.cluster.http.json('GET', '/version')) as { gitVersion?: string; minor?: string };
    const pinned = pinnedVersion();
    expect(version.gitVersion).toBe(pinned);
    expect(version.minor).toBe(pinned.split('.')[1]);
  });

  it('authenticates tokens and authorizes with RBAC', async () => {
    const { http } = e2e.cluster;
    const list = `/api/v1/namespaces/${e2e.namespace}/configmaps`;
    expect((await http.request('GET', list)).status).toBe(200);
    expect((await http.request('GET', list, undefined, { Authorization: 'Bearer not-a-token' })).status).toBe(401);
    // A user with no bindings: AlwaysAllow would say 200, RBAC says 403.
    const forbidden = await http.request('GET', list, undefined, { 'Impersonate-User': 'kreplay-nobody' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain('kreplay-nobody');
    // The bootstrap roles exist, so RBAC is really in charge.
    await expect(http.json('GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles/cluster-admin')).resolves.toMatchObject({
      metadata: { name: 'cluster-admin' },
    });
  });

  it('serves core kinds: ConfigMap, Secret, Service with a ClusterIP, Pod', async () => {
    const { core } = e2e.cluster;
    const namespace = e2e.namespace;
    const cm = await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'cm' }, data: { a: '1' } } });
    const cmRv = rv(cm.metadata?.resourceVersion);
    const updated = await core.replaceNamespacedConfigMap({
      name: 'cm',
      namespace,
      body: { ...cm, data: { a: '2' } },
    });
    expect(rv(updated.metadata?.resourceVersion)).toBeGreaterThan(cmRv);
    await expect(core.readNamespacedConfigMap({ name: 'cm', namespace })).resolves.toMatchObject({ data: { a: '2' } });

    const secret = await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 's' }, stringData: { token: 'x' } },
    });
    expect(secret.data?.['token']).toBe(Buffer.from('x').toString('base64'));

    const svc = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: 'svc' }, spec: { selector: { app: 'x' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.0\.0\.\d+$/);

    const pod = await core.createNamespacedPod({
      namespace,
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'example.invalid/none' }] } },
    });
    // No scheduler or kubelet: the Pod exists and stays Pending, unscheduled.
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.serviceAccountName).toBe('default');

    await core.deleteNamespacedConfigMap({ name: 'cm', namespace });
    await expect(core.readNamespacedConfigMap({ name: 'cm', namespace })).rejects.toSatisfy((err) =>
      isApiStatus(err, 404),
    );
  });

  it('serves a CustomResourceDefinition and its custom objects, with a status subresource', async () => {
    const { apiextensions, customObjects } = e2e.cluster;
    const group = 'e2e.kreplay.dev';
    const plural = `widgets${e2e.namespace.slice(-6)}`;
    await apiextensions.createCustomResourceDefinition({
      body: {
        metadata: { name: `${plural}.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural, singular: plural.slice(0, -1), kind: `Widget${e2e.namespace.slice(-6)}` },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer' } } },
                    status: { type: 'object', properties: { observedSize: { type: 'integer' } } },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await eventually(async () => {
        const crd = await apiextensions.readCustomResourceDefinition({ name: `${plural}.${group}` });
        const established = crd.status?.conditions?.find((c) => c.type === 'Established');
        if (established?.status !== 'True') throw new Error('CRD not Established yet');
      });
      const body = {
        apiVersion: `${group}/v1`,
        kind: `Widget${e2e.namespace.slice(-6)}`,
        metadata: { name: 'w1' },
        spec: { size: 3 },
      };
      const created = (await eventually(() =>
        customObjects.createNamespacedCustomObject({ group, version: 'v1', namespace: e2e.namespace, plural, body }),
      )) as { metadata: { resourceVersion: string } };
      const withStatus = (await customObjects.patchNamespacedCustomObjectStatus({
        group,
        version: 'v1',
        namespace: e2e.namespace,
        plural,
        name: 'w1',
        body: [{ op: 'add', path: '/status', value: { observedSize: 3 } }],
      })) as { metadata: { resourceVersion: string }; spec: { size: number }; status: { observedSize: number } };
      expect(withStatus.status.observedSize).toBe(3);
      expect(withStatus.spec.size).toBe(3);
      expect(rv(withStatus.metadata.resourceVersion)).toBeGreaterThan(rv(created.metadata.resourceVersion));
    } finally {
      await apiextensions.deleteCustomResourceDefinition({ name: `${plural}.${group}` });
    }
  });
});
