-- Missing-recording alarms (issue #11.3): one per call at most (the UNIQUE call_id makes a
-- second raise — a restart's repair, another node — a no-op), acknowledged by an admin.
CREATE TABLE alarms (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL UNIQUE REFERENCES calls(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    expected_ms INTEGER NOT NULL,
    recorded_ms INTEGER NOT NULL,
    raised_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by INTEGER
);
CREATE INDEX alarms_open ON alarms(id) WHERE acknowledged_at IS NULL;
