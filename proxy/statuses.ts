import type { ResourceRequest } from '../model/request-info.js';

/**
 * The Status bodies the proxy answers with when a fault stands in for the API server, worded as the API server words
 * them (apimachinery pkg/api/errors: NewConflict, NewTooManyRequests, NewInternalError, NewServiceUnavailable,
 * NewTimeoutError, NewResourceExpired), so client-go's apierrors.IsConflict / IsTooManyRequests / ... see what
 * they would see from a real server.
 */

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; retryAfterSeconds?: number };
  code: number;
}

export function faultStatus(code: number, request: ResourceRequest): Status {
  const qualified = request.group ? `${request.resource}.${request.group}` : request.resource;
  const name = request.name ?? '';
  const base = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure' } as const;
  const details = { ...(name ? { name } : {}), group: request.group, kind: request.resource };
  switch (code) {
    case 409:
      return { ...base, code, reason: 'Conflict', details, message: `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again` };
    case 429:
      return { ...base, code, reason: 'TooManyRequests', details: { ...details, retryAfterSeconds: 1 }, message: 'Too many requests, please try again later.' };
    case 503:
      return { ...base, code, reason: 'ServiceUnavailable', message: 'the server is currently unable to handle the request (injected by kreplay proxy)' };
    case 504:
      return { ...base, code, reason: 'Timeout', details: { ...details, retryAfterSeconds: 1 }, message: `Timeout: request did not complete within the allotted timeout (injected by kreplay proxy)` };
    default:
      return { ...base, code: 500, reason: 'InternalError', details: { ...details }, message: 'Internal error occurred: injected by kreplay proxy' };
  }
}

/**
 * What the watch cache sends to a watch from a resourceVersion it no longer holds: HTTP 200, then one in-stream
 * ERROR event with a 410 Expired Status, then the end (apiserver pkg/storage/cacher/cacher.go newErrWatcher with
 * watch_cache.go's errors.NewResourceExpired("too old resource version: %d (%d)")).
 */
export function expiredWatchLine(resourceVersion: string): string {
  const rv = Number(resourceVersion);
  const message = Number.isFinite(rv) ? `too old resource version: ${rv} (${rv + 1})` : `too old resource version: ${resourceVersion}`;
  return JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 } });
}
