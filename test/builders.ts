import type { ApiRequestRecord, KubeObject, WatchEventRecord } from '../model/index.js';

/** A Deployment shaped like kube-apiserver returns it, managedFields included. */
export function deployment(options: {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion: string;
  generation?: number;
  replicas?: number;
  readyReplicas?: number;
  observedGeneration?: number;
  at?: string;
}): KubeObject {
  const at = options.at ?? '2026-11-25T10:00:00Z';
  const generation = options.generation ?? 1;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: options.name,
      namespace: options.namespace ?? 'default',
      uid: options.uid ?? `uid-${options.name}`,
      resourceVersion: options.resourceVersion,
      generation,
      creationTimestamp: '2026-11-25T09:00:00Z',
      labels: { app: options.name, 'app.kubernetes.io/managed-by': 'web-operator' },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      managedFields: [
        {
          manager: 'web-operator',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: '2026-11-25T09:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:replicas': {}, 'f:template': {} } },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'apps/v1',
          time: at,
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {}, 'f:observedGeneration': {}, 'f:conditions': {} } },
          subresource: 'status',
        },
      ],
    },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: options.name } },
      template: {
        metadata: { labels: { app: options.name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {} }] },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
    status: {
      observedGeneration: options.observedGeneration ?? generation,
      replicas: options.replicas ?? 3,
      readyReplicas: options.readyReplicas ?? 3,
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: at, lastTransitionTime: '2026-11-25T09:00:05Z', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: at, lastTransitionTime: '2026-11-25T09:00:00Z', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${options.name}-5d8f7c9b4" has successfully progressed.` },
      ],
    },
  };
}

export function watchEvent(object: KubeObject, type: WatchEventRecord['type'] = 'MODIFIED', extra: Partial<WatchEventRecord> = {}): WatchEventRecord {
  const metadata = object.metadata!;
  return {
    record: 'watch',
    observedAt: '2026-11-25T10:00:00.000Z',
    origin: 'watch',
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    type,
    namespace: metadata.namespace ?? null,
    name: metadata.name!,
    uid: metadata.uid!,
    resourceVersion: metadata.resourceVersion!,
    generation: metadata.generation ?? null,
    object,
    ...extra,
  };
}

/**
 * One update of Deployment shop/web reported by both of its sources, for the tests of pairing and of readers a merge
 * affects: the SDK's report (sent first, no resource, the uid) and the audit webhook's (later, with the object the
 * server answered), request `i` at second `i` of 2026-11-25T10:00:00Z.
 */
export function pairedUpdate(): { at: (ms: number) => string; sdk: (i: number) => ApiRequestRecord; audit: (i: number) => ApiRequestRecord } {
  const object = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };
  const at = (ms: number) => new Date(Date.parse('2026-11-25T10:00:00Z') + ms).toISOString();
  return {
    at,
    sdk: (i) => ({
      record: 'api', observedAt: at(i * 1000 + 50), origin: 'ingest', actor: 'web-operator', byController: true,
      verb: 'update', object: { ...object, resource: undefined, uid: 'uid-web' }, code: 200, resourceVersionAfter: String(100 + i),
    }),
    audit: (i) => ({
      record: 'api', observedAt: at(i * 1000 + 20), origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true,
      verb: 'update', object, code: 200, resourceVersionAfter: String(100 + i), auditId: `a-${i}`,
      responseObject: deployment({ name: 'web', namespace: 'shop', resourceVersion: String(100 + i), replicas: 2 + (i % 2), at: at(i * 1000) }),
    }),
  };
}
