-- Where each object's records are, written in bulk rather than one index entry per event.
--
-- records_object (object_id, seq) gave every event an entry in the part of the index that belongs to its object:
-- with a thousand objects changing, each commit dirtied one index leaf page per event, a 4 KiB WAL frame plus its
-- checkpoint write for some 12 bytes of index, and disk writes grew with the session to ~16x the bytes stored
-- (docs/recorder.md, Performance). object_index holds the same entries ordered by seq bucket first: the records of
-- bucket b (seqs b*2048 .. b*2048+2047) are indexed all at once, sorted, by the append that completes the bucket,
-- so they land at the right edge of the tree, a few pages per 2,048 records. Records of the open bucket (fewer than
-- 2,048 at the end of a session) are found by scanning records by seq. An object's records are read bucket by
-- bucket: one b-tree seek per bucket, about 1,800 for an hour at 1,000 events/s.
--
-- Invariant (store/object-index.ts): a session's buckets below next_seq >> 11 are in object_index, the others are
-- not. The bucket width (11 bits) is part of the format: changing it needs a migration.
CREATE TABLE object_index (
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  bucket     INTEGER NOT NULL,
  object_id  INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  -- records.body_kind: a keyframe or a delta is found without reading the record.
  body_kind  INTEGER NOT NULL,
  PRIMARY KEY (session_id, bucket, object_id, seq)
) STRICT, WITHOUT ROWID;

INSERT INTO object_index (session_id, bucket, object_id, seq, body_kind)
SELECT r.session_id, r.seq >> 11, r.object_id, r.seq, r.body_kind
FROM records r JOIN sessions s ON s.id = r.session_id
WHERE r.object_id IS NOT NULL AND r.seq < ((s.next_seq >> 11) << 11)
ORDER BY 1, 2, 3, 4;

DROP INDEX records_object;
