package server

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

// readmeJSON returns the first ```json block after the heading in the
// README, parsed.
func readmeJSON(t *testing.T, path, heading string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("%s: no %q", path, heading)
	}
	s = s[i:]
	a := strings.Index(s, "```json\n")
	e := strings.Index(s[a+8:], "```")
	if a < 0 || e < 0 {
		t.Fatalf("%s: no JSON example after %q", path, heading)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s[a+8:a+8+e]), &m); err != nil {
		t.Fatalf("%s: the example after %q: %v", path, heading, err)
	}
	return m
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

// sameKeys reports the keys one of two JSON values has and the other not.
func sameKeys(t *testing.T, what string, doc, code any) {
	t.Helper()
	var a, b []string
	keyPaths(doc, "", &a)
	keyPaths(code, "", &b)
	slices.Sort(a)
	slices.Sort(b)
	for _, k := range a {
		if !slices.Contains(b, k) {
			t.Errorf("%s: the README has %q, the code does not emit it", what, k)
		}
	}
	for _, k := range b {
		if !slices.Contains(a, k) {
			t.Errorf("%s: the code emits %q, the README example lacks it", what, k)
		}
	}
}

// readmeSnapshot is the snapshot the README shows: the repository's
// fixture call (cmd/talkratio/testdata/call-bleed-mulaw.wav, its segments
// as `analyze` finds them) live at 13 s, the rep in mid-turn.
func readmeSnapshot(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../cmd/talkratio/testdata/golden/call-bleed-mulaw.json")
	if err != nil {
		t.Fatal(err)
	}
	var res tally.Result
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	const now = 13.0
	rules := call.Rules{}.WithDefaults()
	ty := tally.New(rules.Tally())
	var pending [2][]tally.Segment
	var talking [2]bool
	for r, segs := range [2][]tally.Segment{res.Segments.Rep, res.Segments.Customer} {
		for _, sg := range segs {
			switch {
			case sg.End <= now:
				ty.Add(tally.Role(r), sg)
			case sg.Start < now:
				pending[r] = append(pending[r], tally.Segment{Start: sg.Start, End: now})
				talking[r] = true
			}
		}
	}
	l := ty.Live(now, call.TimelineWindowS, pending, talking)
	info := call.Info{ID: "c7f3a1b2c3d4e5f6", Name: "Acme discovery", Rep: "Dana", Customer: "Acme Corp", State: call.StateLive,
		StartedAt: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	out, err := json.Marshal(rules.NewSnapshot(info, l))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The README's websocket example is what the code sends for the
// fixture call at 13 s, value for value.
func TestReadmeSnapshotExample(t *testing.T) {
	doc := readmeJSON(t, "../README.md", "### Websocket schema")
	var code map[string]any
	b := readmeSnapshot(t)
	json.Unmarshal(b, &code)
	sameKeys(t, "websocket snapshot", doc, code)
	if !reflect.DeepEqual(doc, code) {
		t.Errorf("README's websocket example differs from the snapshot the code sends:\n%s", b)
	}
}
