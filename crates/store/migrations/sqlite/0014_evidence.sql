-- The signed evidence chain (issue #12.2): one entry per finished recording and per deletion,
-- each with the hash of the one before it and an Ed25519 signature. Append-only like the
-- audit log: the database itself refuses changes and deletions. No reference to recordings:
-- the entries outlive the rows they describe (a deletion is an entry too).
CREATE TABLE evidence (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    recording_id INTEGER NOT NULL,
    call_id INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    at INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL
);
-- One `recorded` entry per recording, whoever appends it (the finish, a retry, another node).
CREATE UNIQUE INDEX evidence_recorded ON evidence(recording_id) WHERE kind = 'recorded';
CREATE INDEX evidence_recording ON evidence(recording_id, seq);
CREATE INDEX evidence_call ON evidence(call_id, seq);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence BEGIN
    SELECT RAISE(ABORT, 'the evidence chain is append-only');
END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence BEGIN
    SELECT RAISE(ABORT, 'the evidence chain is append-only');
END;

-- The public keys that sign entries: one per node's data directory. A verify accepts only
-- entries signed by one of these.
CREATE TABLE evidence_keys (
    public_key TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    added_at INTEGER NOT NULL
);
CREATE TRIGGER evidence_keys_no_update BEFORE UPDATE ON evidence_keys BEGIN
    SELECT RAISE(ABORT, 'the evidence keys are append-only');
END;
CREATE TRIGGER evidence_keys_no_delete BEFORE DELETE ON evidence_keys BEGIN
    SELECT RAISE(ABORT, 'the evidence keys are append-only');
END;

-- "Who listened to my calls" (issue #12.4) reads the play and download rows of the audit log
-- by their target (`recording <id>`).
CREATE INDEX audit_target ON audit(target, id);
