package server

import "sync"

// Fanout carries each call's latest snapshot to the dashboards watching it.
// It keeps only the newest message per call: a viewer that falls behind
// skips to the present instead of replaying the past, and a publisher
// never waits for anyone. The in-process Hub implements it; a multi-node
// deployment can implement it over NATS (publish on a subject per call,
// subscribe with a one-message buffer).
type Fanout interface {
	// Publish replaces the call's latest message and wakes its viewers.
	// final marks the last message of a call.
	Publish(callID string, msg []byte, final bool)
	// Subscribe starts watching a call. It fails with errTooManyViewers
	// when the call already has as many viewers as allowed.
	Subscribe(callID string) (Subscription, error)
	// Viewers reports how many subscriptions a call has.
	Viewers(callID string) int
	// Forget says the call is over; its state may go once nobody watches.
	Forget(callID string)
}

// Subscription is one viewer of one call.
type Subscription interface {
	// Ready is signalled when a message newer than the last one taken is
	// waiting.
	Ready() <-chan struct{}
	// Take returns the newest message (nil if none yet), and whether it
	// is the call's last.
	Take() (msg []byte, final bool)
	// Close ends the subscription; Ready is not signalled after.
	Close()
}

// Hub is the in-process Fanout.
type Hub struct {
	maxViewers int
	mu         sync.Mutex
	topics     map[string]*topic
}

type topic struct {
	latest []byte
	final  bool
	subs   map[*hubSub]struct{}
	done   bool // the call is over: drop the topic with its last viewer
}

// NewHub returns a hub that allows maxViewers per call (0: no limit).
func NewHub(maxViewers int) *Hub {
	return &Hub{maxViewers: maxViewers, topics: map[string]*topic{}}
}

func (h *Hub) topic(id string) *topic {
	t := h.topics[id]
	if t == nil {
		t = &topic{subs: map[*hubSub]struct{}{}}
		h.topics[id] = t
	}
	return t
}

// Publish implements Fanout.
func (h *Hub) Publish(id string, msg []byte, final bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topic(id)
	t.latest, t.final = msg, final
	for s := range t.subs {
		s.offer(msg, final)
	}
}

// Subscribe implements Fanout. A new viewer gets the latest message at
// once, so a dashboard opened mid-call is not blank until the next tick.
func (h *Hub) Subscribe(id string) (Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topic(id)
	if h.maxViewers > 0 && len(t.subs) >= h.maxViewers {
		return nil, errTooManyViewers
	}
	s := &hubSub{hub: h, id: id, ready: make(chan struct{}, 1)}
	t.subs[s] = struct{}{}
	if t.latest != nil {
		s.offer(t.latest, t.final)
	}
	return s, nil
}

// Viewers implements Fanout.
func (h *Hub) Viewers(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[id]; t != nil {
		return len(t.subs)
	}
	return 0
}

// Forget marks a call as over: its topic goes away with its last viewer.
func (h *Hub) Forget(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.topics[id]; t != nil {
		t.done = true
		if len(t.subs) == 0 {
			delete(h.topics, id)
		}
	}
}

type hubSub struct {
	hub   *Hub
	id    string
	mu    sync.Mutex
	msg   []byte
	final bool
	ready chan struct{}
}

// offer stores the message and signals without ever blocking: the ready
// channel holds one token, and a viewer that has not taken it yet will
// simply read the newer message when it does.
func (s *hubSub) offer(msg []byte, final bool) {
	s.mu.Lock()
	s.msg, s.final = msg, final
	s.mu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

func (s *hubSub) Ready() <-chan struct{} { return s.ready }

func (s *hubSub) Take() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msg
	s.msg = nil
	return m, s.final
}

func (s *hubSub) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if t := s.hub.topics[s.id]; t != nil {
		delete(t.subs, s)
		if t.done && len(t.subs) == 0 {
			delete(s.hub.topics, s.id)
		}
	}
}
