package inmem

import (
	"context"
	"sync"

	"talkratio/call"
)

// Bus is the in-process call.Bus: a topic per call holding its latest
// message, and a one-message mailbox per viewer.
type Bus struct {
	maxViewers int
	mu         sync.Mutex
	topics     map[string]*topic
}

var _ call.Bus = (*Bus)(nil)

type topic struct {
	latest []byte
	final  bool
	subs   map[*sub]struct{}
	done   bool // the call is over: drop the topic with its last viewer
}

// NewBus returns a bus that allows maxViewers per call (0: no limit).
func NewBus(maxViewers int) *Bus {
	return &Bus{maxViewers: maxViewers, topics: map[string]*topic{}}
}

func (b *Bus) topic(id string) *topic {
	t := b.topics[id]
	if t == nil {
		t = &topic{subs: map[*sub]struct{}{}}
		b.topics[id] = t
	}
	return t
}

// Publish implements call.Bus.
func (b *Bus) Publish(_ context.Context, id string, msg []byte, final bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topic(id)
	t.latest, t.final = msg, final
	for s := range t.subs {
		s.offer(msg, final)
	}
	return nil
}

// Subscribe implements call.Bus. A new viewer gets the latest message at
// once, so a dashboard opened mid-call is not blank until the next tick.
func (b *Bus) Subscribe(_ context.Context, id string) (call.Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topic(id)
	if b.maxViewers > 0 && len(t.subs) >= b.maxViewers {
		return nil, call.ErrTooManyViewers
	}
	s := &sub{bus: b, id: id, ready: make(chan struct{}, 1)}
	t.subs[s] = struct{}{}
	if t.latest != nil {
		s.offer(t.latest, t.final)
	}
	return s, nil
}

// Watched implements call.Bus.
func (b *Bus) Watched(id string) bool { return b.Viewers(id) > 0 }

// Viewers reports how many subscriptions a call has.
func (b *Bus) Viewers(id string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[id]; t != nil {
		return len(t.subs)
	}
	return 0
}

// Forget implements call.Bus: the call's topic goes with its last viewer.
func (b *Bus) Forget(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[id]; t != nil {
		t.done = true
		if len(t.subs) == 0 {
			delete(b.topics, id)
		}
	}
}

type sub struct {
	bus   *Bus
	id    string
	mu    sync.Mutex
	msg   []byte
	final bool
	ready chan struct{}
}

// offer stores the message and signals without ever blocking: the ready
// channel holds one token, and a viewer that has not taken it yet will
// simply read the newer message when it does.
func (s *sub) offer(msg []byte, final bool) {
	s.mu.Lock()
	s.msg, s.final = msg, final
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *sub) Ready() <-chan struct{} { return s.ready }

func (s *sub) Take() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msg
	s.msg = nil
	return m, s.final
}

func (s *sub) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if t := s.bus.topics[s.id]; t != nil {
		delete(t.subs, s)
		if t.done && len(t.subs) == 0 {
			delete(s.bus.topics, s.id)
		}
	}
}
