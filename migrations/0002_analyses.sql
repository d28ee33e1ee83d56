-- Cached detector results. Analysing a long session takes seconds; the TUI and `kreplay check` reuse the findings
-- computed for the same options while the session has not grown (through_seq = the last seq analysed).
CREATE TABLE analyses (
  session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  options_key  TEXT    NOT NULL,
  through_seq  INTEGER NOT NULL,
  tool_version TEXT    NOT NULL,
  created_at   TEXT    NOT NULL,
  findings     TEXT    NOT NULL,
  PRIMARY KEY (session_id, options_key)
) STRICT;
