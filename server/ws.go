package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/call"
	"talkratio/reply"
)

// Websocket timing and limits, after gorilla's chat example.
const (
	// writeWait: a client that cannot take a snapshot within this is too
	// slow and is dropped; it never holds anything up.
	writeWait = 2 * time.Second
	// pongWait: a client that answers no ping for this long is gone.
	pongWait = 30 * time.Second
	// pingPeriod must be shorter than pongWait.
	pingPeriod = pongWait * 9 / 10
	// wsReadLimit: dashboards send nothing but control frames.
	wsReadLimit = 512
)

// handleWS streams a call's snapshots: GET /ws/calls/{id}.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	rec, err := s.visibleCall(r, id)
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	if !s.sameOrigin(r) {
		reply.WriteError(w, reply.Errorf(http.StatusForbidden, "websocket from another origin refused"))
		return
	}
	var sub call.Subscription
	if rec.State == call.StateLive {
		if sub, err = s.bus.Subscribe(ctx, id); err != nil {
			s.m.wsDropped.WithLabelValues("limit").Inc()
			if errors.Is(err, call.ErrTooManyViewers) {
				w.Header().Set("Retry-After", "10")
				reply.WriteError(w, reply.Errorf(http.StatusServiceUnavailable, "%v", err))
				return
			}
			reply.WriteError(w, err)
			return
		}
		defer sub.Close()
		// The call may have ended between the two: then its final
		// snapshot is the stored record's.
		if rec, err = s.store.Get(ctx, id); err != nil {
			reply.WriteError(w, err)
			return
		}
	}
	var final []byte
	if rec.State != call.StateLive {
		// An ended call: one final snapshot, then a normal close.
		if final, err = json.Marshal(s.rules.FinalSnapshot(rec)); err != nil {
			reply.WriteError(w, err)
			return
		}
	}
	up := websocket.Upgrader{CheckOrigin: s.sameOrigin}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an error status
	}
	defer conn.Close()
	s.m.wsClients.Inc()
	defer s.m.wsClients.Dec()

	// Reader: the one goroutine that reads. It only keeps the deadline
	// fresh on pongs and notices when the client goes.
	gone := make(chan struct{})
	conn.SetReadLimit(wsReadLimit)
	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()

	// Writer: this goroutine, the one that writes.
	send := func(msg []byte) bool {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			reason := "error"
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				reason = "slow"
			}
			s.m.wsDropped.WithLabelValues(reason).Inc()
			return false
		}
		return true
	}
	closeNormally := func() {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "call ended"))
	}
	if final != nil {
		if send(final) {
			closeNormally()
		}
		return
	}
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	for {
		select {
		case <-sub.Ready():
			msg, last := sub.Take()
			if msg == nil {
				continue
			}
			if !send(msg) {
				return
			}
			if last {
				closeNormally()
				return
			}
		case <-ping.C:
			_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-gone:
			return
		}
	}
}
