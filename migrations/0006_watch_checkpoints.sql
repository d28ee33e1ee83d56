-- Where each watch of a recording resumes after a restart: the resourceVersion of the last watch event, bookmark or
-- list committed for it. Written by store.append in the same transaction as the records that carry that RV, so it
-- is never ahead of them (a crash between two batches resumes from the last committed one: nothing skipped) and
-- never behind them (nothing delivered twice). `watch` names one watch of the recorder's config: group, version,
-- resource, namespace and selectors (recorder/checkpoint.ts). A recording made before this migration has no rows:
-- its next start lists, as before.
CREATE TABLE watch_checkpoints (
  session_id       INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  watch            TEXT    NOT NULL,
  resource_version TEXT    NOT NULL,
  -- The seq of the record that carried it (a record of this session), and when it was committed.
  through_seq      INTEGER NOT NULL,
  committed_at     TEXT    NOT NULL,
  PRIMARY KEY (session_id, watch)
) STRICT;
