package server

import (
	"encoding/json"
	"os"
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

// The README's websocket example has the keys a snapshot has.
func TestReadmeSnapshotExample(t *testing.T) {
	doc := readmeJSON(t, "../README.md", "### Websocket schema")
	l := tally.Live{NowS: 63.2, RecentOK: true}
	l.Metrics = tally.Metrics{RepTalkS: 20.1, CustomerTalkS: 50, ListenPct: listenPct(71.3), TargetListen: 80}
	l.Timeline = [2][]tally.Segment{{{Start: 1, End: 4.2}}, {{Start: 4.5, End: 9}}}
	l.Missing = []tally.Segment{{Start: 30.1, End: 30.9}}
	msg := call.Rules{}.WithDefaults().NewSnapshot(call.Info{ID: "c7f3a1b2c3d4e5f6", State: call.StateLive, StartedAt: time.Now()}, l)
	b, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	var code map[string]any
	json.Unmarshal(b, &code)
	sameKeys(t, "websocket snapshot", doc, code)
}
