// Package live owns the live calls of this process. Each call has one
// owner, a goroutine that places its media on the call clock, runs the
// analysis, builds the snapshots its viewers get, keeps its record in the
// store up to date and, at its end, stores it; the Registry starts calls
// and finds them.
//
// WHIP attaches a Source to a call and feeds it Tracks of timestamped,
// sequence-numbered payloads; the phone-system adapters (SIPREC, Twilio
// Media Streams, AudioHook) start their calls through Registry.Ingest and
// hand them decoded, timestamped media: there is one pipeline, whatever
// brought the audio. A call knows no HTTP and no server: it sees what its Config gives
// it (store, bus, audio, metrics, rules) and, of its registry, only how to
// say that it is done (after mediamtx's narrow parent interfaces).
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"talkratio/call"
)

// Config is what live calls need.
type Config struct {
	// Store keeps each call's record: written when it starts, refreshed
	// every few seconds, and final at its end.
	Store call.Store
	// Bus carries snapshots to the call's viewers.
	Bus call.Bus
	// Record keeps each call's audio in Audio. Off by default: recording
	// people needs their consent.
	Record bool
	Audio  call.AudioStore
	// Rules judge the calls.
	Rules call.Rules
	// Metrics count what calls do; nil counts nothing.
	Metrics Metrics
	// MaxCalls caps the calls live at once; 0 is no cap.
	MaxCalls int
	// Owners, in a cluster, records which node holds each live call, so
	// that sessions of one call meet on one node and a dead node's calls
	// are found; nil on one node.
	Owners Owners
	Log    *slog.Logger
}

// Owners is what live calls need of a cluster: cluster.Cluster.
type Owners interface {
	// Claim makes this node the call's holder unless another node holds
	// it; it returns the holder, and whether that is this node.
	Claim(ctx context.Context, callID string) (holder call.Node, mine bool, err error)
	// Release gives up this node's claim once the call is stored as ended.
	Release(ctx context.Context, callID string)
}

// Why a call ended, the values of the reason a call's end is counted by.
const (
	EndHangup   = "hangup"   // its publisher hung up (WHIP DELETE): the normal end
	EndClosed   = "closed"   // the peer closed the connection
	EndFailed   = "failed"   // the connection failed or timed out
	EndShutdown = "shutdown" // the service stopped
	EndError    = "error"    // the service could not go on with the call
)

// EndReasons returns all the reasons, for metrics to show at 0.
func EndReasons() []string { return []string{EndHangup, EndClosed, EndFailed, EndShutdown, EndError} }

// ErrExists is Start's refusal of a second call with a live call's id.
var ErrExists = errors.New("a live call with this id exists")

// CapacityError is Start's refusal of a call past Config.MaxCalls.
type CapacityError struct{ Max int }

func (e *CapacityError) Error() string {
	return fmt.Sprintf("the service is at its limit of %d live calls; retry later", e.Max)
}

// ElsewhereError is Start's refusal of a call that another node of the
// cluster holds: its sessions belong there.
type ElsewhereError struct{ Holder call.Node }

func (e *ElsewhereError) Error() string {
	return fmt.Sprintf("call is held by node %s", e.Holder.ID)
}

// releaseEvery bounds how often the end of the last live call hands memory
// back to the OS (a full collection each time).
const releaseEvery = 30 * time.Second

// releaseTimeout bounds giving up a cluster claim at a call's end. One
// left behind is harmless: it is taken over when this node next starts,
// and a call no longer live is left as it is.
const releaseTimeout = 5 * time.Second

// Registry is the live calls of this process.
type Registry struct {
	cfg      Config
	samples  sync.Pool // recycled decode buffers ([]float32)
	released atomic.Int64

	mu    sync.Mutex
	calls map[string]*Call
}

// NewRegistry returns an empty registry.
func NewRegistry(cfg Config) *Registry {
	if cfg.Metrics == nil {
		cfg.Metrics = nopMetrics{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	r := &Registry{cfg: cfg, calls: map[string]*Call{}}
	r.samples.New = func() any { b := make([]float32, 0, 1920); return &b }
	return r
}

// Start starts a live call with the record's metadata (its state is
// live), unless the cap is reached (CapacityError) or a live call has its
// id (ErrExists). The record is in the store when Start returns.
func (r *Registry) Start(ctx context.Context, rec call.Record) (*Call, error) {
	rec.State = call.StateLive
	c, err := newCall(&r.cfg, r, rec)
	if err != nil {
		return nil, err
	}
	if err := r.admit(rec.ID); err != nil {
		return nil, err
	}
	if r.cfg.Owners != nil {
		// The claim is a database round trip: outside the lock, and
		// before the call is found by Get, so that a session never joins
		// a call this node turns out not to hold.
		holder, mine, err := r.cfg.Owners.Claim(ctx, rec.ID)
		if err != nil {
			return nil, fmt.Errorf("claim the call: %w", err)
		}
		if !mine {
			return nil, &ElsewhereError{Holder: holder}
		}
	}
	if err := r.admit(rec.ID); err != nil {
		// A session of the same call started it meanwhile (its claim is
		// this one), or the cap was reached (nothing holds the claim).
		var full *CapacityError
		if r.cfg.Owners != nil && errors.As(err, &full) {
			r.cfg.Owners.Release(ctx, rec.ID)
		}
		return nil, err
	}
	r.mu.Lock()
	if _, dup := r.calls[rec.ID]; dup {
		r.mu.Unlock()
		return nil, ErrExists
	}
	r.calls[rec.ID] = c
	r.mu.Unlock()
	if r.cfg.Record {
		c.startRecording(ctx)
	}
	if err := r.cfg.Store.Put(ctx, &rec); err != nil {
		c.log.Error("store live call", "err", err)
	}
	r.cfg.Metrics.CallStarted()
	go c.run()
	c.log.Info("call started", "name", rec.Name, "rep", rec.Rep)
	return c, nil
}

// admit says whether a call with this id may start: under the cap, and
// not live here already.
func (r *Registry) admit(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.calls[id]; dup {
		return ErrExists
	}
	if r.cfg.MaxCalls > 0 && len(r.calls) >= r.cfg.MaxCalls {
		return &CapacityError{Max: r.cfg.MaxCalls}
	}
	return nil
}

// Get returns the live call with this id, or nil.
func (r *Registry) Get(id string) *Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

// Len is how many calls are live.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Shutdown ends every live call and returns when all are stored, or ctx
// ends first.
func (r *Registry) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	calls := make([]*Call, 0, len(r.calls))
	for _, c := range r.calls {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	for _, c := range calls {
		c.End(EndShutdown)
	}
	for _, c := range calls {
		select {
		case <-c.Done():
		case <-ctx.Done():
			return fmt.Errorf("%d calls not stored in time: %w", r.Len(), ctx.Err())
		}
	}
	return nil
}

// ended forgets a call that has stored itself. When the last live call
// ends, what the calls held (decoders, buffers, the ingest's goroutine
// stacks: a few MB each) is garbage. It is handed back to the OS at once
// rather than minutes later, so that an idle service looks idle to whoever
// watches its RSS; at most once per releaseEvery, so that a quiet service
// going between zero and one call does not collect on every call.
func (r *Registry) ended(c *Call) {
	r.mu.Lock()
	if r.calls[c.ID()] == c {
		delete(r.calls, c.ID())
	}
	idle := len(r.calls) == 0
	r.mu.Unlock()
	if r.cfg.Owners != nil {
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		r.cfg.Owners.Release(ctx, c.ID())
		cancel()
	}
	if !idle {
		return
	}
	now := time.Now().UnixNano()
	if last := r.released.Load(); now-last >= int64(releaseEvery) && r.released.CompareAndSwap(last, now) {
		debug.FreeOSMemory()
	}
}

func (r *Registry) getSamples(n int) []float32 {
	p := r.samples.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	return (*p)[:n]
}

func (r *Registry) putSamples(b []float32) {
	b = b[:0]
	r.samples.Put(&b)
}
