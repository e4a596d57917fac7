package call

import (
	"math"
	"sort"
	"strings"
	"time"

	"talkratio/vad"
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

// RepStatsOf computes every rep's figures from the rows of their calls
// (those not ended are left out), sorted by rep. Stores that hold their
// rows in memory use it; a database computes the same with a query.
func RepStatsOf(rows []Summary) []RepStats {
	type acc struct {
		RepStats
		listenSum float64
		listenN   int
		mono      float64
		onTarget  int
	}
	by := map[string]*acc{}
	var order []string
	for _, c := range rows {
		if c.State != StateEnded {
			continue
		}
		key := strings.TrimSpace(c.Rep)
		if key == "" {
			key = NoRep
		}
		a := by[key]
		if a == nil {
			a = &acc{RepStats: RepStats{Rep: key}}
			by[key] = a
			order = append(order, key)
		}
		a.Calls++
		a.mono += c.LongestRepMonologueS
		if c.ListenPct != nil {
			a.listenSum += *c.ListenPct
			a.listenN++
		}
		if c.OnTarget {
			a.onTarget++
		}
		if c.StartedAt.After(a.LastCallAt) {
			a.LastCallAt = c.StartedAt
		}
	}
	sort.Strings(order)
	out := make([]RepStats, 0, len(order))
	for _, k := range order {
		a := by[k]
		if a.listenN > 0 {
			// The mean of the calls' figures, rounded as they are, so
			// that the page shows and judges it as it does a call's.
			m := vad.RoundListen(a.listenSum / float64(a.listenN))
			a.MeanListenPct = &m
		}
		a.MeanLongestMonologueS = math.Round(1000*a.mono/float64(a.Calls)) / 1000
		a.OnTargetShare = math.Round(1000*float64(a.onTarget)/float64(a.Calls)) / 1000
		out = append(out, a.RepStats)
	}
	return out
}
