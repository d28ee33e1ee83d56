import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openStore, type SessionStore } from '../store/index.js';

/** A fresh directory per test, removed afterwards: tests use real SQLite files, never :memory: shortcuts. */
export function useTempDir(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreplay-test-'));
    dirs.push(dir);
    return dir;
  };
}

/**
 * One real SQLite database for the whole test file (suites that import many sessions into one store), opened before
 * the first test and removed after the last.
 */
export function useFileStore(): () => SessionStore {
  let dir: string | undefined;
  let store: SessionStore | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kreplay-test-'));
    store = openStore(join(dir, 'kreplay.db'));
  });
  afterAll(() => {
    store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!store) throw new Error('useFileStore: the store exists only inside tests and hooks');
    return store;
  };
}
