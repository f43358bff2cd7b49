-- Four-character search texts through the journal's grams (PostgreSQL): an extension
-- ("2047"), a name's first letters ("müll"), a prefix's digits ("+4930").
--
-- 0014's five-character grams answer a text with a word of five characters or more; a
-- four-character one was found by walking the journal newest first and testing every call's
-- text: ~9,500 calls for a four-digit extension at 1M calls, ~2.3 ms of database time that no
-- form of the walk made cheaper (LIKE or strpos, bounded by rows or by time: 2.1–2.4 ms in
-- psql, 2026-12-05), and at eight clients on two cores the benchmark's p99 was 37 ms against
-- a 20 ms target.
--
-- A four-character run Q of a call's text is followed either by another word character x (so
-- the five-character gram Qx is stored) or by the run's end. Each run of four characters or
-- more now also stores its last four characters with `$` after them (a "tail" gram; `$` is no
-- word character, so no search gram can equal one), and the rows are also keyed by their
-- first four characters (the head): the rows whose head is Q are then exactly the calls
-- holding Q, in journal order — a four-character search reads its page's rows and stops.
--
-- `journal_grams` keeps its key by gram (0014) beside the new one by head: a text's rarest
-- gram is chosen by counting each gram's rows, and counting them under their head meant
-- stepping over ~10× as many rows (a frequent caller's seven digits: 1.5 ms instead of
-- 0.6). `journal_user_grams` is walked per user, where a head has a handful of rows, so it
-- is keyed by head only (its key by gram is replaced).
--
-- Cost at 1M calls (journal-bench's data): ~4 tail rows per call on top of ~12 grams (one per
-- run of four characters or more), and the index by head.

-- The tails of a search text: each run of four word characters or more (as in 0014) ends in
-- one, its last four characters and `$`.
CREATE FUNCTION journal_gram_tails_of(s TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT substr(s, i, 4) || '$' FROM generate_series(1, length(s) - 3) AS i
    WHERE substr(s || ' ', i, 5) ~ '^[a-z0-9ß-öø-ÿ]{4}[^a-z0-9ß-öø-ÿ]$'
$$;

-- A text's rows: its five-character grams (0014) and its tails. Not STRICT, as 0014's, so
-- that the backfill inlines it.
CREATE OR REPLACE FUNCTION journal_grams_of(s TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(s, i, 5) FROM generate_series(1, length(s) - 4) AS i
    WHERE substr(s, i, 5) ~ '^[a-z0-9ß-öø-ÿ]{5}$'
    UNION
    SELECT journal_gram_tails_of(s)
$$;

-- The backfill of the tails, with the keys dropped while it runs and built once at the end.
ALTER TABLE journal_grams DROP CONSTRAINT journal_grams_pkey;
ALTER TABLE journal_user_grams DROP CONSTRAINT journal_user_grams_pkey;
INSERT INTO journal_grams (gram, started_at, call_id)
    SELECT g, c.started_at, c.id FROM calls c, journal_gram_tails_of(c.search) AS g;
INSERT INTO journal_user_grams (user_id, gram, started_at, call_id)
    SELECT cu.user_id, g, cu.started_at, cu.call_id FROM call_users cu, journal_gram_tails_of(cu.search) AS g;
ALTER TABLE journal_grams ADD PRIMARY KEY (gram, started_at, call_id);
CREATE INDEX journal_grams_by_head ON journal_grams (left(gram, 4), started_at, call_id);
CREATE UNIQUE INDEX journal_user_grams_by_head ON journal_user_grams (user_id, left(gram, 4), started_at, call_id, gram);

-- A participant's rows are found by the heads of their old text's rows (the key's second
-- column). `journal_grams_keep` (0014) finds a call's rows by their grams, as before.
CREATE OR REPLACE FUNCTION journal_user_grams_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM journal_user_grams
        WHERE user_id = OLD.user_id
          AND left(gram, 4) = ANY (ARRAY(SELECT left(g, 4) FROM journal_grams_of(OLD.search) AS g))
          AND started_at = OLD.started_at AND call_id = OLD.call_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO journal_user_grams (user_id, gram, started_at, call_id)
            SELECT NEW.user_id, g, NEW.started_at, NEW.call_id FROM journal_grams_of(NEW.search) AS g;
    END IF;
    RETURN NULL;
END $$;
