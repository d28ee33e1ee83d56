/**
 * SQLite's page cache (KiB) for a connection that appends: the recorder's and an import's. Enough for the pages an
 * append touches (the tails of the tables and the per-object index leaves of the objects being written); older pages
 * are re-read from the OS's file cache. better-sqlite3 builds SQLite with a 16 MiB default, which an appender fills
 * page by page as the database grows: resident memory that grew with the recording or the imported file.
 */
export const APPENDER_CACHE_KIB = 2048;
