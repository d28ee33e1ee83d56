import Database from 'better-sqlite3';
import { loadMigrations, migrate } from '../store/index.js';

/**
 * A database as an older kreplay left it, for the tests of each migration: created at schema `version` only, filled
 * with that version's own SQL (a string, or a callback given the connection), and closed, so the next open upgrades it.
 */
export function writeOldDatabase(path: string, version: number, fill: string | ((db: Database.Database) => void)): void {
  const db = new Database(path);
  try {
    migrate(db, path, loadMigrations(), version);
    if (typeof fill === 'string') db.exec(fill);
    else fill(db);
  } finally {
    db.close();
  }
}
