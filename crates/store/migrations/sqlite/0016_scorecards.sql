-- Scorecards and reviews (issue #15.4). A scorecard's criteria are JSON; an edit bumps its
-- version. A review keeps the name, version and criteria it was filled against, so an edit
-- never changes what an old review's answers mean; a used scorecard is archived, not deleted.
CREATE TABLE scorecards (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    criteria TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- Two live scorecards never share a name; an archived one leaves its name free.
CREATE UNIQUE INDEX scorecards_name ON scorecards(name) WHERE archived = 0;

CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    call_id INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    -- the call's start, copied: the per-agent summary's date range is over it
    call_started_at INTEGER NOT NULL,
    agent_id INTEGER NOT NULL,
    reviewer_id INTEGER NOT NULL,
    scorecard_id INTEGER NOT NULL REFERENCES scorecards(id),
    scorecard_name TEXT NOT NULL,
    scorecard_version INTEGER NOT NULL,
    criteria TEXT NOT NULL,
    answers TEXT NOT NULL,
    comment TEXT,
    score REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- one review per (call, agent, scorecard); its prefix finds a call's reviews
    UNIQUE (call_id, agent_id, scorecard_id)
);
CREATE INDEX reviews_agent ON reviews(agent_id, call_started_at);
CREATE INDEX reviews_scorecard ON reviews(scorecard_id);

-- The journal's score column and "reviewed" filter read the call row: the average score of
-- its reviews, kept by the store with every review written (NULL: not reviewed). Reviewed
-- calls are few (people fill reviews), so "reviewed=true" walks this partial index newest
-- first instead of every call.
ALTER TABLE calls ADD COLUMN review_score REAL;
CREATE INDEX calls_reviewed ON calls(started_at, id) WHERE review_score IS NOT NULL;
