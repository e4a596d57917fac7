// Package nats is call.Bus across nodes, over NATS core subjects: a live
// call's snapshots are published on the node that holds its media and
// watched from any node.
//
// Each node keeps its own in-process hub (inmem.Bus), so delivery to a
// node's viewers stays newest-only and a publisher never waits for one.
// Between nodes, per call ID:
//
//	PREFIX.call.ID.snap      snapshots (headers: sequence, final, node);
//	                         usually from the call's owner, but any node
//	                         may publish, and a final from any node ends
//	                         the call for every viewer
//	PREFIX.call.ID.viewers   "NODE COUNT": a node with viewers of the call
//	                         says how many, when the count changes and
//	                         again every interestEvery; COUNT 0 when its
//	                         last viewer leaves. Every node keeps the
//	                         counts, for the cluster-wide viewer limit; the
//	                         owner sends snapshots only while another
//	                         node's count is fresh and above 0
//	PREFIX.call.ID.latest    request-reply: the owner answers a new viewer
//	                         with the newest snapshot at once
//
// and per node, for HTTP requests forwarded to the node that holds a
// session (see ServeHTTP and Forward):
//
//	PREFIX.node.NODE.http    request-reply: an HTTP request, its response
//
// The final snapshot is always sent. A viewer that misses it (it came
// while the viewer's node was not subscribed) reads the call from the
// store, as for any ended call.
package nats

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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
	// interestEvery: how often a node repeats its viewer counts, so that
	// a count lost, or sent by a node that died since, does not last.
	interestEvery = 2 * time.Second
	// interestLapse: a count not renewed for this many periods has
	// lapsed (a viewer node that died stops costing the owner snapshots,
	// and the other nodes' viewer slots, after three missed renewals).
	interestLapse = 3
	// latestTimeout: how long a new remote viewer's node waits for the
	// owner's newest snapshot; after that the next one will do.
	latestTimeout = 2 * time.Second
	// nodeNameBytes: random bytes of a generated node name (8 hex
	// characters: unique enough among a cluster's few nodes).
	nodeNameBytes = 4
	// maxAnnounced: the largest viewer count taken from another node; far
	// above any real limit, it keeps sums of counts from overflowing.
	maxAnnounced = 1 << 20
)

// Message headers between nodes.
const (
	headerSeq   = "Talkratio-Seq"
	headerFinal = "Talkratio-Final"
	headerNode  = "Talkratio-Node"
)

// Options configure a Bus.
type Options struct {
	// Prefix starts every subject; default "talkratio".
	Prefix string
	// Node names this node in subjects and viewer counts: a subject
	// token, unique in the cluster; empty for a random one.
	Node string
	// MaxViewers per call across all nodes (0: no limit). See Subscribe
	// for how closely it holds.
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
	node   string
	max    int
	every  time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	owned   map[string]*owned           // calls published from this node
	remote  map[string]*feed            // calls of other nodes watched here
	viewers map[string]int              // this node's viewers, per call
	counts  map[string]map[string]count // other nodes' viewers, per call and node
	closed  bool

	// announceMu keeps this node's counts on the wire in the order they
	// were read, so the last one sent for a call is never a stale one.
	announceMu sync.Mutex

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

// count is another node's viewers of a call, as it last said, and until
// when that holds without renewal.
type count struct {
	n     int
	until time.Time
}

// New starts a bus on nc: it subscribes to the viewers and latest
// subjects of every call, and repeats this node's viewer counts.
func New(nc *natsgo.Conn, o Options) (*Bus, error) {
	if o.Prefix == "" {
		o.Prefix = "talkratio"
	}
	if !validToken(o.Prefix) {
		return nil, fmt.Errorf("nats bus: prefix %q is not a subject token", o.Prefix)
	}
	if o.Node == "" {
		r := make([]byte, nodeNameBytes)
		if _, err := rand.Read(r); err != nil {
			return nil, fmt.Errorf("nats bus: node name: %w", err)
		}
		o.Node = hex.EncodeToString(r)
	}
	if !validToken(o.Node) {
		return nil, fmt.Errorf("nats bus: node name %q is not a subject token", o.Node)
	}
	if o.InterestEvery <= 0 {
		o.InterestEvery = interestEvery
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	b := &Bus{
		// The local hub's limit is a backstop only: the cluster-wide
		// check in Subscribe, which counts this node's viewers too,
		// refuses first.
		nc: nc, local: inmem.NewBus(o.MaxViewers), prefix: o.Prefix, node: o.Node, max: o.MaxViewers,
		every: o.InterestEvery, log: o.Log,
		owned: map[string]*owned{}, remote: map[string]*feed{}, viewers: map[string]int{},
		counts: map[string]map[string]count{}, stop: make(chan struct{}),
	}
	for kind, h := range map[string]natsgo.MsgHandler{"viewers": b.onViewers, "latest": b.onLatest} {
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

// Node returns this node's name.
func (b *Bus) Node() string { return b.node }

// Close stops the bus: its subscriptions, its renewals, its requests. It
// tells the other nodes this node's viewers are gone, so their slots free
// at once rather than when the counts lapse.
func (b *Bus) Close() {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		feeds := b.remote
		b.remote = map[string]*feed{}
		watched := make([]string, 0, len(b.viewers))
		for id := range b.viewers {
			watched = append(watched, id)
		}
		b.mu.Unlock()
		close(b.stop)
		for _, f := range feeds {
			f.end()
		}
		b.unsubscribe()
		b.wg.Wait()
		b.announceMu.Lock()
		for _, id := range watched {
			b.sendCount(id, 0)
		}
		b.announceMu.Unlock()
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
// the local hub, other nodes' only while they watch, and the final
// message always. Any node may publish any call (a surviving node ends a
// dead node's calls this way); the node that does answers new viewers'
// requests for the newest snapshot until Forget.
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
	send := final || b.othersLocked(id, now) > 0
	b.mu.Unlock()
	if err := b.local.Publish(ctx, id, msg, final); err != nil {
		return fmt.Errorf("nats bus: publish call %s here: %w", id, err)
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
	m.Header.Set(headerNode, b.node)
	if final {
		m.Header.Set(headerFinal, "1")
	}
	return m
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

// renew says again, every period, how many viewers this node has of each
// call they watch, and drops other nodes' counts that have lapsed.
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
			ids := make([]string, 0, len(b.viewers))
			for id := range b.viewers {
				ids = append(ids, id)
			}
			for id, nodes := range b.counts {
				for node, c := range nodes {
					if !c.until.After(now) {
						delete(nodes, node)
					}
				}
				if len(nodes) == 0 {
					delete(b.counts, id)
				}
			}
			b.mu.Unlock()
			for _, id := range ids {
				b.announce(id)
			}
		}
	}
}

// Watched implements call.Bus: a viewer here, or a fresh count above 0
// from another node.
func (b *Bus) Watched(id string) bool {
	if b.local.Watched(id) {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.othersLocked(id, time.Now()) > 0
}

// Forget implements call.Bus: the call is over here; its newest snapshot
// is no longer served to new viewers elsewhere (they read the store).
func (b *Bus) Forget(id string) {
	b.local.Forget(id)
	b.mu.Lock()
	delete(b.owned, id)
	b.mu.Unlock()
}
