// Package storetest is the conformance suite every call.Store passes: the
// same records put in any store list, page, count and add up exactly as the
// domain's reference (call.Sort, call.Page, call.RepStatsOf on the rows in
// memory) does.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/callgen"
)

// Open returns an empty store; the suite calls it once per test.
type Open func(t *testing.T) call.Store

// Run runs the suite.
func Run(t *testing.T, open Open) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("ListMatchesReference", func(t *testing.T) { testList(t, open(t)) })
	t.Run("RollupFollowsWrites", func(t *testing.T) { testRollup(t, open(t)) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, open(t)) })
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A record comes back as it went in, whatever its shape; a replaced one is
// replaced; a deleted one is gone.
func testRoundTrip(t *testing.T, s call.Store) {
	ctx := context.Background()
	g := callgen.New(3, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour, 1)
	full := g.Record(1)
	full.StartedAt = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("", 5*3600+1800))
	full.SetChannels(1, 0)
	full.File, full.SampleRate, full.Channels = "call.wav", 8000, 2
	full.Progress, full.Error = 0.5, "some error"
	bare := &call.Record{ID: "bare", State: call.StateAnalyzing, Source: call.SourceUpload, StartedAt: time.Unix(0, 0).UTC()}
	nobodySpoke := g.Record(2)
	res := *nobodySpoke.Result
	res.ListenPct, res.RepTalkS, res.CustomerTalkS, res.OnTarget = nil, 0, 0, false
	nobodySpoke.Result = &res
	for _, r := range []*call.Record{full, bare, nobodySpoke} {
		if err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *r
		want.ApplyListenRule()
		if a, b := jsonOf(t, got), jsonOf(t, &want); a != b {
			t.Errorf("%s: got\n%.600s\nwant\n%.600s", r.ID, a, b)
		}
		if !got.StartedAt.Equal(r.StartedAt) || got.StartedAt.String() != r.StartedAt.String() {
			t.Errorf("%s: started %v, want %v", r.ID, got.StartedAt, r.StartedAt)
		}
	}
	bare.State, bare.Name = call.StateFailed, "renamed"
	if err := s.Put(ctx, bare); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, "bare"); err != nil || got.State != call.StateFailed || got.Name != "renamed" {
		t.Errorf("replaced: %+v %v", got, err)
	}
	for _, id := range []string{"nosuch", "../etc", ""} {
		if _, err := s.Get(ctx, id); !errors.Is(err, call.ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
		if err := s.Delete(ctx, id); !errors.Is(err, call.ErrNotFound) {
			t.Errorf("Delete(%q): %v, want ErrNotFound", id, err)
		}
	}
	if err := s.Put(ctx, &call.Record{ID: "../x"}); err == nil {
		t.Error("Put with a bad id: no error")
	}
	if err := s.Delete(ctx, full.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, full.ID); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("after Delete: %v", err)
	}
	rows, total, err := s.List(ctx, call.ListQuery{})
	if err != nil || total != 2 || len(rows) != 2 {
		t.Errorf("after Delete: %d rows, total %d, %v", len(rows), total, err)
	}
}

// library puts n varied records into s and returns their rows.
func library(t *testing.T, s call.Store, n int, seed uint64) []call.Summary {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 7))
	from := time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC)
	g := callgen.New(6, from, 10*24*time.Hour, seed)
	states := []string{call.StateEnded, call.StateEnded, call.StateEnded, call.StateLive, call.StateAnalyzing, call.StateFailed, call.StateInterrupted}
	reps := []string{"Dana", "dana", " Dana ", "Lee", "", "Łukasz", "łukasz", "Zoë"}
	var rows []call.Summary
	for i := range n {
		r := g.Record(i)
		r.State = states[rng.IntN(len(states))]
		r.SetLabels([]string{"Acme", "acme", "Beta", "zeta", ""}[rng.IntN(5)], reps[rng.IntN(len(reps))], "c")
		if rng.IntN(4) == 0 { // ties: the same start, the same figures
			r.StartedAt = from.Add(time.Duration(rng.IntN(3)) * 24 * time.Hour)
		}
		res := *r.Result // shared with other records
		r.Result = &res
		if rng.IntN(5) == 0 {
			res.ListenPct, res.RepTalkS, res.CustomerTalkS = nil, 0, 0
		}
		if r.State == call.StateAnalyzing || r.State == call.StateFailed {
			r.Result, r.Meter = nil, nil
		}
		r.ApplyListenRule() // as a record is written today
		if err := s.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r.Summary())
	}
	return rows
}

// reference is what the domain says a query answers.
func reference(all []call.Summary, q call.ListQuery) ([]call.Summary, int) {
	var rows []call.Summary
	for i := range all {
		if q.Matches(&all[i]) {
			rows = append(rows, all[i])
		}
	}
	call.Sort(rows, q)
	return call.Page(rows, q), len(rows)
}

func ids(rows []call.Summary) string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return strings.Join(out, " ")
}

// Every order, filter, range and page lists what the reference lists, the
// rows' figures included, with the same total; a keyset walk visits every
// row once, in order.
func testList(t *testing.T, s call.Store) {
	ctx := context.Background()
	all := library(t, s, 300, 3)
	day := func(d int, h int) time.Time { return time.Date(2026, 5, 30+d, h, 0, 0, 0, time.UTC) }
	ranges := [][2]time.Time{{}, {day(2, 0), {}}, {{}, day(5, 0)}, {day(1, 0), day(4, 0)}, {day(1, 7), day(4, 13)}, {day(2, 3), day(2, 9)}, {day(3, 5), day(3, 5)}}
	for _, sort := range append(call.SortColumns(), "") {
		for _, asc := range []bool{false, true} {
			for _, rep := range []string{"", "DANA", "łukasz", "nobody"} {
				for ri, rg := range ranges {
					pages := [][2]int{{0, 50}, {7, 20}}
					if ri == 0 {
						pages = append(pages, [2]int{0, 0}, [2]int{290, 50})
					}
					for _, page := range pages {
						q := call.ListQuery{Sort: sort, Asc: asc, Rep: rep, From: rg[0], To: rg[1], Offset: page[0], Size: page[1]}
						checkList(t, s, all, q, fmt.Sprintf("range %d", ri))
					}
				}
			}
			q := call.ListQuery{Sort: sort, Asc: asc, Size: 23}
			walk(t, s, all, q)
			q.Rep = "dana"
			walk(t, s, all, q)
		}
	}
	for _, q := range []call.ListQuery{{State: call.StateLive}, {State: call.StateEnded, Rep: "lee"}, {WithAudio: true, Size: 5}} {
		checkList(t, s, all, q, "")
	}
	_ = ctx
}

func checkList(t *testing.T, s call.Store, all []call.Summary, q call.ListQuery, what string) {
	t.Helper()
	got, total, err := s.List(context.Background(), q)
	if err != nil {
		t.Fatalf("%+v: %v", q, err)
	}
	want, wantTotal := reference(all, q)
	if ids(got) != ids(want) {
		t.Errorf("%s %+v:\n got %s\nwant %s", what, q, ids(got), ids(want))
		return
	}
	if total != wantTotal {
		t.Errorf("%s %+v: total %d, want %d", what, q, total, wantTotal)
	}
	for i := range got {
		if !reflect.DeepEqual(norm(got[i]), norm(want[i])) {
			t.Errorf("row %s:\n got %+v\nwant %+v", got[i].ID, got[i], want[i])
		}
	}
}

func norm(s call.Summary) call.Summary {
	s.StartedAt = s.StartedAt.UTC()
	return s
}

// walk pages through q's list by keyset (After) and checks it is the
// reference's whole list.
func walk(t *testing.T, s call.Store, all []call.Summary, q call.ListQuery) {
	t.Helper()
	want, _ := reference(all, call.ListQuery{Sort: q.Sort, Asc: q.Asc, Rep: q.Rep})
	var got []call.Summary
	for pages := 0; pages <= len(all); pages++ {
		rows, _, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rows...)
		if len(rows) < q.Size {
			break
		}
		q.After = &rows[len(rows)-1]
	}
	if ids(got) != ids(want) {
		t.Errorf("keyset walk %+v:\n got %s\nwant %s", q, ids(got), ids(want))
	}
}

// The reps' figures (and a store's trends) follow every put, replace and
// delete exactly.
func testRollup(t *testing.T, s call.Store) {
	ctx := context.Background()
	all := library(t, s, 200, 5)
	check := func(what string) {
		t.Helper()
		for _, rep := range []string{"", "dana", "ŁUKASZ", "nobody"} {
			got, err := s.RepStats(ctx, rep)
			if err != nil {
				t.Fatal(err)
			}
			want := call.RepStatsOf(filter(all, rep))
			if a, b := jsonOf(t, normStats(got)), jsonOf(t, normStats(want)); a != b {
				t.Errorf("%s: reps %q:\n got %s\nwant %s", what, rep, a, b)
			}
		}
		if tr, ok := s.(call.Trends); ok {
			for _, rep := range []string{"Dana", "lee", ""} {
				got, err := tr.RepDays(ctx, rep, time.Time{}, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if a, b := jsonOf(t, got), jsonOf(t, call.RepDaysOf(all, rep)); a != b {
					t.Errorf("%s: trend of %q:\n got %s\nwant %s", what, rep, a, b)
				}
			}
		}
	}
	check("put")
	// Move calls between reps, days and states; delete some.
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 60; i++ {
		k := rng.IntN(len(all))
		rec, err := s.Get(ctx, all[k].ID)
		if err != nil {
			t.Fatal(err)
		}
		switch i % 4 {
		case 0:
			rec.Rep = []string{"Lee", "dana", ""}[rng.IntN(3)]
		case 1:
			rec.StartedAt = rec.StartedAt.Add(time.Duration(rng.IntN(72)) * time.Hour)
		case 2:
			rec.State = []string{call.StateEnded, call.StateInterrupted}[rng.IntN(2)]
		case 3:
			if err := s.Delete(ctx, rec.ID); err != nil {
				t.Fatal(err)
			}
			all = append(all[:k], all[k+1:]...)
			continue
		}
		if err := s.Put(ctx, rec); err != nil {
			t.Fatal(err)
		}
		all[k] = rec.Summary()
	}
	check("after changes")
	checkList(t, s, all, call.ListQuery{Size: 10}, "after changes")
}

func filter(all []call.Summary, rep string) []call.Summary {
	var out []call.Summary
	for _, r := range all {
		if rep == "" || strings.EqualFold(r.Rep, rep) {
			out = append(out, r)
		}
	}
	return out
}

// normStats compares last-call times as instants: a store may keep them
// in UTC.
func normStats(s []call.RepStats) []call.RepStats {
	out := make([]call.RepStats, len(s))
	for i, r := range s {
		r.LastCallAt = r.LastCallAt.UTC()
		out[i] = r
	}
	return out
}

// Writers on many goroutines (live calls ending together) lose nothing,
// in the calls or the figures.
func testConcurrent(t *testing.T, s call.Store) {
	ctx := context.Background()
	g := callgen.New(3, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 48*time.Hour, 11)
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	var mu sync.Mutex
	var all []call.Summary
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := g.Record(w*each + i)
				if err := s.Put(ctx, r); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, r.Summary())
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkList(t, s, all, call.ListQuery{}, "concurrent")
	checkList(t, s, all, call.ListQuery{From: time.Date(2026, 2, 1, 6, 0, 0, 0, time.UTC), Size: 5}, "concurrent")
	got, err := s.RepStats(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, normStats(got)), jsonOf(t, normStats(call.RepStatsOf(all))); a != b {
		t.Errorf("reps:\n got %s\nwant %s", a, b)
	}
}
