-- A cluster's nodes (each writes its heartbeat every few seconds) and
-- which node holds each live call (its media and analysis). A node that
-- stops writing heartbeats is dead: another takes its claims over and
-- marks those calls interrupted. One node alone never writes here.
CREATE TABLE nodes (
	id TEXT COLLATE "C" PRIMARY KEY,
	url TEXT NOT NULL,
	live BIGINT NOT NULL,
	max_calls BIGINT NOT NULL,
	cpu DOUBLE PRECISION NOT NULL,
	draining BOOLEAN NOT NULL,
	seen_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE call_owners (
	call_id TEXT COLLATE "C" PRIMARY KEY,
	node TEXT COLLATE "C" NOT NULL,
	claimed_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX call_owners_node ON call_owners (node);
