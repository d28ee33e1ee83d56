-- What `kreplay sessions` shows of each session, kept by every append instead of counted from its records.
--
-- Counting a session's records by kind, its first and last observation and the length of its payloads scanned all
-- of its rows: ~10 s for an hour's session at 1,000 events/s (3.6 M records). One row per session and record kind,
-- updated in the transaction that appends the records, answers it from a few rows.
--
-- A record whose client clock was off (model/clock-skew.ts: its payload carries `clockSkew`) counts, but does not
-- make the span. payload_chars is length(payload) in characters, as SQLite counts them. A request merged into a row
-- already stored (its other source's report, store/sqlite-store.ts mergeInto) moves payload_chars and clock_skewed
-- by the difference, and its new time widens the span; the time it replaced stays inside it.
CREATE TABLE session_tallies (
  session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  kind              TEXT    NOT NULL,
  records           INTEGER NOT NULL,
  first_observed_at TEXT,
  last_observed_at  TEXT,
  clock_skewed      INTEGER NOT NULL,
  payload_chars     INTEGER NOT NULL,
  PRIMARY KEY (session_id, kind)
) STRICT, WITHOUT ROWID;

INSERT INTO session_tallies (session_id, kind, records, first_observed_at, last_observed_at, clock_skewed, payload_chars)
SELECT session_id, kind, count(*),
       min(CASE WHEN skewed THEN NULL ELSE observed_at END),
       max(CASE WHEN skewed THEN NULL ELSE observed_at END),
       sum(skewed), sum(coalesce(length(payload), 0))
FROM (SELECT session_id, kind, observed_at, payload,
             (payload IS NOT NULL AND instr(payload, '"clockSkew":') > 0 AND json_extract(payload, '$.clockSkew') IS NOT NULL) AS skewed
      FROM records)
GROUP BY session_id, kind;
