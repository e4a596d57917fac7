package inmem

import (
	"context"
	"errors"
	"testing"
	"time"

	"talkratio/call"
)

// The latest message wins: a viewer that has not read for a while gets the
// newest snapshot, once, and the publisher never blocks on it.
func TestHubLatestWins(t *testing.T) {
	ctx := context.Background()
	h := NewBus(0)
	s, err := h.Subscribe(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for i := range 1000 {
			h.Publish(ctx, "c", []byte{byte(i)}, false)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("publisher blocked on a viewer that does not read")
	}
	<-s.Ready()
	msg, final := s.Take()
	if len(msg) != 1 || msg[0] != byte(999%256) || final {
		t.Errorf("took %v final=%v, want the last message", msg, final)
	}
	if m, _ := s.Take(); m != nil {
		t.Errorf("second take %v, want nothing new", m)
	}
	select {
	case <-s.Ready():
		t.Error("ready signalled with nothing new")
	default:
	}
}

func TestHubLateJoinerAndFinal(t *testing.T) {
	ctx := context.Background()
	h := NewBus(0)
	h.Publish(ctx, "c", []byte("one"), false)
	s, _ := h.Subscribe(ctx, "c")
	<-s.Ready()
	if m, _ := s.Take(); string(m) != "one" {
		t.Errorf("late joiner got %q, want the latest message at once", m)
	}
	h.Publish(ctx, "c", []byte("end"), true)
	<-s.Ready()
	if m, final := s.Take(); string(m) != "end" || !final {
		t.Errorf("got %q final=%v", m, final)
	}
	h.Forget("c")
	if h.Viewers("c") != 1 {
		t.Error("forget dropped a watched topic")
	}
	s.Close()
	if len(h.topics) != 0 {
		t.Errorf("topic kept after its call ended and its last viewer left: %v", h.topics)
	}
}

func TestHubViewerLimit(t *testing.T) {
	ctx := context.Background()
	h := NewBus(2)
	a, _ := h.Subscribe(ctx, "c")
	if _, err := h.Subscribe(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe(ctx, "c"); !errors.Is(err, call.ErrTooManyViewers) {
		t.Errorf("third viewer: %v, want call.ErrTooManyViewers", err)
	}
	a.Close()
	if _, err := h.Subscribe(ctx, "c"); err != nil {
		t.Errorf("after one left: %v", err)
	}
	if _, err := h.Subscribe(ctx, "other"); err != nil {
		t.Errorf("the limit is per call: %v", err)
	}
}
