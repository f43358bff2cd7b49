-- Five-character grams of the journal's search text, for searches with a word of five
-- characters or more (SQLite).
--
-- The trigram index (0003, 0004) answers a common search fast, since it stops at the end of the
-- page, but a rare one must walk the trigrams' doclists to their end, and digit trigrams are
-- few and everywhere: a seven-digit number costs ~3 ms over a million calls. Five-character
-- grams of digits are a hundred times rarer, so `"45671" AND "67123"` finds the few calls
-- holding both in ~0.1 ms; the journal then checks the whole search text with LIKE (grams
-- that occur apart are not a substring). Grams come from runs of word characters only (ASCII
-- letters and digits, lower-case Latin-1 letters), so the unicode61 tokenizer sees each as one
-- token; detail=none, as only membership is asked. Searches without such a word keep using
-- the trigram index.
--
-- SQLite cannot run a WITH clause in a trigger, so the grams are cut with the positions table
-- (1 to 65536, longer than any search text the server writes: 32 participants of 3 × 256
-- characters at most).

CREATE TABLE journal_positions (n INTEGER PRIMARY KEY);
INSERT INTO journal_positions (n)
    WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 65536) SELECT n FROM s;

CREATE VIRTUAL TABLE journal_grams USING fts5(
    grams, content='', contentless_delete=1, detail='none', tokenize='unicode61 remove_diacritics 0'
);

-- Keep in step with `is_word_char` in crates/store/src/sqlite/calls.rs.
INSERT INTO journal_grams (rowid, grams)
    SELECT k.key, (SELECT group_concat(substr(c.search, p.n, 5), ' ') FROM journal_positions p
                   WHERE p.n <= length(c.search) - 4
                     AND substr(c.search, p.n, 5) GLOB '[a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ]')
    FROM journal_keys k JOIN calls c ON c.id = k.call_id ORDER BY k.key;

-- The triggers of 0004, now keeping both indexes (one trigger each, so the key exists before
-- either index is written).
DROP TRIGGER journal_keys_ai;
DROP TRIGGER journal_keys_ad;
DROP TRIGGER journal_fts_au;

CREATE TRIGGER journal_keys_ai AFTER INSERT ON calls BEGIN
    SELECT RAISE(ABORT, 'more than 2097152 calls started in the same millisecond')
    WHERE (SELECT MIN(key) FROM journal_keys
           WHERE key >= ~(((new.started_at + 1) << 21) - 1) AND key <= ~(new.started_at << 21))
          = ~(((new.started_at + 1) << 21) - 1);
    INSERT INTO journal_keys (key, call_id) VALUES (
        COALESCE((SELECT MIN(key) - 1 FROM journal_keys
                  WHERE key >= ~(((new.started_at + 1) << 21) - 1) AND key <= ~(new.started_at << 21)),
                 ~(new.started_at << 21)),
        new.id);
    INSERT INTO journal_fts (rowid, search)
        SELECT key, new.search FROM journal_keys WHERE call_id = new.id;
    INSERT INTO journal_grams (rowid, grams)
        SELECT key, (SELECT group_concat(substr(new.search, p.n, 5), ' ') FROM journal_positions p
                     WHERE p.n <= length(new.search) - 4
                       AND substr(new.search, p.n, 5) GLOB '[a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ]')
        FROM journal_keys WHERE call_id = new.id;
END;

CREATE TRIGGER journal_keys_ad AFTER DELETE ON calls BEGIN
    DELETE FROM journal_fts WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    DELETE FROM journal_grams WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    DELETE FROM journal_keys WHERE call_id = old.id;
END;

CREATE TRIGGER journal_fts_au AFTER UPDATE OF search ON calls BEGIN
    DELETE FROM journal_fts WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    DELETE FROM journal_grams WHERE rowid = (SELECT key FROM journal_keys WHERE call_id = old.id);
    INSERT INTO journal_fts (rowid, search)
        SELECT key, new.search FROM journal_keys WHERE call_id = new.id;
    INSERT INTO journal_grams (rowid, grams)
        SELECT key, (SELECT group_concat(substr(new.search, p.n, 5), ' ') FROM journal_positions p
                     WHERE p.n <= length(new.search) - 4
                       AND substr(new.search, p.n, 5) GLOB '[a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ][a-z0-9ß-öø-ÿ]')
        FROM journal_keys WHERE call_id = new.id;
END;
