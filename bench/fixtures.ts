import type { KubeObject, WatchEventRecord } from '../model/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeApiServer, configMaps } from '../recorder/fake-apiserver.js';

/**
 * A realistic watch stream for storage and throughput benchmarks: Deployments shaped like kube-apiserver returns
 * them (managedFields from two managers, conditions, a pod template), and MODIFIED events that are mostly status
 * changes by kube-controller-manager, with an occasional spec change by the operator.
 */
export function benchDeployment(index: number, rv: number, step: number, eventIndex = step, readyIndex = eventIndex): KubeObject {
  const name = `web-${String(index).padStart(4, '0')}`;
  const generation = 1 + Math.floor(step / 20);
  // Readiness wanders per object and every event has its own time, like a real fleet. (readyIndex: a hot loop
  // rewrites the same readiness with a new time.)
  const ready = (step * 7 + index * 3 + (readyIndex % 5)) % 4;
  const at = new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + eventIndex * 13).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: `team-${index % 10}`,
      uid: `5f2c7a3e-0000-4000-8000-${String(index).padStart(12, '0')}`,
      resourceVersion: String(rv),
      generation,
      creationTimestamp: '2026-11-25T09:00:00Z',
      labels: { app: name, 'app.kubernetes.io/part-of': 'shop', 'app.kubernetes.io/managed-by': 'web-operator' },
      annotations: { 'deployment.kubernetes.io/revision': String(generation) },
      ownerReferences: [{ apiVersion: 'apps.example.com/v1', kind: 'WebApp', name, uid: `owner-${index}`, controller: true, blockOwnerDeletion: true }],
      managedFields: [
        {
          manager: 'web-operator', operation: 'Update', apiVersion: 'apps/v1', time: '2026-11-25T09:00:00Z', fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:app.kubernetes.io/part-of': {} }, 'f:ownerReferences': {} }, 'f:spec': { 'f:replicas': {}, 'f:selector': {}, 'f:template': { 'f:metadata': {}, 'f:spec': { 'f:containers': {} } } } },
        },
        {
          manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', time: at, fieldsType: 'FieldsV1', subresource: 'status',
          fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:deployment.kubernetes.io/revision': {} } }, 'f:status': { 'f:availableReplicas': {}, 'f:conditions': {}, 'f:observedGeneration': {}, 'f:readyReplicas': {}, 'f:replicas': {}, 'f:updatedReplicas': {} } },
        },
      ],
    },
    spec: {
      replicas: 3,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      selector: { matchLabels: { app: name } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'web', image: `registry.example.com/shop/web:1.${generation}.0`, imagePullPolicy: 'IfNotPresent',
              ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
              env: [{ name: 'LOG_LEVEL', value: 'info' }, { name: 'SHOP_REGION', value: 'eu-west-1' }],
              resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
              readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
              terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
            },
          ],
          dnsPolicy: 'ClusterFirst', restartPolicy: 'Always', schedulerName: 'default-scheduler', securityContext: {}, terminationGracePeriodSeconds: 30,
        },
      },
    },
    status: {
      observedGeneration: generation,
      replicas: 3,
      updatedReplicas: 3,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: 3 - ready,
      conditions: [
        { type: 'Available', status: ready >= 2 ? 'True' : 'False', lastUpdateTime: at, lastTransitionTime: at, reason: ready >= 2 ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', message: ready >= 2 ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: at, lastTransitionTime: '2026-11-25T09:00:00Z', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-7c9f8d6b5" has successfully progressed.` },
      ],
    },
  };
}

/** `count` MODIFIED events round-robin over `objects` Deployments (each object's first event is ADDED). */
export function* benchStream(objects: number, count: number): Generator<WatchEventRecord> {
  const steps = new Array<number>(objects).fill(0);
  for (let i = 0; i < count; i += 1) {
    const index = i % objects;
    const step = steps[index]!;
    steps[index] = step + 1;
    const object = benchDeployment(index, 10_000 + i, step, i);
    yield {
      record: 'watch',
      observedAt: new Date(Date.UTC(2026, 10, 25, 10, 0, 0) + i).toISOString(),
      origin: 'watch',
      group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment',
      type: step === 0 ? 'ADDED' : 'MODIFIED',
      namespace: object.metadata!.namespace!, name: object.metadata!.name!, uid: object.metadata!.uid!,
      resourceVersion: object.metadata!.resourceVersion!, generation: object.metadata!.generation!,
      object,
    };
  }
}

/** A ConfigMap with labels, annotations and two managedFields entries: a watch line of ~1 KB. */
export function configMapFields(i: number, generation: number): Record<string, unknown> {
  return {
    data: {
      'config.yaml': `replicas: ${3 + (i % 5)}\nimage: registry.example.com/team/service-${i}:1.${generation}\nlogLevel: info\n`,
      owner: `team-${i % 17}`,
      revision: String(generation),
    },
    metadata: {
      labels: { app: `service-${i}`, 'app.kubernetes.io/managed-by': 'bench-operator', tier: i % 2 ? 'backend' : 'frontend' },
      annotations: { 'bench.kreplay.dev/revision': String(generation), 'bench.kreplay.dev/checksum': `sha256:${(i * 7919 + generation * 104729).toString(16).padStart(16, '0')}` },
      managedFields: [
        { manager: 'bench-operator', operation: 'Update', apiVersion: 'v1', time: '2026-11-25T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:config.yaml': {}, 'f:owner': {}, 'f:revision': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } } } },
        { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2026-11-25T09:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:bench.kreplay.dev/checksum': {} } } } },
      ],
    },
  };
}

/**
 * The recorder benchmarks' load: the ConfigMaps obj-0 … obj-(objects-1) of namespace bench on a fake API server,
 * rewritten in turn (each pass over them is a new generation of their content).
 */
export class ConfigMapChurn {
  /** Writes so far. */
  sent = 0;
  private generation = 1;

  constructor(
    private readonly fake: FakeApiServer,
    private readonly objects: number,
  ) {}

  /** Creates them all (generation 0): before the recorder lists. */
  createAll(): void {
    for (let i = 0; i < this.objects; i += 1) this.fake.create('', 'configmaps', 'bench', `obj-${i}`, configMapFields(i, 0));
  }

  /** Rewrites the next one; returns its new version. */
  next(): KubeObject {
    const i = this.sent % this.objects;
    if (i === 0 && this.sent > 0) this.generation += 1;
    this.sent += 1;
    return this.fake.update('', 'configmaps', 'bench', `obj-${i}`, configMapFields(i, this.generation));
  }
}

/**
 * What every recorder benchmark starts from: a fresh directory for its database, and a fake API server holding the
 * ConfigMaps the churn will rewrite (created before the recorder lists them).
 */
export async function startBenchApi(name: string, objects: number): Promise<{ dir: string; dbPath: string; fake: FakeApiServer; url: string; churn: ConfigMapChurn }> {
  const dir = mkdtempSync(join(tmpdir(), `kreplay-bench-${name}-`));
  const fake = new FakeApiServer([configMaps]);
  const url = await fake.start();
  const churn = new ConfigMapChurn(fake, objects);
  churn.createAll();
  return { dir, dbPath: join(dir, 'kreplay.db'), fake, url, churn };
}
