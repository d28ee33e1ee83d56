import type { Finding, KubeObject, MarkerKind, SessionInfo, SessionRecord, StoredRecord } from '../../model/index.js';
import { deployment, watchEvent } from '../../test/builders.js';

/**
 * A small session with everything the TUI draws: a relist, a watch restart after a 410, versions written by two
 * managers (status by kube-controller-manager, spec by the operator), reconciles (one failing), API writes (one
 * 409), a deletion seen by the informer as a tombstone — and two findings pointing into it.
 */
const at = (seq: number) => new Date(Date.UTC(2026, 10, 25, 10, 0, seq)).toISOString();
const ref = (name: string) => ({ group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name, uid: `uid-${name}` });

function webVersion(rv: string, options: { ready: number; replicas?: number; generation?: number; seq: number; specBy?: boolean }): KubeObject {
  const object = deployment({ name: 'web', resourceVersion: rv, readyReplicas: options.ready, replicas: options.replicas ?? 3, generation: options.generation ?? 1, observedGeneration: 1, at: at(options.seq).replace('.000Z', 'Z') });
  if (options.specBy) {
    const fields = (object.metadata as { managedFields: Array<{ time: string }> }).managedFields;
    fields[0]!.time = at(options.seq).replace('.000Z', 'Z');
    fields[1]!.time = at(options.seq - 3).replace('.000Z', 'Z');
  }
  return object;
}

export function fixtureRecords(): SessionRecord[] {
  const marker = (seq: number, marker: MarkerKind, extra: Record<string, unknown> = {}): SessionRecord => ({
    record: 'marker',
    observedAt: at(seq),
    origin: 'watch',
    marker,
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    ...extra,
  });
  const watch = (seq: number, object: KubeObject, type: 'ADDED' | 'MODIFIED' | 'DELETED', origin: 'watch' | 'relist' = 'watch') => watchEvent(object, type, { observedAt: at(seq), origin });
  return [
    { record: 'marker', observedAt: at(1), origin: 'watch', marker: 'recorder-started', message: 'kreplay test' },
    marker(2, 'list-started', { origin: 'relist' }),
    watch(3, webVersion('100', { ready: 1, seq: 3 }), 'ADDED', 'relist'),
    watch(4, deployment({ name: 'api', resourceVersion: '101', at: at(4) }), 'ADDED', 'relist'),
    marker(5, 'list-finished', { origin: 'relist', count: 2, resourceVersion: '101' }),
    marker(6, 'watch-started', { resourceVersion: '101' }),
    { record: 'delivery', observedAt: at(7), origin: 'ingest', controller: 'web-operator', handler: 'add', tombstone: false, object: ref('web'), resourceVersion: '100' },
    { record: 'reconcile', observedAt: at(8), origin: 'ingest', controller: 'web-operator', object: ref('web'), startedAt: at(8), finishedAt: at(8), observedResourceVersion: '100', observedGeneration: 1, result: 'success' },
    watch(9, webVersion('102', { ready: 3, seq: 9 }), 'MODIFIED'),
    { record: 'api', observedAt: at(10), origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true, verb: 'patch', object: ref('web'), subresource: 'status', code: 200, resourceVersionBefore: '102', resourceVersionAfter: '103' },
    watch(11, webVersion('103', { ready: 3, replicas: 5, generation: 2, seq: 11, specBy: true }), 'MODIFIED'),
    { record: 'reconcile', observedAt: at(12), origin: 'ingest', controller: 'web-operator', object: ref('web'), startedAt: at(12), finishedAt: at(12), observedResourceVersion: '102', observedGeneration: 1, result: 'error', errorReason: 'Conflict', errorMessage: 'the object has been modified' },
    { record: 'api', observedAt: at(13), origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true, verb: 'update', object: ref('web'), code: 409, reason: 'Conflict', message: 'the object has been modified', resourceVersionBefore: '102' },
    marker(14, 'gone', { code: 410, resourceVersion: '101', message: 'too old resource version' }),
    watch(15, deployment({ name: 'api', resourceVersion: '104', readyReplicas: 2, at: at(15) }), 'MODIFIED'),
    watch(16, webVersion('105', { ready: 2, replicas: 5, generation: 2, seq: 16 }), 'MODIFIED'),
    watch(17, deployment({ name: 'api', resourceVersion: '106', readyReplicas: 2, at: at(15) }), 'DELETED'),
    { record: 'delivery', observedAt: at(18), origin: 'ingest', controller: 'web-operator', handler: 'delete', tombstone: true, object: ref('api'), resourceVersion: '104' },
  ];
}

export function fixtureStored(): StoredRecord[] {
  return fixtureRecords().map((record, i) => ({ ...record, seq: i + 1 }) as StoredRecord);
}

export const fixtureSession: SessionInfo = {
  id: 1,
  name: 'fixture',
  source: 'recorder',
  cluster: 'test',
  context: null,
  startedAt: at(1),
  endedAt: at(18),
  toolVersion: 'test',
  config: {},
  partial: false,
  problems: [],
  createdAt: at(1),
};

export function fixtureFindings(): Finding[] {
  const object = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name, uid: `uid-${name}` });
  return [
    {
      id: 'status-spec-race:web:12',
      kind: 'status-spec-race',
      severity: 'error',
      object: object('web'),
      firstSeq: 12,
      lastSeq: 13,
      resourceVersions: ['102', '103'],
      count: 1,
      message: 'web-operator reconciled generation 1 after generation 2 was written, then hit 409 Conflict',
      rule: 'stale-generation',
      evidence: [
        { seq: 11, resourceVersion: '103', note: 'generation 2 written by web-operator' },
        { seq: 12, resourceVersion: '102', note: 'reconcile read resourceVersion 102 (generation 1)' },
        { seq: 13, resourceVersion: null, note: 'update → 409 Conflict' },
      ],
    },
    {
      id: 'dfsu-gap:api:17',
      kind: 'dfsu-gap',
      severity: 'warning',
      object: object('api'),
      firstSeq: 17,
      lastSeq: 18,
      resourceVersions: ['106'],
      count: 1,
      message: 'api was deleted across a watch gap; OnDelete got a DeletedFinalStateUnknown tombstone',
      rule: 'tombstone',
      evidence: [
        { seq: 17, resourceVersion: '106', note: 'DELETED' },
        { seq: 18, resourceVersion: '104', note: 'OnDelete(DeletedFinalStateUnknown)' },
      ],
    },
  ];
}
