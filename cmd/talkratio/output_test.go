package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"talkratio/call"
	"talkratio/tally"
)

// verdictResult is a call whose customer talked 79.91% of the talk time,
// or, without speech, a call where nobody spoke.
func verdictResult(speech bool) tally.Result {
	tl := tally.New(tally.DefaultConfig())
	if speech {
		tl.Add(tally.Customer, tally.Segment{Start: 0, End: 79.91})
		tl.Add(tally.Rep, tally.Segment{Start: 79.91, End: 100})
	}
	tl.Settle(100)
	return tally.Result{Metrics: tl.Report(100), Segments: tally.Segments{Rep: []tally.Segment{}, Customer: []tally.Segment{}}}
}

// One verdict in the report formats: 79.91% is 79.9% and below the target
// in the text report, JSON and CSV alike; no speech is null in JSON, an
// empty CSV cell, and said so in the text report, never on target.
func TestReportFormatsOneVerdict(t *testing.T) {
	for _, tc := range []struct {
		name        string
		speech      bool
		text        []string
		jsonListen  string
		csvListen   string
		wantVerdict string
	}{
		{"79.91%", true, []string{"Listen         79.9%", "below target: the rep listened 79.9% of the talk time (target 80%) and talked 20.1%"},
			"79.9", "79.9", "below target: the rep listened 79.9% of the talk time (target 80%) and talked 20.1%"},
		{"no speech", false, []string{"Listen         none: nobody spoke", "Verdict        no speech found"},
			"null", "", "no speech found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callResult{Name: "call.wav", File: "call.wav", Result: verdictResult(tc.speech)}
			r.Format.SampleRate, r.Format.Channels = 16000, 2
			out := func(format string) string {
				var b bytes.Buffer
				rw := newReportWriter(call.Rules{}.WithDefaults(), format, &b, false)
				if err := rw.write(r); err != nil {
					t.Fatal(err)
				}
				if err := rw.flush(); err != nil {
					t.Fatal(err)
				}
				return b.String()
			}
			text := out("text")
			for _, w := range tc.text {
				if !strings.Contains(text, w) {
					t.Errorf("text report lacks %q:\n%s", w, text)
				}
			}
			var j map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out("json")), &j); err != nil {
				t.Fatal(err)
			}
			if string(j["listen_pct"]) != tc.jsonListen || string(j["on_target"]) != "false" || string(j["verdict"]) != `"`+tc.wantVerdict+`"` {
				t.Errorf("JSON: listen_pct %s on_target %s verdict %s", j["listen_pct"], j["on_target"], j["verdict"])
			}
			rows, err := csv.NewReader(strings.NewReader(out("csv"))).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("CSV: %v %v", rows, err)
			}
			col := func(name string) string { return rows[1][slices.Index(rows[0], name)] }
			if col("listen_pct") != tc.csvListen || col("on_target") != "false" {
				t.Errorf("CSV: listen_pct %q on_target %q, want %q and false", col("listen_pct"), col("on_target"), tc.csvListen)
			}
		})
	}
}

// A file where nobody speaks, end to end.
func TestAnalyzeNoSpeech(t *testing.T) {
	p := writeFile(t, t.TempDir(), "silent.wav", wavBytes(2, 8000, make([]int16, 2*5*8000)))
	code, out, _ := runCmd("analyze", "--format", "json", p)
	var j map[string]json.RawMessage
	if code != exitOK || json.Unmarshal([]byte(out), &j) != nil || string(j["listen_pct"]) != "null" || string(j["on_target"]) != "false" {
		t.Errorf("exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd("analyze", p); code != exitOK || !strings.Contains(out, "no speech found") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
}

// The README's analyze example has the keys `analyze --format json` prints
// for one stereo file.
func TestReadmeAnalyzeExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	s = s[strings.Index(s, "### Output"):]
	a := strings.Index(s, "```json\n") + len("```json\n")
	var doc map[string]any
	if err := json.Unmarshal([]byte(s[a:a+strings.Index(s[a:], "```")]), &doc); err != nil {
		t.Fatalf("README analyze example: %v", err)
	}
	p := writeFile(t, t.TempDir(), "call.wav", wavBytes(2, 8000, toneCall(8000)))
	code, out, errOut := runCmd("analyze", "--format", "json", p)
	var got map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("analyze: exit %d %s", code, errOut)
	}
	var want, have []string
	keyPaths(doc, "", &want)
	keyPaths(got, "", &have)
	slices.Sort(want)
	slices.Sort(have)
	if !slices.Equal(want, have) {
		t.Errorf("README example keys\n%v\nanalyze prints\n%v", want, have)
	}
}

// keyPaths lists the keys of a JSON value's objects, nested ones as a.b
// (not inside arrays, which may be empty).
func keyPaths(v any, prefix string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			*out = append(*out, prefix+k)
			keyPaths(c, prefix+k+".", out)
		}
	}
}
