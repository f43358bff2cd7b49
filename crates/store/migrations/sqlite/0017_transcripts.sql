-- Transcripts (issue #16): which rules ask for them, one transcription job per recording (its
-- id is the recording's) with its lease, and the transcript it makes, kept with the recording
-- (ON DELETE CASCADE: retention and an admin's delete take it along).
ALTER TABLE rules ADD COLUMN transcribe INTEGER NOT NULL DEFAULT 0;

-- `status`: queued | running | done | failed. A worker claims a queued job whose
-- `next_attempt_at` has come, or a running one whose lease has ended (its worker died): the
-- claim writes a new `lease`, and a result is taken only with the lease of the current
-- holder, so a job is never transcribed into two transcripts. `lines` is the JSON of the
-- lines, sealed when encryption at rest is on; `search` its lower-case text (for the journal).
CREATE TABLE transcripts (
    recording_id INTEGER PRIMARY KEY REFERENCES recordings(id) ON DELETE CASCADE,
    call_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    queued_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease TEXT,
    lease_until INTEGER,
    worker TEXT,
    finished_at INTEGER,
    lines BLOB,
    search TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transcripts_due ON transcripts(status, next_attempt_at);
CREATE INDEX transcripts_call ON transcripts(call_id);

-- The transcripts' search text of the call's recordings, kept at the end of `calls.search`
-- (which is the participants' text followed by this), so the journal's indexes find words
-- spoken in the call; the store rewrites both when a transcript is stored or deleted.
ALTER TABLE calls ADD COLUMN transcript_search TEXT NOT NULL DEFAULT '';

-- Tokens of remote transcription workers, created by an admin; only their SHA-256 is kept.
CREATE TABLE worker_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
