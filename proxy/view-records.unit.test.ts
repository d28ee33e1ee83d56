import { describe, expect, it } from 'vitest';
import { REDACTED, type SessionRecord } from '../model/index.js';
import type { RecordSink } from '../recorder/writer.js';
import { requestInfoOf, type ResourceRequest } from '../model/request-info.js';
import { ViewRecorder } from './view-records.js';

function collecting(): { sink: RecordSink; records: SessionRecord[] } {
  const records: SessionRecord[] = [];
  const sink: RecordSink = {
    push: (batch) => (records.push(...batch), false),
    offer: (batch) => (records.push(...batch), true),
    whenRoom: () => Promise.resolve(),
    flush: () => Promise.resolve(),
  };
  return { sink, records };
}

const request = (method: string, url: string) => requestInfoOf(method, url) as ResourceRequest;
const item = (name: string, rv: string) => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv } });

describe('ViewRecorder', () => {
  it('writes the pages of one LIST together, bracketed by list-started and list-finished with the last page RV', () => {
    const { sink, records } = collecting();
    const view = new ViewRecorder({ sink, actor: 'ctrl', now: () => 0 });
    view.listPage(request('GET', '/api/v1/namespaces/ns/configmaps?limit=1'), { kind: 'ConfigMapList', metadata: { resourceVersion: '10', continue: 'next' }, items: [item('a', '5')] });
    expect(records).toEqual([]);
    view.listPage(request('GET', '/api/v1/namespaces/ns/configmaps?limit=1&continue=next'), { kind: 'ConfigMapList', metadata: { resourceVersion: '10' }, items: [item('b', '7')] });
    expect(records.map((r) => (r.record === 'marker' ? r.marker : `${r.record} ${r.origin} ${(r as { name: string }).name}`))).toEqual(['list-started', 'watch relist a', 'watch relist b', 'list-finished']);
    expect(records[3]).toMatchObject({ origin: 'proxy', kind: 'ConfigMap', resourceVersion: '10', count: 2, namespace: 'ns' });
    expect(records[1]).toMatchObject({ kind: 'ConfigMap', type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap' } });
  });

  it('redacts Secrets in list items, events and write answers; never stores a request body', () => {
    const { sink, records } = collecting();
    const view = new ViewRecorder({ sink, actor: 'ctrl', now: () => 0 });
    const secret = { ...item('s', '3'), data: { password: 'aHVudGVyMg==' } };
    view.listPage(request('GET', '/api/v1/namespaces/ns/secrets'), { kind: 'SecretList', metadata: { resourceVersion: '4' }, items: [secret] });
    view.api(request('PUT', '/api/v1/namespaces/ns/secrets/s'), {
      code: 200,
      requestBody: { apiVersion: 'v1', kind: 'Secret', ...secret },
      responseBody: { apiVersion: 'v1', kind: 'Secret', ...item('s', '5'), data: { password: 'aHVudGVyMg==' } },
      userAgent: 'ctrl/1',
      impersonated: undefined,
      observedAt: '2026-01-01T00:00:00.000Z',
    });
    const text = JSON.stringify(records);
    expect(text).not.toContain('aHVudGVyMg==');
    expect(text).toContain(REDACTED);
    expect(records.at(-1)).toMatchObject({ record: 'api', verb: 'update', code: 200, resourceVersionBefore: '3', resourceVersionAfter: '5', byController: true, actor: 'ctrl', object: { kind: 'Secret', name: 's' } });
  });

  it('a failed write keeps the Status reason and message; the impersonated user is the actor', () => {
    const { sink, records } = collecting();
    const view = new ViewRecorder({ sink, actor: 'ctrl', now: () => 0 });
    view.api(request('PATCH', '/apis/zoo.kreplay.dev/v1/namespaces/ns/widgets/w/status'), {
      code: 409,
      requestBody: undefined,
      responseBody: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', message: 'the object has been modified', code: 409 },
      userAgent: undefined,
      impersonated: 'zoo-x',
      observedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(records[0]).toMatchObject({ actor: 'zoo-x', code: 409, reason: 'Conflict', subresource: 'status', resourceVersionAfter: null, responseObject: null, object: { name: 'w', kind: 'widgets' } });
  });

  it('a create refused AlreadyExists is named from the Status details when its body could not be read (protobuf)', () => {
    const { sink, records } = collecting();
    const view = new ViewRecorder({ sink, actor: 'ctrl', now: () => 0 });
    view.api(request('POST', '/api/v1/namespaces/ns/configmaps'), {
      code: 409,
      requestBody: undefined,
      responseBody: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', message: 'configmaps "w-config" already exists', details: { name: 'w-config', kind: 'configmaps' }, code: 409 },
      userAgent: undefined,
      impersonated: undefined,
      observedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(records[0]).toMatchObject({ verb: 'create', code: 409, reason: 'AlreadyExists', object: { name: 'w-config' } });
  });

  it('an event without its identity becomes an error marker, not a record the store would reject', () => {
    const { sink } = collecting();
    const view = new ViewRecorder({ sink, actor: 'ctrl', now: () => 0 });
    const record = view.watchRecord(request('GET', '/api/v1/namespaces/ns/configmaps?watch=1'), 'MODIFIED', { metadata: { name: 'x' } }, 'watch', '2026-01-01T00:00:00.000Z');
    expect(record).toMatchObject({ record: 'marker', marker: 'error', origin: 'proxy' });
  });
});
