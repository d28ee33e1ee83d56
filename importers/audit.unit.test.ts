import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ApiRequestRecord, SessionRecord, WatchEventRecord } from '../model/index.js';
import { createAuditParser } from './audit.js';
import { parseAll, type ParseEvent } from './parser.js';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
/** A real kube-apiserver audit log (test/fixtures/real/README.md: source and licence). */
const realLog = () => readFileSync(new URL('../test/fixtures/real/audit-metadata-real.log', import.meta.url), 'utf8');
const records = (events: readonly ParseEvent[]): SessionRecord[] => events.flatMap((e) => (e.kind === 'record' ? [e.record] : []));
const problems = (events: readonly ParseEvent[]) => events.flatMap((e) => (e.kind === 'problem' ? [`${e.line}: ${e.problem}`] : []));
const apis = (events: readonly ParseEvent[]) => records(events).filter((r): r is ApiRequestRecord => r.record === 'api');
const operator = 'system:serviceaccount:shop:web-operator';
const webUid = '7c1a4f0e-2b8d-4c55-9e61-3f2a9d8b6c10';

/** One line per record: what a reader of the session would check first. */
function brief(record: SessionRecord): string {
  if (record.record === 'api') {
    const o = record.object;
    return `api ${record.verb} ${o.kind} ${o.namespace}/${o.name}${record.subresource ? `/${record.subresource}` : ''} ${record.code}${record.reason ? ` ${record.reason}` : ''} by ${record.actor}${record.byController ? ' (controller)' : ''} rv ${record.resourceVersionBefore ?? '-'}->${record.resourceVersionAfter ?? '-'}`;
  }
  if (record.record === 'watch') return `watch ${record.type} ${record.kind} ${record.namespace}/${record.name} rv ${record.resourceVersion}`;
  return record.record;
}

describe('audit parser', () => {
  it('imports a RequestResponse-level log: writes, failed reads, object versions; skips the rest and says why', () => {
    const parser = createAuditParser({ controller: operator });
    const events = parseAll(parser, fixture('audit-requestresponse.log'));
    expect(problems(events)).toEqual([]);
    expect(records(events).map(brief)).toEqual([
      `api create Deployment shop/web 201 by ${operator} (controller) rv -->48120`,
      'watch ADDED Deployment shop/web rv 48120',
      `api get Deployment shop/web-canary 404 NotFound by ${operator} (controller) rv -->-`,
      `api get Deployment shop/web-canary 404 NotFound by ${operator} (controller) rv -->-`,
      'api update Deployment shop/web/status 200 by system:serviceaccount:kube-system:deployment-controller rv 48120->48131',
      'watch MODIFIED Deployment shop/web rv 48131',
      `api update Deployment shop/web 200 by ${operator} (controller) rv 48131->48213`,
      'watch MODIFIED Deployment shop/web rv 48213',
      `api update Deployment shop/web 409 Conflict by ${operator} (controller) rv 48131->-`,
      'api patch Deployment shop/web 200 by kubernetes-admin rv -->48260',
      'watch MODIFIED Deployment shop/web rv 48260',
      // the scale subresource answers with a Scale: a request, but not a Deployment version
      'api update Deployment shop/web/scale 200 by kubernetes-admin rv 48260->48266',
      `api create Secret shop/db-credentials 201 by ${operator} (controller) rv -->48270`,
      'watch ADDED Secret shop/db-credentials rv 48270',
      // impersonation: the actor is who the request acted as
      `api get Secret kube-system/db-admin 403 Forbidden by ${operator} (controller) rv -->-`,
      // pod graceful deletion: the pod is still there (grace 30s) ...
      'api delete Pod shop/web-5d8f7c9b4-x2k9p 200 by system:serviceaccount:kube-system:replicaset-controller rv -->48320',
      'watch MODIFIED Pod shop/web-5d8f7c9b4-x2k9p rv 48320',
      // ... until the kubelet's grace-0 delete
      'api delete Pod shop/web-5d8f7c9b4-x2k9p 200 by system:node:kind-worker rv -->48331',
      'watch DELETED Pod shop/web-5d8f7c9b4-x2k9p rv 48331',
      // a Deployment DELETE answers with a Status: no version
      `api delete Deployment shop/web 200 by ${operator} (controller) rv -->-`,
      `api patch Deployment shop/web-canary 500 InternalError by ${operator} (controller) rv -->-`,
    ]);
    expect(parser.skipped()).toEqual({
      'RequestReceived stages (the ResponseComplete of the same request counts)': 18,
      'ResponseStarted stages (the ResponseComplete of the same request counts)': 1,
      'dry-run requests (nothing was persisted)': 1,
      'successful reads (get, and list and watch in one namespace)': 2,
      'non-resource requests (discovery, /healthz, ...)': 1,
    });
  });

  it('fills every field of an api record from the audit event', () => {
    const [conflict] = apis(parseAll(createAuditParser({ controller: operator }), fixture('audit-requestresponse.log'))).filter((r) => r.code === 409);
    expect(conflict).toEqual({
      record: 'api',
      observedAt: expect.stringMatching(/^2026-11-25T10:15:02\.\d{6}Z$/),
      origin: 'audit',
      actor: operator,
      userAgent: 'web-operator/v0.3.1 (linux/amd64) kubernetes/$Format',
      byController: true,
      verb: 'update',
      object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web', uid: webUid },
      subresource: null,
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
      resourceVersionBefore: '48131',
      resourceVersionAfter: null,
      auditId: expect.stringMatching(/^c3a7e1b0-/),
    });
  });

  it('makes watch records (origin audit) from returned objects, with the Secret data redacted', () => {
    const versions = records(parseAll(createAuditParser(), fixture('audit-requestresponse.log'))).filter((r): r is WatchEventRecord => r.record === 'watch');
    expect(versions.every((v) => v.origin === 'audit')).toBe(true);
    expect(versions[0]).toMatchObject({ group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', uid: webUid, generation: 1, object: { spec: { replicas: 3 } } });
    const secret = versions.find((v) => v.kind === 'Secret')!;
    expect(secret.object).toMatchObject({ data: { password: '<redacted> 32 chars', username: '<redacted> 8 chars' } });
    const everything = JSON.stringify(records(parseAll(createAuditParser(), fixture('audit-requestresponse.log'))));
    expect(fixture('audit-requestresponse.log')).toContain(Buffer.from('s3cr3t-Pa55w0rd-9f8e7d').toString('base64'));
    expect(everything).not.toContain(Buffer.from('s3cr3t-Pa55w0rd-9f8e7d').toString('base64'));
    expect(everything).not.toContain('s3cr3t-Pa55w0rd-9f8e7d');
  });

  it('turns a deletecollection answer (a typed List, items without kind) into DELETED versions, Secrets redacted', () => {
    const secret = (name: string) => ({ metadata: { name, namespace: 'shop', uid: `u-${name}`, resourceVersion: '900' }, data: { token: Buffer.from('hunter2-token').toString('base64') }, type: 'Opaque' });
    const line = JSON.stringify({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'RequestResponse',
      auditID: 'dc-1',
      stage: 'ResponseComplete',
      requestURI: '/api/v1/namespaces/shop/secrets?labelSelector=app%3Dweb',
      verb: 'deletecollection',
      user: { username: operator },
      objectRef: { resource: 'secrets', namespace: 'shop', apiVersion: 'v1' },
      responseStatus: { metadata: {}, code: 200 },
      responseObject: { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '901' }, items: [secret('a'), secret('b')] },
      stageTimestamp: '2026-11-25T11:00:00.000001Z',
    });
    const all = records(parseAll(createAuditParser({ controller: operator }), line));
    expect(all.map(brief)).toEqual([
      `api deletecollection Secret shop/* 200 by ${operator} (controller) rv -->-`,
      'watch DELETED Secret shop/a rv 900',
      'watch DELETED Secret shop/b rv 900',
    ]);
    expect(JSON.stringify(all)).not.toContain(Buffer.from('hunter2-token').toString('base64'));
  });

  it('imports the real Metadata-level log: 403s with impersonation, collection requests named "*", no RVs', () => {
    const parser = createAuditParser({ controller: 'bob' });
    const events = parseAll(parser, realLog());
    expect(problems(events)).toEqual([]);
    const all = apis(events);
    expect(records(events)).toHaveLength(all.length); // no objects at Metadata level: no watch records
    expect(all).toHaveLength(12);
    const forbidden = all.filter((r) => r.code === 403);
    expect(forbidden).toHaveLength(11);
    expect(forbidden.every((r) => r.verb === 'list' && r.reason === 'Forbidden' && r.object.name === '*')).toBe(true);
    // A successful list across all namespaces is kept (cluster-wide-watch); the namespaced ones are not.
    expect(all.filter((r) => r.code === 200).map((r) => `${r.verb} ${r.actor} ${r.object.kind} ${r.object.namespace ?? '(all)'}`)).toEqual(['list system:serviceaccount:ns1:sa1 Pod (all)']);
    expect(all[0]).toMatchObject({
      observedAt: '2017-09-11T19:55:05Z', // the v1alpha1-era `timestamp`: this log has no stageTimestamp
      actor: 'bob', // impersonated by system:admin
      byController: true,
      object: { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespace: 'default', name: '*' },
      message: 'pods is forbidden: User "bob" cannot list pods in the namespace "default"',
      resourceVersionBefore: null,
      resourceVersionAfter: null,
      auditId: '033d17af-082d-4b24-aa22-627752e83d71',
    });
    expect(all.map((r) => `${r.actor} ${r.object.kind} ${r.object.namespace ?? '(cluster)'}`)).toEqual([
      'bob Pod default',
      'bob Pod default',
      'bob Pod ns1',
      'system:serviceaccount:ns1:sa1 Pod default',
      'system:serviceaccount:ns1:sa1 Pod default',
      'system:serviceaccount:ns1:sa1 Node (cluster)',
      'system:serviceaccount:ns1:sa1 Pod (cluster)',
      'system:serviceaccount:ns1:sa1 Pod (cluster)', // the successful list in all namespaces
      'bob Node (cluster)',
      'alice Pod ns1',
      'alice ConfigMap ns1',
      'alice Secret ns1',
    ]);
    expect(all.filter((r) => r.byController)).toHaveLength(4);
    expect(parser.skipped()).toEqual({ 'successful reads (get, and list and watch in one namespace)': 2, 'non-resource requests (discovery, /healthz, ...)': 23 });
  });

  it('reads audit webhook bodies: EventList per line, or one pretty-printed EventList for the whole file', () => {
    const perLine = parseAll(createAuditParser({ controller: operator }), fixture('audit-webhook-eventlist.json'));
    expect(problems(perLine)).toEqual([]);
    expect(records(perLine).map(brief)).toEqual([
      `api create Deployment shop/web 201 by ${operator} (controller) rv -->-`,
      `api get Deployment shop/web-canary 404 NotFound by ${operator} (controller) rv -->-`,
      `api get Deployment shop/web-canary 404 NotFound by ${operator} (controller) rv -->-`,
      'api update Deployment shop/web/status 200 by system:serviceaccount:kube-system:deployment-controller rv 48120->-',
    ]);
    const lists = fixture('audit-webhook-eventlist.json').trim().split('\n').map((line) => JSON.parse(line) as { items: unknown[] });
    const whole = JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: lists.flatMap((l) => l.items) }, null, 2);
    const parser = createAuditParser({ controller: operator });
    expect(records(parseAll(parser, whole))).toEqual(records(perLine));
    expect(parser.skipped()).toMatchObject({ 'EventList envelopes': 1 });
  });

  it('learns a custom resource kind from objects in the log, and guesses one it never saw', () => {
    const event = (verb: string, name: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'RequestResponse',
        auditID: `id-${verb}-${name}`,
        stage: 'ResponseComplete',
        requestURI: `/apis/shop.acme.io/v1alpha1/namespaces/shop/webapps/${name}`,
        verb,
        user: { username: operator },
        objectRef: { resource: 'webapps', namespace: 'shop', name, apiGroup: 'shop.acme.io', apiVersion: 'v1alpha1' },
        responseStatus: { metadata: {}, code: 404, reason: 'NotFound' },
        stageTimestamp: '2026-11-25T10:00:00.000001Z',
        ...extra,
      });
    const webApp = { apiVersion: 'shop.acme.io/v1alpha1', kind: 'WebApp', metadata: { name: 'a', namespace: 'shop', uid: 'u-a', resourceVersion: '7' } };
    const text = [
      event('get', 'before'),
      event('create', 'a', { responseStatus: { metadata: {}, code: 201 }, responseObject: webApp }),
      event('get', 'after'),
    ].join('\n');
    expect(apis(parseAll(createAuditParser(), text)).map((r) => r.object.kind)).toEqual(['Webapp', 'WebApp', 'WebApp']);
  });

  it('reports damaged lines and keeps the events around them', () => {
    const events = parseAll(createAuditParser(), fixture('audit-malformed.log'));
    expect(problems(events)).toEqual([
      '3: truncated JSON value (a string is not closed before the end of its line)',
      '5: not a JSON object: "I1125 10:15:02.421877       1 trace.go:2…"',
      '6: audit event verb: Invalid input: expected string, received undefined',
    ]);
    expect(events.filter((e) => e.kind === 'record').map((e) => e.line)).toEqual([1, 1, 2, 4, 8, 8]);
  });

  it('points at the right --format when given a kubectl dump or kreplay NDJSON', () => {
    const events = parseAll(createAuditParser(), `${fixture('kubectl-watch-configmaps-oneline.json').split('\n')[0]}\n${fixture('events.ndjson').split('\n')[0]}\n`);
    expect(problems(events)).toEqual([
      '1: this is a watch event: import kubectl watch dumps with --format kubectl-watch',
      '2: this is a kreplay NDJSON record: import it with --format ndjson',
    ]);
  });

  it('keeps one record per auditID: a log read twice, or events the session already holds, are skipped and counted', () => {
    const log = fixture('audit-requestresponse.log');
    const once = parseAll(createAuditParser({ controller: operator }), log);
    const twice = createAuditParser({ controller: operator });
    const events = parseAll(twice, log + log);
    expect(records(events)).toEqual(records(once));
    const written = apis(once).length;
    expect(twice.skipped()).toMatchObject({ 'duplicate audit events (an auditID already imported)': written });

    // Seeded with the auditIDs a session holds: nothing of the log is new, and the set grows with what is.
    const seen = new Set(apis(once).map((a) => a.auditId!));
    const first = [...seen][0]!;
    seen.delete(first);
    const again = createAuditParser({ controller: operator, seenAuditIds: seen });
    expect(apis(parseAll(again, log)).map((a) => a.auditId)).toEqual([first]);
    expect(seen.has(first)).toBe(true);
  });

  it('rejects JSON that is not an audit event', () => {
    const events = parseAll(createAuditParser(), '{"kind":"Event","apiVersion":"v1","metadata":{"name":"web.17f"},"reason":"ScalingReplicaSet"}\n');
    expect(problems(events)).toEqual(['1: not an audit event: kind Event, apiVersion v1']);
  });
});
