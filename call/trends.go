package call

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"talkratio/tally"
)

// RepDay is one rep's figures over the ended calls of one day (UTC): a
// point of their trend.
type RepDay struct {
	Day string `json:"day"` // YYYY-MM-DD
	RepStats
}

// Trends is what a store with a per-rep, per-day rollup answers without
// reading calls. Stores that keep rows in memory compute it (RepDaysOf).
type Trends interface {
	// RepDays returns the figures of a rep (case-insensitive), day by day
	// from from to to (zero for open ends), oldest first; days without an
	// ended call are left out.
	RepDays(ctx context.Context, rep string, from, to time.Time) ([]RepDay, error)
}

// BatchPutter is a store that writes many records at once faster than one
// by one: an import, a generator. PutBatch is Put for each record, all or
// none.
type BatchPutter interface {
	PutBatch(ctx context.Context, recs []*Record) error
}

// Day is the UTC day a call counts under in the per-day figures.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// RepDaysOf computes a rep's trend from rows (those of other reps and
// those not ended are left out).
func RepDaysOf(rows []Summary, rep string) []RepDay {
	by := map[time.Time]*RepTotals{}
	var days []time.Time
	for i := range rows {
		c := &rows[i]
		if c.State != StateEnded || !strings.EqualFold(c.Rep, rep) {
			continue
		}
		d := Day(c.StartedAt)
		if by[d] == nil {
			by[d] = &RepTotals{}
			days = append(days, d)
		}
		by[d].Add(c)
	}
	slices.SortFunc(days, time.Time.Compare)
	out := make([]RepDay, 0, len(days))
	for _, d := range days {
		out = append(out, RepDay{Day: d.Format(time.DateOnly), RepStats: by[d].Stats(RepGroup(rep))})
	}
	return out
}

// FoldRep is a rep name case-folded, so that two names equal under
// strings.EqualFold (what rep= matches) have the same key: each rune
// becomes the smallest rune of its Unicode simple-folding orbit. A
// database indexes it for rep=.
func FoldRep(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r == utf8.RuneError {
			b.WriteRune(r)
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// Interrupt turns the record of a live call whose service stopped without
// ending it (a crash, a power cut) into an interrupted call, with the
// analysis of its last checkpoint: it is never listed as live again.
func (r *Record) Interrupt() {
	r.State = StateInterrupted
	if r.Result != nil {
		if r.Segments.Rep == nil {
			r.Segments.Rep = []tally.Segment{}
		}
		if r.Segments.Customer == nil {
			r.Segments.Customer = []tally.Segment{}
		}
	}
}
