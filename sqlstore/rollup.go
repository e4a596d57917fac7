package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"talkratio/call"
)

// repDay is one row of the rollup: a rep (as stored) and a UTC day.
type repDay struct {
	rep string
	day int64
}

// touched are the rollup rows a transaction's writes changed.
type touched map[repDay]bool

// sums are one rollup row's figures.
type sums struct {
	all int64 // calls in any state
	call.RepTotals
	lastNs int64
}

func (m *sums) dest() []any {
	return []any{&m.all, &m.Calls, &m.ListenN, &m.ListenTenths, &m.MonologueMs, &m.OnTarget, &m.lastNs}
}

func (m *sums) totals() call.RepTotals {
	t := m.RepTotals
	if m.Calls > 0 {
		t.Last = time.Unix(0, m.lastNs).UTC()
	}
	return t
}

func (m *sums) args() []any {
	return []any{m.all, m.Calls, m.ListenN, m.ListenTenths, m.MonologueMs, m.OnTarget, m.lastNs}
}

// refresh recounts the rollup rows t names from the calls, then their
// reps' totals from the days. Where several nodes write (Postgres), each
// rep is locked first, in order, so that two transactions never recount
// the same rep at once and miss each other's calls.
func (s *Store) refresh(ctx context.Context, tx *sql.Tx, t touched) error {
	keys := make([]repDay, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b repDay) int {
		return cmp.Or(cmp.Compare(a.rep, b.rep), cmp.Compare(a.day, b.day))
	})
	var reps []string
	for _, k := range keys {
		if len(reps) == 0 || reps[len(reps)-1] != k.rep {
			reps = append(reps, k.rep)
			if s.q.lockRep != "" {
				if _, err := tx.ExecContext(ctx, s.q.lockRep, k.rep); err != nil {
					return fmt.Errorf("lock rep: %w", err)
				}
			}
		}
		var m sums
		if err := tx.QueryRowContext(ctx, s.q.recountDay, k.rep, k.day).Scan(m.dest()...); err != nil {
			return fmt.Errorf("recount day: %w", err)
		}
		var err error
		if m.all == 0 {
			_, err = tx.ExecContext(ctx, s.q.deleteDay, k.rep, k.day)
		} else {
			_, err = tx.ExecContext(ctx, s.q.upsertDay, append([]any{k.rep, k.day, call.FoldRep(k.rep)}, m.args()...)...)
		}
		if err != nil {
			return fmt.Errorf("rollup day: %w", err)
		}
	}
	if err := s.refreshDays(ctx, tx, keys); err != nil {
		return err
	}
	for _, rep := range reps {
		var m sums
		if err := tx.QueryRowContext(ctx, s.q.recountRep, rep).Scan(m.dest()...); err != nil {
			return fmt.Errorf("recount rep: %w", err)
		}
		var err error
		if m.all == 0 {
			_, err = tx.ExecContext(ctx, s.q.deleteRep, rep)
		} else {
			_, err = tx.ExecContext(ctx, s.q.upsertRep, append([]any{rep, call.FoldRep(rep)}, m.args()...)...)
		}
		if err != nil {
			return fmt.Errorf("rollup rep: %w", err)
		}
	}
	return nil
}

// refreshDays recounts the days table's rows of the days keys touched.
// Where several nodes write, each day is locked first (after every rep,
// and in order, so that no two transactions wait on each other): the
// recount then reads every other writer's rows of that day, committed
// (READ COMMITTED reads what committed before each statement).
func (s *Store) refreshDays(ctx context.Context, tx *sql.Tx, keys []repDay) error {
	var days []int64
	for _, k := range keys {
		if !slices.Contains(days, k.day) {
			days = append(days, k.day)
		}
	}
	slices.Sort(days)
	for _, day := range days {
		k := repDay{day: day}
		if s.q.lockDay != "" {
			if _, err := tx.ExecContext(ctx, s.q.lockDay, k.day); err != nil {
				return fmt.Errorf("lock day: %w", err)
			}
		}
		var n int64
		if err := tx.QueryRowContext(ctx, s.q.recountTotal, k.day).Scan(&n); err != nil {
			return fmt.Errorf("recount day total: %w", err)
		}
		var err error
		if n == 0 {
			_, err = tx.ExecContext(ctx, s.q.deleteTotal, k.day)
		} else {
			_, err = tx.ExecContext(ctx, s.q.upsertTotal, k.day, n)
		}
		if err != nil {
			return fmt.Errorf("day total: %w", err)
		}
	}
	return nil
}

// RepStats implements call.Store from the reps table: one row per rep
// name as stored, grouped as call.RepStatsOf groups them.
func (s *Store) RepStats(ctx context.Context, rep string) ([]call.RepStats, error) {
	query, args := `SELECT rep, `+rollupColumns+` FROM reps`, []any{}
	if rep != "" {
		query += ` WHERE rep_key = $1`
		args = append(args, call.FoldRep(rep))
	}
	rows, err := s.db.QueryContext(ctx, s.d.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("reps: %w", err)
	}
	defer rows.Close()
	by := map[string]*call.RepTotals{}
	for rows.Next() {
		var name string
		var m sums
		if err := rows.Scan(append([]any{&name}, m.dest()...)...); err != nil {
			return nil, fmt.Errorf("reps: %w", err)
		}
		if m.Calls == 0 {
			continue // no ended call: not listed, as RepStatsOf does
		}
		k := call.RepGroup(name)
		if by[k] == nil {
			by[k] = &call.RepTotals{}
		}
		by[k].Merge(m.totals())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reps: %w", err)
	}
	return call.RepStatsFrom(by), nil
}

// RepDays implements call.Trends from rep_days.
func (s *Store) RepDays(ctx context.Context, rep string, from, to time.Time) ([]call.RepDay, error) {
	query := `SELECT day, ` + rollupColumns + ` FROM rep_days WHERE rep_key = $1`
	args := []any{call.FoldRep(rep)}
	if !from.IsZero() {
		args = append(args, dayOf(clampNanos(from)))
		query += fmt.Sprintf(` AND day >= $%d`, len(args))
	}
	if !to.IsZero() {
		args = append(args, dayOf(clampNanos(to)-1)+1)
		query += fmt.Sprintf(` AND day < $%d`, len(args))
	}
	rows, err := s.db.QueryContext(ctx, s.d.Rebind(query+` ORDER BY day`), args...)
	if err != nil {
		return nil, fmt.Errorf("trend of %s: %w", rep, err)
	}
	defer rows.Close()
	var days []int64
	by := map[int64]*call.RepTotals{}
	for rows.Next() {
		var day int64
		var m sums
		if err := rows.Scan(append([]any{&day}, m.dest()...)...); err != nil {
			return nil, fmt.Errorf("trend of %s: %w", rep, err)
		}
		if m.Calls == 0 {
			continue
		}
		if by[day] == nil {
			by[day] = &call.RepTotals{}
			days = append(days, day)
		}
		by[day].Merge(m.totals())
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trend of %s: %w", rep, err)
	}
	out := make([]call.RepDay, 0, len(days))
	for _, d := range days {
		day := time.Unix(d*int64(24*time.Hour/time.Second), 0).UTC()
		out = append(out, call.RepDay{Day: day.Format(time.DateOnly), RepStats: by[d].Stats(call.RepGroup(rep))})
	}
	return out, nil
}
