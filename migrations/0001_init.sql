-- kreplay session schema, version 1.
-- One database holds many sessions. Records are append-only facts. Object bodies are stored as a keyframe
-- followed by JSON-patch deltas (RFC 6902); the bodies of one append are concatenated into a chunk compressed as a
-- whole (store/codec.ts), so a stream of small status updates to large objects costs tens of bytes per event while
-- any version stays quick to rebuild.

CREATE TABLE sessions (
  id           INTEGER PRIMARY KEY,
  name         TEXT    NOT NULL UNIQUE,
  source       TEXT    NOT NULL,
  cluster      TEXT,
  context      TEXT,
  started_at   TEXT,
  ended_at     TEXT,
  tool_version TEXT    NOT NULL,
  config       TEXT    NOT NULL DEFAULT '{}',
  partial      INTEGER NOT NULL DEFAULT 0,
  problems     TEXT    NOT NULL DEFAULT '[]',
  created_at   TEXT    NOT NULL,
  next_seq     INTEGER NOT NULL DEFAULT 1
) STRICT;

-- One row per object identity. uid is '' when the source did not know it (audit logs, some reports):
-- such rows group records by name only, and the replayer links them to uid-identified objects by name and time.
CREATE TABLE objects (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  api_group   TEXT    NOT NULL,
  version     TEXT    NOT NULL,
  resource    TEXT,
  kind        TEXT    NOT NULL,
  namespace   TEXT    NOT NULL DEFAULT '',
  name        TEXT    NOT NULL,
  uid         TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX objects_identity ON objects(session_id, api_group, kind, namespace, name, uid);
CREATE INDEX objects_uid ON objects(session_id, uid) WHERE uid <> '';

-- Compressed bodies: one row per append (or per 256 bodies). encoding: 0 raw UTF-8, 1 brotli.
CREATE TABLE chunks (
  id          INTEGER PRIMARY KEY,
  session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  encoding    INTEGER NOT NULL,
  data        BLOB    NOT NULL
) STRICT;
CREATE INDEX chunks_session ON chunks(session_id);

-- Every record of every session. Watch events keep their fields in columns (no JSON payload) because they are
-- the bulk of a session; other record kinds keep their full JSON in payload.
-- body_kind: 0 none, 1 keyframe (the whole object), 2 delta (JSON patch against the previous version of the same
-- object). The body is chunk_id's decompressed text from body_offset for body_length UTF-16 code units.
CREATE TABLE records (
  session_id       INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq              INTEGER NOT NULL,
  kind             TEXT    NOT NULL,
  origin           TEXT    NOT NULL,
  observed_at      TEXT,
  object_id        INTEGER REFERENCES objects(id) ON DELETE CASCADE,
  type             TEXT,
  resource_version TEXT,
  generation       INTEGER,
  payload          TEXT,
  body_kind        INTEGER NOT NULL DEFAULT 0,
  chunk_id         INTEGER,
  body_offset      INTEGER,
  body_length      INTEGER,
  PRIMARY KEY (session_id, seq)
) STRICT;
CREATE INDEX records_object ON records(object_id, seq);
CREATE INDEX records_kind ON records(session_id, kind, seq);
