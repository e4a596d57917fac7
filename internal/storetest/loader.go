package storetest

import (
	"context"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/callgen"
)

// Loader is a store that loads in bulk and rebuilds its rollup after
// (sqlstore.Store).
type Loader interface {
	call.Store
	Load(ctx context.Context, recs []*call.Record) error
	RebuildRollup(ctx context.Context) error
	WithoutIndexes(ctx context.Context, fn func() error) error
}

// RunLoader checks that a bulk load and a rebuilt rollup answer as puts
// one by one do.
func RunLoader(t *testing.T, s Loader) {
	ctx := context.Background()
	g := callgen.New(4, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 20*24*time.Hour, 21)
	var recs []*call.Record
	var all []call.Summary
	for i := range 150 {
		r := g.Record(i)
		recs = append(recs, r)
		all = append(all, r.Summary())
	}
	if err := s.WithoutIndexes(ctx, func() error { return s.Load(ctx, recs[:100]) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(ctx, recs[50:]); err != nil { // some again: replaced
		t.Fatal(err)
	}
	if err := s.RebuildRollup(ctx); err != nil {
		t.Fatal(err)
	}
	checkList(t, s, all, call.ListQuery{From: time.Date(2026, 3, 3, 5, 0, 0, 0, time.UTC), Size: 10}, "loaded")
	checkList(t, s, all, call.ListQuery{Rep: "rep-001", Sort: "listen_pct", Size: 10}, "loaded")
	got, err := s.RepStats(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, normStats(got)), jsonOf(t, normStats(call.RepStatsOf(all))); a != b {
		t.Errorf("reps after load:\n got %s\nwant %s", a, b)
	}
}
