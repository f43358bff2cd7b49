-- The spans of a recording whose audio was lost because the disk refused it for longer than
-- the recorder could hold it in memory (issue #13): a JSON array of
-- {"offset_ms": …, "duration_ms": …}, written when the recording is finished. Every row that
-- exists already was written without a loss the recorder could see.
ALTER TABLE recordings ADD COLUMN gaps TEXT NOT NULL DEFAULT '[]';
