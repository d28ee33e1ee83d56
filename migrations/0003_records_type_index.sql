-- Filtering a session by event type, marker kind, verb, result or handler (the TUI's `type:` filter, check's
-- marker scans) walked every record of the session; this index makes it a range scan.
CREATE INDEX records_type ON records(session_id, type, seq);
