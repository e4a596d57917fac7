package cluster

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"talkratio/call"
)

// fakeNodes is a table of nodes in memory: heartbeats are timed by the
// test's clock, which it moves by hand.
type fakeNodes struct {
	mu     sync.Mutex
	now    time.Time
	beats  map[string]call.Node
	at     map[string]time.Time
	owners map[string]string // call → node
}

func newFakeNodes() *fakeNodes {
	return &fakeNodes{now: time.Unix(1e9, 0), beats: map[string]call.Node{}, at: map[string]time.Time{}, owners: map[string]string{}}
}

func (f *fakeNodes) Heartbeat(_ context.Context, n call.Node) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beats[n.ID], f.at[n.ID] = n, f.now
	return nil
}

func (f *fakeNodes) List(_ context.Context, within time.Duration) ([]call.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call.Node
	for id, n := range f.beats {
		if n.Age = f.now.Sub(f.at[id]); n.Age <= within {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b call.Node) int { return a.Live - b.Live })
	return out, nil
}

func (f *fakeNodes) Claim(_ context.Context, id, node string) (call.Node, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.owners[id]; !ok {
		f.owners[id] = node
	}
	h := f.beats[f.owners[id]]
	h.ID = f.owners[id]
	return h, nil
}

func (f *fakeNodes) Release(_ context.Context, id, node string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owners[id] == node {
		delete(f.owners, id)
	}
	return nil
}

func (f *fakeNodes) TakeOver(_ context.Context, deadAfter time.Duration, node string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []string
	for id, owner := range f.owners {
		if owner == node || f.now.Sub(f.at[owner]) > deadAfter {
			ids = append(ids, id)
			delete(f.owners, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// host is the service as the cluster sees it: it records the calls it is
// told to interrupt.
type host struct {
	mu          sync.Mutex
	live        int
	draining    bool
	interrupted []string
}

func (h *host) Load() (int, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live, h.draining
}

func (h *host) Interrupt(_ context.Context, id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.interrupted = append(h.interrupted, id)
}

func (h *host) calls() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.interrupted)
}

func TestClusterElsewhereAndClaim(t *testing.T) {
	ctx := context.Background()
	nodes := newFakeNodes()
	for _, n := range []call.Node{
		{ID: "full", URL: "http://full", Live: 1, MaxCalls: 1},
		{ID: "draining", URL: "http://draining", Draining: true},
		{ID: "busy", URL: "http://busy", Live: 7, MaxCalls: 10},
		{ID: "quiet", URL: "http://quiet", Live: 2, MaxCalls: 10},
	} {
		if err := nodes.Heartbeat(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	me, err := New(Config{ID: "me", URL: "http://me", MaxCalls: 3, Nodes: nodes})
	if err != nil {
		t.Fatal(err)
	}
	h := &host{}
	if err := me.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	defer me.Close()

	// "me" is the least loaded (0 live) but a node never redirects to
	// itself; full and draining nodes take no call.
	n, ok, err := me.Elsewhere(ctx)
	if err != nil || !ok || n.ID != "quiet" {
		t.Fatalf("Elsewhere = %+v, %v, %v; want quiet", n, ok, err)
	}
	holder, mine, err := me.Claim(ctx, "c1")
	if err != nil || !mine || holder.ID != "me" {
		t.Fatalf("first claim = %+v, %v, %v; want mine", holder, mine, err)
	}
	if _, err := nodes.Claim(ctx, "c2", "quiet"); err != nil {
		t.Fatal(err)
	}
	holder, mine, err = me.Claim(ctx, "c2")
	if err != nil || mine || holder.ID != "quiet" || holder.URL != "http://quiet" {
		t.Fatalf("claim of another node's call = %+v, %v, %v; want quiet's", holder, mine, err)
	}

	nodes.mu.Lock()
	nodes.now = nodes.now.Add(time.Minute) // every other node falls silent
	nodes.mu.Unlock()
	if err := me.heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := me.Elsewhere(ctx); ok {
		t.Fatal("Elsewhere found a node whose heartbeat is a minute old")
	}
}

func TestClusterTakesOverDeadAndOwnClaims(t *testing.T) {
	ctx := context.Background()
	nodes := newFakeNodes()
	for _, id := range []string{"dead", "me"} {
		if err := nodes.Heartbeat(ctx, call.Node{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	for c, n := range map[string]string{"d1": "dead", "d2": "dead", "m1": "me"} {
		if _, err := nodes.Claim(ctx, c, n); err != nil {
			t.Fatal(err)
		}
	}
	me, err := New(Config{ID: "me", Nodes: nodes, Every: time.Millisecond, DeadAfter: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h := &host{}
	// A node that starts again takes back the claims its last run left
	// (it crashed: those calls' media is gone); the dead node is not dead
	// yet by the table's clock.
	if err := me.Start(ctx, h); err != nil {
		t.Fatal(err)
	}
	defer me.Close()
	if got := h.calls(); !slices.Equal(got, []string{"m1"}) {
		t.Fatalf("interrupted at start = %v, want [m1]", got)
	}
	nodes.mu.Lock()
	nodes.now = nodes.now.Add(11 * time.Second)
	nodes.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for len(h.calls()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := h.calls(); !slices.Equal(got, []string{"m1", "d1", "d2"}) {
		t.Fatalf("interrupted = %v, want [m1 d1 d2]", got)
	}
}

func TestClusterRefusesBadConfig(t *testing.T) {
	for _, c := range []Config{{ID: "", Nodes: newFakeNodes()}, {ID: "a.b", Nodes: newFakeNodes()}, {ID: "ok"}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
