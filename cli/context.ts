import envPaths from 'env-paths';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { SessionInfo } from '../model/index.js';
import { missingWalAdvice, openStore, type SessionStore } from '../store/index.js';
import { UserError } from './errors.js';

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: progress bars and the TUI only then. */
  readonly isTTY: boolean;
}

/** What every command gets from the CLI root: where the database is, and where to write. */
export interface CliContext {
  readonly output: Output;
  readonly env: NodeJS.ProcessEnv;
  /** The database path from --db, $KREPLAY_DB, or the user's data directory. */
  dbPath(): string;
  /** Opens the database; commands close it through `withStore`. */
  openStore(options?: { mustExist?: boolean; cacheKiB?: number; pageSize?: number }): SessionStore;
  withStore<T>(fn: (store: SessionStore) => T, options?: { mustExist?: boolean }): T;
  resolveSession(store: SessionStore, nameOrId: string): SessionInfo;
}

/**
 * The warning for a database that may have been copied without its -wal: when a -shm sits there without a -wal, or
 * when its sessions look cut short (none, or one with no records); undefined otherwise. A cleanly closed database
 * looks the same on disk, hence "may".
 */
export function missingWalWarning(store: SessionStore, sessions: readonly { recordCount?: number }[]): string | undefined {
  if (store.walMissing === 'none') return undefined;
  const cutShort = sessions.length === 0 || sessions.some((s) => s.recordCount === 0);
  if (store.walMissing === 'possible' && !cutShort) return undefined;
  const why = store.walMissing === 'likely' ? 'a -shm is beside it but no -wal' : 'it is in WAL mode and no -wal is beside it';
  return `${store.path} may have a -wal file you did not copy (${why}): if it came from a running recorder, ${missingWalAdvice(store.path)}`;
}

export function defaultDbPath(env: NodeJS.ProcessEnv): string {
  return env.KREPLAY_DB ? resolve(env.KREPLAY_DB) : join(envPaths('kreplay', { suffix: '' }).data, 'kreplay.db');
}

export function createContext(options: { db?: string | undefined; output: Output; env: NodeJS.ProcessEnv }): CliContext {
  const dbPath = () => (options.db ? resolve(options.db) : defaultDbPath(options.env));
  const context: CliContext = {
    output: options.output,
    env: options.env,
    dbPath,
    openStore({ mustExist = false, cacheKiB, pageSize } = {}) {
      const path = dbPath();
      if (mustExist && !existsSync(path)) {
        throw new UserError(`no kreplay database at ${path}`, 'Record or import a session first (kreplay import, kreplay record, kreplay demo), or point --db / KREPLAY_DB at your database.');
      }
      return openStore(path, { ...(cacheKiB === undefined ? {} : { cacheKiB }), ...(pageSize === undefined ? {} : { pageSize }) });
    },
    withStore(fn, storeOptions) {
      const store = context.openStore(storeOptions);
      try {
        return fn(store);
      } finally {
        store.close();
      }
    },
    resolveSession(store, nameOrId) {
      const session = store.findSession(nameOrId);
      if (!session) {
        const sessions = store.listSessions();
        const names = sessions.map((s) => s.name);
        const wal = missingWalWarning(store, sessions);
        throw new UserError(
          `no session named "${nameOrId}" in ${store.path}`,
          names.length
            ? `Sessions in this database: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}. Run \`kreplay sessions\` to list them.${wal ? `\n  ${wal}` : ''}`
            : (wal ?? 'This database has no sessions yet.'),
        );
      }
      return session;
    },
  };
  return context;
}
