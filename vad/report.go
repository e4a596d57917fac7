package vad

import (
	"fmt"
	"math"
	"strconv"
)

// Verdict is the one-line judgement of a call against the target, as the
// CLI, the API and the dashboards show it.
func (m Metrics) Verdict() string {
	switch {
	case m.RepTalkS+m.CustomerTalkS == 0:
		return "no speech found"
	case m.OnTarget:
		return fmt.Sprintf("on target: the rep listened %.0f%% of the talk time (target %.0f%%)", m.ListenPct, m.TargetListen)
	}
	return fmt.Sprintf("below target: the rep listened %.0f%% of the talk time (target %.0f%%) and talked %.0f%%", m.ListenPct, m.TargetListen, 100-m.ListenPct)
}

// CSVHeader names the metric columns of CSVRow, in order.
func CSVHeader() []string {
	return []string{
		"duration_s", "rep_talk_s", "customer_talk_s", "listen_pct", "rep_share_pct", "customer_share_pct",
		"overlap_s", "mutual_silence_s", "longest_rep_monologue_s", "longest_customer_story_s",
		"turn_switches", "turn_switches_per_min", "rep_replies", "rep_reply_pause_mean_s", "rep_reply_pause_median_s",
		"interruptions_by_rep", "interruptions_by_customer", "long_silences", "long_silence_s",
		"target_listen_pct", "on_target",
	}
}

// CSVRow is the metrics as CSV fields, in CSVHeader's order.
func (m Metrics) CSVRow() []string {
	f := func(x float64) string { return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64) }
	i := strconv.Itoa
	return []string{
		f(m.DurationS), f(m.RepTalkS), f(m.CustomerTalkS), f(m.ListenPct), f(m.RepSharePct), f(m.CustomerSharePct),
		f(m.OverlapS), f(m.MutualSilenceS), f(m.LongestRepMonologue.Dur), f(m.LongestCustomerStory.Dur),
		i(m.TurnSwitches), f(m.TurnSwitchesPerMinute), i(m.RepReplies), f(m.RepReplyPauseMeanS), f(m.RepReplyPauseMedianS),
		i(m.InterruptionsByRep), i(m.InterruptionsByCustomer), i(len(m.LongSilences)), f(m.LongSilenceS),
		f(m.TargetListen), strconv.FormatBool(m.OnTarget),
	}
}

// Meter is the live meter's figures sampled through a finished call, so
// that a replay can show, at any moment, what the meter showed then.
// Index i holds the value at time i*StepS. Listen figures are nil where
// nobody had spoken yet (in the recent window).
type Meter struct {
	StepS           float64    `json:"step_s"`
	ListenPct       []*float64 `json:"listen_pct"`
	RecentListenPct []*float64 `json:"recent_listen_pct"`
	RepTalkS        []float64  `json:"rep_talk_s"`
	CustomerTalkS   []float64  `json:"customer_talk_s"`
}

// MeterSeries samples the meter every step seconds of a finished call,
// from 0 to its end: the talk so far per role, the listen % so far, and the
// listen % over the last cfg.RecentWindowSec, as the live meter computed
// them at that moment. It walks the segments once.
func MeterSeries(segs Segments, duration, step float64, cfg TallyConfig) Meter {
	m := Meter{StepS: step}
	if step <= 0 || duration < 0 {
		return m
	}
	n := int(math.Floor(duration/step)) + 1
	times := make([]float64, n)
	for i := range times {
		times[i] = min(float64(i)*step, duration)
	}
	rep, cust := cumulativeTalk(segs.Rep, times), cumulativeTalk(segs.Customer, times)
	// The recent window's start, on the same grid when it divides evenly.
	lag := int(math.Round(cfg.RecentWindowSec / step))
	pct := func(c, r float64) *float64 {
		if c+r <= 0 {
			return nil
		}
		v := math.Round(10000*c/(c+r)) / 100
		return &v
	}
	for i := range n {
		m.RepTalkS = append(m.RepTalkS, roundTime(rep[i]))
		m.CustomerTalkS = append(m.CustomerTalkS, roundTime(cust[i]))
		m.ListenPct = append(m.ListenPct, pct(cust[i], rep[i]))
		j := max(0, i-lag)
		m.RecentListenPct = append(m.RecentListenPct, pct(cust[i]-cust[j], rep[i]-rep[j]))
	}
	return m
}

// cumulativeTalk returns, for each of the increasing times, the length of
// the sorted, disjoint segments before it.
func cumulativeTalk(segs []Segment, times []float64) []float64 {
	out := make([]float64, len(times))
	done, k := 0.0, 0 // talk of the segments fully before the current time
	for i, t := range times {
		for k < len(segs) && segs[k].End <= t {
			done += segs[k].Dur()
			k++
		}
		out[i] = done
		if k < len(segs) && segs[k].Start < t {
			out[i] += t - segs[k].Start
		}
	}
	return out
}
