-- Version facts: what the replayer needs of each version of an object without decoding its body (writer,
-- observedGeneration, finalizers, deletionTimestamp, owner, whether status changed, a fingerprint of spec), computed
-- once when the version is appended (model/version-facts.ts). `kreplay check` then streams a session reading
-- record columns only, and decodes a body only where a detector looks inside one.
--
-- The parts that change with nearly every write are columns; the parts that stay the same over many versions
-- (writer, finalizers, owner, ...) are kept once per distinct value in version_facts and referenced by id.
-- Rows written before this migration have facts_flags 0: the replayer computes their facts from the body.

CREATE TABLE version_facts (
  id         INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  facts      TEXT    NOT NULL
) STRICT;
CREATE INDEX version_facts_session ON version_facts(session_id);

-- facts_flags: bit 0 facts present, bit 1 statusWrite, bit 2 statusChanged known, bit 3 statusChanged.
ALTER TABLE records ADD COLUMN facts_flags INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN facts_id INTEGER;
ALTER TABLE records ADD COLUMN observed_generation INTEGER;
ALTER TABLE records ADD COLUMN spec_hash INTEGER;
