-- Whether a session's stored records changed since a reader read them, for readers in another process.
--
-- Records are appended, never changed, with one exception: a request reported by two sources (the SDK or a proxy,
-- and the audit log) is one row, and the second report merges into the row the first one wrote
-- (store/sqlite-store.ts mergeInto). A reader that keeps an analysis alive between reads (`check --follow`,
-- `replay --follow`) has already analysed the row's first form; it must start again when a row it read changed.
-- In the recorder's own process the append says so (AppendResult.changedFromSeq); another process reads it here:
-- `rewrites` counts the appends that changed stored rows, `rewritten_from_seq` is the lowest row the latest one
-- changed. A reader that saw the count one lower knows exactly what changed; one that missed more starts again.
ALTER TABLE sessions ADD COLUMN rewrites INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN rewritten_from_seq INTEGER;
