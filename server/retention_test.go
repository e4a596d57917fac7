package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/retention"
)

// The service applies its retention policy: an old call is deleted (its
// API answers 404), a recent one stays, and the deletion is counted.
func TestRunRetention(t *testing.T) {
	st := inmem.NewStore()
	ctx := context.Background()
	for id, age := range map[string]time.Duration{"old": 100 * 24 * time.Hour, "recent": time.Hour} {
		if err := st.Put(ctx, &call.Record{ID: id, State: call.StateEnded, Source: call.SourceLive, StartedAt: time.Now().Add(-age)}); err != nil {
			t.Fatal(err)
		}
	}
	srv, ts := newTestServer(t, Config{Store: st})
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.RunRetention(rctx, retention.Policy{Calls: 90 * 24 * time.Hour}, time.Hour)
	}()
	defer func() { cancel(); <-done }()
	// The sweep counts what it deleted once it is through: wait for the
	// count, then look.
	deleted := func() map[string]float64 {
		_, fams := series(t, srv)
		got := map[string]float64{}
		for _, m := range fams["talkratio_retention_deleted_total"].GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
		return got
	}
	deadline := time.Now().Add(10 * time.Second)
	for deleted()["call"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no sweep counted within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := deleted(); got["call"] != 1 || got["audio"] != 0 {
		t.Errorf("counted %v, want one call", got)
	}
	for id, want := range map[string]int{"old": 404, "recent": 200} {
		r, err := http.Get(ts.URL + "/api/calls/" + id)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("%s call: %d, want %d", id, r.StatusCode, want)
		}
	}
}
