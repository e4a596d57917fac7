package live

import (
	"context"
	"errors"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

type source struct{ closed chan struct{} }

func (s *source) Close() { close(s.closed) }

// A live call is in the store from its start, refreshed while it runs, and
// stored at its end; it ends with its last source and closes them all.
func TestCallLifecycle(t *testing.T) {
	ctx := context.Background()
	m := &countMetrics{}
	reg := testRegistry(m)
	reg.cfg.MaxCalls = 1
	store := reg.cfg.Store
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c, err := reg.Start(ctx, call.Record{ID: "c1", Name: "n", Rep: "Dana", Source: call.SourceLive, StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := store.Get(ctx, "c1"); err != nil || rec.State != call.StateLive || rec.Rep != "Dana" || rec.Result != nil {
		t.Fatalf("record at the start: %+v %v", rec, err)
	}
	var cap *CapacityError
	if _, err := reg.Start(ctx, call.Record{ID: "c2"}); !errors.As(err, &cap) || cap.Max != 1 {
		t.Errorf("past the cap: %v", err)
	}
	reg.cfg.MaxCalls = 0
	if _, err := reg.Start(ctx, call.Record{ID: "c1"}); !errors.Is(err, ErrExists) {
		t.Errorf("the same id twice: %v", err)
	}
	rep, cust := &source{closed: make(chan struct{})}, &source{closed: make(chan struct{})}
	if err := c.Attach(rep, []tally.Role{tally.Rep}); err != nil {
		t.Fatal(err)
	}
	if err := c.Attach(&source{}, []tally.Role{tally.Rep, tally.Customer}); !errors.Is(err, ErrRoleTaken) {
		t.Errorf("a role taken twice: %v", err)
	}
	if err := c.Attach(cust, []tally.Role{tally.Customer}); err != nil {
		t.Fatal(err)
	}
	tr, err := c.NewTrack(TrackSpec{Codec: "audio/PCMU", Roles: []tally.Role{tally.Rep}})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := c.NewTrack(TrackSpec{Codec: "audio/PCMU", Roles: []tally.Role{tally.Customer}})
	if err != nil {
		t.Fatal(err)
	}
	silence := make([]byte, 160)
	for i := range silence {
		silence[i] = 0xff
	}
	t0 := time.Now()
	for i := range 150 { // 3 s of audio, sent in real time
		time.Sleep(time.Until(t0.Add(time.Duration(i) * 20 * time.Millisecond)))
		if !tr.Packet(uint16(i), uint32(i*160), silence, time.Now()) || !tc.Packet(uint16(i), uint32(i*160), silence, time.Now()) {
			t.Fatal("the call refused a packet")
		}
	}
	// Checkpoints: the record shows the figures so far.
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, _ := store.Get(ctx, "c1")
		if rec.Result != nil && rec.DurationS > 0 && rec.State == call.StateLive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint: %+v", rec)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Detach(rep, EndHangup)
	if reg.Get("c1") == nil || c.Sources() != 1 {
		t.Fatal("the call ended with its first source")
	}
	c.Detach(cust, EndClosed)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the call never ended")
	}
	select {
	case <-rep.closed:
		t.Error("a detached source was closed by the call")
	default:
	}
	rec, err := store.Get(ctx, "c1")
	if err != nil || rec.State != call.StateEnded || rec.Result == nil || rec.Meter == nil || rec.DurationS < 2.5 {
		t.Fatalf("stored: %+v %v", rec, err)
	}
	if reg.Get("c1") != nil || reg.Len() != 0 {
		t.Error("an ended call is still registered")
	}
	if m.started != 1 || m.ended != 1 || m.reasons[0] != EndClosed || m.total(&m.received) != 300 {
		t.Errorf("metrics: %+v", m)
	}
	if tr.Packet(200, 200*160, silence, time.Now()) {
		t.Error("an ended call took a packet")
	}
	if err := c.Attach(&source{}, []tally.Role{tally.Rep}); !errors.Is(err, ErrCallOver) {
		t.Errorf("attach to an ended call: %v", err)
	}
}

// Shutdown ends every call, closes their sources and waits until each is
// stored.
func TestShutdown(t *testing.T) {
	ctx := context.Background()
	m := &countMetrics{}
	reg := testRegistry(m)
	var srcs []*source
	for _, id := range []string{"a", "b", "c"} {
		c, err := reg.Start(ctx, call.Record{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		s := &source{closed: make(chan struct{})}
		c.Attach(s, []tally.Role{tally.Rep, tally.Customer})
		feed(t, c)
		srcs = append(srcs, s)
	}
	if err := reg.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range srcs {
		select {
		case <-s.closed:
		default:
			t.Error("a source left open")
		}
	}
	rows, total, _ := reg.cfg.Store.List(ctx, call.ListQuery{State: call.StateEnded})
	if total != 3 || reg.Len() != 0 {
		t.Errorf("after shutdown: %d live, stored %+v", reg.Len(), rows)
	}
	for _, r := range m.reasons {
		if r != EndShutdown {
			t.Errorf("ended for %q", r)
		}
	}
}

// The configured rules reach a live call's figures: its analysis, its
// snapshots, its stored record.
func TestCallUsesTheRules(t *testing.T) {
	ctx := context.Background()
	reg := testRegistry(nil)
	reg.cfg.Rules = call.Rules{TargetListen: 0.3, MonologueNudge: 5 * time.Second}.WithDefaults()
	idle, err := newCall(&reg.cfg, reg, call.Record{ID: "idle"}) // its goroutine not running
	if err != nil {
		t.Fatal(err)
	}
	snap := idle.snapshot(idle.an.Live(call.TimelineWindowS), 0)
	if snap.TargetListenPct != 30 || snap.Monologue.NudgeAfterS != 5 {
		t.Errorf("snapshot: target %v nudge %v", snap.TargetListenPct, snap.Monologue.NudgeAfterS)
	}
	c, err := reg.Start(ctx, call.Record{ID: "r"})
	if err != nil {
		t.Fatal(err)
	}
	feed(t, c)
	c.End(EndHangup)
	<-c.Done()
	if rec, err := reg.cfg.Store.Get(ctx, "r"); err != nil || rec.TargetListen != 30 {
		t.Errorf("stored: %+v %v", rec, err)
	}
}

// Issue 10, point 11: a call that never receives audio (an offer that
// never connected) is not stored, and is counted.
func TestCallWithoutMediaNotStored(t *testing.T) {
	ctx := context.Background()
	m := &countMetrics{}
	reg := testRegistry(m)
	c, err := reg.Start(ctx, call.Record{ID: "phantom"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.cfg.Store.Get(ctx, "phantom"); err != nil {
		t.Fatalf("a live call has no record while it runs: %v", err)
	}
	c.End(EndFailed)
	<-c.Done()
	if _, err := reg.cfg.Store.Get(ctx, "phantom"); !errors.Is(err, call.ErrNotFound) {
		t.Errorf("a call without audio was kept: %v", err)
	}
	if m.noMedia != 1 || m.ended != 1 || reg.Len() != 0 {
		t.Errorf("metrics %+v, %d live", m, reg.Len())
	}
}
