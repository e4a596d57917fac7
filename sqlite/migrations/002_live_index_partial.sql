-- The index of live calls holds only them: one on (live, ...) lured the
-- planner into reading every ended call through it for "live = 0" and
-- sorting them, rather than walking the order's own index.
DROP INDEX calls_live;
CREATE INDEX calls_live ON calls (started_ns, id) WHERE live = 1;
