import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Retention while recording: keep the database under `maxSize` and drop what is older than `maxAge`, without ever
 * blocking the recorder on a scan of the whole database.
 *
 * The unit of deletion is a session. A long recording is split into segments (sessions NAME, NAME.2, NAME.3, ...):
 * the live segment is rotated once it is older than maxAge/4 or larger than maxSize/4, and each segment starts with
 * a fresh list of every resource, so any segment replays on its own. Old segments (and other recorder sessions in
 * the same database) are deleted whole, oldest first: when their newest record is older than maxAge, or while the
 * database is over maxSize. You keep at least maxAge of history (at most maxAge + maxAge/4), and the database stays
 * near maxSize (the live segment is at most a quarter of it). Sessions that were imported, not recorded, are never
 * deleted. See docs/recorder.md.
 */

export interface RetentionLimits {
  readonly maxAgeMs?: number | undefined;
  readonly maxBytes?: number | undefined;
}

export interface RetentionSession {
  readonly id: number;
  readonly name: string;
  /** Newest record (or the end) of the session, ms since epoch; null when unknown. */
  readonly newestAt: number | null;
  readonly bytes: number;
}

export interface RetentionInput {
  readonly now: number;
  /** Bytes of the database in use (pages not on the free list). */
  readonly usedBytes: number;
  /** Recorder sessions other than the live one, deletable. */
  readonly others: readonly RetentionSession[];
  /** When the live segment started, ms since epoch. */
  readonly currentStartedAt: number;
  readonly limits: RetentionLimits;
}

export interface RetentionPlan {
  readonly delete: readonly { id: number; name: string; reason: string }[];
  readonly rotate: { reason: string } | undefined;
}

/** Below this fraction of maxSize deletion stops, so the next check does not delete again at once. */
const LOW_WATER = 0.9;
/** The live segment's share of the limits before it rotates. */
const SEGMENT_SHARE = 0.25;

export function planRetention(input: RetentionInput): RetentionPlan {
  const { maxAgeMs, maxBytes } = input.limits;
  const toDelete: { id: number; name: string; reason: string }[] = [];
  const deleted = new Set<number>();
  if (maxAgeMs !== undefined) {
    for (const session of input.others) {
      if (session.newestAt !== null && session.newestAt < input.now - maxAgeMs) {
        toDelete.push({ id: session.id, name: session.name, reason: `newest record older than maxAge (${Math.round((input.now - session.newestAt) / 1000)}s old)` });
        deleted.add(session.id);
      }
    }
  }
  const othersBytes = input.others.reduce((sum, s) => sum + s.bytes, 0);
  const currentBytes = Math.max(0, input.usedBytes - othersBytes);
  if (maxBytes !== undefined && input.usedBytes > maxBytes) {
    let used = input.usedBytes - input.others.filter((s) => deleted.has(s.id)).reduce((sum, s) => sum + s.bytes, 0);
    const oldestFirst = input.others.filter((s) => !deleted.has(s.id)).sort((a, b) => (a.newestAt ?? 0) - (b.newestAt ?? 0) || a.id - b.id);
    for (const session of oldestFirst) {
      if (used <= maxBytes * LOW_WATER) break;
      toDelete.push({ id: session.id, name: session.name, reason: `database over maxSize (${used} > ${maxBytes} bytes)` });
      deleted.add(session.id);
      used -= session.bytes;
    }
  }
  let rotate: { reason: string } | undefined;
  if (maxAgeMs !== undefined && input.now - input.currentStartedAt > maxAgeMs * SEGMENT_SHARE) {
    rotate = { reason: `segment older than maxAge/4 (${Math.round((input.now - input.currentStartedAt) / 1000)}s)` };
  } else if (maxBytes !== undefined && currentBytes > maxBytes * SEGMENT_SHARE) {
    rotate = { reason: `segment larger than maxSize/4 (${currentBytes} bytes)` };
  }
  return { delete: toDelete, rotate };
}

/** The name of segment n (1-based) of a recording: NAME, NAME.2, NAME.3, ... */
export function segmentName(base: string, n: number): string {
  return n <= 1 ? base : `${base}.${n}`;
}

/**
 * Bytes in use in an SQLite database file, from its 100-byte header (https://www.sqlite.org/fileformat.html §1.3:
 * page size at offset 16, page count at 28, free-list page count at 36), plus the WAL file. Constant time, no query:
 * the recorder must not scan the database it is writing. The header is updated at checkpoints, so the figure lags
 * by at most the WAL (which is added, erring on the side of deleting early).
 */
export function databaseUsedBytes(path: string): number {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100) return 0;
    const rawPageSize = header.readUInt16BE(16);
    const pageSize = rawPageSize === 1 ? 65_536 : rawPageSize;
    const changeCounter = header.readUInt32BE(24);
    const validFor = header.readUInt32BE(92);
    // The in-header page count is valid only when written by a recent SQLite (version-valid-for == change counter).
    const pages = validFor === changeCounter ? header.readUInt32BE(28) : Math.ceil(statSync(path).size / pageSize);
    const freePages = header.readUInt32BE(36);
    let wal = 0;
    try {
      wal = statSync(`${path}-wal`).size;
    } catch {
      // no WAL file
    }
    return Math.max(0, pages - freePages) * pageSize + wal;
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
