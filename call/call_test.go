package call

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The list shows live calls first, newest first whatever the order asked
// for, then the others as asked; pages are stable.
func TestSortLiveFirst(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 11, 26, h, 0, 0, 0, time.UTC) }
	pct := func(v float64) *float64 { return &v }
	rows := []Summary{
		{ID: "a", State: StateEnded, StartedAt: at(1), ListenPct: pct(90)},
		{ID: "live-old", State: StateLive, StartedAt: at(2), ListenPct: pct(10)},
		{ID: "b", State: StateEnded, StartedAt: at(3), ListenPct: pct(50)},
		{ID: "live-new", State: StateLive, StartedAt: at(4), ListenPct: pct(99)},
		{ID: "c", State: StateInterrupted, StartedAt: at(5)},
		{ID: "d", State: StateEnded, StartedAt: at(3), ListenPct: pct(50)},
	}
	ids := func(rs []Summary) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct {
		q    ListQuery
		want string
	}{
		{ListQuery{}, "live-new live-old c d b a"},
		{ListQuery{Asc: true}, "live-new live-old a b d c"},
		{ListQuery{Sort: "listen_pct", Asc: true}, "live-new live-old c b d a"},
		{ListQuery{Sort: "listen_pct"}, "live-new live-old a d b c"},
	} {
		r := slices.Clone(rows)
		Sort(r, tc.q)
		if got := ids(r); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.q, got, tc.want)
		}
	}
	r := slices.Clone(rows)
	q := ListQuery{Offset: 1, Size: 2}
	Sort(r, q)
	if got := ids(Page(r, q)); got != "live-old c" {
		t.Errorf("page: %s", got)
	}
	if got := ids(Page(r, ListQuery{Offset: 9, Size: 2})); got != "" {
		t.Errorf("page past the end: %q", got)
	}
	if !(ListQuery{State: StateLive, Rep: "dana"}).Matches(&Summary{State: StateLive, Rep: "Dana"}) ||
		(ListQuery{State: StateLive}).Matches(&Summary{State: StateEnded}) {
		t.Error("filters")
	}
	for _, c := range append(SortColumns(), "") {
		if !ValidSort(c) {
			t.Errorf("column %q not sortable", c)
		}
	}
	if ValidSort("size") {
		t.Error("sorts by an unknown column")
	}
}

// The reps' figures are over ended calls only, each rep's mean judged as a
// call's figure is.
func TestRepStatsOf(t *testing.T) {
	pct := func(v float64) *float64 { return &v }
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	got := RepStatsOf([]Summary{
		{Rep: "Lee", State: StateEnded, ListenPct: pct(79.94), OnTarget: false, LongestRepMonologueS: 10, StartedAt: at},
		{Rep: "Lee", State: StateEnded, ListenPct: pct(80.0), OnTarget: true, LongestRepMonologueS: 20, StartedAt: at.Add(time.Hour)},
		{Rep: "Lee", State: StateLive, ListenPct: pct(10)},
		{Rep: " ", State: StateEnded},
		{Rep: "Dana", State: StateFailed},
	})
	if len(got) != 2 || got[0].Rep != NoRep || got[1].Rep != "Lee" {
		t.Fatalf("reps %+v", got)
	}
	lee := got[1]
	if lee.Calls != 2 || *lee.MeanListenPct != 80 || lee.MeanLongestMonologueS != 15 || lee.OnTargetShare != 0.5 || !lee.LastCallAt.Equal(at.Add(time.Hour)) {
		t.Errorf("Lee: %+v", lee)
	}
	if got[0].MeanListenPct != nil {
		t.Errorf("a rep with no figure has a mean: %+v", got[0])
	}
}

// One parser names channels for the CLI, uploads and WHIP.
func TestParseChannel(t *testing.T) {
	for s, want := range map[string]int{"left": 0, "L": 0, "Right": 1, "r": 1, "0": 0, "1": 1, "5": 5} {
		if got, err := ParseChannel(s); err != nil || got != want {
			t.Errorf("ParseChannel(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "middle", "-1", "up"} {
		if _, err := ParseChannel(s); err == nil {
			t.Errorf("ParseChannel(%q): no error", s)
		}
	}
	for s, want := range map[string]bool{"": false, "left": false, "LEFT": false, "right": true, "1": true} {
		if got, err := RepOnRight(s); err != nil || got != want {
			t.Errorf("RepOnRight(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"up", "2", "centre"} {
		if _, err := RepOnRight(s); err != ErrNotASide {
			t.Errorf("RepOnRight(%q): %v", s, err)
		}
	}
}

func TestRulesAndIDs(t *testing.T) {
	r := Rules{}.WithDefaults()
	if r.TargetListen != 0.8 || r.MonologueNudge != time.Minute || r.Validate() != nil || r.Tally().TargetListen != 0.8 {
		t.Errorf("defaults %+v", r)
	}
	if (Rules{TargetListen: 80}).Validate() == nil {
		t.Error("a target of 80 accepted")
	}
	if (Rules{MonologueNudge: -1}).WithDefaults().NudgeAfterS() >= 0 {
		t.Error("a negative nudge must stay 'never'")
	}
	for _, id := range []string{"a", "desk-42", "c7f3a1b2c3d4e5f6", NewID(8), strings.Repeat("a", 64)} {
		if !ValidID(id) {
			t.Errorf("%q refused", id)
		}
	}
	for _, id := range []string{"", "..", "-a", "a/b", "a b", strings.Repeat("a", 65), "%2e"} {
		if ValidID(id) {
			t.Errorf("%q accepted", id)
		}
	}
	var rec Record
	rec.SetLabels(strings.Repeat("n", 300), strings.Repeat("r", 300), "c")
	if len(rec.Name) != 200 || len(rec.Rep) != 100 || rec.Customer != "c" {
		t.Errorf("labels %d %d %q", len(rec.Name), len(rec.Rep), rec.Customer)
	}
}

// TestValidIDMatchesPattern: ValidID is the loop form of the pattern ids
// were always held to; it must accept exactly what the pattern accepts.
func TestValidIDMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	alphabet := []string{"a", "Z", "0", "9", "_", "-", ".", "/", " ", "é", "\n", "\x00", "%"}
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []string{"", "_", "-", "_a", "a_", "a-", "0", "a\n", strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("a", 63) + "-"}
	for range 20000 {
		var b strings.Builder
		n := rng.IntN(70)
		if rng.IntN(4) == 0 {
			n = 60 + rng.IntN(8)
		}
		for range n {
			if rng.IntN(3) == 0 {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			} else {
				b.WriteString(alphabet[rng.IntN(5)])
			}
		}
		ids = append(ids, b.String())
	}
	for _, id := range ids {
		if got, want := ValidID(id), re.MatchString(id); got != want {
			t.Errorf("ValidID(%q) = %v, pattern says %v", id, got, want)
		}
	}
}
