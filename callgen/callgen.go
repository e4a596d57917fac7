// Package callgen makes synthetic call records, as many as asked, for the
// stores' conformance tests, the benchmark and the migration test: ended
// calls whose analysis (segments, metrics, meter) is a real tally of
// alternating turns, spread over reps and time. The same seed and index
// always give the same record.
package callgen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

// Generator makes the records of one synthetic library.
type Generator struct {
	Reps  int           // how many reps (rep-000 ...); some calls name none
	From  time.Time     // the first call's earliest start
	Span  time.Duration // calls start in [From, From+Span)
	Seed  uint64
	cache []analysis
}

// analysis is one tallied call that records share: tallying every one of
// a million calls would take longer than storing them.
type analysis struct {
	res   *tally.Result
	meter *tally.Meter
}

// templates is how many distinct analyses records draw from.
const templates = 97

// New returns a generator of records over reps reps, starting from from
// over span.
func New(reps int, from time.Time, span time.Duration, seed uint64) *Generator {
	g := &Generator{Reps: reps, From: from, Span: span, Seed: seed}
	cfg := tally.DefaultConfig()
	for i := range templates {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		dur := 60 + rng.Float64()*900
		tl := tally.New(cfg)
		// The rep speaks a share between 5% and 70% of the turns' time.
		share := 0.05 + 0.65*rng.Float64()
		for t := 0.5; t < dur-2; {
			n := 1 + rng.Float64()*20
			role := tally.Customer
			if rng.Float64() < share {
				role = tally.Rep
			}
			end := min(t+n, dur-1)
			tl.Add(role, tally.Segment{Start: t, End: end})
			t = end + 0.2 + rng.Float64()*2
		}
		m := tl.Report(dur)
		segs := tally.Segments{Rep: nonNil(tl.Segments(tally.Rep)), Customer: nonNil(tl.Segments(tally.Customer))}
		meter := tally.MeterSeries(segs, dur, 1, cfg)
		g.cache = append(g.cache, analysis{res: &tally.Result{Metrics: m, Segments: segs}, meter: &meter})
	}
	return g
}

func nonNil(s []tally.Segment) []tally.Segment {
	if s == nil {
		return []tally.Segment{}
	}
	return s
}

// ID is the i-th record's id.
func (g *Generator) ID(i int) string { return fmt.Sprintf("gen%08d", i) }

// Record returns the i-th record. Records share their analysis with
// others; a caller that changes one must copy it first.
func (g *Generator) Record(i int) *call.Record {
	rng := rand.New(rand.NewPCG(g.Seed^0x9e3779b97f4a7c15, uint64(i)))
	a := g.cache[rng.IntN(len(g.cache))]
	rep := ""
	if g.Reps > 0 && rng.IntN(50) != 0 {
		rep = fmt.Sprintf("rep-%03d", rng.IntN(g.Reps))
	}
	start := g.From.Add(time.Duration(rng.Int64N(int64(g.Span))))
	r := &call.Record{
		ID: g.ID(i), Source: call.SourceLive, State: call.StateEnded,
		StartedAt: start.UTC().Truncate(time.Millisecond), DurationS: a.res.DurationS,
		Result: a.res, Meter: a.meter,
	}
	r.SetLabels(fmt.Sprintf("Call %d", i), rep, fmt.Sprintf("Customer %d", rng.IntN(5000)))
	if rng.IntN(10) == 0 {
		r.Source, r.HasAudio = call.SourceUpload, true
	}
	return r
}
