package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
)

// feed brings a call published elsewhere to this node's viewers.
type feed struct {
	viewers int
	sub     *natsgo.Subscription
	mu      sync.Mutex
	seq     uint64 // the newest sequence delivered
	closed  bool   // its last viewer left: deliver nothing more
}

// Subscribe implements call.Bus. A viewer of a call published on another
// node makes this node subscribe to the call's snapshots, announce its
// interest, and ask the owner for the newest snapshot, which the viewer
// gets as soon as it comes.
func (b *Bus) Subscribe(ctx context.Context, id string) (call.Subscription, error) {
	if !validToken(id) {
		return nil, fmt.Errorf("nats bus: call id %q is not a subject token", id)
	}
	s, err := b.local.Subscribe(ctx, id)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		s.Close()
		return nil, errors.New("nats bus: closed")
	}
	if _, mine := b.owned[id]; mine {
		b.mu.Unlock()
		return s, nil
	}
	f := b.remote[id]
	start := f == nil
	if start {
		f = &feed{}
		b.remote[id] = f
	}
	f.viewers++
	b.mu.Unlock()
	v := &viewer{Subscription: s, bus: b, id: id}
	if !start {
		return v, nil
	}
	if err := b.startFeed(id, f); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// startFeed subscribes this node to a remote call's snapshots, then says
// it is interested and asks for the newest one.
func (b *Bus) startFeed(id string, f *feed) error {
	sub, err := b.nc.Subscribe(b.subject(id, "snap"), func(m *natsgo.Msg) { b.deliver(id, f, m) })
	if err != nil {
		return fmt.Errorf("nats bus: subscribe to call %s: %w", id, err)
	}
	b.mu.Lock()
	f.sub = sub
	b.mu.Unlock()
	// The subscription is in place at the server before the owner hears
	// of the interest, so no snapshot sent for it is missed.
	if err := b.nc.Flush(); err != nil {
		return fmt.Errorf("nats bus: subscribe to call %s: %w", id, err)
	}
	if err := b.nc.Publish(b.subject(id, "interest"), nil); err != nil {
		return fmt.Errorf("nats bus: interest in call %s: %w", id, err)
	}
	b.wg.Add(1)
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

// deliver hands a snapshot from the owner to this node's viewers, unless
// a newer one came first (the answer to a latest request can overtake, or
// be overtaken by, the snapshots that follow it).
func (b *Bus) deliver(id string, f *feed, m *natsgo.Msg) {
	seq, err := strconv.ParseUint(m.Header.Get(headerSeq), 10, 64)
	if err != nil || len(m.Data) == 0 {
		return
	}
	final := m.Header.Get(headerFinal) == "1"
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || seq <= f.seq {
		return
	}
	f.seq = seq
	_ = b.local.Publish(context.Background(), id, m.Data, final)
}

// viewer is a local viewer of a call published on another node: the last
// one to close ends this node's feed of the call.
type viewer struct {
	call.Subscription
	bus  *Bus
	id   string
	once sync.Once
}

func (v *viewer) Close() {
	v.once.Do(func() {
		v.Subscription.Close()
		b := v.bus
		b.mu.Lock()
		f := b.remote[v.id]
		last := false
		var sub *natsgo.Subscription
		if f != nil {
			f.viewers--
			if f.viewers == 0 {
				delete(b.remote, v.id)
				last, sub = true, f.sub
			}
		}
		b.mu.Unlock()
		if !last {
			return
		}
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		// A snapshot still in flight must not bring the call's topic
		// back: deliver checks closed under the same lock.
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		// Its topic here goes with it: the next viewer starts afresh.
		b.local.Forget(v.id)
	})
}
