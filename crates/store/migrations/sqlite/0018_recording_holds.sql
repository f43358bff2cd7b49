-- The spans a recording's call was on hold (issue #15.1's waveform markers): a JSON array of
-- {"from_ms": …, "to_ms": … | null}, rewritten at every hold and resume so that a crash keeps
-- them. Rows that exist already have none recorded. (0017 is the transcripts' migration.)
ALTER TABLE recordings ADD COLUMN holds TEXT NOT NULL DEFAULT '[]';
