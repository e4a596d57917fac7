package nats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
	"talkratio/inmem"
)

// wait is how long a test waits for something that must happen; on a
// loopback server it happens in milliseconds, however busy the machine.
const wait = 20 * time.Second

// startServer runs an embedded NATS server on a loopback port.
func startServer(t testing.TB) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(wait) {
		t.Fatal("nats server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// node is one talkratio node's bus on its own connection.
func node(t testing.TB, url string, o Options) *Bus {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	if o.InterestEvery == 0 {
		o.InterestEvery = 50 * time.Millisecond
	}
	o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	b, err := New(nc, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); nc.Close() })
	return b
}

// watch starts a viewer on n that must be admitted; it closes with the
// test.
func watch(t testing.TB, n *Bus, id string) call.Subscription {
	t.Helper()
	v, err := n.Subscribe(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// next waits for the viewer's next message.
func next(t *testing.T, s call.Subscription) (string, bool) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case <-s.Ready():
			// A token can outlive its message, taken with a newer
			// one's: wait for the next.
			if m, final := s.Take(); m != nil {
				return string(m), final
			}
		case <-deadline:
			t.Fatal("no message")
			return "", false
		}
	}
}

// until polls cond until it holds.
func until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A call published on node A, watched from node B: B's viewer gets the
// newest snapshot at once, then each new one, then the final one; A sends
// snapshots only once B's interest has reached it.
func TestRemoteViewer(t *testing.T) {
	url := startServer(t)
	a, b := node(t, url, Options{}), node(t, url, Options{})
	ctx := context.Background()
	if err := a.Publish(ctx, "c1", []byte("1"), false); err != nil {
		t.Fatal(err)
	}
	if a.Watched("c1") {
		t.Fatal("watched before anyone watches")
	}
	v := watch(t, b, "c1")
	if m, final := next(t, v); m != "1" || final {
		t.Fatalf("first message %q final %v, want the newest, 1", m, final)
	}
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	for i, want := range []string{"2", "3"} {
		final := i == 1
		if err := a.Publish(ctx, "c1", []byte(want), final); err != nil {
			t.Fatal(err)
		}
		if m, f := next(t, v); m != want || f != final {
			t.Fatalf("got %q final %v, want %q final %v", m, f, want, final)
		}
	}
}

// A burst: the remote viewer takes only newer messages, never an older
// one after a newer, and ends with the last.
func TestNewestOnly(t *testing.T) {
	url := startServer(t)
	a, b := node(t, url, Options{}), node(t, url, Options{})
	ctx := context.Background()
	a.Publish(ctx, "c1", []byte("0"), false)
	v := watch(t, b, "c1")
	next(t, v)
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	const n = 500
	for i := 1; i <= n; i++ {
		a.Publish(ctx, "c1", []byte(strconv.Itoa(i)), i == n)
	}
	last := 0
	for last < n {
		m, final := next(t, v)
		got, err := strconv.Atoi(m)
		if err != nil || got <= last {
			t.Fatalf("took %q after %d", m, last)
		}
		last = got
		if final != (got == n) {
			t.Fatalf("message %d final %v", got, final)
		}
	}
}

// When B's last viewer leaves, B says so and stops renewing, and A stops
// counting the call as watched; B keeps nothing of the call.
func TestInterestLapses(t *testing.T) {
	url := startServer(t)
	a, b := node(t, url, Options{}), node(t, url, Options{})
	ctx := context.Background()
	a.Publish(ctx, "c1", []byte("1"), false)
	v1, v2 := watch(t, b, "c1"), watch(t, b, "c1")
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	v1.Close()
	v1.Close() // twice is harmless
	b.mu.Lock()
	feeding := b.remote["c1"] != nil && b.viewers["c1"] == 1
	b.mu.Unlock()
	if !feeding {
		t.Fatal("B stopped feeding (and renewing) the call while it still had a viewer")
	}
	v2.Close()
	until(t, "the interest lapses", func() bool { return !a.Watched("c1") })
	b.mu.Lock()
	n := len(b.remote)
	b.mu.Unlock()
	if n != 0 || b.local.Viewers("c1") != 0 {
		t.Fatalf("B still feeds %d calls, %d viewers", n, b.local.Viewers("c1"))
	}
}

// A viewer on the publishing node needs no round trip and costs no
// interest messages.
func TestLocalViewer(t *testing.T) {
	url := startServer(t)
	a := node(t, url, Options{})
	a.Publish(context.Background(), "c1", []byte("1"), false)
	v := watch(t, a, "c1")
	if m, _ := next(t, v); m != "1" {
		t.Fatalf("got %q", m)
	}
	if !a.Watched("c1") {
		t.Fatal("not watched")
	}
	v.Close()
	if a.Watched("c1") {
		t.Fatal("watched after its viewer left")
	}
}

// A new viewer of a call nobody has published gets the first snapshot
// when it comes (no owner answered the request for the newest).
func TestViewerBeforeFirstSnapshot(t *testing.T) {
	url := startServer(t)
	a, b := node(t, url, Options{}), node(t, url, Options{})
	v := watch(t, b, "c1")
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	a.Publish(context.Background(), "c1", []byte("1"), false)
	if m, _ := next(t, v); m != "1" {
		t.Fatalf("got %q", m)
	}
}

// Limits and bad input.
func TestRefusals(t *testing.T) {
	url := startServer(t)
	b := node(t, url, Options{MaxViewers: 1})
	ctx := context.Background()
	watch(t, b, "c1")
	if err := join(b, "c1"); !errors.Is(err, call.ErrTooManyViewers) {
		t.Errorf("second viewer: %v, want ErrTooManyViewers", err)
	}
	for _, id := range []string{"", "a.b", "a*", ">", "a b"} {
		if err := b.Publish(ctx, id, []byte("x"), false); err == nil {
			t.Errorf("Publish(%q) accepted", id)
		}
		if _, err := b.Subscribe(ctx, id); err == nil {
			t.Errorf("Subscribe(%q) accepted", id)
		}
	}
	for _, o := range []Options{{Prefix: "a.b"}, {Node: "a.b"}, {Node: "a*"}, {Node: ">"}, {Node: "a b"}} {
		if _, err := New(b.nc, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	if g := node(t, url, Options{}).Node(); len(g) != 2*nodeNameBytes || strings.Trim(g, "0123456789abcdef") != "" {
		t.Errorf("generated node name %q, want %d hex digits", g, 2*nodeNameBytes)
	}
}

// seen is how many viewers of a call n knows of: others' and its own.
func seen(n *Bus, id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.othersLocked(id, time.Now()) + n.viewers[id]
}

// join tries a viewer on n and lets it go at once.
func join(n *Bus, id string) error {
	v, err := n.Subscribe(context.Background(), id)
	if err == nil {
		v.Close()
	}
	return err
}

// MaxViewers holds across nodes: one viewer on A (the owner) and one on B
// fill a call of 2 for both; when either leaves, either node takes a new
// one (at once: a node says 0 when its last viewer goes).
func TestViewerCapAcrossNodes(t *testing.T) {
	for _, tc := range []struct{ leave, join string }{{"A", "B"}, {"B", "A"}, {"A", "A"}, {"B", "B"}} {
		t.Run("leave "+tc.leave+" join "+tc.join, func(t *testing.T) {
			url := startServer(t)
			a, b := node(t, url, Options{MaxViewers: 2}), node(t, url, Options{MaxViewers: 2})
			a.Publish(context.Background(), "c1", []byte("1"), false)
			nodes := map[string]*Bus{"A": a, "B": b}
			views := map[string]call.Subscription{"A": watch(t, a, "c1"), "B": watch(t, b, "c1")}
			full := func() {
				t.Helper()
				until(t, "both nodes know of 2 viewers", func() bool { return seen(a, "c1") == 2 && seen(b, "c1") == 2 })
				for _, n := range []*Bus{a, b} {
					if err := join(n, "c1"); !errors.Is(err, call.ErrTooManyViewers) {
						t.Fatalf("third viewer on %s: %v, want ErrTooManyViewers", n.Node(), err)
					}
				}
			}
			full()
			views[tc.leave].Close()
			until(t, "a slot frees", func() bool { return join(nodes[tc.join], "c1") == nil })
			watch(t, nodes[tc.join], "c1")
			full()
		})
	}
}

// A count from a node that stops renewing it (it died) lapses.
func TestCountLapses(t *testing.T) {
	a := node(t, startServer(t), Options{MaxViewers: 2})
	// The ghost renews its count until A is seen to refuse, so the
	// refusal cannot be missed however slow the machine.
	until(t, "A refuses while the ghost's 2 viewers count", func() bool {
		a.nc.Publish("talkratio.call.c1.viewers", []byte("ghost 2"))
		return errors.Is(join(a, "c1"), call.ErrTooManyViewers)
	})
	until(t, "the ghost's count lapses", func() bool { return join(a, "c1") == nil })
}

// The delivery rule, message by message (origin node, sequence, F for
// final): newest-only per publishing node, a final whatever its sequence,
// nothing after a final, nothing this node published itself.
func TestDeliverRule(t *testing.T) {
	for _, tc := range []struct{ name, msgs, want string }{
		{"newest only", "x1 x3 x2 x3", "x1 x3"},
		{"own messages skipped", "me1 x1", "x1"},
		{"final from another node, lower sequence", "x5 y1F", "x5 y1F"},
		{"final from the owner, older sequence", "x5 x4F", "x5 x4F"},
		{"nothing after a final", "x1F x2 y1F", "x1F"},
		{"another node takes over", "x5 y1 y2 y1", "x5 y1 y2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &Bus{node: "me", local: inmem.NewBus(0)}
			v, _ := b.local.Subscribe(context.Background(), "c1")
			f := &feed{}
			var got []string
			for _, s := range strings.Fields(tc.msgs) {
				origin := strings.TrimRight(s, "0123456789F")
				seq, _ := strconv.ParseUint(strings.TrimSuffix(s[len(origin):], "F"), 10, 64)
				b.deliver("c1", f, (&Bus{node: origin}).message("s", []byte(s), seq, strings.HasSuffix(s, "F")))
				if d, _ := v.Take(); d != nil {
					got = append(got, string(d))
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("delivered %q, want %q", g, tc.want)
			}
		})
	}
}

// B, not the call's owner A, ends it (as a survivor ends a dead node's
// calls): its final, sequence 1, reaches C's viewer, which saw A's 5, and
// B's own viewer.
func TestFinalFromOtherNode(t *testing.T) {
	url := startServer(t)
	a, b, c := node(t, url, Options{}), node(t, url, Options{}), node(t, url, Options{})
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		a.Publish(ctx, "c1", []byte(strconv.Itoa(i)), false)
	}
	vb, vc := watch(t, b, "c1"), watch(t, c, "c1")
	for _, v := range []call.Subscription{vb, vc} {
		if m, _ := next(t, v); m != "5" {
			t.Fatalf("first message %q, want the newest, 5", m)
		}
	}
	if err := b.Publish(ctx, "c1", []byte("ended"), true); err != nil {
		t.Fatal(err)
	}
	b.Forget("c1")
	for _, v := range []call.Subscription{vb, vc} {
		if m, final := next(t, v); m != "ended" || !final {
			t.Fatalf("got %q final %v, want B's final", m, final)
		}
	}
}

// BenchmarkFanout: snapshots of many calls published on one node and
// received on another, newest-only; reports delivery latency.
func BenchmarkFanout(b *testing.B) {
	url := startServer(b)
	pub, sub := node(b, url, Options{}), node(b, url, Options{})
	ctx := context.Background()
	const calls = 200
	views := make([]call.Subscription, calls)
	for i := range views {
		id := fmt.Sprintf("c%d", i)
		pub.Publish(ctx, id, []byte("0"), false)
		views[i] = watch(b, sub, id)
	}
	until(b, "the publisher hears of every viewer", func() bool {
		for i := range views {
			if !pub.Watched(fmt.Sprintf("c%d", i)) {
				return false
			}
		}
		return true
	})
	b.ResetTimer()
	var total time.Duration
	for n := 0; n < b.N; n++ {
		i := n % calls
		sent := time.Now()
		pub.Publish(ctx, fmt.Sprintf("c%d", i), []byte(strconv.Itoa(n+1)), false)
		for {
			<-views[i].Ready()
			m, _ := views[i].Take()
			if string(m) == strconv.Itoa(n+1) {
				break
			}
		}
		total += time.Since(sent)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs/delivery")
}
