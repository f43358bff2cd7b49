-- The journal's text search, indexed in journal order (SQLite).
--
-- 0001 indexed `calls.search` by call id (`calls_fts`): to answer the newest page of a search,
-- SQLite had to find every matching call, look up each one's start time and sort them all.
-- For a four-digit extension in a million calls that is ~7,000 calls and ~20 ms; for common
-- digits (`+4930`) ~30,000 calls and more. Here the trigram index is keyed by the journal's own
-- order instead, so FTS5 walks the matches newest first and stops at the end of the page
-- (`ORDER BY rowid DESC LIMIT n`), and time ranges and cursors become rowid ranges.
--
-- `journal_keys.key` = (started_at << 21) + the call's rank among the calls that started in
-- the same millisecond. New calls take the next rank of their millisecond and always have the
-- highest id (rowids are allocated as max + 1), so key order is exactly the journal's order
-- (started_at, id). Limits: 2^21 calls per millisecond (refused beyond), started_at below
-- 2^42 ms (the year 2109), and a call's started_at never changes (`call_users` relies on that
-- too; the last trigger makes it explicit).

DROP TRIGGER calls_fts_ai;
DROP TRIGGER calls_fts_ad;
DROP TRIGGER calls_fts_au;
DROP TABLE calls_fts;

CREATE TABLE journal_keys (
    key INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL UNIQUE
);

-- Contentless: the text lives in `calls.search`; the index holds only the trigram postings.
CREATE VIRTUAL TABLE journal_fts USING fts5(search, content='', contentless_delete=1, tokenize='trigram');

INSERT INTO journal_keys (key, call_id)
    SELECT (started_at << 21) + ROW_NUMBER() OVER (PARTITION BY started_at ORDER BY id) - 1, id FROM calls;
INSERT INTO journal_fts (rowid, search)
    SELECT k.key, c.search FROM journal_keys k JOIN calls c ON c.id = k.call_id ORDER BY k.key;

CREATE TRIGGER journal_keys_ai AFTER INSERT ON calls BEGIN
    SELECT RAISE(ABORT, 'more than 2097152 calls started in the same millisecond')
    WHERE (SELECT MAX(key) FROM journal_keys
           WHERE key >= (new.started_at << 21) AND key < ((new.started_at + 1) << 21))
          = ((new.started_at + 1) << 21) - 1;
    INSERT INTO journal_keys (key, call_id) VALUES (
        COALESCE((SELECT MAX(key) + 1 FROM journal_keys
                  WHERE key >= (new.started_at << 21) AND key < ((new.started_at + 1) << 21)),
                 new.started_at << 21),
        new.id);
    INSERT INTO journal_fts (rowid, search)
        SELECT key, new.search FROM journal_keys WHERE call_id = new.id;
END;

CREATE TRIGGER journal_keys_ad AFTER DELETE ON calls BEGIN
    DELETE FROM journal_fts WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    DELETE FROM journal_keys WHERE call_id = old.id;
END;

CREATE TRIGGER journal_fts_au AFTER UPDATE OF search ON calls BEGIN
    DELETE FROM journal_fts WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    INSERT INTO journal_fts (rowid, search)
        SELECT key, new.search FROM journal_keys WHERE call_id = new.id;
END;

CREATE TRIGGER calls_started_at_fixed BEFORE UPDATE OF started_at ON calls
WHEN new.started_at IS NOT old.started_at BEGIN
    SELECT RAISE(ABORT, 'a call''s started_at never changes: the journal is keyed by it');
END;
