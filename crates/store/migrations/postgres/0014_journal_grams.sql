-- Five-character grams of the journal's search text in journal order (PostgreSQL), for
-- searches with a word of five characters or more (seven digits of a number, a surname).
--
-- The trigram index (0001) answers such a text by handing back every call that holds all of
-- its trigrams, to be read, re-checked and sorted: digit strings have only 1,000 trigrams,
-- each in a few percent of all calls, so a frequent caller's number cost ~35 ms at 1M calls
-- and a rare one still ~2.5 ms of posting lists. A five-character gram of digits is a hundred
-- times rarer, and these tables hold each gram's calls in journal order, so a search walks
-- the rarest gram of its text newest first, re-checks the whole text on each call and stops
-- when the page is full (crates/store/src/postgres/journal.rs, `grams`). As SQLite's
-- `journal_grams` (its migration 0005), grams are cut from runs of word characters only
-- (ASCII letters and digits, lower-case Latin-1 letters; keep in step with `is_word_char` in
-- crates/store/src/sqlite/journal/text.rs): ~12 rows per call.
--
-- `journal_grams` serves every viewer; `journal_user_grams` the same rows once per user who
-- took part (from `call_users`, whose copy of the call's text, 0012, keeps it in step), so
-- an agent's or a supervisor's search walks only their own calls holding the gram.
--
-- Backfill at 1M calls (journal-bench's data, 1.19M `call_users` rows; 12.3M + 13.9M gram rows,
-- 2.5 GB with their keys): 384 s on a shared 2-core machine under load ~9, 2026-12-04.

-- The distinct grams of a search text. Not STRICT, so that PostgreSQL inlines it into the
-- backfill's join (one statement over all calls: ~5 s per 50,000 calls against ~15 s called
-- row by row); a NULL text has none.
CREATE FUNCTION journal_grams_of(s TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT substr(s, i, 5) FROM generate_series(1, length(s) - 4) AS i
    WHERE substr(s, i, 5) ~ '^[a-z0-9ß-öø-ÿ]{5}$'
$$;

CREATE TABLE journal_grams (
    gram TEXT COLLATE "C" NOT NULL,
    started_at BIGINT NOT NULL,
    call_id BIGINT NOT NULL,
    PRIMARY KEY (gram, started_at, call_id)
);

CREATE TABLE journal_user_grams (
    user_id BIGINT NOT NULL,
    gram TEXT COLLATE "C" NOT NULL,
    started_at BIGINT NOT NULL,
    call_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, gram, started_at, call_id)
);

-- The backfill, with the keys dropped while it runs and built once at the end.
ALTER TABLE journal_grams DROP CONSTRAINT journal_grams_pkey;
ALTER TABLE journal_user_grams DROP CONSTRAINT journal_user_grams_pkey;
INSERT INTO journal_grams (gram, started_at, call_id)
    SELECT g, c.started_at, c.id FROM calls c, journal_grams_of(c.search) AS g;
INSERT INTO journal_user_grams (user_id, gram, started_at, call_id)
    SELECT cu.user_id, g, cu.started_at, cu.call_id FROM call_users cu, journal_grams_of(cu.search) AS g;
ALTER TABLE journal_grams ADD PRIMARY KEY (gram, started_at, call_id);
ALTER TABLE journal_user_grams ADD PRIMARY KEY (user_id, gram, started_at, call_id);

-- A call's grams follow its text: written with the call, replaced when the text changes,
-- removed with the call (a call's `started_at` never changes, 0001). The rows are found by
-- their key (the old text's grams), so no index on `call_id` is needed.
CREATE FUNCTION journal_grams_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM journal_grams
        WHERE gram = ANY (ARRAY(SELECT journal_grams_of(OLD.search)))
          AND started_at = OLD.started_at AND call_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO journal_grams (gram, started_at, call_id)
            SELECT g, NEW.started_at, NEW.id FROM journal_grams_of(NEW.search) AS g;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_grams_insert AFTER INSERT ON calls
    FOR EACH ROW EXECUTE FUNCTION journal_grams_keep();
CREATE TRIGGER journal_grams_update AFTER UPDATE OF search ON calls
    FOR EACH ROW WHEN (new.search IS DISTINCT FROM old.search)
    EXECUTE FUNCTION journal_grams_keep();
CREATE TRIGGER journal_grams_delete AFTER DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION journal_grams_keep();

-- A participant's grams follow their `call_users` row, whose `search` is the call's text
-- (0012: copied when the row is written and when the call's text changes).
CREATE FUNCTION journal_user_grams_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM journal_user_grams
        WHERE user_id = OLD.user_id AND gram = ANY (ARRAY(SELECT journal_grams_of(OLD.search)))
          AND started_at = OLD.started_at AND call_id = OLD.call_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO journal_user_grams (user_id, gram, started_at, call_id)
            SELECT NEW.user_id, g, NEW.started_at, NEW.call_id FROM journal_grams_of(NEW.search) AS g;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER journal_user_grams_insert AFTER INSERT ON call_users
    FOR EACH ROW EXECUTE FUNCTION journal_user_grams_keep();
CREATE TRIGGER journal_user_grams_update AFTER UPDATE ON call_users
    FOR EACH ROW WHEN ((new.user_id, new.started_at, new.call_id, new.search)
                       IS DISTINCT FROM (old.user_id, old.started_at, old.call_id, old.search))
    EXECUTE FUNCTION journal_user_grams_keep();
CREATE TRIGGER journal_user_grams_delete AFTER DELETE ON call_users
    FOR EACH ROW EXECUTE FUNCTION journal_user_grams_keep();
