// Package ingesttest is the in-memory service the ingest adapters are
// tested against: a Parent that records every call, every packet delivered
// and every stretch declared missing, a placement of that media on a call
// timeline the way the live call owner places it, and the analysis of the
// result beside `talkratio analyze` on the source audio.
package ingesttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"talkratio/ingest"
)

// Parent records the calls adapters start. Set Busy to make StartCall fail.
type Parent struct {
	mu      sync.Mutex
	Busy    error // returned by StartCall when set
	calls   []*Call
	started chan *Call
}

// NewParent returns an empty Parent.
func NewParent() *Parent { return &Parent{started: make(chan *Call, 1024)} }

// StartCall records a new call.
func (p *Parent) StartCall(_ context.Context, m ingest.CallMeta) (ingest.Call, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Busy != nil {
		return nil, p.Busy
	}
	c := &Call{Meta: m, done: make(chan struct{})}
	p.calls = append(p.calls, c)
	select {
	case p.started <- c:
	default:
	}
	return c, nil
}

// Calls returns the calls started so far.
func (p *Parent) Calls() []*Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Call(nil), p.calls...)
}

// Next waits up to d for the next call to start.
func (p *Parent) Next(t testing.TB, d time.Duration) *Call {
	t.Helper()
	select {
	case c := <-p.started:
		return c
	case <-time.After(d):
		t.Fatalf("no call started within %v", d)
		return nil
	}
}

// Delivered is one Deliver call.
type Delivered struct {
	Role  ingest.Role
	Media ingest.Media
}

// Missed is one Missing call.
type Missed struct {
	Role  ingest.Role
	Clock ingest.Clock
	TS, N int64
	At    time.Time
}

// Call records what an adapter did with one call.
type Call struct {
	Meta ingest.CallMeta

	mu      sync.Mutex
	media   []Delivered
	missed  []Missed
	reason  string
	endOnce sync.Once
	done    chan struct{}
}

// Deliver records a packet; false once the call has ended.
func (c *Call) Deliver(r ingest.Role, m ingest.Media) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	c.media = append(c.media, Delivered{r, m})
	return true
}

// Missing records a declared gap.
func (c *Call) Missing(r ingest.Role, k ingest.Clock, ts, n int64, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missed = append(c.missed, Missed{r, k, ts, n, at})
}

// End ends the call; the first reason wins.
func (c *Call) End(reason string) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.reason = reason
		c.mu.Unlock()
		close(c.done)
	})
}

// Done is closed once the call has ended.
func (c *Call) Done() <-chan struct{} { return c.done }

// Reason is the end reason ("" while live).
func (c *Call) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Wait waits up to d for the call to end and returns the reason.
func (c *Call) Wait(t testing.TB, d time.Duration) string {
	t.Helper()
	select {
	case <-c.done:
		return c.Reason()
	case <-time.After(d):
		t.Fatalf("call %q did not end within %v", c.Meta.ExternalID, d)
		return ""
	}
}

// Media returns what was delivered so far.
func (c *Call) Media() []Delivered {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Delivered(nil), c.media...)
}

// Missed returns the gaps declared so far.
func (c *Call) Missed() []Missed {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Missed(nil), c.missed...)
}

// Packets counts the media delivered per role.
func (c *Call) Packets() [2]int {
	var n [2]int
	for _, d := range c.Media() {
		n[d.Role]++
	}
	return n
}

// String describes the call for test logs.
func (c *Call) String() string {
	n := c.Packets()
	return fmt.Sprintf("%s call %q (rep %q, customer %q): %d rep and %d customer packets, %d gaps declared, ended %q",
		c.Meta.Source, c.Meta.ExternalID, c.Meta.Rep, c.Meta.Customer, n[0], n[1], len(c.Missed()), c.Reason())
}
