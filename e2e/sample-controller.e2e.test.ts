// k8s.io/sample-controller, a real third-party controller started by `e2e:up`, reconciles a
// Foo into a Deployment and writes the Foo's status (sample-controller controller.go
// syncHandler / updateFooStatus).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, logPaths, useE2e } from './harness.js';

const e2e = useE2e('foo');

const foos = { group: 'samplecontroller.k8s.io', version: 'v1alpha1', plural: 'foos' } as const;

interface Foo {
  metadata: { name: string; uid: string; resourceVersion: string };
  spec: { deploymentName: string; replicas: number };
  status?: { availableReplicas?: number };
}

async function createFoo(name: string, deploymentName: string, replicas: number): Promise<Foo> {
  return (await e2e.cluster.customObjects.createNamespacedCustomObject({
    ...foos,
    namespace: e2e.namespace,
    body: { apiVersion: 'samplecontroller.k8s.io/v1alpha1', kind: 'Foo', metadata: { name }, spec: { deploymentName, replicas } },
  })) as Foo;
}

async function readFoo(name: string): Promise<Foo> {
  return (await e2e.cluster.customObjects.getNamespacedCustomObject({ ...foos, namespace: e2e.namespace, name })) as Foo;
}

async function eventsFor(name: string): Promise<{ type?: string; reason?: string; message?: string }[]> {
  const list = await e2e.cluster.core.listNamespacedEvent({
    namespace: e2e.namespace,
    fieldSelector: `involvedObject.name=${name},involvedObject.kind=Foo`,
  });
  return list.items;
}

// Generous: right after a fault test restarted the API server, sample-controller's informers
// relist with client-go's backoff, and a reconcile can take ~20 s to come.
const reconcileTimeoutMs = 90_000;

describe('sample-controller', () => {
  it('reconciles a Foo into an owned Deployment, writes its status and records a Synced event', async () => {
    const foo = await createFoo('example-foo', 'example-foo-deploy', 1);

    const deployment = await eventually(
      () => e2e.cluster.apps.readNamespacedDeployment({ name: 'example-foo-deploy', namespace: e2e.namespace }),
      reconcileTimeoutMs,
    );
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Foo', name: 'example-foo', uid: foo.metadata.uid, controller: true }),
    ]);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('nginx:latest');

    // No ReplicaSet controller runs, so the Deployment never has available replicas, but the
    // controller still writes status.availableReplicas (int32 without omitempty) through the
    // status subresource.
    const withStatus = await eventually(async () => {
      const f = await readFoo('example-foo');
      if (f.status?.availableReplicas === undefined) throw new Error('Foo status not written yet');
      return f;
    }, reconcileTimeoutMs);
    expect(withStatus.status?.availableReplicas).toBe(0);

    await eventually(async () => {
      const events = await eventsFor('example-foo');
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'Normal', reason: 'Synced', message: 'Foo synced successfully' }),
      );
    }, reconcileTimeoutMs);

    // The write came from the controller's own identity, as the audit log shows.
    const statusWrite = readFileSync(logPaths().audit, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"subresource":"status"') && l.includes(e2e.namespace))
      .map((l) => JSON.parse(l) as { verb: string; stage: string; user: { username: string }; objectRef: { resource: string } })
      .find((e) => e.stage === 'ResponseComplete' && e.objectRef.resource === 'foos');
    expect(statusWrite).toMatchObject({ verb: 'update', user: { username: 'sample-controller' } });
  });

  it('follows a spec change: Foo replicas 1 -> 3 scales the Deployment', async () => {
    await createFoo('scaled-foo', 'scaled-foo-deploy', 1);
    await eventually(() => e2e.cluster.apps.readNamespacedDeployment({ name: 'scaled-foo-deploy', namespace: e2e.namespace }), reconcileTimeoutMs);
    await e2e.cluster.customObjects.patchNamespacedCustomObject({
      ...foos,
      namespace: e2e.namespace,
      name: 'scaled-foo',
      body: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
    });
    await eventually(async () => {
      const d = await e2e.cluster.apps.readNamespacedDeployment({ name: 'scaled-foo-deploy', namespace: e2e.namespace });
      expect(d.spec?.replicas).toBe(3);
    }, reconcileTimeoutMs);
  });

  it('refuses to adopt a Deployment it does not own: a Warning ErrResourceExists event', async () => {
    await e2e.cluster.apps.createNamespacedDeployment({
      namespace: e2e.namespace,
      body: {
        metadata: { name: 'taken' },
        spec: {
          selector: { matchLabels: { app: 'taken' } },
          template: { metadata: { labels: { app: 'taken' } }, spec: { containers: [{ name: 'c', image: 'example.invalid/x' }] } },
        },
      },
    });
    await createFoo('greedy-foo', 'taken', 1);
    await eventually(async () => {
      const events = await eventsFor('greedy-foo');
      expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ErrResourceExists' }));
    }, reconcileTimeoutMs);
    const d = await e2e.cluster.apps.readNamespacedDeployment({ name: 'taken', namespace: e2e.namespace });
    expect(d.metadata?.ownerReferences ?? []).toEqual([]);
  });
});
