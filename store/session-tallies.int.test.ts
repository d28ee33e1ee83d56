import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiRequestRecord, SessionRecord } from '../model/index.js';
import { deployment, watchEvent } from '../test/builders.js';
import { writeOldDatabase } from '../test/old-database.js';
import { useTempDir } from '../test/temp.js';
import { openStore } from './index.js';

const newSession = { name: 'run-1', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;
const object = { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespace: 'shop', name: 'web' };
const audit = (at: string, rv: string): ApiRequestRecord => ({
  record: 'api', observedAt: at, origin: 'audit', actor: 'system:serviceaccount:shop:web-operator', byController: true,
  verb: 'patch', object, code: 200, resourceVersionAfter: rv, auditId: `a-${rv}`,
});
const sdk = (at: string, rv: string): ApiRequestRecord => ({
  record: 'api', observedAt: at, origin: 'ingest', actor: 'web-operator', byController: true,
  verb: 'patch', object: { ...object, resource: undefined, uid: 'u-web' }, code: 200, resourceVersionAfter: rv,
});
const skewed = (at: string): SessionRecord => ({
  record: 'reconcile', observedAt: at, origin: 'ingest', controller: 'web-operator', object: { ...object, uid: 'u-web' },
  startedAt: at, finishedAt: at, result: 'success',
  clockSkew: { field: 'observedAt', receivedAt: '2026-11-25T10:00:05.000Z', skewMs: -3_600_000 },
});
const marker = (at: string | null, message = 'note'): SessionRecord => ({ record: 'marker', observedAt: at, origin: 'watch', marker: 'gap', message });

/** What `sessions` showed before schema 8, by scanning the session's records (the SQL it ran). */
function scanned(path: string, sessionId: number) {
  const db = new Database(path, { readonly: true });
  const skew = `(payload IS NOT NULL AND instr(payload, '"clockSkew":') > 0 AND json_extract(payload, '$.clockSkew') IS NOT NULL)`;
  const counts = Object.fromEntries((db.prepare('SELECT kind, count(*) AS n FROM records WHERE session_id = ? GROUP BY kind').all(sessionId) as { kind: string; n: number }[]).map((r) => [r.kind, r.n]));
  const span = db
    .prepare(
      `SELECT min(CASE WHEN ${skew} THEN NULL ELSE observed_at END) AS first, max(CASE WHEN ${skew} THEN NULL ELSE observed_at END) AS last, coalesce(sum(${skew}), 0) AS skewed,
              sum(coalesce(length(payload), 0) + 40) + (SELECT coalesce(sum(length(data)), 0) FROM chunks c WHERE c.session_id = records.session_id) AS bytes
       FROM records WHERE session_id = ?`,
    )
    .get(sessionId) as { first: string | null; last: string | null; skewed: number; bytes: number | null };
  db.close();
  return { countsByKind: counts, firstObservedAt: span.first, lastObservedAt: span.last, clockSkewedRecords: span.skewed, bytesOnDisk: span.bytes ?? 0 };
}

function listed(path: string, name: string) {
  const store = openStore(path, { readonly: true });
  const s = store.listSessions().find((x) => x.name === name)!;
  store.close();
  return { countsByKind: s.countsByKind, firstObservedAt: s.firstObservedAt, lastObservedAt: s.lastObservedAt, clockSkewedRecords: s.clockSkewedRecords, bytesOnDisk: s.bytesOnDisk };
}

describe('session tallies (schema 8): what `sessions` shows, kept by every append', () => {
  const tempDir = useTempDir();

  it('agree with a count of the records across appends, merges into stored and unstored rows, skewed clocks, untimed records and non-BMP text', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    const other = store.createSession({ ...newSession, name: 'run-2' });
    const web = deployment({ name: 'web', namespace: 'shop', uid: 'u-web', resourceVersion: '9' });
    store.append(session.id, [watchEvent(web, 'ADDED', { observedAt: '2026-11-25T10:00:00.010Z' }), sdk('2026-11-25T10:00:00.050Z', '10'), marker(null)]);
    store.append(other.id, [marker('2026-11-24T00:00:00.000Z')]);
    // the audit report of seq 2 merges into the stored row; rv 11 pairs inside the append; a skewed reconcile and
    // a marker with characters outside the BMP (one character each to SQLite, two UTF-16 units to JavaScript)
    store.append(session.id, [
      audit('2026-11-25T10:00:00.020Z', '10'),
      sdk('2026-11-25T10:00:01.050Z', '11'),
      audit('2026-11-25T10:00:01.030Z', '11'),
      skewed('2026-11-25T09:00:00.000Z'),
      marker('2026-11-25T10:00:02.000Z', 'rollout 🚀 done 𝄞'),
    ]);
    store.append(session.id, [watchEvent({ ...web, metadata: { ...web.metadata, resourceVersion: '12' } }, 'MODIFIED', { observedAt: '2026-11-25T10:00:03.000Z' })]);
    store.close();

    const expected = scanned(path, session.id);
    expect(expected).toMatchObject({
      countsByKind: { watch: 2, api: 2, marker: 2, reconcile: 1 },
      firstObservedAt: '2026-11-25T10:00:00.010Z',
      lastObservedAt: '2026-11-25T10:00:03.000Z',
      clockSkewedRecords: 1,
    });
    expect(listed(path, 'run-1')).toEqual(expected);
    expect(listed(path, 'run-2')).toEqual(scanned(path, other.id));
  });

  it('go with their session when it is deleted', () => {
    const path = join(tempDir(), 'kreplay.db');
    const store = openStore(path);
    const session = store.createSession(newSession);
    store.append(session.id, [marker('2026-11-25T10:00:00.000Z')]);
    store.deleteSession(session.id);
    const again = store.createSession(newSession);
    store.append(again.id, [marker('2026-11-26T10:00:00.000Z')]);
    expect(store.listSessions().map((s) => [s.name, s.recordCount, s.firstObservedAt])).toEqual([['run-1', 1, '2026-11-26T10:00:00.000Z']]);
    store.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT session_id, kind, records FROM session_tallies').all()).toEqual([{ session_id: again.id, kind: 'marker', records: 1 }]);
    raw.close();
  });

  it('are counted from the records when a version-7 database is upgraded; a read-only open of one counts them itself', () => {
    const path = join(tempDir(), 'v7.db');
    writeOldDatabase(path, 7, `
      INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, 'v7-run', 'recorder', '0.1.0', '2026-11-01T00:00:00Z', 4);
      INSERT INTO records (session_id, seq, kind, origin, observed_at, payload)
        VALUES (1, 1, 'marker', 'watch', '2026-11-01T00:00:01Z', '{"record":"marker","observedAt":"2026-11-01T00:00:01Z","origin":"watch","marker":"recorder-started"}'),
               (1, 2, 'marker', 'watch', NULL, '{"record":"marker","observedAt":null,"origin":"watch","marker":"gap","message":"🚀"}'),
               (1, 3, 'reconcile', 'ingest', '2026-10-01T00:00:00Z', '{"record":"reconcile","observedAt":"2026-10-01T00:00:00Z","clockSkew":{"field":"observedAt","receivedAt":"2026-11-01T00:00:02Z","skewMs":-1}}');
    `);
    const before = scanned(path, 1);
    expect(before).toMatchObject({ countsByKind: { marker: 2, reconcile: 1 }, firstObservedAt: '2026-11-01T00:00:01Z', clockSkewedRecords: 1 });
    // read-only: still version 7, counted from the records
    expect(listed(path, 'v7-run')).toEqual(before);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(7);
    check.close();
    // read-write: migrated, the tallies hold the same, and appends go on from them
    const store = openStore(path);
    expect(store.listSessions()[0]).toMatchObject({ recordCount: 3, ...before });
    store.append(1, [marker('2026-11-01T00:00:05Z')]);
    store.close();
    expect(listed(path, 'v7-run')).toEqual(scanned(path, 1));
    expect(listed(path, 'v7-run').lastObservedAt).toBe('2026-11-01T00:00:05Z');
  });
});
