-- Quality review and training (issue #15): the waveform peaks cache, timestamped comments and
-- time-limited shares of one recording. Each row belongs to its recording and goes with it
-- (retention, an admin's delete, a refused consent): ON DELETE CASCADE.

-- Peaks computed once per (recording, bucket count), kept as the JSON of the answer. At most
-- a few bucket counts per recording are kept (the store drops the oldest).
CREATE TABLE recording_peaks (
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    buckets INTEGER NOT NULL,
    computed_at INTEGER NOT NULL,
    peaks TEXT NOT NULL,
    PRIMARY KEY (recording_id, buckets)
);

-- `author_name` is the author's name when written, shown once the author is deleted.
CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    author_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    author_name TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    to_ms INTEGER,
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER
);
CREATE INDEX comments_recording ON comments(recording_id, at_ms, id);

-- A share grants one recording to one user until `expires_at`, unless revoked before.
CREATE TABLE shares (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    call_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    granted_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    granted_by_name TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by INTEGER
);
CREATE INDEX shares_recording ON shares(recording_id, id);
CREATE INDEX shares_user ON shares(user_id, expires_at);
CREATE INDEX shares_call_user ON shares(call_id, user_id);
