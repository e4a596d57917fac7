package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"talkratio/call"
)

// CappedTotal is the most a list's total counts for the filters the rollup
// does not keep (state, audio): past it the total says CappedTotal+1, as
// "more than CappedTotal". The API offers neither filter; retention and
// start-up use them, and read pages, not the total.
const CappedTotal = 10000

// where builds a list's filters, numbering placeholders after args.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	for _, a := range args {
		w.args = append(w.args, a)
		cond = strings.Replace(cond, "?", fmt.Sprintf("$%d", len(w.args)), 1)
	}
	w.conds = append(w.conds, cond)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// filters are q's filters but the live split.
func filters(q call.ListQuery) *where {
	w := &where{}
	if q.Rep != "" {
		w.add("rep_key = ?", call.FoldRep(q.Rep))
	}
	if q.State != "" {
		w.add("state = ?", q.State)
	}
	if !q.From.IsZero() {
		w.add("started_ns >= ?", clampNanos(q.From))
	}
	if !q.To.IsZero() {
		w.add("started_ns < ?", clampNanos(q.To))
	}
	if q.WithAudio {
		w.add("has_audio = 1")
	}
	return w
}

// liveFilters are q's filters for the live calls' part of the list.
func liveFilters(q call.ListQuery) *where {
	w := &where{}
	if q.Rep != "" {
		w.add("rep_key || '' = ?", call.FoldRep(q.Rep))
	}
	if q.State != "" {
		w.add("state || '' = ?", q.State)
	}
	if !q.From.IsZero() {
		w.add("started_ns + 0 >= ?", clampNanos(q.From))
	}
	if !q.To.IsZero() {
		w.add("started_ns + 0 < ?", clampNanos(q.To))
	}
	if q.WithAudio {
		w.add("has_audio = 1")
	}
	return w
}

// List implements call.Store. Live calls come first (few: a node takes a
// bounded number), then the others through the index on the order asked
// for; After continues from a row with a row-value comparison on that
// index's columns, so that a page deep in the list costs what the first
// does.
func (s *Store) List(ctx context.Context, q call.ListQuery) ([]call.Summary, int, error) {
	offset, size := max(q.Offset, 0), q.Size
	var rows []call.Summary
	afterLive := q.After != nil && q.After.State == call.StateLive
	// A state filter picks one side of the live split alone.
	onlyLive, noLive := q.State == call.StateLive, q.State != "" && q.State != call.StateLive
	if (q.After == nil || afterLive) && !noLive {
		// The filters as expressions no index serves, so that the planner
		// walks the small index of live calls rather than, say, a rep's
		// thousands of calls.
		w := liveFilters(q)
		w.add("live = 1")
		if afterLive {
			w.add("(started_ns, id) < (?, ?)", clampNanos(q.After.StartedAt), q.After.ID)
		}
		var nLive int
		if err := s.db.QueryRowContext(ctx, s.d.Rebind(`SELECT COUNT(*) FROM calls`+w.sql()), w.args...).Scan(&nLive); err != nil {
			return nil, 0, fmt.Errorf("list calls: %w", err)
		}
		if offset < nLive {
			live, err := s.page(ctx, w, "started_ns DESC, id DESC", offset, size)
			if err != nil {
				return nil, 0, err
			}
			rows = live
		}
		offset = max(offset-nLive, 0)
	}
	if (size == 0 || len(rows) < size) && !onlyLive {
		w := filters(q)
		w.add("live = 0")
		col, dir, op := sortColumn(q.Sort), "DESC", "<"
		if q.Asc {
			dir, op = "ASC", ">"
		}
		order := col + " " + dir + ", started_ns " + dir + ", id " + dir
		keys := "(" + col + ", started_ns, id) " + op + " (?, ?, ?)"
		if col == "started_ns" {
			order, keys = "started_ns "+dir+", id "+dir, "(started_ns, id) "+op+" (?, ?)"
		}
		if q.After != nil && !afterLive {
			args := []any{sortValue(q.Sort, q.After), clampNanos(q.After.StartedAt), q.After.ID}
			if col == "started_ns" {
				args = args[1:]
			}
			w.add(keys, args...)
		}
		n := 0
		if size > 0 {
			n = size - len(rows)
		}
		more, err := s.page(ctx, w, order, offset, n)
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, more...)
	}
	total, err := s.total(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}

// page reads size rows (all if 0) past offset.
func (s *Store) page(ctx context.Context, w *where, order string, offset, size int) ([]call.Summary, error) {
	query := `SELECT ` + summaryColumns + ` FROM calls` + w.sql() + ` ORDER BY ` + order
	if size > 0 {
		query += fmt.Sprintf(" LIMIT %d", size)
	} else if offset > 0 {
		query += " LIMIT " + s.d.NoLimit
	}
	if offset > 0 {
		query += fmt.Sprintf(" OFFSET %d", offset)
	}
	rows, err := s.db.QueryContext(ctx, s.d.Rebind(query), w.args...)
	if err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	defer rows.Close()
	var out []call.Summary
	for rows.Next() {
		r, err := scanSummary(rows)
		if err != nil {
			return nil, fmt.Errorf("list calls: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list calls: %w", err)
	}
	return out, nil
}

// sortValue is a row's value in the column an order sorts by.
func sortValue(sort string, r *call.Summary) any {
	switch sort {
	case "duration_s":
		return r.DurationS
	case "listen_pct":
		if r.ListenPct == nil {
			return float64(listenNone)
		}
		return *r.ListenPct
	case "longest_rep_monologue_s":
		return r.LongestRepMonologueS
	case "rep":
		return strings.ToLower(r.Rep)
	case "name":
		return strings.ToLower(r.Name)
	}
	return clampNanos(r.StartedAt)
}

// total counts the calls matching q without reading them: whole days from
// the rollup (the reps table when there is no range), and only the calls
// of the range's two partial days, if any, from the calls index.
func (s *Store) total(ctx context.Context, q call.ListQuery) (int, error) {
	if q.State != "" || q.WithAudio {
		w := filters(q)
		var n int
		query := fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM calls%s LIMIT %d) capped`, w.sql(), CappedTotal+1)
		if err := s.db.QueryRowContext(ctx, s.d.Rebind(query), w.args...).Scan(&n); err != nil {
			return 0, fmt.Errorf("count calls: %w", err)
		}
		return n, nil
	}
	rep := &where{}
	if q.Rep != "" {
		rep.add("rep_key = ?", call.FoldRep(q.Rep))
	}
	if q.From.IsZero() && q.To.IsZero() {
		return s.sum(ctx, `SELECT CAST(COALESCE(SUM(n_all), 0) AS BIGINT) FROM reps`, rep)
	}
	lo, hi := int64(minTime.UnixNano()), int64(maxTime.UnixNano())
	if !q.From.IsZero() {
		lo = clampNanos(q.From)
	}
	if !q.To.IsZero() {
		hi = clampNanos(q.To)
	}
	if hi <= lo {
		return 0, nil
	}
	// Whole days [d0, d1) lie inside [lo, hi); an open end is whole.
	d0, d1 := dayOf(lo), dayOf(hi)
	if !q.From.IsZero() && lo != d0*dayNanos {
		d0++
	}
	if q.To.IsZero() {
		d1++
	}
	if d0 >= d1 {
		return s.countRange(ctx, q.Rep, lo, hi)
	}
	days := &where{conds: rep.conds, args: rep.args}
	days.add("day >= ?", d0)
	days.add("day < ?", d1)
	table := "days" // all reps: one row a day
	if q.Rep != "" {
		table = "rep_days"
	}
	n, err := s.sum(ctx, `SELECT CAST(COALESCE(SUM(n_all), 0) AS BIGINT) FROM `+table, days)
	if err != nil {
		return 0, err
	}
	if !q.From.IsZero() && lo < d0*dayNanos {
		m, err := s.countRange(ctx, q.Rep, lo, d0*dayNanos)
		if err != nil {
			return 0, err
		}
		n += m
	}
	if !q.To.IsZero() && d1*dayNanos < hi {
		m, err := s.countRange(ctx, q.Rep, d1*dayNanos, hi)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

func (s *Store) sum(ctx context.Context, query string, w *where) (int, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, s.d.Rebind(query+w.sql()), w.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count calls: %w", err)
	}
	return int(n), nil
}

// countRange counts the calls started in [lo, hi) (less than two days).
func (s *Store) countRange(ctx context.Context, rep string, lo, hi int64) (int, error) {
	return s.sum(ctx, `SELECT COUNT(*) FROM calls`, filters(call.ListQuery{Rep: rep}).and("started_ns >= ?", lo).and("started_ns < ?", hi))
}

func (w *where) and(cond string, args ...any) *where {
	w.add(cond, args...)
	return w
}
