-- callrec schema v1 (SQLite). Never edit once applied: add a new migration instead.
-- Times are INTEGER milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('agent','supervisor','admin')),
    created_at INTEGER NOT NULL
);

-- One row per extension or AoR; `address` is the normalised form used for matching.
CREATE TABLE user_addresses (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    raw TEXT NOT NULL,
    address TEXT NOT NULL UNIQUE,
    PRIMARY KEY (user_id, position)
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE TABLE team_supervisors (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_supervisors_user ON team_supervisors(user_id);

CREATE TABLE roles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE role_users (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, user_id)
);
CREATE TABLE role_teams (
    role_id INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, team_id)
);

CREATE TABLE phones (
    id INTEGER PRIMARY KEY,
    mac TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE rules (
    id INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    mode TEXT NOT NULL,
    role_id INTEGER NOT NULL,
    direction TEXT NOT NULL,
    origin TEXT NOT NULL,
    dispatch TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    call_key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    direction TEXT NOT NULL,
    origin TEXT NOT NULL,
    mon_mode TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    answered_at INTEGER,
    ended_at INTEGER,
    state TEXT NOT NULL,
    recording_count INTEGER NOT NULL DEFAULT 0,
    participants TEXT NOT NULL,
    sip_call_ids TEXT NOT NULL,
    trace TEXT NOT NULL,
    -- names and numbers of the participants, lower case, for the journal's text search
    search TEXT NOT NULL
);
CREATE INDEX calls_newest ON calls(started_at, id);

-- Who took part, for visibility and the per-user journal (newest first by index order).
CREATE TABLE call_users (
    user_id INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, started_at, call_id)
) WITHOUT ROWID;
CREATE INDEX call_users_call ON call_users(call_id);

CREATE TABLE call_sip_ids (
    sip_call_id TEXT NOT NULL,
    call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    PRIMARY KEY (sip_call_id, call_id)
) WITHOUT ROWID;

-- Trigram index for substring search of names and numbers.
CREATE VIRTUAL TABLE calls_fts USING fts5(search, content='calls', content_rowid='id', tokenize='trigram');
CREATE TRIGGER calls_fts_ai AFTER INSERT ON calls BEGIN
    INSERT INTO calls_fts(rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER calls_fts_ad AFTER DELETE ON calls BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER calls_fts_au AFTER UPDATE OF search ON calls BEGIN
    INSERT INTO calls_fts(calls_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO calls_fts(rowid, search) VALUES (new.id, new.search);
END;

CREATE TABLE recordings (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    rel_path TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    start_offset_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    codec TEXT NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    trigger TEXT NOT NULL,
    state TEXT NOT NULL,
    legal_hold INTEGER NOT NULL DEFAULT 0,
    UNIQUE (call_id, seq)
);
CREATE INDEX recordings_started ON recordings(started_at);

CREATE TABLE dispatch (
    id INTEGER PRIMARY KEY,
    recording_id INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    rule_id INTEGER,
    target TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER,
    sent_at INTEGER,
    detail TEXT,
    -- stable across retries: lets a receiver drop a duplicate after a crash mid-send
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX dispatch_due ON dispatch(status, next_attempt_at);
CREATE INDEX dispatch_recording ON dispatch(recording_id);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_action ON audit(action, id);

-- The audit log is append-only: the database itself refuses changes and deletions.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
