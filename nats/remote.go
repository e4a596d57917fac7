package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
)

// feed brings a call published elsewhere to this node's viewers. It lives
// while the node has viewers of the call.
type feed struct {
	mu     sync.Mutex
	sub    *natsgo.Subscription
	origin string // the node that sent the newest message delivered
	seq    uint64 // its sequence
	final  bool   // a final message was delivered: nothing follows it
	closed bool   // its last viewer left: deliver nothing more
}

// Subscribe implements call.Bus. A viewer of a call published on another
// node makes this node subscribe to the call's snapshots and ask the owner
// for the newest one, which the viewer gets as soon as it comes; any
// viewer makes this node announce its count of the call's viewers.
//
// MaxViewers holds across nodes, from the counts the other nodes
// announced plus this node's own viewers. It is approximate: nodes
// admitting viewers of one call at the same moment each count before
// hearing of the other's, so the call can go over the limit by up to one
// viewer per node in that race; a count from a node that died holds its
// slots until it lapses (interestLapse periods).
func (b *Bus) Subscribe(ctx context.Context, id string) (call.Subscription, error) {
	if !validToken(id) {
		return nil, fmt.Errorf("nats bus: call id %q is not a subject token", id)
	}
	now := time.Now()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed
	}
	if b.max > 0 && b.viewers[id]+b.othersLocked(id, now) >= b.max {
		b.mu.Unlock()
		return nil, call.ErrTooManyViewers
	}
	// The slot is taken before the local hub is asked, so that two
	// viewers joining here at once cannot both take the last one.
	b.viewers[id]++
	b.mu.Unlock()
	s, err := b.local.Subscribe(ctx, id)
	if err != nil {
		b.release(id)
		return nil, err
	}
	v := &viewer{Subscription: s, bus: b, id: id}
	b.mu.Lock()
	var f *feed
	if _, mine := b.owned[id]; !mine && b.remote[id] == nil && !b.closed {
		f = &feed{}
		b.remote[id] = f
	}
	b.mu.Unlock()
	if f != nil {
		if err := b.startFeed(id, f); err != nil {
			v.Close()
			return nil, err
		}
	}
	b.announce(id)
	return v, nil
}

// release gives back a viewer's slot; the last viewer of a remote call
// ends this node's feed of it.
func (b *Bus) release(id string) {
	b.mu.Lock()
	var f *feed
	if b.viewers[id]--; b.viewers[id] <= 0 {
		delete(b.viewers, id)
		f = b.remote[id]
		delete(b.remote, id)
	}
	b.mu.Unlock()
	if f != nil {
		f.end()
		// Its topic here goes with it: the next viewer starts afresh.
		b.local.Forget(id)
	}
	b.announce(id)
}

// end stops the feed; a snapshot still in flight must not bring the
// call's topic back: deliver checks closed under the same lock.
func (f *feed) end() {
	f.mu.Lock()
	f.closed = true
	sub := f.sub
	f.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}

// startFeed subscribes this node to a remote call's snapshots, then asks
// for the newest one.
func (b *Bus) startFeed(id string, f *feed) error {
	sub, err := b.nc.Subscribe(b.subject(id, "snap"), func(m *natsgo.Msg) { b.deliver(id, f, m) })
	if err != nil {
		return fmt.Errorf("nats bus: subscribe to call %s: %w", id, err)
	}
	f.mu.Lock()
	ended := f.closed
	f.sub = sub
	f.mu.Unlock()
	if ended {
		_ = sub.Unsubscribe()
		return errClosed
	}
	// The subscription is in place at the server before the owner hears
	// of this node's viewers (Subscribe announces after), so no snapshot
	// sent for them is missed.
	if err := b.nc.Flush(); err != nil {
		return fmt.Errorf("nats bus: subscribe to call %s: %w", id, err)
	}
	// Added under b.mu while open, so never after Close began waiting.
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	b.wg.Add(1)
	b.mu.Unlock()
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), latestTimeout)
		defer cancel()
		go func() {
			select {
			case <-b.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		m, err := b.nc.RequestMsgWithContext(ctx, natsgo.NewMsg(b.subject(id, "latest")))
		if err != nil {
			// No owner answered in time (no snapshot yet, or the call
			// is over): the next snapshot will do.
			return
		}
		b.deliver(id, f, m)
	}()
	return nil
}

// deliver hands a snapshot to this node's viewers, unless a newer one
// from the same node came first (the answer to a latest request can
// overtake, or be overtaken by, the snapshots that follow it). A final
// one is delivered whatever its sequence: it may come from another node
// than the owner (a survivor ending a dead node's call), whose sequence
// does not follow the owner's. After a final, nothing more.
func (b *Bus) deliver(id string, f *feed, m *natsgo.Msg) {
	seq, err := strconv.ParseUint(m.Header.Get(headerSeq), 10, 64)
	if err != nil || len(m.Data) == 0 {
		return
	}
	origin := m.Header.Get(headerNode)
	if origin == b.node {
		return // Publish here gave it to this node's viewers already
	}
	final := m.Header.Get(headerFinal) == "1"
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed || f.final:
		return
	case final:
	case origin == f.origin && seq <= f.seq:
		return
	}
	// A message from a node other than the last one's starts that
	// node's sequence: a call's publisher changed.
	f.origin, f.seq, f.final = origin, seq, final
	_ = b.local.Publish(context.Background(), id, m.Data, final)
}

// viewer is one local viewer: closing it gives back its slot.
type viewer struct {
	call.Subscription
	bus  *Bus
	id   string
	once sync.Once
}

func (v *viewer) Close() {
	v.once.Do(func() {
		v.Subscription.Close()
		v.bus.release(v.id)
	})
}

// onViewers records another node's count of viewers of a call. Counts
// for calls not (yet) published here are kept too: the call may be
// starting, and the limit holds on every node.
func (b *Bus) onViewers(m *natsgo.Msg) {
	id := b.callID(m.Subject)
	node, n, ok := parseCount(m.Data)
	if id == "" || !ok || node == b.node {
		return
	}
	until := time.Now().Add(interestLapse * b.every)
	b.mu.Lock()
	defer b.mu.Unlock()
	nodes := b.counts[id]
	if n == 0 {
		delete(nodes, node)
		if len(nodes) == 0 {
			delete(b.counts, id)
		}
		return
	}
	if nodes == nil {
		nodes = map[string]count{}
		b.counts[id] = nodes
	}
	nodes[node] = count{n: n, until: until}
}

// parseCount reads "NODE COUNT".
func parseCount(data []byte) (string, int, bool) {
	node, num, ok := strings.Cut(string(data), " ")
	if !ok || !validToken(node) {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > maxAnnounced {
		return "", 0, false
	}
	return node, n, true
}

// othersLocked: the other nodes' viewers of a call, as far as fresh counts
// tell. b.mu is held.
func (b *Bus) othersLocked(id string, now time.Time) int {
	n := 0
	for _, c := range b.counts[id] {
		if c.until.After(now) {
			n += c.n
		}
	}
	return n
}

// announce sends this node's current count of viewers of a call. The
// count is read under announceMu, so concurrent changes go out in order
// and the last message carries the newest count.
func (b *Bus) announce(id string) {
	b.announceMu.Lock()
	defer b.announceMu.Unlock()
	b.mu.Lock()
	n, closed := b.viewers[id], b.closed
	b.mu.Unlock()
	if closed {
		return // Close has said 0 for this node's calls
	}
	b.sendCount(id, n)
}

// sendCount publishes a count; announceMu is held.
func (b *Bus) sendCount(id string, n int) {
	if err := b.nc.Publish(b.subject(id, "viewers"), []byte(b.node+" "+strconv.Itoa(n))); err != nil {
		b.log.Warn("nats bus: announce viewers", "call", id, "viewers", n, "err", err)
	}
}

// errClosed: the bus is closed.
var errClosed = errors.New("nats bus: closed")
