import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiRequestRecord, SessionRecord } from '../model/index.js';
import { writeOldDatabase } from '../test/old-database.js';
import { useTempDir } from '../test/temp.js';
import { openStore } from './index.js';

const newSession = { name: 'run-1', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;
const object = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };

const audit = (at: string, rv: string, extra: Partial<ApiRequestRecord> = {}): ApiRequestRecord => ({
  record: 'api', observedAt: at, origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true,
  verb: 'patch', object, code: 200, resourceVersionAfter: rv, auditId: `a-${rv}`, ...extra,
});
const sdk = (at: string, rv: string, extra: Partial<ApiRequestRecord> = {}): ApiRequestRecord => ({
  record: 'api', observedAt: at, origin: 'ingest', actor: 'web-operator', byController: true,
  verb: 'patch', object: { ...object, resource: undefined, uid: 'u-web' }, code: 200, resourceVersionAfter: rv, ...extra,
});
const marker = (at: string): SessionRecord => ({ record: 'marker', observedAt: at, origin: 'watch', marker: 'watch-started' });

describe('store: one request from two sources is one record', () => {
  const tempDir = useTempDir();

  it('merges the later source into the stored record, in the same append or a later one, and survives a reopen', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    expect(store.append(session.id, [sdk('2026-11-25T10:00:00.050Z', '10'), marker('2026-11-25T10:00:00.060Z')])).toMatchObject({ count: 2, merged: 0, changedFromSeq: null });
    // The audit webhook's batch comes later; its event pairs with seq 1. Seq 3 pairs within its own append.
    // (changedFromSeq: the earlier append's row it changed, for readers that already read it; not seq 3, new here.)
    expect(store.append(session.id, [audit('2026-11-25T10:00:00.020Z', '10'), sdk('2026-11-25T10:00:01.050Z', '11'), audit('2026-11-25T10:00:01.030Z', '11')])).toEqual({
      firstSeq: 3, lastSeq: 3, count: 1, merged: 2, changedFromSeq: 1,
    });
    store.close();

    const reopened = openStore(path);
    const records = [...reopened.records(session.id)];
    expect(records.map((r) => [r.seq, r.record, r.origin, r.record === 'api' ? r.sources : undefined])).toEqual([
      [1, 'api', 'audit', ['audit', 'ingest']],
      [2, 'marker', 'watch', undefined],
      [3, 'api', 'audit', ['audit', 'ingest']],
    ]);
    expect(records[0]).toMatchObject({ observedAt: '2026-11-25T10:00:00.020Z', actor: 'system:serviceaccount:shop:web-operator', controller: 'web-operator', auditId: 'a-10', object: { resource: 'deployments', uid: 'u-web' } });
    // Found under either source, and listed under the one object.
    expect(reopened.recordCount(session.id, { origins: ['ingest'] })).toBe(2);
    expect(reopened.recordCount(session.id, { origins: ['audit'] })).toBe(2);
    expect(reopened.recordCount(session.id, { origins: ['watch'] })).toBe(1);
    expect(reopened.objects(session.id).map((o) => [o.name, o.recordCount])).toEqual([['web', 2]]);
    reopened.close();
  });

  it('drops findings cached for the session when a stored record becomes a pair without the session growing', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession(newSession);
    store.append(session.id, [sdk('2026-11-25T10:00:00.050Z', '10')]);
    store.saveAnalysis(session.id, 'default', 1, '[]');
    expect(store.cachedAnalysis(session.id, 'default')).toBe('[]');
    store.append(session.id, [audit('2026-11-25T10:00:00.020Z', '10')]);
    expect(store.lastSeq(session.id)).toBe(1);
    expect(store.cachedAnalysis(session.id, 'default')).toBeUndefined();
    store.close();
  });

  it('keeps both records of a request when the partner comes in an append that rolls back, and nothing names a lost seq', () => {
    const store = openStore(join(tempDir(), 'kreplay.db'));
    const session = store.createSession(newSession);
    const bad = { record: 'watch', observedAt: null, origin: 'watch', type: 'ADDED' } as unknown as SessionRecord;
    expect(() => store.append(session.id, [sdk('2026-11-25T10:00:00.050Z', '10'), bad])).toThrow();
    // seq 1 was never written: the audit event must not be merged into it.
    expect(store.append(session.id, [audit('2026-11-25T10:00:00.020Z', '10')])).toMatchObject({ firstSeq: 1, count: 1, merged: 0 });
    expect([...store.records(session.id)].map((r) => r.origin)).toEqual(['audit']);
    store.close();
  });

  it('upgrades a populated version-4 database to version 5: old API rows keep one source and new ones pair', () => {
    const path = join(tempDir(), 'v4.db');
    writeOldDatabase(path, 4, `
      INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, 'v4-run', 'recorder', '0.1.0', '2026-11-01T00:00:00Z', 3);
      INSERT INTO objects (id, session_id, api_group, version, resource, kind, namespace, name, uid) VALUES (1, 1, 'apps', 'v1', 'deployments', 'Deployment', 'shop', 'web', '');
      INSERT INTO records (session_id, seq, kind, origin, observed_at, object_id, type, resource_version, payload)
        VALUES (1, 1, 'api', 'audit', '2026-11-01T00:00:01Z', 1, 'patch', '5', '${JSON.stringify(audit('2026-11-01T00:00:01Z', '5'))}'),
               (1, 2, 'api', 'ingest', '2026-11-01T00:00:01Z', 1, 'patch', '5', '${JSON.stringify(sdk('2026-11-01T00:00:01Z', '5'))}');
    `);

    // Read-only, nothing is migrated and an origin filter still works without the new column.
    const readOnly = openStore(path, { readonly: true });
    expect(readOnly.recordCount(1, { origins: ['ingest'] })).toBe(1);
    readOnly.close();

    const store = openStore(path);
    // Rows stored before pairing existed stay as they were: two records, one source each.
    expect([...store.records(1)].map((r) => (r.record === 'api' ? [r.origin, r.sources] : null))).toEqual([['audit', undefined], ['ingest', undefined]]);
    store.append(1, [sdk('2026-11-01T00:01:00.050Z', '6'), audit('2026-11-01T00:01:00.020Z', '6')]);
    expect(store.recordCount(1, { origins: ['ingest'] })).toBe(2);
    expect(store.record(1, 3)).toMatchObject({ origin: 'audit', sources: ['audit', 'ingest'] });
    store.close();
  });
});
