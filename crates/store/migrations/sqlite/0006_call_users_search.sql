-- The journal's search text beside each participant's row of `call_users`.
--
-- A narrow scope (an agent) searching a common text (`+4930`, thousands of matches, few of them
-- the agent's) walks the agent's own calls newest first and tests each with LIKE. With the text
-- only in `calls`, every step was a random lookup into the calls table, whose rows hold the
-- participants and the decision trace before the search text (often on an overflow page):
-- ~3.7 µs per call examined, 5.5 ms of CPU for a page over a million calls. Kept here, in the
-- same WITHOUT ROWID b-tree as (user_id, started_at, call_id), the walk reads consecutive rows
-- and never touches `calls` until the page is known.
--
-- `write_members` (crates/store/src/sqlite/calls.rs) writes the rows with the call's search
-- text whenever the call is inserted or updated, the only two places the text is set.
ALTER TABLE call_users ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE call_users SET search = (SELECT c.search FROM calls c WHERE c.id = call_users.call_id);
