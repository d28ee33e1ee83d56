import type { ApiVerb } from './records.js';

/**
 * What one API request is about, read from its method, path and query the way the API server reads it (shared by
 * `kreplay proxy` and the repository's fake API server, so both read paths alike)
 * (k8s.io/apiserver pkg/endpoints/request/requestinfo.go RequestInfoFactory.NewRequestInfo): /api/v1/... or
 * /apis/GROUP/VERSION/..., an optional namespaces/NS/ prefix, resource, name, subresource; GET without a name is a
 * list, and a list with watch=true (or the legacy /watch/ prefix) a watch.
 */
export interface ResourceRequest {
  readonly kind: 'resource';
  readonly verb: ApiVerb;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly subresource: string | null;
  readonly query: URLSearchParams;
}

export interface OtherRequest {
  /** Discovery, /version, /healthz, openapi, and verbs kreplay does not model (proxy, connect): forwarded only. */
  readonly kind: 'other';
  /** Set for a group-version's discovery document (/api/v1, /apis/GROUP/VERSION). */
  readonly discovery?: { readonly group: string; readonly version: string };
}

export type RequestInfo = ResourceRequest | OtherRequest;

/** apiserver requestinfo.go namespaceSubresources: /namespaces/NAME/status is the namespace's own subresource. */
const namespaceSubresources = new Set(['status', 'finalize']);

export function requestInfoOf(method: string, url: string): RequestInfo {
  const parsed = new URL(url, 'http://proxy.invalid');
  const parts = parsed.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return { kind: 'other' };
  if (rest.length === 0) return { kind: 'other', discovery: { group, version } };
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  let namespace: string | null = null;
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1]!;
    if (rest.length > 2 && !namespaceSubresources.has(rest[2]!)) rest = rest.slice(2);
  }
  const [resource, name, subresource, ...more] = rest;
  if (!resource || more.length) return { kind: 'other' };
  // /api/v1/namespaces/NAME is the Namespace NAME itself, not something inside it.
  if (resource === 'namespaces' && namespace !== null && name === namespace) namespace = null;
  const query = parsed.searchParams;
  const watchParam = query.get('watch');
  const watch = legacyWatch || watchParam === 'true' || watchParam === '1';
  let verb: ApiVerb | undefined;
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
      verb = watch ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
  }
  if (!verb || (subresource && verb === 'watch')) return { kind: 'other' };
  return { kind: 'resource', verb, group, version, resource, namespace, name: name ?? null, subresource: subresource ?? null, query };
}

/** The list identity a paginated LIST's pages share (client-go's pager repeats the same selectors). */
export function listKey(request: ResourceRequest): string {
  const q = request.query;
  return [request.group, request.resource, request.namespace ?? '*', q.get('labelSelector') ?? '', q.get('fieldSelector') ?? ''].join('|');
}
