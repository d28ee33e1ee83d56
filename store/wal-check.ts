import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Signs that a database file was copied without its write-ahead log.
 *
 * In WAL mode SQLite appends every commit to `<db>-wal` and copies pages back into the main file only at a
 * checkpoint (every ~1000 pages, or when the last connection closes). While the recorder runs, a session lives in
 * the -wal: `kubectl cp pod:/var/lib/kreplay/kreplay.db .` copies a main file that holds the header and little
 * else, and SQLite opens it happily as an empty database (sqlite.org/wal.html, "the WAL file is part of the
 * persistent state of the database"). What the main file's header says (sqlite.org/fileformat2.html, "1.3 The
 * Database Header") tells the cases apart:
 * - bytes 18/19 (file format write/read version) are 2 once the file was put in WAL mode;
 * - bytes 28..31 are the page count, bytes 60..63 the user_version kreplay's migrations set.
 * kreplay switches to WAL and then migrates, so a WAL-mode file with one page or user_version 0 and no -wal (or an
 * empty one) had its schema, and everything after it, in a -wal that is not here.
 */
export interface DatabaseFileState {
  /** The header says WAL mode. */
  walMode: boolean;
  pageCount: number;
  userVersion: number;
  /** `<db>-wal` beside it, and whether it holds anything (SQLite leaves an empty one after a read-only open). */
  wal: 'absent' | 'empty' | 'present';
  shm: boolean;
}

const HEADER_BYTES = 100;
const SQLITE_MAGIC = 'SQLite format 3\0';

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** The state of a database file before anything opens it; undefined when it does not exist or is not SQLite. */
export function inspectDatabaseFile(path: string): DatabaseFileState | undefined {
  if (path === ':memory:' || path === '') return undefined;
  let header: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      header = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, header, 0, HEADER_BYTES, 0) < HEADER_BYTES) return undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (header.toString('latin1', 0, 16) !== SQLITE_MAGIC) return undefined;
  const walSize = sizeOf(`${path}-wal`);
  return {
    walMode: header[18] === 2 && header[19] === 2,
    pageCount: header.readUInt32BE(28),
    userVersion: header.readUInt32BE(60),
    wal: walSize === undefined ? 'absent' : walSize === 0 ? 'empty' : 'present',
    shm: sizeOf(`${path}-shm`) !== undefined,
  };
}

/** Certain: a WAL-mode file whose schema is not in the main file and no -wal to supply it. */
export function schemaOnlyInMissingWal(state: DatabaseFileState | undefined): boolean {
  return state !== undefined && state.walMode && state.wal !== 'present' && (state.pageCount <= 1 || state.userVersion === 0);
}

/**
 * How likely a WAL-mode file lost its -wal. 'possible': nothing in a -wal beside it, which is also how a cleanly
 * closed database looks, so callers say so only when the sessions look cut short too (none, or one without
 * records). 'likely': a -shm with no -wal at all; SQLite removes both when the last writer closes, so the pair was
 * split (the -shm copied, the -wal not).
 */
export function walMissingLikelihood(state: DatabaseFileState | undefined): 'none' | 'possible' | 'likely' {
  if (state === undefined || !state.walMode || state.wal === 'present') return 'none';
  return state.shm && state.wal === 'absent' ? 'likely' : 'possible';
}

/** What to do about it, for the file at `path`. */
export function missingWalAdvice(path: string): string {
  const name = basename(path);
  return (
    `copy ${name}-wal (and ${name}-shm) too, or use \`kreplay export <session> -o /tmp/<session>.json\` ` +
    `(or \`kreplay snapshot /tmp/${name}\`) inside the pod and copy that file`
  );
}

/** Thrown before opening a copy whose schema and sessions are in a -wal that was not copied: opening would hide it. */
export class MissingWalError extends Error {
  constructor(readonly path: string) {
    const advice = missingWalAdvice(path);
    super(
      `${path} has a -wal file you did not copy: its sessions are in ${basename(path)}-wal, which is not beside it. ` +
        `${advice[0]!.toUpperCase()}${advice.slice(1)}. The file was not changed ` +
        '(if it never held a session, e.g. kreplay was stopped while creating it, delete it).',
    );
    this.name = 'MissingWalError';
  }
}
