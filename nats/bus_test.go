package nats

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
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
func node(t *testing.T, url string, o Options) *Bus {
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
func until(t *testing.T, what string, cond func() bool) {
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
	v, err := b.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
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
	v, err := b.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
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

// When B's last viewer leaves, B stops renewing and A stops counting the
// call as watched once the interest lapses; B keeps nothing of the call.
func TestInterestLapses(t *testing.T) {
	url := startServer(t)
	a, b := node(t, url, Options{}), node(t, url, Options{})
	ctx := context.Background()
	a.Publish(ctx, "c1", []byte("1"), false)
	v1, _ := b.Subscribe(ctx, "c1")
	v2, _ := b.Subscribe(ctx, "c1")
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	v1.Close()
	v1.Close() // twice is harmless
	b.mu.Lock()
	f := b.remote["c1"]
	feeding := f != nil && f.viewers == 1
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
	ctx := context.Background()
	a.Publish(ctx, "c1", []byte("1"), false)
	v, err := a.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
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
	ctx := context.Background()
	v, err := b.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	until(t, "A hears B's interest", func() bool { return a.Watched("c1") })
	a.Publish(ctx, "c1", []byte("1"), false)
	if m, _ := next(t, v); m != "1" {
		t.Fatalf("got %q", m)
	}
}

// Limits and bad input.
func TestRefusals(t *testing.T) {
	url := startServer(t)
	b := node(t, url, Options{MaxViewers: 1})
	ctx := context.Background()
	v, err := b.Subscribe(ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if _, err := b.Subscribe(ctx, "c1"); !errors.Is(err, call.ErrTooManyViewers) {
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
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := New(nc, Options{Prefix: "a.b"}); err == nil {
		t.Error("a prefix with a dot accepted")
	}
}

// BenchmarkFanout: snapshots of many calls published on one node and
// received on another, newest-only; reports delivery latency.
func BenchmarkFanout(b *testing.B) {
	url := startServer(b)
	mk := func() *Bus {
		nc, err := natsgo.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		bus, err := New(nc, Options{InterestEvery: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { bus.Close(); nc.Close() })
		return bus
	}
	pub, sub := mk(), mk()
	ctx := context.Background()
	const calls = 200
	views := make([]call.Subscription, calls)
	for i := range views {
		id := fmt.Sprintf("c%d", i)
		pub.Publish(ctx, id, []byte("0"), false)
		v, err := sub.Subscribe(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		defer v.Close()
		views[i] = v
	}
	for i := range views {
		id := fmt.Sprintf("c%d", i)
		for !pub.Watched(id) {
			time.Sleep(time.Millisecond)
		}
	}
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
