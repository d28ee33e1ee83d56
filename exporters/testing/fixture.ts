import type { Finding, KubeObject, SessionInfo, SessionRecord, StoredRecord } from '../../model/index.js';
import { deployment, watchEvent } from '../../test/builders.js';
import { REPORT_API_VERSION, REPORT_KIND, type ReportHeader } from '../report-schema.js';
import { findingKindsOf, SummaryBuilder } from '../window.js';

/**
 * A small fixed session for the exporters' golden and browser tests: a Deployment scaled up, a controller that
 * reconciles it and hits a 409, a Secret whose data a buggy source forgot to redact, and an object whose name,
 * labels and annotations try to inject HTML and script.
 */

// A name the API server accepts (a path segment: no "/" or "%", model/kube-names.ts) that is still markup.
export const XSS_NAME = '<script>alert(1)<script>';
export const SECRET_VALUE = 'hunter2-do-not-leak';

export const fixtureSession: SessionInfo = {
  id: 7,
  name: 'fixture',
  source: 'import:ndjson',
  cluster: 'kind-test',
  context: 'kind-test',
  startedAt: '2026-11-25T10:00:00.000Z',
  endedAt: '2026-11-25T10:05:00.000Z',
  toolVersion: '0.1.0',
  config: {},
  partial: false,
  problems: [],
  createdAt: '2026-11-25T10:06:00.000Z',
};

const t = (s: number) => new Date(Date.parse('2026-11-25T10:00:00.000Z') + s * 1000).toISOString();

function hostile(): KubeObject {
  const object = deployment({ name: XSS_NAME, uid: 'uid-xss', resourceVersion: '105', at: '2026-11-25T10:01:00Z' });
  const metadata = object.metadata as Record<string, unknown>;
  metadata.labels = { app: '<script>alert(2)</script>', 'x"><img src=x onerror=alert(3)>': 'v' };
  metadata.annotations = { note: '</script><script>alert(4)</script>', md: '| pipe | *bold* [link](http://evil.example/) `code`' };
  return object;
}

function secret(rv: string, value: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'db-credentials', namespace: 'default', uid: 'uid-secret', resourceVersion: rv },
    type: 'Opaque',
    data: { password: Buffer.from(value).toString('base64'), plain: value },
  };
}

export function fixtureRecords(): StoredRecord[] {
  const web1 = deployment({ name: 'web', resourceVersion: '100', generation: 1, replicas: 3, at: '2026-11-25T09:59:00Z' });
  const web2 = deployment({ name: 'web', resourceVersion: '110', generation: 2, replicas: 5, readyReplicas: 3, observedGeneration: 1, at: '2026-11-25T10:01:30Z' });
  const web3 = deployment({ name: 'web', resourceVersion: '120', generation: 2, replicas: 5, readyReplicas: 5, at: '2026-11-25T10:02:10Z' });
  const ref = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'default', name: 'web', uid: 'uid-web' };
  const records: SessionRecord[] = [
    { record: 'marker', observedAt: t(0), origin: 'watch', marker: 'recorder-started', message: 'recorder 0.1.0' },
    { record: 'marker', observedAt: t(0.1), origin: 'watch', marker: 'list-started', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: null },
    watchEvent(web1, 'ADDED', { origin: 'relist', observedAt: t(0.2) }),
    { record: 'marker', observedAt: t(0.3), origin: 'watch', marker: 'list-finished', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: null, resourceVersion: '100', count: 1 },
    { record: 'marker', observedAt: t(0.4), origin: 'watch', marker: 'watch-started', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: null, resourceVersion: '100' },
    watchEvent(secret('101', SECRET_VALUE), 'ADDED', { observedAt: t(10), group: '', version: 'v1', resource: 'secrets', kind: 'Secret', uid: 'uid-secret', name: 'db-credentials', resourceVersion: '101', generation: null }),
    watchEvent(hostile(), 'ADDED', { observedAt: t(60), name: XSS_NAME, uid: 'uid-xss', resourceVersion: '105' }),
    { record: 'api', observedAt: t(90), origin: 'audit', actor: 'alice@example.com', userAgent: 'kubectl/v1.31.2', byController: false, verb: 'patch', object: ref, code: 200, resourceVersionAfter: '110' },
    watchEvent(web2, 'MODIFIED', { observedAt: t(90.01) }),
    { record: 'delivery', observedAt: t(90.02), origin: 'ingest', controller: 'web-operator', handler: 'update', tombstone: false, object: ref, resourceVersion: '110', oldResourceVersion: '100' },
    { record: 'reconcile', observedAt: t(90.2), origin: 'ingest', controller: 'web-operator', object: ref, startedAt: t(90.03), finishedAt: t(90.2), observedResourceVersion: '110', observedGeneration: 2, result: 'error', errorReason: 'Conflict', errorMessage: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified' },
    { record: 'api', observedAt: t(90.15), origin: 'audit', actor: 'system:serviceaccount:ops:web-operator', byController: true, verb: 'update', object: ref, code: 409, reason: 'Conflict', message: 'the object has been modified; please apply your changes to the latest version and try again', resourceVersionBefore: '100' },
    { record: 'watch', observedAt: t(100), origin: 'watch', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', type: 'BOOKMARK', namespace: null, name: null, uid: null, resourceVersion: '115', generation: null, object: null },
    watchEvent(web3, 'MODIFIED', { observedAt: t(130) }),
    { record: 'reconcile', observedAt: t(130.1), origin: 'ingest', controller: 'web-operator', object: ref, startedAt: t(130.02), finishedAt: t(130.1), observedResourceVersion: '120', observedGeneration: 2, result: 'success' },
    watchEvent(secret('125', `${SECRET_VALUE}-2`), 'MODIFIED', { observedAt: t(200), group: '', version: 'v1', resource: 'secrets', kind: 'Secret', uid: 'uid-secret', name: 'db-credentials', resourceVersion: '125', generation: null }),
    { record: 'marker', observedAt: t(299), origin: 'watch', marker: 'recorder-stopped' },
  ];
  return records.map((r, i) => ({ ...r, seq: i + 1 }) as StoredRecord);
}

export const fixtureFindings: Finding[] = [
  {
    id: 'status-spec-race:apps/Deployment/default/web:11',
    kind: 'status-spec-race',
    severity: 'error',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web', uid: 'uid-web' },
    firstSeq: 9,
    lastSeq: 12,
    resourceVersions: ['100', '110'],
    count: 1,
    message: 'web-operator updated Deployment default/web from resourceVersion 100 after 110 was written: 409 Conflict.',
    rule: 'conflict-retry',
    evidence: [
      { seq: 9, resourceVersion: '110', note: 'spec changed to 5 replicas' },
      { seq: 12, resourceVersion: '100', note: '409 Conflict on update' },
    ],
  },
  {
    id: 'unreconciled:apps/Deployment/default/<script>:7',
    kind: 'unreconciled',
    severity: 'warning',
    object: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: XSS_NAME, uid: 'uid-xss' },
    firstSeq: 7,
    lastSeq: 7,
    resourceVersions: ['105'],
    count: 1,
    message: `Generation 1 of Deployment default/${XSS_NAME} was never observed <img src=x onerror=alert(5)>.`,
    rule: 'generation-not-observed',
    evidence: [{ seq: 7, resourceVersion: '105', note: `appears as ${XSS_NAME}` }],
  },
];

/** The report header the CLI would build for the whole fixture session. */
export function fixtureHeader(records: readonly StoredRecord[] = fixtureRecords()): ReportHeader {
  const summary = new SummaryBuilder();
  for (const record of records) summary.add(record);
  return {
    apiVersion: REPORT_API_VERSION,
    kind: REPORT_KIND,
    generator: { name: 'kreplay', version: '0.1.0' },
    generatedAt: '2026-11-25T11:00:00.000Z',
    session: fixtureSession,
    window: { from: null, to: null, objects: [], cut: false },
    summary: summary.build(fixtureFindings),
    findingKinds: findingKindsOf(fixtureFindings),
    findings: fixtureFindings,
  };
}
