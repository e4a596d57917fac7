package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"talkratio/call"
	"talkratio/tally"
)

// jsonReport is what --format json prints for one call: every metric of
// tally.Metrics at the top level, plus the segments and where they came from.
// One call prints one indented object; a batch prints one object per line
// (JSON Lines), failed files included with "error" set.
type jsonReport struct {
	File         string `json:"file,omitempty"`
	RepFile      string `json:"rep_file,omitempty"`
	CustomerFile string `json:"customer_file,omitempty"`
	Error        string `json:"error,omitempty"`
	SampleRate   int    `json:"sample_rate,omitempty"`
	Channels     int    `json:"channels,omitempty"`
	RepChannel   *int   `json:"rep_channel,omitempty"`
	CustChannel  *int   `json:"customer_channel,omitempty"`
	Verdict      string `json:"verdict,omitempty"`
	*tally.Result
}

type reportWriter struct {
	rules  call.Rules
	format string
	batch  bool
	w      *bufio.Writer
	csv    *csv.Writer
}

func newReportWriter(rules call.Rules, format string, w io.Writer, batch bool) *reportWriter {
	rw := &reportWriter{rules: rules, format: format, batch: batch, w: bufio.NewWriter(w)}
	if format == "csv" {
		rw.csv = csv.NewWriter(rw.w)
		rw.csv.Write(csvHeader)
	}
	return rw
}

func (rw *reportWriter) write(r callResult) error {
	switch rw.format {
	case "json":
		return rw.writeJSON(r)
	case "csv":
		return rw.csv.Write(csvRow(r))
	}
	if r.Err != nil {
		return nil // already on stderr
	}
	writeText(rw.w, r, rw.rules)
	return nil
}

func (rw *reportWriter) flush() error {
	if rw.csv != nil {
		rw.csv.Flush()
		if err := rw.csv.Error(); err != nil {
			return err
		}
	}
	return rw.w.Flush()
}

func (rw *reportWriter) writeJSON(r callResult) error {
	rep := jsonReport{File: r.File, RepFile: r.RepFile, CustomerFile: r.CustomerFile}
	if r.Err != nil {
		if !rw.batch {
			return nil // one file: the error is on stderr, and stdout stays empty
		}
		rep.Error = r.Err.Error()
	} else {
		rep.SampleRate, rep.Channels = r.Format.SampleRate, r.Format.Channels
		if r.File != "" {
			rep.RepChannel, rep.CustChannel = &r.Map.Rep, &r.Map.Customer
		}
		rep.Verdict = r.Result.Metrics.Verdict()
		rep.Result = &r.Result
	}
	enc := json.NewEncoder(rw.w)
	if !rw.batch {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(rep)
}

// csvHeader is the columns the API's CSV has too.
var csvHeader = call.CSVHeader()

func csvRow(r callResult) []string {
	rec := call.Record{File: r.File, RepFile: r.RepFile, CustomerFile: r.CustomerFile}
	if r.Err != nil {
		rec.Error = r.Err.Error()
	} else {
		rec.SampleRate, rec.DurationS, rec.Result = r.Format.SampleRate, r.Result.DurationS, &r.Result
	}
	return rec.CSVRow()
}

// clock formats seconds as m:ss (or h:mm:ss).
func clock(s float64) string {
	t := int(math.Round(s))
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

func writeText(w io.Writer, r callResult, rules call.Rules) {
	m := r.Result.Metrics
	fmt.Fprintf(w, "%s  (%s, %d Hz)\n", r.Name, clock(m.DurationS), r.Format.SampleRate)
	fmt.Fprintf(w, "  %-14s %s\n", "Verdict", m.Verdict())
	if m.ListenPct == nil {
		fmt.Fprintf(w, "  %-14s none: nobody spoke\n", "Listen")
	} else {
		fmt.Fprintf(w, "  %-14s %.1f%% of the talk time  (of the call time, silences included: rep %.0f%%, customer %.0f%%)\n", "Listen", *m.ListenPct, m.RepSharePct, m.CustomerSharePct)
	}
	fmt.Fprintf(w, "  %-14s rep %.1f s, customer %.1f s, both at once %.1f s, nobody %.1f s\n", "Talk", m.RepTalkS, m.CustomerTalkS, m.OverlapS, m.MutualSilenceS)
	fmt.Fprintf(w, "  %-14s rep %.1f s (at %s), customer story %.1f s (at %s)\n", "Longest", m.LongestRepMonologue.Dur, clock(m.LongestRepMonologue.Start), m.LongestCustomerStory.Dur, clock(m.LongestCustomerStory.Start))
	fmt.Fprintf(w, "  %-14s %.1f turn switches a minute (%d in all)\n", "Interactivity", m.TurnSwitchesPerMinute, m.TurnSwitches)
	if m.RepReplies > 0 {
		fmt.Fprintf(w, "  %-14s %.2f s median pause before the rep replies (mean %.2f s over %d replies)\n", "Patience", m.RepReplyPauseMedianS, m.RepReplyPauseMeanS, m.RepReplies)
	}
	fmt.Fprintf(w, "  %-14s by the rep %d, by the customer %d\n", "Interruptions", m.InterruptionsByRep, m.InterruptionsByCustomer)
	fmt.Fprintf(w, "  %-14s %d over %.0f s (%.1f s in all)\n", "Long silences", len(m.LongSilences), rules.Tally().LongSilenceSec, m.LongSilenceS)
	fmt.Fprintln(w)
}
