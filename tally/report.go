package tally

import (
	"fmt"
	"math"
	"strconv"
)

// The one verdict. The listen % rounded to a tenth of a percent is THE
// number: every surface (the live meter, the replay, the library, the reps
// page, the text report, the verdict, JSON, CSV) shows that number and
// judges it with the same rule, so a call at 79.91% reads 79.9% and is below
// an 80% target everywhere. A tenth is as fine as the figure means anything
// (a tenth of a percent of a 10-minute call's talk is half a second).
const listenDecimals = 10 // 10^decimals

// RoundListen rounds a listen share (0-100) to the tenth every surface
// shows.
func RoundListen(pct float64) float64 { return math.Round(pct*listenDecimals) / listenDecimals }

// ListenShare is the listen %: customer talk / (rep talk + customer talk) x
// 100, rounded by RoundListen; nil when nobody spoke, since a share of no
// talk is no figure at all.
func ListenShare(customerTalk, repTalk float64) *float64 {
	talk := customerTalk + repTalk
	if !(talk > 0) {
		return nil
	}
	v := RoundListen(100 * customerTalk / talk)
	return &v
}

// OnTarget is the verdict rule: a listen % (as ListenShare gives it) at or
// above the target (0-100). No speech is never on target.
func OnTarget(listenPct *float64, targetPct float64) bool {
	return listenPct != nil && *listenPct >= targetPct
}

// LogPct is a listen % for a log line: the number as ListenShare rounds
// it, or "none" when nobody spoke (a nil pointer would log as an address).
func LogPct(listenPct *float64) any {
	if listenPct == nil {
		return "none"
	}
	return RoundListen(*listenPct)
}

// Verdict is the one-line judgement of a call against the target, as the
// CLI, the API and the dashboards show it. It prints the listen % as
// ListenShare rounds it and judges it with OnTarget.
func (m Metrics) Verdict() string {
	if m.ListenPct == nil {
		return "no speech found"
	}
	p := *m.ListenPct
	target := strconv.FormatFloat(m.TargetListen, 'f', -1, 64)
	if OnTarget(m.ListenPct, m.TargetListen) {
		return fmt.Sprintf("on target: the rep listened %.1f%% of the talk time (target %s%%)", p, target)
	}
	return fmt.Sprintf("below target: the rep listened %.1f%% of the talk time (target %s%%) and talked %.1f%%", p, target, 100-p)
}

// CSVHeader names the metric columns of CSVRow, in order.
func CSVHeader() []string {
	return []string{
		"duration_s", "rep_talk_s", "customer_talk_s", "listen_pct", "rep_share_pct", "customer_share_pct",
		"overlap_s", "mutual_silence_s", "missing_audio_s", "longest_rep_monologue_s", "longest_customer_story_s",
		"turn_switches", "turn_switches_per_min", "rep_replies", "rep_reply_pause_mean_s", "rep_reply_pause_median_s",
		"interruptions_by_rep", "interruptions_by_customer", "long_silences", "long_silence_s",
		"target_listen_pct", "on_target",
	}
}

// CSVRow is the metrics as CSV fields, in CSVHeader's order. A call with no
// speech has an empty listen_pct cell, as its JSON has null.
func (m Metrics) CSVRow() []string {
	f := func(x float64) string { return strconv.FormatFloat(math.Round(x*1000)/1000, 'f', -1, 64) }
	i := strconv.Itoa
	listen := ""
	if m.ListenPct != nil {
		listen = f(*m.ListenPct)
	}
	return []string{
		f(m.DurationS), f(m.RepTalkS), f(m.CustomerTalkS), listen, f(m.RepSharePct), f(m.CustomerSharePct),
		f(m.OverlapS), f(m.MutualSilenceS), f(m.MissingAudioS), f(m.LongestRepMonologue.Dur), f(m.LongestCustomerStory.Dur),
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
func MeterSeries(segs Segments, duration, step float64, cfg Config) Meter {
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
	for i := range n {
		m.RepTalkS = append(m.RepTalkS, roundTime(rep[i]))
		m.CustomerTalkS = append(m.CustomerTalkS, roundTime(cust[i]))
		m.ListenPct = append(m.ListenPct, ListenShare(cust[i], rep[i]))
		j := max(0, i-lag)
		m.RecentListenPct = append(m.RecentListenPct, ListenShare(cust[i]-cust[j], rep[i]-rep[j]))
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
