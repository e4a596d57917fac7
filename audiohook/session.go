package audiohook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/ingest"
)

type state int

const (
	stPreparing    state = iota // waiting for open
	stActive                    // audio flows
	stPaused                    // the client paused the stream
	stDisconnected              // the server sent disconnect; waiting for close
	stClosed                    // close answered; waiting for the socket to close
)

// session is one AudioHook connection. Its ServeHTTP goroutine is the
// only reader; writes go through send, under wmu.
type session struct {
	h         *Handler
	conn      *websocket.Conn
	log       *slog.Logger
	orgID     string // from the request headers
	sessionID string

	wmu       sync.Mutex
	seq       int64 // last server message sequence number
	clientSeq int64 // last client message sequence number
	id        string

	// mu guards what disconnect (another goroutine) reads and writes.
	mu        sync.Mutex
	state     state
	call      ingest.Call
	endReason string // the reason disconnect ended the session for

	// Owned by the reader.
	media  mediaParam
	roles  []ingest.Role // per media channel
	pos    int64         // stream position in samples at mediaRate
	frames int64
	probe  bool
	dec    []byte
	pcm    []float32

	doneOnce sync.Once
	done     chan struct{}
}

// send writes one server message.
func (s *session) send(typ string, params any) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	msg := map[string]any{
		"version":    protocolVersion,
		"type":       typ,
		"id":         s.id,
		"seq":        s.seq,
		"clientseq":  s.clientSeq,
		"parameters": params,
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteMessage(websocket.TextMessage, b)
}

// hangUp closes the socket, once.
func (s *session) hangUp() {
	s.doneOnce.Do(func() {
		close(s.done)
		s.wmu.Lock()
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(writeWait))
		s.wmu.Unlock()
		_ = s.conn.Close()
	})
}

// disconnect ends the call (if any) for endReason and asks the client to
// disconnect (reason completed, unauthorized or error); the client then
// closes the session, or is dropped after closeGrace.
func (s *session) disconnect(endReason, reason, info string) {
	s.mu.Lock()
	call, st := s.call, s.state
	if st < stDisconnected {
		s.state = stDisconnected
	}
	if s.endReason == "" {
		s.endReason = endReason
	}
	s.mu.Unlock()
	if call != nil {
		call.End(endReason)
	}
	if st >= stDisconnected {
		return
	}
	if err := s.send("disconnect", map[string]string{"reason": reason, "info": info}); err != nil {
		s.hangUp()
		return
	}
	// The reader returns at this deadline if the client never closes.
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}

// fail refuses a message or frame outside the protocol.
func (s *session) fail(err error) {
	reason := reasonOther
	var pe *protoError
	if errors.As(err, &pe) {
		reason = pe.reason
	}
	s.h.m.Errors.Inc(reason)
	s.h.limiter.Warn(s.log, reason, "audiohook: protocol error", "err", err)
	s.disconnect(ingest.EndError, "error", truncate(err.Error(), 200))
}

func (s *session) getState() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

func (s *session) setState(st state) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state < stDisconnected || st > s.state {
		s.state = st
	}
}

func (s *session) run(ctx context.Context) {
	defer s.hangUp()
	// Whatever ended the session, its call ends with it (a reason given
	// earlier wins).
	defer s.endCall(ingest.EndFailed)
	s.conn.SetReadLimit(maxReadBytes)
	for {
		if st := s.getState(); st < stDisconnected {
			_ = s.conn.SetReadDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
		}
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			s.readFailed(err)
			return
		}
		if typ == websocket.BinaryMessage {
			s.frame(data)
			continue
		}
		m, err := parseClientMessage(data)
		if err != nil {
			if s.getState() >= stDisconnected {
				continue // only close matters now
			}
			s.fail(err)
			continue
		}
		if !s.handle(ctx, m) {
			return
		}
	}
}

// readFailed ends the session when the socket did.
func (s *session) readFailed(err error) {
	select {
	case <-s.done:
		return
	default:
	}
	st := s.getState()
	var ne interface{ Timeout() bool }
	switch {
	case st == stClosed:
		// The close transaction is done; the client closed the socket.
	case st == stDisconnected:
		s.log.Info("audiohook: client did not close after disconnect; dropped", "err", err)
	case errors.As(err, &ne) && ne.Timeout():
		s.h.m.Errors.Inc(reasonIdle)
		s.log.Warn("audiohook: session idle, dropped", "idle", s.h.cfg.IdleTimeout.String())
		s.endCall(ingest.EndFailed)
	case errors.Is(err, websocket.ErrReadLimit):
		s.h.m.Errors.Inc(reasonJSON)
		s.log.Warn("audiohook: message over the read limit", "limit", maxReadBytes)
		s.endCall(ingest.EndError)
	default:
		s.log.Info("audiohook: websocket closed without a close transaction", "err", err)
		s.endCall(ingest.EndFailed)
	}
}

func (s *session) endCall(reason string) {
	s.mu.Lock()
	call := s.call
	s.mu.Unlock()
	if call != nil {
		call.End(reason)
	}
}

// handle acts on one client message; false ends the session.
func (s *session) handle(ctx context.Context, m *clientMessage) bool {
	st := s.getState()
	// Sequence numbers (AudioHook "Sequence numbers"): each client message
	// is one more than the last; serverseq never ahead of what we sent.
	s.wmu.Lock()
	seqOK := m.Seq == s.clientSeq+1
	serverOK := m.ServerSeq <= s.seq
	if seqOK {
		s.clientSeq = m.Seq
	}
	if s.id == "" {
		s.id = m.ID
	}
	idOK := m.ID == s.id
	s.wmu.Unlock()
	if st >= stDisconnected {
		// Waiting for close: answer it, and pings; ignore the rest.
		switch m.Type {
		case "close":
			s.closeTransaction(m)
		case "ping":
			_ = s.send("pong", struct{}{})
		}
		return true
	}
	switch {
	case !seqOK:
		s.fail(protoErrorf(reasonSequence, "seq %d after %d", m.Seq, s.clientSeq))
		return true
	case !serverOK:
		s.fail(protoErrorf(reasonSequence, "serverseq %d ahead of the server's %d", m.ServerSeq, s.seq))
		return true
	case !idOK || (s.sessionID != "" && m.ID != s.sessionID):
		s.fail(protoErrorf(reasonIdentity, "message id %s is not the session's", m.ID))
		return true
	}
	switch m.Type {
	case "open":
		if st != stPreparing {
			s.fail(protoErrorf(reasonOrder, "a second open"))
			return true
		}
		s.open(ctx, m)
	case "ping":
		_ = s.send("pong", struct{}{})
	case "paused":
		if st != stActive {
			s.fail(protoErrorf(reasonOrder, "paused while not active"))
			return true
		}
		s.setState(stPaused)
		s.log.Info("audiohook: stream paused", "position", m.Position)
	case "resumed":
		if st != stPaused {
			s.fail(protoErrorf(reasonOrder, "resumed while not paused"))
			return true
		}
		s.skip("paused", m.rng)
		s.setState(stActive)
		s.log.Info("audiohook: stream resumed", "start", m.rng.Start, "discarded", m.rng.Discarded)
	case "discarded":
		if st != stActive && st != stPaused {
			s.fail(protoErrorf(reasonOrder, "discarded before open"))
			return true
		}
		s.skip("discarded", m.rng)
	case "update":
		s.log.Info("audiohook: update", "parameters", truncate(string(m.Parameters), 200))
	case "error":
		s.h.m.Errors.Inc(reasonClient)
		s.h.limiter.Warn(s.log, reasonClient, "audiohook: client reports an error", "code", m.errInfo.Code, "message", truncate(m.errInfo.Message, 200))
	case "close":
		s.closeTransaction(m)
	default:
		s.fail(protoErrorf(reasonJSON, "unknown message type %q", truncate(m.Type, 32)))
	}
	return true
}

// closeTransaction answers close with closed and ends the call.
func (s *session) closeTransaction(m *clientMessage) {
	reason := ingest.EndClosed
	if m.close.Reason == "error" {
		reason = ingest.EndError
	}
	s.endCall(reason)
	s.setState(stClosed)
	if err := s.send("closed", struct{}{}); err != nil {
		s.hangUp()
		return
	}
	s.log.Info("audiohook: session closed", "reason", m.close.Reason, "position", m.Position)
	// The client closes the socket next; don't wait forever for it.
	_ = s.conn.SetReadDeadline(time.Now().Add(closeGrace))
}
