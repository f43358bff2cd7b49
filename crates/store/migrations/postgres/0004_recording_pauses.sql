-- The PCI pauses of a recording (issue #11.1): a JSON array of
-- {"from_ms": …, "to_ms": … | null, "by": "…", "user_id": … | null}, rewritten at every pause
-- and resume so that a crash keeps them. Rows that exist already were never paused.
ALTER TABLE recordings ADD COLUMN pauses TEXT NOT NULL DEFAULT '[]';
