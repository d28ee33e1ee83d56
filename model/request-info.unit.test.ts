import { describe, expect, it } from 'vitest';
import { listKey, requestInfoOf, type ResourceRequest } from './request-info.js';

const resource = (method: string, url: string) => {
  const info = requestInfoOf(method, url);
  if (info.kind !== 'resource') throw new Error(`${method} ${url} is not a resource request`);
  const { query: _query, kind: _kind, ...rest } = info;
  return rest;
};

describe('requestInfoOf', () => {
  it('reads verb, group, version, resource, namespace, name and subresource as the API server does', () => {
    expect(resource('GET', '/api/v1/namespaces/ns/configmaps?limit=500')).toEqual({ verb: 'list', group: '', version: 'v1', resource: 'configmaps', namespace: 'ns', name: null, subresource: null });
    expect(resource('GET', '/apis/zoo.kreplay.dev/v1/namespaces/ns/widgets?watch=true&resourceVersion=5')).toMatchObject({ verb: 'watch', group: 'zoo.kreplay.dev', resource: 'widgets' });
    expect(resource('GET', '/api/v1/watch/namespaces/ns/pods')).toMatchObject({ verb: 'watch', resource: 'pods', namespace: 'ns' });
    expect(resource('PUT', '/apis/zoo.kreplay.dev/v1/namespaces/ns/widgets/w/status')).toMatchObject({ verb: 'update', name: 'w', subresource: 'status' });
    expect(resource('PATCH', '/apis/apps/v1/namespaces/ns/deployments/d')).toMatchObject({ verb: 'patch', group: 'apps', name: 'd' });
    expect(resource('POST', '/api/v1/namespaces/ns/configmaps')).toMatchObject({ verb: 'create', name: null });
    expect(resource('DELETE', '/api/v1/namespaces/ns/configmaps/c')).toMatchObject({ verb: 'delete', name: 'c' });
    expect(resource('DELETE', '/api/v1/namespaces/ns/configmaps')).toMatchObject({ verb: 'deletecollection' });
    expect(resource('GET', '/api/v1/nodes/n1')).toMatchObject({ verb: 'get', resource: 'nodes', namespace: null, name: 'n1' });
  });

  it('a Namespace is a cluster-scoped object, with its own status and finalize subresources', () => {
    expect(resource('GET', '/api/v1/namespaces/ns')).toMatchObject({ verb: 'get', resource: 'namespaces', namespace: null, name: 'ns' });
    expect(resource('PUT', '/api/v1/namespaces/ns/finalize')).toMatchObject({ verb: 'update', resource: 'namespaces', name: 'ns', subresource: 'finalize' });
    expect(resource('POST', '/api/v1/namespaces')).toMatchObject({ verb: 'create', resource: 'namespaces', namespace: null });
  });

  it('discovery, health and version are not resource requests', () => {
    for (const url of ['/api', '/apis', '/apis/apps/v1', '/api/v1', '/version', '/readyz', '/openapi/v3']) expect(requestInfoOf('GET', url).kind).toBe('other');
  });

  it('pages of one list share a key; another selector is another list', () => {
    const page = (url: string) => requestInfoOf('GET', url) as ResourceRequest;
    expect(listKey(page('/api/v1/namespaces/ns/pods?limit=2&labelSelector=a%3Db'))).toBe(listKey(page('/api/v1/namespaces/ns/pods?limit=2&labelSelector=a%3Db&continue=xyz')));
    expect(listKey(page('/api/v1/namespaces/ns/pods?labelSelector=a%3Dc'))).not.toBe(listKey(page('/api/v1/namespaces/ns/pods?labelSelector=a%3Db')));
  });
  it('names the group-version of a discovery document, and nothing else', () => {
    expect(requestInfoOf('GET', '/api/v1')).toEqual({ kind: 'other', discovery: { group: '', version: 'v1' } });
    expect(requestInfoOf('GET', '/apis/apps/v1')).toEqual({ kind: 'other', discovery: { group: 'apps', version: 'v1' } });
    expect(requestInfoOf('GET', '/apis/apps')).toEqual({ kind: 'other' });
    expect(requestInfoOf('GET', '/version')).toEqual({ kind: 'other' });
  });
});
