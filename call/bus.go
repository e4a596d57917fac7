package call

import (
	"context"
	"errors"
)

// ErrTooManyViewers is Bus.Subscribe's refusal when a call already has as
// many viewers as allowed.
var ErrTooManyViewers = errors.New("too many viewers for this call")

// Bus carries each live call's latest snapshot to the dashboards watching
// it. It keeps only the newest message per call: a viewer that falls
// behind skips to the present instead of replaying the past, and a
// publisher never waits for anyone. The in-process implementation is
// inmem.Bus; several nodes can share one over NATS (a subject per call,
// one-message buffers).
type Bus interface {
	// Publish replaces the call's latest message and wakes its viewers;
	// final marks the call's last message. It never blocks on a viewer.
	Publish(ctx context.Context, callID string, msg []byte, final bool) error
	// Subscribe starts watching a call; a viewer gets the latest message
	// at once. It fails with ErrTooManyViewers when the call already has
	// as many viewers as allowed.
	Subscribe(ctx context.Context, callID string) (Subscription, error)
	// Watched reports whether anyone watches the call: a call builds
	// snapshots only for calls someone watches.
	Watched(callID string) bool
	// Forget says the call is over; what the bus holds for it may go once
	// nobody watches.
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
