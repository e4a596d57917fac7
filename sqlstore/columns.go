package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"talkratio/call"
)

// columns is a call's row in the calls table.
type columns struct {
	id, name, rep, customer, source, state string
	startedAt                              string // RFC 3339 as given: the offset is kept
	startedNs, day                         int64
	durationS, progress                    float64
	errText                                string
	hasAudio                               int64
	listenPct                              sql.NullFloat64
	listenSort, monologueS                 float64
	onTarget, live                         int64
	repKey, repSort, nameSort              string
	// The rollup's addends, in the whole units call.RepTotals sums, so
	// that SQL adds them up exactly as Go does.
	listenTenths sql.NullInt64
	monologueMs  int64
}

// callColumns are the calls table's columns, in the order of
// columns.args.
const callColumns = `id, name, rep, customer, source, state, started_at, started_ns, day,
	duration_s, progress, error, has_audio, listen_pct, listen_sort,
	longest_rep_monologue_s, on_target, live, rep_key, rep_sort, name_sort,
	listen_tenths, monologue_ms`

// numCallColumns is how many callColumns there are.
const numCallColumns = 23

// listenNone sorts calls without a listen % (nobody spoke) below all
// others, as call.Sort does.
const listenNone = -1

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func columnsOf(r *call.Record) columns {
	sum := r.Summary()
	ns := clampNanos(r.StartedAt)
	c := columns{
		id: r.ID, name: r.Name, rep: r.Rep, customer: r.Customer, source: r.Source, state: r.State,
		startedAt: r.StartedAt.Format(time.RFC3339Nano), startedNs: ns, day: dayOf(ns),
		durationS: r.DurationS, progress: r.Progress, errText: r.Error, hasAudio: b2i(r.HasAudio),
		listenSort: listenNone, monologueS: sum.LongestRepMonologueS,
		onTarget: b2i(sum.OnTarget), live: b2i(r.State == call.StateLive),
		repKey: call.FoldRep(r.Rep), repSort: strings.ToLower(r.Rep), nameSort: strings.ToLower(r.Name),
		monologueMs: call.Millis(sum.LongestRepMonologueS),
	}
	if sum.ListenPct != nil {
		c.listenPct = sql.NullFloat64{Float64: *sum.ListenPct, Valid: true}
		c.listenSort = *sum.ListenPct
		c.listenTenths = sql.NullInt64{Int64: call.ListenTenths(*sum.ListenPct), Valid: true}
	}
	return c
}

func (c *columns) args() []any {
	return []any{
		c.id, c.name, c.rep, c.customer, c.source, c.state, c.startedAt, c.startedNs, c.day,
		c.durationS, c.progress, c.errText, c.hasAudio, c.listenPct, c.listenSort,
		c.monologueS, c.onTarget, c.live, c.repKey, c.repSort, c.nameSort,
		c.listenTenths, c.monologueMs,
	}
}

// summaryColumns are what a list reads: never the details.
const summaryColumns = `id, name, rep, customer, source, state, started_at, duration_s, progress,
	listen_pct, longest_rep_monologue_s, on_target, has_audio, error`

// scanSummary reads one row of summaryColumns.
func scanSummary(rows *sql.Rows) (call.Summary, error) {
	var c columns
	if err := rows.Scan(&c.id, &c.name, &c.rep, &c.customer, &c.source, &c.state, &c.startedAt,
		&c.durationS, &c.progress, &c.listenPct, &c.monologueS, &c.onTarget, &c.hasAudio, &c.errText); err != nil {
		return call.Summary{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, c.startedAt)
	if err != nil {
		return call.Summary{}, fmt.Errorf("call %s: started_at %q: %w", c.id, c.startedAt, err)
	}
	s := call.Summary{
		ID: c.id, Name: c.name, Rep: c.rep, Customer: c.customer, Source: c.source, State: c.state,
		StartedAt: t, DurationS: c.durationS, Progress: c.progress, LongestRepMonologueS: c.monologueS,
		OnTarget: c.onTarget != 0, HasAudio: c.hasAudio != 0, Error: c.errText,
	}
	if c.listenPct.Valid {
		v := c.listenPct.Float64
		s.ListenPct = &v
	}
	return s, nil
}
