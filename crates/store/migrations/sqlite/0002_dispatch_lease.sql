-- Dispatch leases: a run claims a target for one attempt by setting `lease_until`; the outcome
-- clears it. A crash mid-attempt leaves the lease, which expires, so the target is tried again
-- (at least once). Kept apart from `next_attempt_at` so that a target waiting for its backoff
-- and one being sent right now can be told apart.
ALTER TABLE dispatch ADD COLUMN lease_until INTEGER;
