// Package cluster is what makes one node of several: it writes the node's
// heartbeat (its load) into the shared table of nodes, picks the least
// loaded node for a call this one cannot take, claims each live call for
// the node that holds its media, and takes over the calls of nodes that
// died, which it hands back to be marked interrupted. It knows no
// technology: the table is a call.Nodes (Postgres), and what is done
// with a dead node's call is the caller's.
//
// After LiveKit's node selection: a node counts as available while its
// stats are fresh, and the least loaded available node takes new calls.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"talkratio/call"
)

// Timing, by the database's clock.
const (
	// heartbeatEvery: how often a node writes its load and takes over
	// dead nodes' calls.
	heartbeatEvery = 2 * time.Second
	// aliveWithin: a node whose heartbeat is older is not sent new calls
	// (LiveKit's 5 s).
	aliveWithin = 5 * time.Second
	// deadAfter: a node silent this long has died and its calls are taken
	// over: five missed heartbeats, so that a slow database or a long
	// pause is not taken for a death, and, with heartbeatEvery, a dead
	// node's calls are interrupted within 12 s (the issue asks 30 s).
	deadAfter = 10 * time.Second
	// opTimeout bounds one database round trip of the loop.
	opTimeout = 5 * time.Second
)

// Config configures a node.
type Config struct {
	// ID and URL name this node and say where others reach it; MaxCalls
	// is its cap of live calls.
	ID, URL  string
	MaxCalls int
	Nodes    call.Nodes
	// Every, AliveWithin and DeadAfter override the timing (tests).
	Every, AliveWithin, DeadAfter time.Duration
	Log                           *slog.Logger
}

// Host is the service a node runs, as the cluster sees it.
type Host interface {
	// Load tells how many calls are live here and whether the node is
	// draining.
	Load() (live int, draining bool)
	// Interrupt is given each live call taken over from a dead node (or
	// from this node's previous run): its media is gone.
	Interrupt(ctx context.Context, callID string)
}

// Cluster is this node's part in the cluster.
type Cluster struct {
	cfg  Config
	host Host
	log  *slog.Logger
	cpu  cpuMeter
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// New makes this node's part in the cluster; Start joins.
func New(cfg Config) (*Cluster, error) {
	if !call.ValidID(cfg.ID) {
		return nil, fmt.Errorf("cluster: node id %q: use 1-64 letters, digits, _ or -", cfg.ID)
	}
	if cfg.Nodes == nil {
		return nil, errors.New("cluster: no table of nodes")
	}
	if cfg.Every <= 0 {
		cfg.Every = heartbeatEvery
	}
	if cfg.AliveWithin <= 0 {
		cfg.AliveWithin = aliveWithin
	}
	if cfg.DeadAfter <= 0 {
		cfg.DeadAfter = deadAfter
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Cluster{cfg: cfg, log: cfg.Log.With("node", cfg.ID), stop: make(chan struct{})}, nil
}

// Start joins the cluster with the service this node runs: it takes over
// the claims this node left when it last stopped without releasing them
// (a crash), writes a first heartbeat, and keeps both going until Close.
func (c *Cluster) Start(ctx context.Context, host Host) error {
	c.host = host
	c.cpu.start()
	ids, err := c.cfg.Nodes.TakeOver(ctx, c.cfg.DeadAfter, c.cfg.ID)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.interrupt(ctx, ids)
	if err := c.heartbeat(ctx); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	c.wg.Add(1)
	go c.loop()
	return nil
}

// ID is this node's name.
func (c *Cluster) ID() string { return c.cfg.ID }

// Close stops the heartbeats: the other nodes take this node's remaining
// claims over once it has been silent for DeadAfter.
func (c *Cluster) Close() {
	c.once.Do(func() {
		close(c.stop)
		if c.host == nil {
			return
		}
		c.wg.Wait()
	})
}

func (c *Cluster) loop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		if err := c.heartbeat(ctx); err != nil {
			c.log.Warn("cluster heartbeat", "err", err)
		}
		ids, err := c.cfg.Nodes.TakeOver(ctx, c.cfg.DeadAfter, "")
		if err != nil {
			c.log.Warn("cluster: take over dead nodes' calls", "err", err)
		}
		cancel()
		c.interrupt(context.Background(), ids)
	}
}

func (c *Cluster) heartbeat(ctx context.Context) error {
	live, draining := c.host.Load()
	return c.cfg.Nodes.Heartbeat(ctx, call.Node{
		ID: c.cfg.ID, URL: c.cfg.URL, Live: live, MaxCalls: c.cfg.MaxCalls,
		CPU: c.cpu.share(), Draining: draining,
	})
}

func (c *Cluster) interrupt(ctx context.Context, ids []string) {
	for _, id := range ids {
		c.log.Warn("cluster: a live call's node is gone: marking it interrupted", "call", id)
		c.host.Interrupt(ctx, id)
	}
}

// Elsewhere returns the least loaded available node other than this one
// that takes new calls; false when there is none.
func (c *Cluster) Elsewhere(ctx context.Context) (call.Node, bool, error) {
	nodes, err := c.cfg.Nodes.List(ctx, c.cfg.AliveWithin)
	if err != nil {
		return call.Node{}, false, fmt.Errorf("cluster: %w", err)
	}
	for _, n := range nodes {
		if n.ID != c.cfg.ID && !n.Full() && n.URL != "" {
			return n, true, nil
		}
	}
	return call.Node{}, false, nil
}

// Nodes lists the available nodes, least loaded first.
func (c *Cluster) Nodes(ctx context.Context) ([]call.Node, error) {
	return c.cfg.Nodes.List(ctx, c.cfg.AliveWithin)
}

// Claim makes this node the holder of a live call, unless another node
// holds it: then it returns that node and false.
func (c *Cluster) Claim(ctx context.Context, callID string) (call.Node, bool, error) {
	h, err := c.cfg.Nodes.Claim(ctx, callID, c.cfg.ID)
	if err != nil {
		return call.Node{}, false, err
	}
	return h, h.ID == c.cfg.ID, nil
}

// Release gives up this node's claim of a call that is stored as ended.
func (c *Cluster) Release(ctx context.Context, callID string) {
	if err := c.cfg.Nodes.Release(ctx, callID, c.cfg.ID); err != nil {
		c.log.Warn("cluster: release a call", "call", callID, "err", err)
	}
}
