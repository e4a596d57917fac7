package call

import (
	"context"
	"time"
)

// Node is one node of a cluster as the others see it: what its last
// heartbeat said.
type Node struct {
	// ID names the node (a NATS subject token); URL is where other nodes
	// and redirected clients reach it.
	ID, URL string
	// Live and MaxCalls: its live calls and its cap. CPU is the share of
	// one core its process used over the last heartbeat period (1 = one
	// core busy).
	Live, MaxCalls int
	CPU            float64
	// Draining: it is shutting down and takes no new calls.
	Draining bool
	// Age is how long ago the heartbeat was written, by the database's
	// clock (so that nodes' clocks need not agree).
	Age time.Duration
}

// Full reports whether the node takes no new call.
func (n Node) Full() bool { return n.Draining || (n.MaxCalls > 0 && n.Live >= n.MaxCalls) }

// Nodes is a cluster's shared table of nodes and of which node holds each
// live call: Postgres (package postgres) for a cluster, nothing on one
// node.
type Nodes interface {
	// Heartbeat writes the node's load, and that it is alive now.
	Heartbeat(ctx context.Context, n Node) error
	// List returns every node that has written a heartbeat in the last
	// within, least loaded first.
	List(ctx context.Context, within time.Duration) ([]Node, error)
	// Claim makes node the holder of a live call unless another node
	// holds it; it returns the holder either way. Two claims of one call
	// at the same moment agree on one holder.
	Claim(ctx context.Context, callID, node string) (holder Node, err error)
	// Release says the node no longer holds the call (it is stored as
	// ended).
	Release(ctx context.Context, callID, node string) error
	// TakeOver removes the claims of nodes whose last heartbeat is older
	// than deadAfter (they died), and of node itself if not empty (it
	// restarted), and returns the calls they held. Each claim goes to one
	// caller only, however many nodes sweep at once.
	TakeOver(ctx context.Context, deadAfter time.Duration, node string) ([]string, error)
}
