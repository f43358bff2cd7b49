-- Several recorder nodes on one database (issue #10.3).

-- The node holding a call's media: start-up repair and the dead-node sweep pick a node's
-- own open calls. '' for calls from before this migration (any node repairs them).
ALTER TABLE calls ADD COLUMN node_id TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_open_by_node ON calls(node_id, id) WHERE state <> 'ended';

-- One row per running node, its heartbeat renewed every third of the lease; a row older than
-- the lease is a dead node, deleted by the one node whose sweep gets it (DELETE … RETURNING).
CREATE TABLE nodes (
    node_id TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);

-- The live state of calls in progress on every node, written by the owner node after each
-- change (the call detail with its rule decision as JSON), read by the others for
-- GET /api/v1/calls/live and the first frames of a push stream.
CREATE TABLE live_calls (
    call_id BIGINT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    node_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX live_calls_node ON live_calls(node_id);

-- Cluster messages too large for a NOTIFY payload (8000 bytes): the notification carries the
-- row's id; rows older than a minute are deleted by the sweep.
CREATE TABLE bus_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    payload TEXT NOT NULL
);
