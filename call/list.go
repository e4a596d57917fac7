package call

import (
	"slices"
	"strings"
	"time"
)

// ListQuery filters, sorts and pages the call list.
type ListQuery struct {
	Rep          string    // exact rep name, case-insensitive; "" for all
	State        string    // one state; "" for all
	From, To     time.Time // started in [From, To); zero for open ends
	Sort         string    // a column of SortColumns(); "" for started_at
	Asc          bool      // ascending; the default is newest/largest first
	Offset, Size int       // Size 0: all
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
	return true
}

// Sort orders rows as the list shows them: live calls first, newest first
// (whatever the query's order), then the others as the query asks (newest
// first by default); ties by start time and then id, so that pages are
// stable. Stores that keep rows in memory use it.
func Sort(rows []Summary, q ListQuery) {
	key := sortKey(q.Sort)
	if key == nil {
		key = sortKey("started_at")
	}
	byStart := sortKey("started_at")
	slices.SortFunc(rows, func(a, b Summary) int {
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
		c := k(&a, &b)
		if c == 0 {
			c = a.StartedAt.Compare(b.StartedAt)
		}
		if !asc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		return c
	})
}

// Page cuts one page out of sorted rows.
func Page(rows []Summary, q ListQuery) []Summary {
	lo := min(max(q.Offset, 0), len(rows))
	hi := len(rows)
	if q.Size > 0 {
		hi = min(lo+q.Size, len(rows))
	}
	return rows[lo:hi]
}
