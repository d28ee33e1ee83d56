import { SqliteSessionStore, type OpenOptions } from './sqlite-store.js';
import type { SessionStore } from './types.js';

export type * from './types.js';
export { DecodedBodies } from './decoded-bodies.js';
export { DatabaseTooNewError, DatabaseUnreadableError, loadMigrations, migrate } from './migrate.js';
export { SqliteSessionStore } from './sqlite-store.js';
export { inspectDatabaseFile, missingWalAdvice, MissingWalError, type DatabaseFileState } from './wal-check.js';

/** Opens (creating and migrating as needed) a kreplay database file. */
export function openStore(path: string, options: OpenOptions = {}): SessionStore {
  return new SqliteSessionStore(path, options);
}
export { APPENDER_CACHE_KIB } from './appender-cache.js';
export { toolVersion } from './tool-version.js';
