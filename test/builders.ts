import type { KubeObject, WatchEventRecord } from '../model/index.js';

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
