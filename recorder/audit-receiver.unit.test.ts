import { describe, expect, it } from 'vitest';
import { AuditBodyConverter, convertAuditBody } from './audit-receiver.js';
import { RecentAuditIds } from './recent-audit-ids.js';
import { duplicateAuditReason } from '../importers/audit.js';

const event = (id: string, fields: Record<string, unknown> = {}) => ({
  kind: 'Event',
  apiVersion: 'audit.k8s.io/v1',
  level: 'Metadata',
  auditID: id,
  stage: 'ResponseComplete',
  verb: 'patch',
  user: { username: 'system:serviceaccount:ops:op' },
  objectRef: { resource: 'widgets', namespace: 'team', name: 'w', apiGroup: 'example.com', apiVersion: 'v1' },
  responseStatus: { code: 200 },
  stageTimestamp: '2026-11-25T10:00:00Z',
  ...fields,
});
const body = (...items: unknown[]) => JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items });
const options = {
  scope: 'watched' as const,
  resources: [{ group: 'example.com', version: 'v1', resource: 'widgets', namespaces: ['team'] }],
  controllerUsernames: ['alice', 'system:serviceaccount:ops:op'],
  kindOf: (group: string, resource: string) => (group === 'example.com' && resource === 'widgets' ? 'Widget' : undefined),
};

describe('convertAuditBody', () => {
  it('keeps writes to watched resources and every request of the controller, with discovered kinds', () => {
    const batch = convertAuditBody(
      body(
        event('1'),
        event('2', { user: { username: 'bob' } }),
        event('3', { user: { username: 'bob' }, objectRef: { resource: 'pods', namespace: 'team', name: 'p', apiVersion: 'v1' } }),
        event('4', { objectRef: { resource: 'leases', namespace: 'ops', name: 'lock', apiGroup: 'coordination.k8s.io', apiVersion: 'v1' } }),
        event('5', { user: { username: 'bob' }, objectRef: { resource: 'widgets', namespace: 'elsewhere', name: 'w', apiGroup: 'example.com', apiVersion: 'v1' } }),
        event('6', { verb: 'watch', userAgent: 'kreplay-recorder/0.1.0', responseStatus: { code: 503 } }),
      ),
      options,
    );
    expect(batch.records.map((r) => (r.record === 'api' ? [r.auditId, r.actor, r.byController, r.object.kind] : r.record))).toEqual([
      ['1', 'system:serviceaccount:ops:op', true, 'Widget'],
      ['2', 'bob', false, 'Widget'],
      ['4', 'system:serviceaccount:ops:op', true, 'Lease'],
    ]);
    expect(batch.outOfScope).toBe(2);
    expect(batch.skipped["the recorder's own requests"]).toBe(1);
    expect(batch.records.every((r) => r.origin === 'audit' && r.record === 'api')).toBe(true);
  });

  it("keeps the answer's object version only where no watch of the recorder covers the object", () => {
    const answered = (id: string, name: string, namespace: string, fields: Record<string, unknown> = {}) =>
      event(id, {
        level: 'RequestResponse',
        objectRef: { resource: 'widgets', namespace, name, apiGroup: 'example.com', apiVersion: 'v1' },
        responseObject: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: `10${id}`, generation: 1 } },
        ...fields,
      });
    const text = body(answered('1', 'watched', 'team'), answered('2', 'unwatched', 'elsewhere'), answered('3', 'out-of-scope', 'elsewhere', { user: { username: 'bob' } }));
    const shape = (records: ReturnType<typeof convertAuditBody>['records']) => records.map((r) => `${r.record} ${r.record === 'api' ? r.object.name : `${r.name}@${r.resourceVersion} ${r.origin}`}`);
    // The watch on team's widgets records those versions itself; the controller's write elsewhere has no other source.
    expect(shape(convertAuditBody(text, options).records)).toEqual(['api watched', 'api unwatched', 'watch unwatched@102 audit']);
    // An audit-webhook-only recorder watches nothing: every answer is a version.
    expect(shape(convertAuditBody(text, { ...options, scope: 'all', resources: [] }).records)).toEqual([
      'api watched',
      'watch watched@101 audit',
      'api unwatched',
      'watch unwatched@102 audit',
      'api out-of-scope',
      'watch out-of-scope@103 audit',
    ]);
  });

  it('skips earlier stages and successful reads, keeps failed reads, and reports bad events', () => {
    const batch = convertAuditBody(
      body(event('1', { stage: 'RequestReceived' }), event('2', { verb: 'get' }), event('3', { verb: 'get', responseStatus: { code: 404, reason: 'NotFound' } }), { kind: 'Event', stage: 'ResponseComplete' }),
      { ...options, scope: 'all' },
    );
    expect(batch.records.map((r) => (r.record === 'api' ? [r.auditId, r.code] : r.record))).toEqual([['3', 404]]);
    expect(batch.problems).toHaveLength(1);
    expect(Object.values(batch.skipped).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
  });
});

describe('re-sent webhook batches', () => {
  const ids = (records: ReturnType<typeof convertAuditBody>['records']) => records.map((r) => (r.record === 'api' ? r.auditId : r.record));

  it('skips events of a batch already answered, and only those', () => {
    const answered = new RecentAuditIds();
    const first = new AuditBodyConverter(options, answered);
    first.push(body(event('1'), event('2')));
    expect(ids(first.end().records)).toEqual(['1', '2']);
    answered.remember(first.auditIds);
    const again = convertAuditBody(body(event('2'), event('3'), event('3')), options, answered);
    expect(ids(again.records)).toEqual(['3']);
    expect(again.skipped[duplicateAuditReason]).toBe(2);
  });

  it('records a refused batch when it is sent again: its IDs were never remembered', () => {
    const answered = new RecentAuditIds();
    const refused = new AuditBodyConverter(options, answered);
    refused.push(body(event('1'), event('2')));
    refused.end();
    expect(ids(convertAuditBody(body(event('1'), event('2')), options, answered).records)).toEqual(['1', '2']);
  });

  it('forgets the oldest IDs past its capacity', () => {
    const answered = new RecentAuditIds(3);
    answered.remember(['a', 'b', 'c']);
    answered.remember(['a', 'd']);
    expect(['a', 'b', 'c', 'd'].filter((id) => answered.has(id))).toEqual(['a', 'c', 'd']);
    expect(answered.size).toBe(3);
  });
});
