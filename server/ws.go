package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/vad"
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

// sameOrigin accepts browser requests only from this service's own pages,
// which blocks cross-site websocket hijacking. Clients that send no Origin
// (not browsers) are let through.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// handleWS streams a call's snapshots: GET /ws/calls/{id}.
func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var final []byte
	rec, err := s.visibleCall(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	if s.liveCall(id) == nil {
		// An ended call: one final snapshot, then a normal close.
		msg, err := json.Marshal(recordSnapshot(rec, s.cfg.MonologueNudge.Seconds()))
		if err != nil {
			writeError(w, err)
			return
		}
		final = msg
	}
	if !sameOrigin(r) {
		writeError(w, errorf(http.StatusForbidden, "websocket from another origin refused"))
		return
	}
	var sub Subscription
	if final == nil {
		var err error
		if sub, err = s.fan.Subscribe(id); err != nil {
			s.m.wsDropped.WithLabelValues("limit").Inc()
			if errors.Is(err, errTooManyViewers) {
				w.Header().Set("Retry-After", "10")
				writeError(w, errorf(http.StatusServiceUnavailable, "%v", err))
				return
			}
			writeError(w, err)
			return
		}
		defer sub.Close()
	}
	up := websocket.Upgrader{CheckOrigin: sameOrigin}
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

// recordSnapshot is the final snapshot of a stored call.
func recordSnapshot(rec *CallRecord, nudgeAfter float64) snapshotMsg {
	info := callInfo{ID: rec.ID, Name: rec.Name, Rep: rec.Rep, Customer: rec.Customer, State: rec.State, StartedAt: rec.StartedAt}
	var l vad.Live
	if res := rec.Result; res != nil {
		l.Metrics = res.Metrics
		l.NowS = res.DurationS
		t := vad.NewTally(vad.DefaultTallyConfig())
		for _, sg := range res.Segments.Rep {
			t.Add(vad.Rep, sg)
		}
		for _, sg := range res.Segments.Customer {
			t.Add(vad.Customer, sg)
		}
		l.RecentListenPct, l.RecentOK = t.RecentListenPct(res.DurationS, [2]vad.Segment{})
		from := res.DurationS - timelineWindowS
		for r, segs := range [2][]vad.Segment{res.Segments.Rep, res.Segments.Customer} {
			for _, sg := range segs {
				if sg.End > from {
					l.Timeline[r] = append(l.Timeline[r], sg)
				}
			}
		}
		for _, sg := range res.Segments.Missing {
			if sg.End > from {
				l.Missing = append(l.Missing, sg)
			}
		}
	}
	return buildSnapshot(info, l, nudgeAfter)
}
