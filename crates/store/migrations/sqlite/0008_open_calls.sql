-- Calls not yet ended, for start-up repair (issue #13.2): every call that was live when the
-- process died is closed at start-up, and finding them must not scan a million-call journal.
CREATE INDEX calls_open ON calls(id) WHERE state <> 'ended';
