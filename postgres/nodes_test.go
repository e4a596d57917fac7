package postgres

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"talkratio/call"
)

// nodesOf opens the cluster's tables in the schema of a fresh store.
func nodesOf(t *testing.T) *Nodes {
	t.Helper()
	fresh(t) // migrates the schema
	u, err := url.Parse(testURL(t))
	if err != nil {
		t.Fatal(err)
	}
	v := u.Query()
	v.Set("search_path", schemaName(t))
	u.RawQuery = v.Encode()
	n, err := OpenNodes(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func TestNodesHeartbeatAndList(t *testing.T) {
	n := nodesOf(t)
	ctx := context.Background()
	for _, nd := range []call.Node{
		{ID: "busy", URL: "http://busy", Live: 80, MaxCalls: 100, CPU: 0.9},
		{ID: "idle", URL: "http://idle", Live: 5, MaxCalls: 100, CPU: 0.1},
		{ID: "full", URL: "http://full", Live: 10, MaxCalls: 10},
		{ID: "drain", URL: "http://drain", Draining: true},
		{ID: "half", URL: "http://half", Live: 50, MaxCalls: 100, CPU: 0.5},
	} {
		if err := n.Heartbeat(ctx, nd); err != nil {
			t.Fatal(err)
		}
	}
	// A heartbeat replaces the last one.
	if err := n.Heartbeat(ctx, call.Node{ID: "half", URL: "http://half2", Live: 40, MaxCalls: 100}); err != nil {
		t.Fatal(err)
	}
	got, err := n.List(ctx, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, nd := range got {
		ids = append(ids, nd.ID)
		if nd.Age < 0 || nd.Age > 5*time.Second {
			t.Errorf("node %s: age %v", nd.ID, nd.Age)
		}
	}
	want := "[idle half busy drain full]"
	if fmt.Sprint(ids) != want {
		t.Errorf("least loaded first, full and draining last: %v, want %s", ids, want)
	}
	if got[1].URL != "http://half2" || got[1].Live != 40 {
		t.Errorf("the newest heartbeat: %+v", got[1])
	}
	if !got[3].Full() || !got[4].Full() || got[0].Full() {
		t.Errorf("Full: %+v", got)
	}
	// A heartbeat older than within is not listed.
	if _, err := n.db.Exec(`UPDATE nodes SET seen_at = now() - interval '1 minute' WHERE id = 'idle'`); err != nil {
		t.Fatal(err)
	}
	if got, _ := n.List(ctx, 5*time.Second); len(got) != 4 || got[0].ID != "half" {
		t.Errorf("after idle went quiet: %+v", got)
	}
}

// Many nodes claim one call at once: they all agree on one holder.
func TestNodesClaimOnce(t *testing.T) {
	n := nodesOf(t)
	ctx := context.Background()
	const nodes = 8
	for i := range nodes {
		if err := n.Heartbeat(ctx, call.Node{ID: fmt.Sprintf("n%d", i), URL: fmt.Sprintf("http://n%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	holders := make([]call.Node, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := n.Claim(ctx, "c1", fmt.Sprintf("n%d", i))
			if err != nil {
				t.Error(err)
			}
			holders[i] = h
		}()
	}
	wg.Wait()
	for _, h := range holders {
		if h.ID != holders[0].ID || h.URL != "http://"+h.ID {
			t.Fatalf("claims disagree: %+v", holders)
		}
	}
	// Another node's release does nothing; the holder's frees the call.
	other := "n0"
	if holders[0].ID == other {
		other = "n1"
	}
	n.Release(ctx, "c1", other)
	if h, _ := n.Claim(ctx, "c1", other); h.ID != holders[0].ID {
		t.Errorf("after another node's release the holder is %s", h.ID)
	}
	n.Release(ctx, "c1", holders[0].ID)
	if h, _ := n.Claim(ctx, "c1", other); h.ID != other {
		t.Errorf("after the holder's release: %s, want %s", h.ID, other)
	}
}

// A dead node's claims go to one taker; a live node's stay; a node
// restarting takes its own back.
func TestNodesTakeOver(t *testing.T) {
	n := nodesOf(t)
	ctx := context.Background()
	for _, id := range []string{"alive", "dead", "back"} {
		if err := n.Heartbeat(ctx, call.Node{ID: id, URL: "http://" + id}); err != nil {
			t.Fatal(err)
		}
	}
	for call, node := range map[string]string{"a1": "alive", "d1": "dead", "d2": "dead", "b1": "back"} {
		if _, err := n.Claim(ctx, call, node); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.db.Exec(`UPDATE nodes SET seen_at = now() - interval '1 minute' WHERE id = 'dead'`); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var taken []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, err := n.TakeOver(ctx, 10*time.Second, "")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			taken = append(taken, ids...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Strings(taken)
	if fmt.Sprint(taken) != "[d1 d2]" {
		t.Errorf("four sweeps at once took %v, want [d1 d2] once each", taken)
	}
	ids, err := n.TakeOver(ctx, 10*time.Second, "back")
	if err != nil || fmt.Sprint(ids) != "[b1]" {
		t.Errorf("a node restarting takes back %v (%v), want [b1]", ids, err)
	}
	if h, _ := n.Claim(ctx, "a1", "back"); h.ID != "alive" {
		t.Errorf("a live node's claim moved to %s", h.ID)
	}
}
