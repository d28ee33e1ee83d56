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

/**
 * The SQL of the smallest recording an older version held: session 1 named `name`, its one record a `marker` at seq 1.
 * Written with the columns every schema since version 1 has, so it fills a database at any older version.
 */
export function oneMarkerSession(name: string, marker: string): string {
  const payload = JSON.stringify({ record: 'marker', observedAt: '2026-11-01T00:00:01Z', origin: 'watch', marker });
  return `
    INSERT INTO sessions (id, name, source, tool_version, created_at, next_seq) VALUES (1, '${name}', 'recorder', '0.1.0', '2026-11-01T00:00:00Z', 2);
    INSERT INTO records (session_id, seq, kind, origin, observed_at, payload) VALUES (1, 1, 'marker', 'watch', '2026-11-01T00:00:01Z', '${payload}');
  `;
}
