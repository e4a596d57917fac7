// Package call is talkratio's domain: what a call is (Record, Summary and
// its states), how calls are judged (Rules), what a viewer is sent
// (Snapshot), and the interfaces the rest of the service is built on:
// Store keeps records, AudioStore and Staging keep files, Bus carries live
// snapshots to viewers. Every method takes a context and documents its
// errors.
//
// The package knows no transport and no technology: it imports neither
// net/http nor WebRTC, nor any codec. Implementations are named after
// their technology (disk and inmem today; sqlite, postgres, s3 and nats
// later) and wired together in cmd, after github.com/benbjohnson/wtf.
package call

import (
	"time"

	"talkratio/vad"
)

// Call states, as the API shows them.
const (
	StateLive      = "live"      // a live call in progress
	StateAnalyzing = "analyzing" // an upload being analyzed
	StateEnded     = "ended"     // done: live call over, or upload analyzed
	StateFailed    = "failed"    // an upload that could not be analyzed
	// StateInterrupted is a live call whose service stopped without ending
	// it (a crash, a power cut): it keeps the analysis of its last
	// checkpoint.
	StateInterrupted = "interrupted"
)

// Call sources.
const (
	SourceLive   = "live"
	SourceUpload = "upload"
)

// Labels are capped: names come from publishers and uploaders.
const (
	maxName  = 200
	maxLabel = 100
)

// Record is everything kept about one call.
type Record struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Rep       string    `json:"rep"`
	Customer  string    `json:"customer"`
	Source    string    `json:"source"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"started_at"`
	DurationS float64   `json:"duration_s"`
	// Progress is the share of an upload analyzed so far (0-1).
	Progress float64 `json:"progress,omitempty"`
	Error    string  `json:"error,omitempty"`
	HasAudio bool    `json:"has_audio"`
	// RepChannel is "right" for an upload whose rep is on the right.
	RepChannel string `json:"rep_channel,omitempty"`
	// Result is the full analysis: every metric and the segments, at the
	// top level of the JSON as `talkratio analyze` prints them.
	*vad.Result
	// Meter is the live meter sampled through the call, for replay.
	Meter *vad.Meter `json:"meter,omitempty"`
}

// SetLabels sets the call's name, rep and customer as given by whoever
// sends the call in, cut to a sane length.
func (r *Record) SetLabels(name, rep, customer string) {
	r.Name, r.Rep, r.Customer = clip(name, maxName), clip(rep, maxLabel), clip(customer, maxLabel)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Summary is a row of the call list.
type Summary struct {
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	Rep                  string    `json:"rep"`
	Customer             string    `json:"customer"`
	Source               string    `json:"source"`
	State                string    `json:"state"`
	StartedAt            time.Time `json:"started_at"`
	DurationS            float64   `json:"duration_s"`
	Progress             float64   `json:"progress,omitempty"`
	ListenPct            *float64  `json:"listen_pct"`
	LongestRepMonologueS float64   `json:"longest_rep_monologue_s"`
	OnTarget             bool      `json:"on_target"`
	HasAudio             bool      `json:"has_audio"`
	Error                string    `json:"error,omitempty"`
}

// Summary is the record's row in the call list.
func (r *Record) Summary() Summary {
	s := Summary{
		ID: r.ID, Name: r.Name, Rep: r.Rep, Customer: r.Customer, Source: r.Source, State: r.State,
		StartedAt: r.StartedAt, DurationS: r.DurationS, Progress: r.Progress, HasAudio: r.HasAudio, Error: r.Error,
	}
	if m := r.Result; m != nil {
		s.ListenPct = m.ListenPct
		s.LongestRepMonologueS = m.LongestRepMonologue.Dur
		s.OnTarget = m.OnTarget
	}
	return s
}

// ApplyListenRule judges a record stored before the one verdict rule as a
// new one is judged: those kept the listen % to a hundredth (0 when nobody
// spoke) and judged the unrounded figure. A store applies it to what it
// reads.
func (r *Record) ApplyListenRule() {
	m := r.Result
	if m == nil {
		return
	}
	if m.RepTalkS+m.CustomerTalkS == 0 {
		m.ListenPct = nil
	} else if m.ListenPct != nil {
		v := vad.RoundListen(*m.ListenPct)
		m.ListenPct = &v
	}
	m.OnTarget = vad.OnTarget(m.ListenPct, m.TargetListen)
}
