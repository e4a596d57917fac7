-- The call library: see package sqlstore for what each table is for.
CREATE TABLE calls (
	id TEXT COLLATE "C" PRIMARY KEY,
	name TEXT COLLATE "C" NOT NULL,
	rep TEXT COLLATE "C" NOT NULL,
	customer TEXT COLLATE "C" NOT NULL,
	source TEXT COLLATE "C" NOT NULL,
	state TEXT COLLATE "C" NOT NULL,
	started_at TEXT COLLATE "C" NOT NULL,
	started_ns BIGINT NOT NULL,
	day BIGINT NOT NULL,
	duration_s DOUBLE PRECISION NOT NULL,
	progress DOUBLE PRECISION NOT NULL,
	error TEXT COLLATE "C" NOT NULL,
	has_audio BIGINT NOT NULL,
	listen_pct DOUBLE PRECISION,
	listen_sort DOUBLE PRECISION NOT NULL,
	longest_rep_monologue_s DOUBLE PRECISION NOT NULL,
	on_target BIGINT NOT NULL,
	live BIGINT NOT NULL,
	rep_key TEXT COLLATE "C" NOT NULL,
	rep_sort TEXT COLLATE "C" NOT NULL,
	name_sort TEXT COLLATE "C" NOT NULL,
	listen_tenths BIGINT,
	monologue_ms BIGINT NOT NULL
);
-- One index per list order, and per order within one rep (rep=): each
-- ends in started_ns and id, the ties, so that a page is a range of it.
CREATE INDEX calls_started ON calls (started_ns, id);
CREATE INDEX calls_duration ON calls (duration_s, started_ns, id);
CREATE INDEX calls_listen ON calls (listen_sort, started_ns, id);
CREATE INDEX calls_monologue ON calls (longest_rep_monologue_s, started_ns, id);
CREATE INDEX calls_rep_sort ON calls (rep_sort, started_ns, id);
CREATE INDEX calls_name ON calls (name_sort, started_ns, id);
CREATE INDEX calls_rep_started ON calls (rep_key, started_ns, id);
CREATE INDEX calls_rep_duration ON calls (rep_key, duration_s, started_ns, id);
CREATE INDEX calls_rep_listen ON calls (rep_key, listen_sort, started_ns, id);
CREATE INDEX calls_rep_monologue ON calls (rep_key, longest_rep_monologue_s, started_ns, id);
CREATE INDEX calls_rep_name ON calls (rep_key, name_sort, started_ns, id);
-- The rollup's recount, and live calls (listed first).
CREATE INDEX calls_rep_day ON calls (rep, day);
CREATE INDEX calls_live ON calls (live, started_ns, id);
-- Uploads being analyzed (resumed at start), and any other state.
CREATE INDEX calls_state ON calls (state, started_ns, id);

CREATE TABLE call_details (
	id TEXT COLLATE "C" PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
	body BYTEA NOT NULL
);

CREATE TABLE rep_days (
	rep TEXT COLLATE "C" NOT NULL,
	day BIGINT NOT NULL,
	rep_key TEXT COLLATE "C" NOT NULL,
	n_all BIGINT NOT NULL,
	calls BIGINT NOT NULL,
	listen_n BIGINT NOT NULL,
	listen_tenths BIGINT NOT NULL,
	monologue_ms BIGINT NOT NULL,
	on_target BIGINT NOT NULL,
	last_ns BIGINT NOT NULL,
	PRIMARY KEY (rep, day)
);
CREATE INDEX rep_days_key ON rep_days (rep_key, day);
CREATE INDEX rep_days_day ON rep_days (day);

CREATE TABLE reps (
	rep TEXT COLLATE "C" PRIMARY KEY,
	rep_key TEXT COLLATE "C" NOT NULL,
	n_all BIGINT NOT NULL,
	calls BIGINT NOT NULL,
	listen_n BIGINT NOT NULL,
	listen_tenths BIGINT NOT NULL,
	monologue_ms BIGINT NOT NULL,
	on_target BIGINT NOT NULL,
	last_ns BIGINT NOT NULL
);
CREATE INDEX reps_key ON reps (rep_key);

CREATE TABLE meta (
	key TEXT COLLATE "C" PRIMARY KEY,
	value TEXT COLLATE "C" NOT NULL
);
