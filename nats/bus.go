// Package nats is call.Bus across nodes, over NATS core subjects: a live
// call's snapshots are published on the node that holds its media and
// watched from any node.
//
// Each node keeps its own in-process hub (inmem.Bus), so delivery to a
// node's viewers stays newest-only and a publisher never waits for one.
// Between nodes, per call ID:
//
//	PREFIX.call.ID.snap      the owner's snapshots (headers: sequence, final)
//	PREFIX.call.ID.interest  a node with viewers of the call says so, again
//	                         every interestEvery; the owner sends snapshots
//	                         only while someone's interest is fresh
//	PREFIX.call.ID.latest    request-reply: the owner answers a new viewer
//	                         with the newest snapshot at once
//
// The final snapshot is always sent. A viewer that misses it (it came
// while the viewer's node was not subscribed) reads the call from the
// store, as for any ended call. Viewer limits hold per node.
package nats

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
	"talkratio/inmem"
)

const (
	// interestEvery: how often a node renews its interest in the calls
	// its viewers watch on other nodes.
	interestEvery = 2 * time.Second
	// interestLapse: interest not renewed for this many periods has
	// lapsed (a viewer node that died stops costing the owner snapshots
	// after three missed renewals).
	interestLapse = 3
	// latestTimeout: how long a new remote viewer's node waits for the
	// owner's newest snapshot; after that the next one will do.
	latestTimeout = 2 * time.Second
)

// Message headers between nodes.
const (
	headerSeq   = "Talkratio-Seq"
	headerFinal = "Talkratio-Final"
)

// Options configure a Bus.
type Options struct {
	// Prefix starts every subject; default "talkratio".
	Prefix string
	// MaxViewers per call on this node (0: no limit).
	MaxViewers int
	// InterestEvery overrides interestEvery (tests shorten it).
	InterestEvery time.Duration
	// Log; nil for slog's default.
	Log *slog.Logger
}

// Bus is call.Bus over NATS. It does not own the connection: the caller
// closes it after Close.
type Bus struct {
	nc     *natsgo.Conn
	local  *inmem.Bus
	prefix string
	every  time.Duration
	log    *slog.Logger

	mu       sync.Mutex
	owned    map[string]*owned    // calls published from this node
	remote   map[string]*feed     // calls of other nodes watched here
	interest map[string]time.Time // calls watched elsewhere, until when
	closed   bool

	subs      []*natsgo.Subscription
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

var _ call.Bus = (*Bus)(nil)

// owned is what the owner keeps of a call it publishes: its newest
// snapshot, for new viewers elsewhere.
type owned struct {
	seq    uint64
	latest []byte
	final  bool
}

// New starts a bus on nc: it subscribes to the interest and latest
// subjects of every call, and renews this node's interest in the calls
// its viewers watch.
func New(nc *natsgo.Conn, o Options) (*Bus, error) {
	if o.Prefix == "" {
		o.Prefix = "talkratio"
	}
	if !validToken(o.Prefix) {
		return nil, fmt.Errorf("nats bus: prefix %q is not a subject token", o.Prefix)
	}
	if o.InterestEvery <= 0 {
		o.InterestEvery = interestEvery
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &Bus{
		nc: nc, local: inmem.NewBus(o.MaxViewers), prefix: o.Prefix, every: o.InterestEvery, log: o.Log,
		owned: map[string]*owned{}, remote: map[string]*feed{}, interest: map[string]time.Time{},
		stop: make(chan struct{}),
	}
	for kind, h := range map[string]natsgo.MsgHandler{"interest": b.onInterest, "latest": b.onLatest} {
		s, err := nc.Subscribe(b.prefix+".call.*."+kind, h)
		if err != nil {
			b.unsubscribe()
			return nil, fmt.Errorf("nats bus: subscribe to %s: %w", kind, err)
		}
		b.subs = append(b.subs, s)
	}
	if err := nc.Flush(); err != nil {
		b.unsubscribe()
		return nil, fmt.Errorf("nats bus: flush subscriptions: %w", err)
	}
	b.wg.Add(1)
	go b.renew()
	return b, nil
}

// Close stops the bus: its subscriptions, its renewals, its requests.
func (b *Bus) Close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		feeds := b.remote
		b.remote = map[string]*feed{}
		b.mu.Unlock()
		close(b.stop)
		for _, f := range feeds {
			if f.sub != nil {
				_ = f.sub.Unsubscribe()
			}
		}
		b.unsubscribe()
		b.wg.Wait()
	})
}

func (b *Bus) unsubscribe() {
	for _, s := range b.subs {
		_ = s.Unsubscribe()
	}
	b.subs = nil
}

func (b *Bus) subject(id, kind string) string { return b.prefix + ".call." + id + "." + kind }

// validToken: a NATS subject token: not empty, no separators, wildcards
// or spaces.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

// callID takes the ID out of PREFIX.call.ID.KIND.
func (b *Bus) callID(subject string) string {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 {
		return ""
	}
	return parts[2]
}

// Publish implements call.Bus: this node's viewers get the message from
// the local hub, other nodes' only while they are interested, and the
// final message always.
func (b *Bus) Publish(ctx context.Context, id string, msg []byte, final bool) error {
	if !validToken(id) {
		return fmt.Errorf("nats bus: call id %q is not a subject token", id)
	}
	now := time.Now()
	b.mu.Lock()
	o := b.owned[id]
	if o == nil {
		o = &owned{}
		b.owned[id] = o
	}
	o.seq++
	o.latest, o.final = msg, final
	seq := o.seq
	send := final || b.interest[id].After(now)
	b.mu.Unlock()
	if err := b.local.Publish(ctx, id, msg, final); err != nil {
		return err
	}
	if !send {
		return nil
	}
	if err := b.nc.PublishMsg(b.message(b.subject(id, "snap"), msg, seq, final)); err != nil {
		return fmt.Errorf("nats bus: publish call %s: %w", id, err)
	}
	return nil
}

func (b *Bus) message(subject string, data []byte, seq uint64, final bool) *natsgo.Msg {
	m := natsgo.NewMsg(subject)
	m.Data = data
	m.Header.Set(headerSeq, strconv.FormatUint(seq, 10))
	if final {
		m.Header.Set(headerFinal, "1")
	}
	return m
}

// onInterest: a node watches one of the calls; if it is ours, send its
// snapshots for another lapse period. Interest in a call not (yet)
// published here is kept too: it may be starting.
func (b *Bus) onInterest(m *natsgo.Msg) {
	id := b.callID(m.Subject)
	if id == "" {
		return
	}
	until := time.Now().Add(interestLapse * b.every)
	b.mu.Lock()
	if until.After(b.interest[id]) {
		b.interest[id] = until
	}
	b.mu.Unlock()
}

// onLatest answers a new remote viewer with the newest snapshot of a
// call published here; other nodes stay silent.
func (b *Bus) onLatest(m *natsgo.Msg) {
	id := b.callID(m.Subject)
	b.mu.Lock()
	o := b.owned[id]
	var reply *natsgo.Msg
	if o != nil && o.latest != nil && m.Reply != "" {
		reply = b.message(m.Reply, o.latest, o.seq, o.final)
	}
	b.mu.Unlock()
	if reply == nil {
		return
	}
	if err := b.nc.PublishMsg(reply); err != nil {
		b.log.Warn("nats bus: answer for the newest snapshot", "call", id, "err", err)
	}
}

// renew says again, every period, which remote calls this node's viewers
// watch, and drops interest that has lapsed.
func (b *Bus) renew() {
	defer b.wg.Done()
	t := time.NewTicker(b.every)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case now := <-t.C:
			b.mu.Lock()
			ids := make([]string, 0, len(b.remote))
			for id := range b.remote {
				ids = append(ids, id)
			}
			for id, until := range b.interest {
				if !until.After(now) {
					delete(b.interest, id)
				}
			}
			b.mu.Unlock()
			for _, id := range ids {
				if err := b.nc.Publish(b.subject(id, "interest"), nil); err != nil {
					b.log.Warn("nats bus: renew interest", "call", id, "err", err)
				}
			}
		}
	}
}

// Watched implements call.Bus: a viewer here, or fresh interest from
// another node.
func (b *Bus) Watched(id string) bool {
	if b.local.Watched(id) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.interest[id].After(time.Now())
}

// Forget implements call.Bus: the call is over here; its newest snapshot
// is no longer served to new viewers elsewhere (they read the store).
func (b *Bus) Forget(id string) {
	b.local.Forget(id)
	b.mu.Lock()
	delete(b.owned, id)
	b.mu.Unlock()
}
