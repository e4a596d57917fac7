// Package call is talkratio's domain: what a call is (Record, Summary and
// its states), how calls are judged (Rules), what a viewer is sent
// (Snapshot), and the interfaces the rest of the service is built on:
// Store keeps records, AudioStore and Staging keep files, Bus carries live
// snapshots to viewers. Every method takes a context and documents its
// errors.
//
// The package knows no transport and no technology: it imports neither
// net/http nor WebRTC, nor any codec. Implementations are named after
// their technology (sqlite, postgres, blobdir, s3blob, disk, inmem; nats
// later) and wired together in cmd, after github.com/benbjohnson/wtf.
package call

import (
	"encoding/json"
	"fmt"
	"time"

	"talkratio/tally"
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
	// The audio the call was analyzed from, named as `talkratio analyze`
	// names it: the uploaded file (or the two mono files), its rate and
	// channels, and which channel is whose. A live call has no file; it
	// is analyzed at the analysis rate on two channels, rep left.
	File            string `json:"file,omitempty"`
	RepFile         string `json:"rep_file,omitempty"`
	CustomerFile    string `json:"customer_file,omitempty"`
	SampleRate      int    `json:"sample_rate,omitempty"`
	Channels        int    `json:"channels,omitempty"`
	RepChannel      *int   `json:"rep_channel,omitempty"`
	CustomerChannel *int   `json:"customer_channel,omitempty"`
	// Result is the full analysis: every metric and the segments, at the
	// top level of the JSON as `talkratio analyze` prints them.
	*tally.Result
	// Meter is the live meter sampled through the call, for replay.
	Meter *tally.Meter `json:"meter,omitempty"`
	// Comments are coaches' notes on moments of the call, in time order.
	Comments []Comment `json:"comments,omitempty"`
}

// RepOnRight reports whether a stereo recording has the rep on its right
// channel.
func (r *Record) RepOnRight() bool { return r.RepChannel != nil && *r.RepChannel == 1 }

// SetChannels records which of the audio's channels is the rep's and
// which the customer's.
func (r *Record) SetChannels(rep, customer int) { r.RepChannel, r.CustomerChannel = &rep, &customer }

// UnmarshalJSON reads a record as it was written. The call's duration is
// written once: the record's duration_s shadows the analysis's in JSON, so
// it is handed back to the analysis here, or a record read back would
// report a call of no length. A record written before the source fields
// named its rep's channel "right"; that reads as channel 1 of 2.
func (r *Record) UnmarshalJSON(b []byte) error {
	type plain Record
	var p struct {
		plain
		RepChannel json.RawMessage `json:"rep_channel"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*r = Record(p.plain)
	r.RepChannel = nil
	switch rc := string(p.RepChannel); rc {
	case "", "null":
	case `"right"`:
		r.SetChannels(1, 0)
	default:
		var n int
		if err := json.Unmarshal(p.RepChannel, &n); err != nil {
			return fmt.Errorf("rep_channel %s: %w", rc, err)
		}
		r.RepChannel = &n
	}
	if r.Result != nil {
		r.Result.DurationS = r.DurationS
	}
	return nil
}

// SetLabels sets the call's name, rep and customer as given by whoever
// sends the call in, cut to a sane length.
func (r *Record) SetLabels(name, rep, customer string) {
	r.Name, r.Rep, r.Customer = clip(name, maxName), clip(rep, maxLabel), clip(customer, maxLabel)
}

// ClipLabel cuts a label (a file's name, say) to the length a record
// keeps.
func ClipLabel(s string) string { return clip(s, maxLabel) }

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
		v := tally.RoundListen(*m.ListenPct)
		m.ListenPct = &v
	}
	m.OnTarget = tally.OnTarget(m.ListenPct, m.TargetListen)
}
