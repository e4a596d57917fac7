package call

import (
	"math"
	"sort"
	"strings"
	"time"

	"talkratio/tally"
)

// RepStats is one rep's figures over their ended calls.
type RepStats struct {
	Rep                   string    `json:"rep"`
	Calls                 int       `json:"calls"`
	MeanListenPct         *float64  `json:"mean_listen_pct"`
	MeanLongestMonologueS float64   `json:"mean_longest_monologue_s"`
	OnTargetShare         float64   `json:"on_target_share"`
	LastCallAt            time.Time `json:"last_call_at"`
}

// NoRep names the calls that name no rep in the reps' figures.
const NoRep = "(no rep)"

// RepTotals are the sums behind a rep's figures over some of their ended
// calls: what a database's rollup keeps per rep and day, and adds up.
type RepTotals struct {
	Calls        int       // ended calls
	ListenN      int       // of which someone spoke (a listen %)
	ListenTenths int64     // their listen %s added up, in tenths of a point
	MonologueMs  int64     // longest rep monologues added up, milliseconds
	OnTarget     int       // calls on target
	Last         time.Time // the latest call's start
}

// The sums are whole numbers of the units the figures are rounded to
// (listen % to a tenth, times to the millisecond), so that they are exact
// in any order of addition: a database that sums a day's rows, then the
// days, gets the very figures a loop over the calls does.

// ListenTenths is a listen % in whole tenths of a point.
func ListenTenths(pct float64) int64 { return int64(math.Round(pct * 10)) }

// Millis is a time in seconds as whole milliseconds.
func Millis(s float64) int64 { return int64(math.Round(s * 1000)) }

// Add counts one ended call's row.
func (t *RepTotals) Add(c *Summary) {
	t.Calls++
	t.MonologueMs += Millis(c.LongestRepMonologueS)
	if c.ListenPct != nil {
		t.ListenTenths += ListenTenths(*c.ListenPct)
		t.ListenN++
	}
	if c.OnTarget {
		t.OnTarget++
	}
	if c.StartedAt.After(t.Last) {
		t.Last = c.StartedAt
	}
}

// Merge adds other's sums to t.
func (t *RepTotals) Merge(o RepTotals) {
	t.Calls += o.Calls
	t.ListenN += o.ListenN
	t.ListenTenths += o.ListenTenths
	t.MonologueMs += o.MonologueMs
	t.OnTarget += o.OnTarget
	if o.Last.After(t.Last) {
		t.Last = o.Last
	}
}

// Stats turns the sums into the figures the API shows, rounded the same
// way whoever summed them.
func (t RepTotals) Stats(rep string) RepStats {
	s := RepStats{Rep: rep, Calls: t.Calls, LastCallAt: t.Last}
	if t.ListenN > 0 {
		// The mean of the calls' figures, rounded as they are, so that
		// the page shows and judges it as it does a call's.
		m := tally.RoundListen(float64(t.ListenTenths) / float64(10*t.ListenN))
		s.MeanListenPct = &m
	}
	if t.Calls > 0 {
		s.MeanLongestMonologueS = math.Round(float64(t.MonologueMs)/float64(t.Calls)) / 1000
		s.OnTargetShare = math.Round(1000*float64(t.OnTarget)/float64(t.Calls)) / 1000
	}
	return s
}

// RepGroup is the name a rep's figures are listed under: the rep as
// given, trimmed, or NoRep.
func RepGroup(rep string) string {
	if k := strings.TrimSpace(rep); k != "" {
		return k
	}
	return NoRep
}

// RepStatsOf computes every rep's figures from the rows of their calls
// (those not ended are left out), sorted by rep. Stores that hold their
// rows in memory use it; a database adds up its rollup instead.
func RepStatsOf(rows []Summary) []RepStats {
	by := map[string]*RepTotals{}
	for i := range rows {
		c := &rows[i]
		if c.State != StateEnded {
			continue
		}
		key := RepGroup(c.Rep)
		if by[key] == nil {
			by[key] = &RepTotals{}
		}
		by[key].Add(c)
	}
	return RepStatsFrom(by)
}

// RepStatsFrom turns totals by rep group into the sorted figures.
func RepStatsFrom(by map[string]*RepTotals) []RepStats {
	order := make([]string, 0, len(by))
	for k := range by {
		order = append(order, k)
	}
	sort.Strings(order)
	out := make([]RepStats, 0, len(order))
	for _, k := range order {
		out = append(out, by[k].Stats(k))
	}
	return out
}
