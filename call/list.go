package call

import (
	"slices"
	"strings"
	"time"
)

// ListQuery filters, sorts and pages the call list.
type ListQuery struct {
	Rep       string    // exact rep name, case-insensitive; "" for all
	State     string    // one state; "" for all
	From, To  time.Time // started in [From, To); zero for open ends
	WithAudio bool      // only calls that have audio
	Sort      string    // a column of SortColumns(); "" for started_at
	Asc       bool      // ascending; the default is newest/largest first
	// After, when set, starts the page just after this row in the list's
	// order (keyset pagination): a store with an index on the order finds
	// the page without counting the rows before it. Offset then counts
	// from there.
	After        *Summary
	Offset, Size int // Size 0: all
}

// SortColumns returns the columns the list sorts by.
func SortColumns() []string {
	return []string{"started_at", "duration_s", "listen_pct", "longest_rep_monologue_s", "rep", "name"}
}

// ValidSort reports whether the list can be sorted by column ("" is the
// default, started_at).
func ValidSort(column string) bool { return sortKey(column) != nil }

// sortKey returns the comparison for a sortable column, nil for others.
func sortKey(column string) func(a, b *Summary) int {
	switch column {
	case "", "started_at":
		return func(a, b *Summary) int { return a.StartedAt.Compare(b.StartedAt) }
	case "duration_s":
		return func(a, b *Summary) int { return cmpFloat(a.DurationS, b.DurationS) }
	case "listen_pct":
		return func(a, b *Summary) int { return cmpFloat(listenOr(a), listenOr(b)) }
	case "longest_rep_monologue_s":
		return func(a, b *Summary) int { return cmpFloat(a.LongestRepMonologueS, b.LongestRepMonologueS) }
	case "rep":
		return func(a, b *Summary) int { return strings.Compare(strings.ToLower(a.Rep), strings.ToLower(b.Rep)) }
	case "name":
		return func(a, b *Summary) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) }
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// listenOr sorts calls without a listen % (nobody spoke) below all others.
func listenOr(s *Summary) float64 {
	if s.ListenPct == nil {
		return -1
	}
	return *s.ListenPct
}

// Matches reports whether a row passes the query's filters.
func (q ListQuery) Matches(s *Summary) bool {
	if q.Rep != "" && !strings.EqualFold(q.Rep, s.Rep) {
		return false
	}
	if q.State != "" && q.State != s.State {
		return false
	}
	if !q.From.IsZero() && s.StartedAt.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !s.StartedAt.Before(q.To) {
		return false
	}
	if q.WithAudio && !s.HasAudio {
		return false
	}
	return true
}

// Sort orders rows as the list shows them (see Compare). Stores that keep
// rows in memory use it.
func Sort(rows []Summary, q ListQuery) {
	cmp := Compare(q)
	slices.SortFunc(rows, func(a, b Summary) int { return cmp(&a, &b) })
}

// Compare returns the list's order: live calls first, newest first
// (whatever the query's order), then the others as the query asks (newest
// first by default); ties by start time and then id, in the same
// direction, so that pages are stable and one index on (column, start, id)
// serves both directions: a database orders its rows the same way.
func Compare(q ListQuery) func(a, b *Summary) int {
	key := sortKey(q.Sort)
	if key == nil {
		key = sortKey("started_at")
	}
	byStart := sortKey("started_at")
	return func(a, b *Summary) int {
		al, bl := a.State == StateLive, b.State == StateLive
		if al != bl {
			if al {
				return -1
			}
			return 1
		}
		k, asc := key, q.Asc
		if al {
			k, asc = byStart, false
		}
		c := k(a, b)
		if c == 0 {
			c = a.StartedAt.Compare(b.StartedAt)
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		if !asc {
			c = -c
		}
		return c
	}
}

// Page cuts one page out of sorted rows: after q.After if set, then past
// q.Offset rows, q.Size rows (all if 0).
func Page(rows []Summary, q ListQuery) []Summary {
	start := 0
	if q.After != nil {
		cmp := Compare(q)
		start, _ = slices.BinarySearchFunc(rows, q.After, func(r Summary, after *Summary) int {
			if cmp(&r, after) <= 0 {
				return -1
			}
			return 1
		})
	}
	lo := min(start+max(q.Offset, 0), len(rows))
	hi := len(rows)
	if q.Size > 0 {
		hi = min(lo+q.Size, len(rows))
	}
	return rows[lo:hi]
}
