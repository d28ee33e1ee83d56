import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployment, watchEvent } from '../../test/builders.js';
import { useTempDir } from '../../test/temp.js';
import { openStore, type SessionStore } from '../../store/index.js';
import { runCli } from '../testing/run-cli.js';

const run = runCli;

const newSession = { name: 'live', source: 'recorder', cluster: null, context: null, toolVersion: 'test', config: {} } as const;

function records(n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => watchEvent(deployment({ name: `web-${from + i}`, resourceVersion: String(100 + from + i) }), 'ADDED'));
}

/** A recorder mid-session: the store stays open, so SQLite has not checkpointed and the session is only in the -wal. */
function liveWriter(dir: string): { path: string; store: SessionStore; sessionId: number } {
  const path = join(dir, 'kreplay.db');
  const store = openStore(path);
  const session = store.createSession(newSession);
  store.append(session.id, records(20));
  return { path, store, sessionId: session.id };
}

describe('a database copied without its -wal', () => {
  const tempDir = useTempDir();

  it('is refused with what to copy instead, and the copy is left untouched', async () => {
    const { path, store } = liveWriter(tempDir());
    try {
      expect(statSync(`${path}-wal`).size).toBeGreaterThan(statSync(path).size);
      const podDir = tempDir();
      const copy = join(podDir, 'kreplay.db');
      copyFileSync(path, copy); // what `kubectl cp pod:/var/lib/kreplay/kreplay.db .` does
      const before = statSync(copy).size;
      for (const args of [['--db', copy, 'sessions'], ['--db', copy, 'check', 'live']]) {
        const result = await run(args);
        expect(result.code).toBe(2);
        expect(result.out).not.toContain('No sessions yet');
        expect(result.err).toContain('has a -wal file you did not copy');
        expect(result.err).toMatch(/copy kreplay.db-wal \(and kreplay.db-shm\) too/i);
        expect(result.err).toContain('kreplay export');
      }
      expect(readdirSync(podDir)).toEqual(['kreplay.db']);
      expect(statSync(copy).size).toBe(before);
      // With the -wal beside it, the same copy is whole.
      copyFileSync(`${path}-wal`, `${copy}-wal`);
      const whole = await run(['--db', copy, 'sessions']);
      expect(whole.code).toBe(0);
      expect(whole.out).toMatch(/live\s+recorder\s+.*\s20\s/);
    } finally {
      store.close();
    }
  });

  it('warns when the schema was checkpointed but the session looks cut short', async () => {
    const dir = tempDir();
    const path = join(dir, 'kreplay.db');
    const store = openStore(path);
    try {
      const session = store.createSession(newSession);
      // A checkpoint (SQLite runs one every ~1000 pages) after the session was created, before its records.
      const other = new Database(path);
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.close();
      store.append(session.id, records(5));
      const copy = join(tempDir(), 'kreplay.db');
      copyFileSync(path, copy);
      const result = await run(['--db', copy, 'sessions']);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/live\s+recorder\s+.*\s0\s/);
      expect(result.err).toContain('may have a -wal file you did not copy');
    } finally {
      store.close();
    }
  });

  it('warns when a -shm was copied without its -wal, even if the sessions look whole', async () => {
    const { path, store, sessionId } = liveWriter(tempDir());
    try {
      const other = new Database(path);
      other.pragma('wal_checkpoint(PASSIVE)');
      other.close();
      store.append(sessionId, records(5, 20)); // only in the -wal
      const dir = tempDir();
      const copy = join(dir, 'kreplay.db');
      copyFileSync(path, copy);
      copyFileSync(`${path}-shm`, `${copy}-shm`);
      const result = await run(['--db', copy, 'sessions']);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/live\s+recorder\s+.*\s20\s/);
      expect(result.err).toContain('may have a -wal file you did not copy (a -shm is beside it but no -wal)');
    } finally {
      store.close();
    }
  });

  it('does not warn about a cleanly closed database', async () => {
    const { path, store } = liveWriter(tempDir());
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const result = await run(['--db', path, 'sessions']);
    expect(result.code).toBe(0);
    expect(result.err).toBe('');
  });
});

describe('kreplay snapshot', () => {
  const tempDir = useTempDir();

  it('writes one self-contained file with every committed record while the writer holds the WAL open', async () => {
    const { path, store, sessionId } = liveWriter(tempDir());
    try {
      const out = join(tempDir(), 'snap.db');
      const result = await run(['--db', path, 'snapshot', out]);
      expect(result.code).toBe(0);
      expect(result.err).toContain(`wrote a snapshot of ${path} to ${out}`);
      store.append(sessionId, records(3, 20)); // the writer goes on; the snapshot is as of its start
      expect(existsSync(`${out}-wal`)).toBe(false);
      const sessions = await run(['--db', out, 'sessions', '--json']);
      const listed = (JSON.parse(sessions.out) as { sessions: { name: string; recordCount: number }[] }).sessions;
      expect(listed.map((s) => [s.name, s.recordCount])).toEqual([['live', 20]]);
      expect(sessions.err).toBe('');

      const again = await run(['--db', path, 'snapshot', out]);
      expect(again.code).toBe(2);
      expect(again.err).toContain('already exists');
    } finally {
      store.close();
    }
  });
});
