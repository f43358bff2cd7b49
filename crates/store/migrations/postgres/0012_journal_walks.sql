-- The journal's newest-first walks for a search text (PostgreSQL).
--
-- A search text that many calls hold (an extension, a common prefix) is answered fastest by
-- walking the journal newest first and testing each call's text until the page is full: the
-- trigram index (0001) hands back thousands of candidates that must all be read and sorted.
-- These indexes carry the text along the walks' order, so that a walk reads no table rows
-- (index-only scans, measured at 1M calls: ~0.4 µs per call walked against ~2.5 µs through
-- `calls_newest` and the table; an agent's walk through `call_users` and each call's row
-- cost ~14 ms of server CPU for a common prefix).
CREATE INDEX calls_newest_search ON calls(started_at, id) INCLUDE (search);

-- A copy of the call's search text in each of its `call_users` rows (as on SQLite, 0006), kept
-- by the triggers below: a row takes the call's text when it is written, and a changed text
-- is copied to the call's rows.
ALTER TABLE call_users ADD COLUMN search TEXT;
UPDATE call_users cu SET search = c.search FROM calls c WHERE c.id = cu.call_id;
CREATE INDEX call_users_newest_search ON call_users(user_id, started_at, call_id) INCLUDE (search);

CREATE FUNCTION call_users_search_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := (SELECT search FROM calls WHERE id = NEW.call_id);
    RETURN NEW;
END $$;
CREATE TRIGGER call_users_search_copy BEFORE INSERT OR UPDATE OF call_id ON call_users
    FOR EACH ROW EXECUTE FUNCTION call_users_search_copy();

CREATE FUNCTION calls_search_to_call_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE call_users SET search = NEW.search WHERE call_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER calls_search_to_call_users AFTER UPDATE OF search ON calls
    FOR EACH ROW WHEN (new.search IS DISTINCT FROM old.search)
    EXECUTE FUNCTION calls_search_to_call_users();
