import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneMarkerSession, writeOldDatabase } from '../test/old-database.js';
import { useTempDir } from '../test/temp.js';
import { loadMigrations, migrate, openStore } from './index.js';

describe('migrations', () => {
  const tempDir = useTempDir();

  it('are numbered without gaps and each sets user_version', () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
    const db = new Database(join(tempDir(), 'fresh.db'));
    expect(migrate(db, 'fresh.db', migrations)).toBe(migrations.length);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    db.close();
  });

  it('lets two processes open a new database at once: the one that loses the race skips what the other applied', () => {
    const path = join(tempDir(), 'raced.db');
    const first = new Database(path);
    const second = new Database(path);
    second.pragma('busy_timeout = 5000');
    const migrations = loadMigrations();
    // The other process migrates right after this one read version 0 and before its first transaction: the moment a
    // recorder and an importer starting together hit (`table sessions already exists`).
    let raced = false;
    const racing = migrations.map((migration, index) =>
      index === 0
        ? {
            ...migration,
            get version() {
              if (!raced) {
                raced = true;
                migrate(first, path, migrations);
              }
              return migration.version;
            },
          }
        : migration,
    );
    expect(migrate(second, path, racing)).toBe(migrations.length);
    expect(raced).toBe(true);
    expect(second.pragma('user_version', { simple: true })).toBe(migrations.length);
    first.close();
    second.close();
  });

  it('upgrades a populated version-1 database to the newest version without losing records', () => {
    const path = join(tempDir(), 'old.db');
    // A database as kreplay 0.1 (schema 1) left it, written with schema-1 SQL only.
    writeOldDatabase(path, 1, (old) => {
      expect(old.pragma('user_version', { simple: true })).toBe(1);
      old.exec(`
      INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, 'old-run', 'import:ndjson', '0.1.0', '2026-11-01T00:00:00Z', 3);
      INSERT INTO objects (id, session_id, api_group, version, resource, kind, namespace, name, uid) VALUES (1, 1, 'apps', 'v1', 'deployments', 'Deployment', 'default', 'web', 'u-1');
      INSERT INTO chunks (id, session_id, encoding, data) VALUES (1, 1, 0, CAST('{"kind":"Deployment","metadata":{"name":"web","uid":"u-1","resourceVersion":"5"}}[{"op":"replace","path":"/metadata/resourceVersion","value":"6"}]' AS BLOB));
      INSERT INTO records (session_id, seq, kind, origin, observed_at, object_id, type, resource_version, generation, body_kind, chunk_id, body_offset, body_length)
        VALUES (1, 1, 'watch', 'watch', '2026-11-01T00:00:01Z', 1, 'ADDED', '5', 1, 1, 1, 0, 81),
               (1, 2, 'watch', 'watch', '2026-11-01T00:00:02Z', 1, 'MODIFIED', '6', 1, 2, 1, 81, 65);
    `);
    });

    const store = openStore(path);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(loadMigrations().length);
    check.close();
    const session = store.findSession('old-run')!;
    const records = [...store.records(session.id)];
    expect(records.map((r) => (r.record === 'watch' ? [r.type, r.resourceVersion, r.object?.metadata?.resourceVersion] : null))).toEqual([
      ['ADDED', '5', '5'],
      ['MODIFIED', '6', '6'],
    ]);
    // The new table works on the upgraded database, and new records still append after the old ones.
    expect(store.cachedAnalysis(session.id, 'default')).toBeUndefined();
    store.saveAnalysis(session.id, 'default', 2, '[]');
    expect(store.cachedAnalysis(session.id, 'default')).toBe('[]');
    store.append(session.id, [{ record: 'marker', observedAt: null, origin: 'import', marker: 'gap', message: 'upgraded' }]);
    expect(store.cachedAnalysis(session.id, 'default')).toBeUndefined();
    expect(store.lastSeq(session.id)).toBe(3);
    store.close();
  });

  it('upgrades a populated version-5 database to version 6: its recordings have no watch checkpoints until they append', () => {
    const path = join(tempDir(), 'v5.db');
    writeOldDatabase(path, 5, oneMarkerSession('v5-run', 'recorder-started'));

    // Read-only, the file stays at version 5 and simply has no checkpoints.
    const readOnly = openStore(path, { readonly: true });
    expect(readOnly.watchCheckpoints(1)).toEqual([]);
    readOnly.close();
    const check = new Database(path, { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(5);
    check.close();

    const store = openStore(path);
    expect(store.watchCheckpoints(1)).toEqual([]);
    store.append(1, [{ record: 'marker', observedAt: null, origin: 'watch', marker: 'list-finished', resource: 'configmaps', resourceVersion: '42' }], [
      { watch: 'v1/configmaps@*', resourceVersion: '42', record: 0 },
    ]);
    expect(store.watchCheckpoints(1)).toMatchObject([{ watch: 'v1/configmaps@*', resourceVersion: '42', throughSeq: 2 }]);
    expect(store.record(1, 1)).toMatchObject({ record: 'marker', marker: 'recorder-started' });
    store.close();
  });

  it('upgrades a populated version-3 database to version 4: old versions have no facts and are read from their bodies', () => {
    const path = join(tempDir(), 'v3.db');
    writeOldDatabase(path, 3, `
      INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, 'v3-run', 'record', '0.1.0', '2026-11-01T00:00:00Z', 3);
      INSERT INTO objects (id, session_id, api_group, version, resource, kind, namespace, name, uid) VALUES (1, 1, 'apps', 'v1', 'deployments', 'Deployment', 'default', 'web', 'u-1');
      INSERT INTO chunks (id, session_id, encoding, data) VALUES (1, 1, 0, CAST('{"kind":"Deployment","metadata":{"name":"web","uid":"u-1","resourceVersion":"5","generation":1,"managedFields":[{"manager":"web-operator","operation":"Update","time":"2026-11-01T00:00:00Z"}]},"spec":{"replicas":1},"status":{"observedGeneration":1}}' AS BLOB));
      INSERT INTO records (session_id, seq, kind, origin, observed_at, object_id, type, resource_version, generation, body_kind, chunk_id, body_offset, body_length)
        VALUES (1, 1, 'watch', 'watch', '2026-11-01T00:00:01Z', 1, 'ADDED', '5', 1, 1, 1, 0, 248);
    `);

    // Read-only, the database is not migrated, and a lazy read still works (bodies instead of facts).
    const readOnly = openStore(path, { readonly: true });
    const before = [...readOnly.records(1, { withObjects: 'lazy' })];
    expect(before[0]).toMatchObject({ record: 'watch', facts: undefined });
    expect(before[0]!.loadObject!()).toMatchObject({ spec: { replicas: 1 } });
    readOnly.close();

    const store = openStore(path);
    // The upgraded session grows: the next version gets facts computed against the old row's body.
    store.append(1, [
      {
        record: 'watch', observedAt: '2026-11-01T00:00:02Z', origin: 'watch', group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment',
        type: 'MODIFIED', namespace: 'default', name: 'web', uid: 'u-1', resourceVersion: '6', generation: 1,
        object: { kind: 'Deployment', metadata: { name: 'web', uid: 'u-1', resourceVersion: '6', generation: 1, managedFields: [{ manager: 'web-operator', operation: 'Update', time: '2026-11-01T00:00:00Z' }, { manager: 'scaler', operation: 'Update', subresource: 'status', time: '2026-11-01T00:00:02Z' }] }, spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1 } },
      },
    ]);
    const records = [...store.records(1, { withObjects: 'lazy' })];
    expect(records.map((r) => r.facts === undefined)).toEqual([true, false]);
    expect(records[1]!.facts).toMatchObject({ writer: 'scaler', statusWrite: true, statusChanged: true, observedGeneration: 1 });
    store.close();
  });
});
