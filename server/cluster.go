package server

import (
	"context"
	"encoding/json"
	"net/http"

	"talkratio/call"
	"talkratio/live"
	"talkratio/whip"
)

// Cluster makes the service one node of several: cluster.Cluster, with
// session requests forwarded over NATS. Nil: one node.
type Cluster interface {
	whip.Cluster
	live.Owners
}

// busy says the node takes no new call: it is draining, or full.
func (s *Server) busy() bool {
	return s.draining.Load() || s.calls.Len() >= s.cfg.MaxCalls
}

// Load is what this node's heartbeat reports: its live calls, and whether
// it is draining.
func (s *Server) Load() (int, bool) { return s.calls.Len(), s.draining.Load() }

// Interrupt marks a live call whose node died (its media is gone) as
// interrupted, with the analysis of its last checkpoint, and gives its
// viewers, on any node, a final snapshot saying so.
func (s *Server) Interrupt(ctx context.Context, id string) {
	if s.calls.Get(id) != nil {
		return // live here: not a dead node's
	}
	rec, err := s.store.Get(ctx, id)
	if err != nil {
		s.log.Error("interrupt a dead node's call", "call", id, "err", err)
		return
	}
	if rec.State != call.StateLive {
		return
	}
	rec.Interrupt()
	if err := s.store.Put(ctx, rec); err != nil {
		s.log.Error("interrupt a dead node's call", "call", id, "err", err)
		return
	}
	s.log.Warn("a dead node's live call is kept as interrupted", "call", id, "duration_s", rec.DurationS)
	msg, err := json.Marshal(s.rules.FinalSnapshot(rec))
	if err == nil {
		err = s.bus.Publish(ctx, id, msg, true)
	}
	if err != nil {
		s.log.Warn("final snapshot of a dead node's call", "call", id, "err", err)
	}
	s.bus.Forget(id)
}

// MediaPort is the UDP port WebRTC media comes to (whip.Server.MediaPort):
// what a firewall must let through, besides the HTTP address.
func (s *Server) MediaPort() int { return s.whip.MediaPort() }

// SessionHandler serves the session requests other nodes forward here.
func (s *Server) SessionHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/whip/s/{node}/{token}", s.whip.HandleNodeSession)
	return mux
}
