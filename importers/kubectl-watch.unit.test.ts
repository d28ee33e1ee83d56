import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MarkerRecord, SessionRecord, WatchEventRecord } from '../model/index.js';
import { createKubectlWatchParser } from './kubectl-watch.js';
import { parseAll, type ParseEvent } from './parser.js';

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url), 'utf8');
const records = (events: readonly ParseEvent[]): SessionRecord[] => events.flatMap((e) => (e.kind === 'record' ? [e.record] : []));
const problems = (events: readonly ParseEvent[]) => events.flatMap((e) => (e.kind === 'problem' ? [`${e.line}: ${e.problem}`] : []));
const watches = (events: readonly ParseEvent[]) => records(events).filter((r): r is WatchEventRecord => r.record === 'watch');

describe('kubectl watch parser', () => {
  it('maps `kubectl get -w --output-watch-events -o json` events to watch records and an ERROR 410 to a gone marker', () => {
    const events = parseAll(createKubectlWatchParser(), fixture('kubectl-watch-deployments.json'));
    expect(problems(events)).toEqual([]);
    const all = records(events);
    expect(all.map((r) => (r.record === 'watch' ? `${r.type} ${r.name} ${r.resourceVersion}` : `marker ${(r as MarkerRecord).marker}`))).toEqual([
      'ADDED api 47001',
      'ADDED web 48120',
      'MODIFIED web 48213',
      'MODIFIED web 48230',
      'MODIFIED web 48251',
      'marker gone',
      'MODIFIED api 48301',
      'DELETED api 48302',
    ]);
    expect(all[1]).toMatchObject({
      record: 'watch',
      origin: 'import',
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
      kind: 'Deployment',
      namespace: 'shop',
      uid: '7c1a4f0e-2b8d-4c55-9e61-3f2a9d8b6c10',
      generation: 1,
    });
    expect((all[2] as WatchEventRecord).generation).toBe(2);
    expect((all[2] as WatchEventRecord).object).toMatchObject({ spec: { replicas: 5 }, metadata: { resourceVersion: '48213' } });
    expect(all[5]).toEqual({ record: 'marker', observedAt: null, origin: 'import', marker: 'gone', code: 410, message: 'too old resource version: 48120 (48290)', resourceVersion: '48120' });
  });

  it('derives observedAt from managedFields, deletionTimestamp and (for ADDED) creationTimestamp', () => {
    const all = records(parseAll(createKubectlWatchParser(), fixture('kubectl-watch-deployments.json')));
    expect(all.map((r) => r.observedAt)).toEqual([
      '2026-11-24T16:40:19Z', // api: newest managedFields time
      '2026-11-25T09:58:50Z', // web: the status update by kube-controller-manager
      '2026-11-25T10:15:02Z', // web scaled by the operator
      '2026-11-25T10:15:03Z',
      '2026-11-25T10:15:21Z',
      null, // a Status has no time
      '2026-11-25T10:21:40Z', // api: deletionTimestamp
      '2026-11-25T10:21:41Z',
    ]);
  });

  it('never lets observedAt go backwards, and leaves it null when the object carries no time', () => {
    const object = (rv: string, time?: string, created = '2026-11-25T09:00:00Z') => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'n', uid: 'u', resourceVersion: rv, creationTimestamp: created, ...(time ? { managedFields: [{ manager: 'm', time }] } : {}) },
    });
    const text = [
      { type: 'ADDED', object: object('1', '2026-11-25T10:00:05Z') },
      { type: 'MODIFIED', object: object('2', '2026-11-25T10:00:01Z') }, // older than the previous record
      { type: 'MODIFIED', object: object('3') }, // nothing but creationTimestamp, which says nothing about a MODIFIED
      { type: 'MODIFIED', object: object('4', '2026-11-25T10:00:09Z') },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n');
    expect(records(parseAll(createKubectlWatchParser(), text)).map((r) => r.observedAt)).toEqual([
      '2026-11-25T10:00:05Z',
      '2026-11-25T10:00:05Z',
      null,
      '2026-11-25T10:00:09Z',
    ]);
  });

  it('accepts plain objects without event types: first sighting ADDED, then MODIFIED (managedFields hidden)', () => {
    const events = parseAll(createKubectlWatchParser(), fixture('kubectl-objects-pods.json'));
    expect(problems(events)).toEqual([]);
    expect(watches(events).map((r) => [r.type, r.kind, r.resource, r.group, r.version, r.resourceVersion, r.observedAt])).toEqual([
      ['ADDED', 'Pod', 'pods', '', 'v1', '48232', '2026-11-25T10:15:03Z'],
      ['MODIFIED', 'Pod', 'pods', '', 'v1', '48247', null],
      // deletionTimestamp 10:23:12 with a 30 s grace period: the delete was asked for at 10:22:42.
      ['MODIFIED', 'Pod', 'pods', '', 'v1', '48320', '2026-11-25T10:22:42Z'],
    ]);
  });

  it('imports the items of a `kubectl get -o json` List as ADDED, several kinds at once', () => {
    const parser = createKubectlWatchParser();
    const events = parseAll(parser, fixture('kubectl-get-list.json'));
    expect(problems(events)).toEqual([]);
    expect(events.map((e) => (e.kind === 'record' && e.record.record === 'watch' ? [e.record.type, e.record.kind, e.record.resource, e.record.name, e.line] : e))).toEqual([
      ['ADDED', 'Deployment', 'deployments', 'web', 4],
      ['ADDED', 'ConfigMap', 'configmaps', 'web-config', 115],
    ]);
    expect(parser.skipped()).toEqual({ 'List envelopes': 1 });
  });

  it('reads a raw watch stream, one event per line, BOOKMARK included', () => {
    const events = parseAll(createKubectlWatchParser(), fixture('kubectl-watch-configmaps-oneline.json'));
    expect(problems(events)).toEqual([]);
    const all = watches(events);
    expect(all.map((r) => r.type)).toEqual(['ADDED', 'MODIFIED', 'BOOKMARK', 'DELETED']);
    expect(all[2]).toEqual({
      record: 'watch',
      observedAt: null,
      origin: 'import',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      kind: 'ConfigMap',
      type: 'BOOKMARK',
      namespace: null,
      name: null,
      uid: null,
      resourceVersion: '48288',
      generation: null,
      object: null,
    });
    expect(events.map((e) => e.line)).toEqual([1, 2, 3, 4]);
  });

  it('never lets Secret data through: data, and the last-applied annotation kubectl apply writes', () => {
    const text = fixture('kubectl-watch-secret.json');
    expect(text).toContain(Buffer.from('s3cr3t-Pa55w0rd-9f8e7d').toString('base64'));
    const all = watches(parseAll(createKubectlWatchParser(), text));
    expect(all).toHaveLength(2);
    const stored = JSON.stringify(all);
    for (const secret of ['s3cr3t-Pa55w0rd-9f8e7d', 'n3w-R0tated-Pa55-4c3b2a']) {
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(Buffer.from(secret).toString('base64'));
    }
    expect(all[1]!.object).toMatchObject({
      data: { password: '<redacted> 32 chars', username: '<redacted> 8 chars' }, // base64 lengths
      metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '<redacted>' } },
    });
  });

  it('applies extra redaction paths to every object', () => {
    const all = watches(parseAll(createKubectlWatchParser({ redact: ['data.feature-flags'] }), fixture('kubectl-watch-configmaps-oneline.json')));
    expect(all[0]!.object).toMatchObject({ data: { 'feature-flags': '<redacted>', 'app.yaml': 'listen: :8080\nlogLevel: info\n' } });
  });

  it('reports damaged input with the line it starts on and keeps every good event around it', () => {
    const events = parseAll(createKubectlWatchParser(), fixture('kubectl-watch-malformed.json'));
    expect(problems(events)).toEqual([
      '583: truncated JSON value (a new value starts at line 695 before it was closed)',
      '889: not a JSON object: "E1125 10:16:02.118734   48213 reflector.…"',
      '890: Deployment web has no metadata.uid: not an object as the API server returns it',
    ]);
    expect(watches(events).map((r) => `${r.type} ${r.name} ${r.resourceVersion}`)).toEqual([
      'ADDED api 47001',
      'ADDED web 48120',
      'MODIFIED web 48213',
      'MODIFIED web 48251',
      'MODIFIED api 48301',
      'DELETED api 48302',
    ]);
  });

  it('points at the right --format when given an audit log or kreplay NDJSON', () => {
    const audit = '{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"u"}}';
    const ndjson = '{"record":"marker","observedAt":null,"origin":"watch","marker":"gap"}';
    expect(problems(parseAll(createKubectlWatchParser(), `${audit}\n${ndjson}\n`))).toEqual([
      '1: this is a kube-apiserver audit event: import it with --format audit',
      '2: this is a kreplay NDJSON record: import it with --format ndjson',
    ]);
  });

  it('gives the same records however the file is chunked', () => {
    const text = fixture('kubectl-watch-malformed.json');
    const whole = parseAll(createKubectlWatchParser(), text);
    const chunks = text.match(/[\s\S]{1,997}/g)!;
    expect(parseAll(createKubectlWatchParser(), chunks)).toEqual(whole);
  });

  it('explains values that are not watch events or objects', () => {
    const lines = [
      '{"type":"SYNC","object":{"kind":"Pod"}}',
      '{"type":"ADDED","object":"oops"}',
      '{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"p","uid":"u","resourceVersion":"1"}}}',
      '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"internal error","reason":"InternalError","code":500}}',
      '{"hello":"world"}',
      '{"type":"MODIFIED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","uid":"u"}}}',
      '[1, 2]',
      '{"a": tru}',
    ];
    const events = parseAll(createKubectlWatchParser(), lines.join('\n'));
    expect(problems(events)).toEqual([
      '1: unknown watch event type "SYNC"',
      '2: the ADDED event has no object',
      '3: the object has no apiVersion or kind',
      '5: neither a watch event ({"type", "object"}) nor a Kubernetes object (kind, metadata)',
      '6: watch.resourceVersion: a resourceVersion cannot be empty',
      '7: a list element is not a JSON object',
      '7: a list element is not a JSON object',
      expect.stringMatching(/^8: not valid JSON: /),
    ]);
    expect(records(events)).toEqual([{ record: 'marker', observedAt: null, origin: 'import', marker: 'error', code: 500, message: 'internal error' }]);
  });
});
