import { describe, expect, it } from 'vitest';
import { UnpairedRequests, arePartners, mergePair, pairingCandidate } from './api-pairing.js';
import { ApiRequestRecord } from './records.js';

const sa = 'system:serviceaccount:shop:web-operator';

/** A PATCH of Deployment shop/web as the audit webhook converts it (recorder/audit-receiver.ts). */
function audit(at: string, extra: Partial<ApiRequestRecord> = {}): ApiRequestRecord {
  return ApiRequestRecord.parse({
    record: 'api',
    observedAt: at,
    origin: 'audit',
    actor: sa,
    userAgent: 'manager/v0.0.0 (linux/amd64) kubernetes/$Format',
    byController: true,
    verb: 'patch',
    object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' },
    code: 200,
    resourceVersionAfter: '48213',
    auditId: `a-${at}`,
    ...extra,
  });
}

/** The same PATCH as the Go SDK's WrapClient reports it (sdk/go/records.go): no resource, the uid, the controller name. */
function sdk(at: string, extra: Partial<ApiRequestRecord> = {}): ApiRequestRecord {
  return ApiRequestRecord.parse({
    record: 'api',
    observedAt: at,
    origin: 'ingest',
    actor: 'web-operator',
    byController: true,
    verb: 'patch',
    object: { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'shop', name: 'web', uid: 'u-web' },
    code: 200,
    resourceVersionBefore: '48200',
    resourceVersionAfter: '48213',
    ...extra,
  });
}

/** Feeds records in arrival order; returns, per record, the seq of the partner it merged into (or null). */
function arrive(records: readonly ApiRequestRecord[], index = new UnpairedRequests()): (number | null)[] {
  return records.map((record, i) => index.pair(record, i + 1) ?? null);
}

describe('pairing an audit event with the SDK report of the same request', () => {
  it('pairs a PATCH seen by both, whichever arrives first, and keeps what each knows', () => {
    const server = audit('2026-11-25T10:15:02.420Z');
    const controller = sdk('2026-11-25T10:15:02.450Z');
    expect(arrive([controller, server])).toEqual([null, 1]);
    expect(arrive([server, controller])).toEqual([null, 1]);
    const merged = mergePair(controller, server);
    expect(ApiRequestRecord.parse(merged)).toEqual(merged);
    expect(merged).toMatchObject({
      origin: 'audit',
      sources: ['audit', 'ingest'],
      observedAt: '2026-11-25T10:15:02.420Z',
      actor: sa,
      userAgent: 'manager/v0.0.0 (linux/amd64) kubernetes/$Format',
      auditId: 'a-2026-11-25T10:15:02.420Z',
      controller: 'web-operator',
      byController: true,
      object: { resource: 'deployments', uid: 'u-web' },
      // The audit event (Metadata level) had no request body: the SDK's before-RV fills the gap.
      resourceVersionBefore: '48200',
      resourceVersionAfter: '48213',
    });
    expect(mergePair(server, controller)).toEqual(merged);
  });

  it('keeps two identical PATCHes 50 ms apart as two requests: from one source they never pair with each other', () => {
    const first = sdk('2026-11-25T10:15:02.400Z', { resourceVersionAfter: null });
    const second = sdk('2026-11-25T10:15:02.450Z', { resourceVersionAfter: null });
    expect(arrive([first, second])).toEqual([null, null]);
    expect(arrive([audit('2026-11-25T10:15:02.400Z'), audit('2026-11-25T10:15:02.450Z')])).toEqual([null, null]);
  });

  it('pairs two identical PATCHes 50 ms apart seen by both sources one to one, in order, despite 40 ms of clock skew', () => {
    // Metadata-level audit: no response RVs, so only order and time tell the two apart.
    const records = [
      sdk('2026-11-25T10:15:02.400Z', { resourceVersionAfter: null }),
      sdk('2026-11-25T10:15:02.450Z', { resourceVersionAfter: null }),
      audit('2026-11-25T10:15:02.440Z', { resourceVersionAfter: null }),
      audit('2026-11-25T10:15:02.490Z', { resourceVersionAfter: null }),
    ];
    expect(arrive(records)).toEqual([null, null, 1, 2]);
  });

  it('matches by the response RV when both know it, whatever the order', () => {
    const records = [sdk('2026-11-25T10:15:02.400Z', { resourceVersionAfter: '10' }), sdk('2026-11-25T10:15:02.450Z', { resourceVersionAfter: '11' }), audit('2026-11-25T10:15:02.460Z', { resourceVersionAfter: '11' }), audit('2026-11-25T10:15:02.410Z', { resourceVersionAfter: '10' })];
    expect(arrive(records)).toEqual([null, null, 2, 1]);
  });

  it('does not pair what differs: outcome, response RV, subresource, object, time, or another client', () => {
    const controller = sdk('2026-11-25T10:15:02.450Z');
    const at = '2026-11-25T10:15:02.430Z';
    const notPartners = {
      'a 409 and a 200': audit(at, { code: 409, reason: 'Conflict', resourceVersionAfter: null }),
      'another response RV': audit(at, { resourceVersionAfter: '48214' }),
      'the status subresource': audit(at, { subresource: 'status' }),
      'another object': audit(at, { object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'api' } }),
      'another uid': audit(at, { object: { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web', uid: 'u-old' } }),
      'another verb': audit(at, { verb: 'update' }),
      '3 s apart': audit('2026-11-25T10:15:05.450Z'),
      "kubectl's PATCH of the same object": audit(at, { actor: 'kubernetes-admin', byController: false, userAgent: 'kubectl/v1.36.3' }),
    };
    const c = pairingCandidate(controller, 1)!;
    for (const [why, record] of Object.entries(notPartners)) {
      expect(arePartners(c, pairingCandidate(record, 2)!), why).toBe(false);
      expect(arrive([controller, record]), why).toEqual([null, null]);
    }
    // The 409 pairs with the SDK's report of the 409, not with the 200.
    const conflict = sdk('2026-11-25T10:15:02.460Z', { code: 409, reason: 'Conflict', resourceVersionAfter: null });
    expect(arrive([controller, conflict, notPartners['a 409 and a 200'], audit(at)])).toEqual([null, null, 2, 1]);
  });

  it('pairs with a recorder that was not told the controller when the audit user is the service account the SDK reports as', () => {
    expect(arrive([sdk('2026-11-25T10:15:02.450Z'), audit('2026-11-25T10:15:02.430Z', { byController: false })])).toEqual([null, 1]);
  });

  it('leaves alone records that are already a pair, imported, or without a time', () => {
    const merged = mergePair(sdk('2026-11-25T10:15:02.450Z'), audit('2026-11-25T10:15:02.430Z'));
    expect(arrive([merged, audit('2026-11-25T10:15:02.431Z')])).toEqual([null, null]);
    expect(arrive([sdk('2026-11-25T10:15:02.450Z', { origin: 'import' }), audit('2026-11-25T10:15:02.430Z')])).toEqual([null, null]);
    expect(pairingCandidate(sdk('2026-11-25T10:15:02.450Z', { observedAt: null }), 1)).toBeNull();
  });

  it('waits for a partner up to the retention time (in record time) and a bounded number of requests', () => {
    const index = new UnpairedRequests(2_000, 60_000, 3);
    expect(index.pair(sdk('2026-11-25T10:15:00.000Z'), 1)).toBeUndefined();
    // An audit event of another object 61 s later: the SDK report no longer waits.
    expect(index.pair(audit('2026-11-25T10:16:01.000Z', { object: { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name: 'c' } }), 2)).toBeUndefined();
    expect(index.size).toBe(1);
    expect(index.pair(audit('2026-11-25T10:15:00.010Z'), 3)).toBeUndefined();
    const small = new UnpairedRequests(2_000, 60_000, 2);
    for (let i = 0; i < 3; i += 1) small.pair(sdk(`2026-11-25T10:15:00.00${i}Z`, { resourceVersionAfter: String(i) }), i + 1);
    expect(small.size).toBe(2);
    // The oldest was dropped to make room; the two newest still pair.
    expect(small.pair(audit('2026-11-25T10:15:00.002Z', { resourceVersionAfter: '2' }), 4)).toBe(3);
    expect(small.pair(audit('2026-11-25T10:15:00.001Z', { resourceVersionAfter: '1' }), 5)).toBe(2);
    expect(small.pair(audit('2026-11-25T10:15:00.000Z', { resourceVersionAfter: '0' }), 6)).toBeUndefined();
  });

  it('says which request a later report may still merge into: the oldest waiting, once both sources report', () => {
    const index = new UnpairedRequests();
    const now = Date.parse('2026-11-25T10:15:05Z');
    index.pair(sdk('2026-11-25T10:15:00.000Z', { resourceVersionAfter: '1' }), 1);
    index.pair(sdk('2026-11-25T10:15:01.000Z', { resourceVersionAfter: '2' }), 2);
    // The SDK alone: no audit report will come to merge into them.
    expect(index.oldestWaiting(now)).toBeUndefined();
    // The audit webhook speaks (another object's request): seq 1 may now still change.
    const other = { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespace: 'shop', name: 'c' };
    index.pair(audit('2026-11-25T10:15:02.000Z', { object: other, resourceVersionAfter: '3' }), 3);
    expect(index.oldestWaiting(now)).toBe(1);
    // Seq 1 pairs: the oldest still waiting is seq 2.
    expect(index.pair(audit('2026-11-25T10:14:59.990Z', { resourceVersionAfter: '1' }), 4)).toBe(1);
    expect(index.oldestWaiting(now)).toBe(2);
    // A request whose partner has not come within the retention time holds nobody back any more.
    expect(index.oldestWaiting(Date.parse('2026-11-25T10:16:01.500Z'))).toBe(3);
    expect(index.oldestWaiting(Date.parse('2026-11-25T10:17:00Z'))).toBeUndefined();
  });
});
