-- One write, one record: an API request that both the audit webhook and the controller's SDK reported is stored
-- once (model/api-pairing.ts), with origin 'audit' and every source in its payload's `sources`. This column repeats
-- them ('audit,ingest') so that filtering by origin (the TUI's origin:ingest) finds the record under either source.
-- NULL: the record has one source, its origin. Rows written before this migration all have one.
ALTER TABLE records ADD COLUMN sources TEXT;
