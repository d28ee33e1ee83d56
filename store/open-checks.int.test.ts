import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../test/temp.js';
import { DatabaseTooNewError, DatabaseUnreadableError, openStore } from './index.js';

// Opening a database kreplay cannot or may not use gives a clear error and never writes to the file: not the schema,
// not the journal mode, not a -wal beside it.

const tempDir = useTempDir();
const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

function populated(path: string): void {
  const store = openStore(path);
  store.createSession({ name: 'kept', source: 'import:ndjson', cluster: null, context: null, toolVersion: 'test', config: {} });
  store.close();
}

describe('opening a database', () => {
  it('refuses a newer schema before writing anything, even the journal mode', () => {
    const path = join(tempDir(), 'newer.db');
    populated(path);
    const raw = new Database(path);
    raw.pragma('journal_mode = DELETE');
    raw.pragma('user_version = 999');
    raw.close();
    const before = digest(path);
    expect(() => openStore(path)).toThrow(DatabaseTooNewError);
    expect(() => openStore(path, { readonly: true })).toThrow(/schema version 999.*upgrade kreplay/);
    expect(digest(path)).toBe(before);
    expect(existsSync(`${path}-wal`)).toBe(false);
    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete');
    check.close();
  });

  it('says a file that is not a database, or a damaged one, is that, and leaves it as it was', () => {
    const dir = tempDir();
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, randomBytes(8192));
    const before = digest(garbage);
    expect(() => openStore(garbage)).toThrow(DatabaseUnreadableError);
    expect(() => openStore(garbage)).toThrow(new RegExp(`${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a kreplay database or is damaged.*it was not changed`));
    expect(digest(garbage)).toBe(before);
    expect(existsSync(`${garbage}-wal`)).toBe(false);

    const text = join(dir, 'notes.db');
    writeFileSync(text, 'SQLite format 3 is what this text claims to be, but it is a text file\n'.repeat(100));
    expect(() => openStore(text)).toThrow(DatabaseUnreadableError);
  });

  it('reports a truncated database as damaged when it is read, not as a crash', () => {
    const path = join(tempDir(), 'truncated.db');
    populated(path);
    const raw = new Database(path);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    truncateSync(path, 3 * 4096);
    let error: unknown;
    try {
      const store = openStore(path);
      store.listSessions();
      store.close();
    } catch (caught) {
      error = caught;
    }
    // Either refused at open, or SQLite's own corruption error on the first read: a damaged file, never a write.
    expect(error).toBeDefined();
    expect(error instanceof DatabaseUnreadableError || ['SQLITE_CORRUPT', 'SQLITE_NOTADB'].includes((error as { code?: string }).code ?? '')).toBe(true);
  });

  // Root may write any file access(2) allows: a file nobody may write (no write bit) is read-only to root as well, so
  // this runs as every user. What proves "never a write": every writing call fails, and the bytes, the size and the
  // modification time of the file are what they were, with no -wal holding anything beside it.
  it('opens a file nobody may write read-only, as root too: reads work, every write fails, the file is unchanged', () => {
    const path = join(tempDir(), 'readonly.db');
    populated(path);
    const sessionId = openStore(path, { readonly: true }).listSessions()[0]!.id;
    chmodSync(path, 0o444);
    const before = { digest: digest(path), size: statSync(path).size, mtimeMs: statSync(path).mtimeMs };
    const store = openStore(path);
    try {
      expect(store.readonlyFile).toBe(true);
      expect(store.listSessions().map((s) => s.name)).toEqual(['kept']);
      const writes: [string, () => unknown][] = [
        ['createSession', () => store.createSession({ name: 'new', source: 'import:ndjson', cluster: null, context: null, toolVersion: 'test', config: {} })],
        ['append', () => store.append(sessionId, [{ record: 'marker', observedAt: '2026-12-07T00:00:00.000Z', origin: 'import', marker: 'imported', message: 'x' }])],
        ['markPartial', () => store.markPartial(sessionId, ['x'])],
        ['endSession', () => store.endSession(sessionId, '2026-12-07T00:00:00.000Z')],
        ['deleteSession', () => store.deleteSession(sessionId)],
      ];
      for (const [name, write] of writes) expect(write, name).toThrow(/readonly/);
      expect(store.listSessions().map((s) => s.name)).toEqual(['kept']);
    } finally {
      store.close();
    }
    expect({ digest: digest(path), size: statSync(path).size, mtimeMs: statSync(path).mtimeMs }).toEqual(before);
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
    // Write bits back: the same file opens read-write again (the rule is the file's mode, not who runs it).
    chmodSync(path, 0o644);
    const writable = openStore(path);
    try {
      expect(writable.readonlyFile).toBe(false);
    } finally {
      writable.close();
    }
  });
});
