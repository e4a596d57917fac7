package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"talkratio/call"
	"talkratio/ingest"
)

// IngestParent is the registry as the phone-system adapters (siprec,
// twilio, audiohook) see it: ingest.Parent. Their calls are live calls
// like any other (the dashboard, the snapshots, the recording, the stored
// record); only the way media reaches the call differs, already decoded
// and timestamped by the adapter.
type IngestParent struct{ r *Registry }

// Ingest returns the registry's ingest.Parent.
func (r *Registry) Ingest() IngestParent { return IngestParent{r} }

var _ ingest.Parent = IngestParent{}

// StartCall starts a live call for an adapter. The call's source is the
// adapter's (siprec, twilio, audiohook); without a name, the call is
// named by its source and the platform's id, so that the dashboard shows
// which call of the phone system it is.
func (p IngestParent) StartCall(ctx context.Context, m ingest.CallMeta) (ingest.Call, error) {
	at := m.StartedAt
	if at.IsZero() {
		at = time.Now()
	}
	rec := call.Record{ID: call.NewID(8), Source: m.Source, StartedAt: at.UTC()}
	name := m.Name
	if name == "" {
		name = m.Source + " " + m.ExternalID
	}
	rec.SetLabels(name, m.Rep, m.Customer)
	c, err := p.r.Start(ctx, rec)
	var full *CapacityError
	if errors.As(err, &full) {
		return nil, fmt.Errorf("%w: %w", ingest.ErrBusy, err)
	}
	if err != nil {
		return nil, err
	}
	c.log.Info("call from "+m.Source, "external_id", m.ExternalID, "customer", rec.Customer)
	return &ingestCall{c: c, clocks: map[clockKey]*ingestClock{}}, nil
}

// ingestCall is a live call fed by an adapter.
type ingestCall struct {
	c *Call

	mu     sync.Mutex
	clocks map[clockKey]*ingestClock
}

// clockKey: each role's media on each of the adapter's clocks is a track
// of its own on the call clock (ingest.Clock's contract: one clock per
// independent timeline).
type clockKey struct {
	role  ingest.Role
	clock int
}

type ingestClock struct {
	k     *trackClock
	roles []ingest.Role
	// lastSeq is the adapter's newest sequence number; skip is added to
	// every sequence number after a declared gap, so that the call sees
	// the gap as loss (missing audio), never as a silence the sender
	// chose.
	started bool
	lastSeq int64
	skip    int64
}

func (ic *ingestCall) clock(r ingest.Role, k ingest.Clock) *ingestClock {
	key := clockKey{r, k.ID}
	x := ic.clocks[key]
	if x == nil {
		x = &ingestClock{k: &trackClock{clockRate: k.Rate}, roles: []ingest.Role{r}}
		ic.clocks[key] = x
	}
	return x
}

// Deliver hands one decoded packet to the call.
func (ic *ingestCall) Deliver(r ingest.Role, m ingest.Media) bool {
	if m.Clock.Rate <= 0 || (r != ingest.Rep && r != ingest.Customer) {
		return true // not the adapter's contract; nothing to place it by
	}
	ic.mu.Lock()
	x := ic.clock(r, m.Clock)
	lost := 0
	if x.started && m.Seq > x.lastSeq+1 {
		lost = int(min(m.Seq-x.lastSeq-1, 1<<20))
	}
	if !x.started || m.Seq > x.lastSeq {
		x.started, x.lastSeq = true, m.Seq
	}
	p := pcm{track: x.k, roles: x.roles, seq: m.Seq + x.skip, ts: m.TS, at: m.At}
	ic.mu.Unlock()
	ic.c.cfg.Metrics.Received(r, lost)
	if len(m.PCM) > 0 {
		p.samples = [][]float32{m.PCM}
	}
	return ic.c.deliver(p)
}

// Missing declares that no audio exists for a role from ts for n ticks:
// the next media of that role on that clock follows a gap in its
// sequence, so the stretch stays missing audio.
func (ic *ingestCall) Missing(r ingest.Role, k ingest.Clock, _, n int64, _ time.Time) {
	if n <= 0 || k.Rate <= 0 {
		return
	}
	ic.mu.Lock()
	ic.clock(r, k).skip++
	ic.mu.Unlock()
}

func (ic *ingestCall) End(reason string) { ic.c.End(reason) }

func (ic *ingestCall) Done() <-chan struct{} { return ic.c.Done() }
