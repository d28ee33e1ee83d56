import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Thrown when a database was written by a newer kreplay: opening it would risk corrupting it. */
export class DatabaseTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly databaseVersion: number,
    readonly codeVersion: number,
  ) {
    super(
      `${path} has schema version ${databaseVersion}, but this kreplay only knows versions up to ${codeVersion}. ` +
        'It was written by a newer kreplay: upgrade kreplay to read it (the file was not changed).',
    );
    this.name = 'DatabaseTooNewError';
  }
}

/** migrations/ sits at the package root: two levels up from dist/store/, one from store/ when run from source. */
function migrationsDir(): string {
  for (const relative of ['../migrations/', '../../migrations/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(join(dir, '0001_init.sql'))) return dir;
  }
  throw new Error('kreplay is installed without its migrations/ folder; reinstall it');
}

export function loadMigrations(dir = migrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ version: Number(file.slice(0, 4)), name: file, sql: readFileSync(join(dir, file), 'utf8') }));
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migration ${migration.name} is out of sequence: expected version ${index + 1}`);
  });
  return migrations;
}

/**
 * Refuses a database a newer kreplay wrote, before anything is written to it (even the journal mode: switching a
 * newer database to WAL would already be a write).
 */
export function refuseTooNew(db: Database.Database, path: string, migrations: readonly Migration[] = loadMigrations()): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) throw new DatabaseTooNewError(path, current, migrations.length);
}

/** Thrown when the file is not a SQLite database, or a damaged one: nothing was written to it. */
export class DatabaseUnreadableError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path} is not a kreplay database or is damaged (${reason}); it was not changed.`);
    this.name = 'DatabaseUnreadableError';
  }
}

/**
 * Brings the database to the newest schema. Each migration runs in its own transaction together with the
 * `PRAGMA user_version` bump, so a crash leaves the database at a whole version (Signal Desktop's ts/sql).
 */
export function migrate(db: Database.Database, path: string, migrations: readonly Migration[] = loadMigrations(), target?: number): number {
  const codeVersion = target ?? migrations.length;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) throw new DatabaseTooNewError(path, current, migrations.length);
  for (const migration of migrations) {
    if (migration.version <= current || migration.version > codeVersion) continue;
    // IMMEDIATE takes the write lock before the version is read again: two processes opening a new database at once
    // (a recorder and an importer, two recorders) would otherwise both read version 0 and the second would fail on
    // `table sessions already exists` once the first committed. The loser waits (busy_timeout) and then skips.
    db.transaction(() => {
      if ((db.pragma('user_version', { simple: true }) as number) >= migration.version) return;
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
  return Math.max(current, codeVersion);
}
