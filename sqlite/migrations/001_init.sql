-- The call library: see package sqlstore for what each table is for.
CREATE TABLE calls (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	rep TEXT NOT NULL,
	customer TEXT NOT NULL,
	source TEXT NOT NULL,
	state TEXT NOT NULL,
	started_at TEXT NOT NULL,
	started_ns INTEGER NOT NULL,
	day INTEGER NOT NULL,
	duration_s REAL NOT NULL,
	progress REAL NOT NULL,
	error TEXT NOT NULL,
	has_audio INTEGER NOT NULL,
	listen_pct REAL,
	listen_sort REAL NOT NULL,
	longest_rep_monologue_s REAL NOT NULL,
	on_target INTEGER NOT NULL,
	live INTEGER NOT NULL,
	rep_key TEXT NOT NULL,
	rep_sort TEXT NOT NULL,
	name_sort TEXT NOT NULL,
	listen_tenths INTEGER,
	monologue_ms INTEGER NOT NULL
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
	id TEXT PRIMARY KEY REFERENCES calls (id) ON DELETE CASCADE,
	body BLOB NOT NULL
);

CREATE TABLE rep_days (
	rep TEXT NOT NULL,
	day INTEGER NOT NULL,
	rep_key TEXT NOT NULL,
	n_all INTEGER NOT NULL,
	calls INTEGER NOT NULL,
	listen_n INTEGER NOT NULL,
	listen_tenths INTEGER NOT NULL,
	monologue_ms INTEGER NOT NULL,
	on_target INTEGER NOT NULL,
	last_ns INTEGER NOT NULL,
	PRIMARY KEY (rep, day)
);
CREATE INDEX rep_days_key ON rep_days (rep_key, day);
CREATE INDEX rep_days_day ON rep_days (day);

CREATE TABLE reps (
	rep TEXT PRIMARY KEY,
	rep_key TEXT NOT NULL,
	n_all INTEGER NOT NULL,
	calls INTEGER NOT NULL,
	listen_n INTEGER NOT NULL,
	listen_tenths INTEGER NOT NULL,
	monologue_ms INTEGER NOT NULL,
	on_target INTEGER NOT NULL,
	last_ns INTEGER NOT NULL
);
CREATE INDEX reps_key ON reps (rep_key);

CREATE TABLE meta (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
