package twilio

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/audio"
	"talkratio/ingest"
)

// session is one Media Stream: one websocket, at most one call. Its
// ServeHTTP goroutine is the only reader.
type session struct {
	h    *Handler
	conn *websocket.Conn
	log  *slog.Logger

	// call is set by the reader once the stream starts; shutdown reads it
	// from another goroutine, under callMu.
	callMu    sync.Mutex
	call      ingest.Call
	reason    string // why the session ended, once it has
	streamSid string
	roles     map[string]ingest.Role // track name to role
	dec       audio.PacketDecoder
	buf       [][]float32

	closeOnce sync.Once
	done      chan struct{} // closed when the session is over
}

// closeWith sends a close frame and closes the socket, once.
func (s *session) closeWith(code int, reason string) {
	s.closeOnce.Do(func() {
		close(s.done)
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait))
		_ = s.conn.Close()
	})
}

// shutdown is Close's end of a session.
func (s *session) shutdown() {
	s.end(ingest.EndShutdown, websocket.CloseGoingAway, "shutting down")
}

// end records reason, closes the socket with code and text, then ends
// the call (if any) for reason. In that order: ending the call first
// would let the watcher of its end close the socket as "call ended", and
// the reader, woken by the close, finishes the call with the reason.
func (s *session) end(reason string, code int, text string) {
	s.callMu.Lock()
	if s.reason == "" {
		s.reason = reason
	}
	s.callMu.Unlock()
	s.closeWith(code, text)
	s.callMu.Lock()
	call := s.call
	s.callMu.Unlock()
	if call != nil {
		call.End(reason)
	}
}

// finish ends the call when the session is over, for the reason the
// session ended with (a shutdown may come while the call is being
// started, before there is a call to end).
func (s *session) finish() {
	s.callMu.Lock()
	call, reason := s.call, s.reason
	s.callMu.Unlock()
	if call == nil {
		return
	}
	if reason == "" {
		reason = ingest.EndFailed
	}
	call.End(reason)
}

// fail ends the session on a protocol error.
func (s *session) fail(err error) {
	reason := reasonOther
	var pe *protoError
	if errors.As(err, &pe) {
		reason = pe.reason
	}
	s.h.m.Errors.Inc(reason)
	args := []any{"err", err}
	if s.call != nil {
		args = append(args, "stream_sid", s.streamSid)
	}
	s.h.limiter.Warn(s.log, reason, "twilio: stream refused", args...)
	code := websocket.ClosePolicyViolation
	if reason == reasonFormat {
		code = websocket.CloseUnsupportedData
	}
	s.end(ingest.EndError, code, truncate(err.Error(), maxCloseReason))
}

// maxCloseReason: a close frame's reason fits in 123 bytes (RFC 6455).
const maxCloseReason = 123

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func (s *session) run(ctx context.Context) {
	s.conn.SetReadLimit(maxMessageBytes)
	for {
		_ = s.conn.SetReadDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
		typ, data, err := s.conn.ReadMessage()
		if err != nil {
			s.readFailed(err)
			return
		}
		if typ != websocket.TextMessage {
			s.fail(protoErrorf(reasonJSON, "binary message (Media Streams send JSON text)"))
			return
		}
		m, err := parseMessage(data)
		if err != nil {
			s.fail(err)
			return
		}
		if !s.handle(ctx, m) {
			return
		}
	}
}

// readFailed ends the session when the socket did: closed by us, by
// Twilio, by the network, or idle.
func (s *session) readFailed(err error) {
	select {
	case <-s.done:
		return // we closed it
	default:
	}
	var ne interface{ Timeout() bool }
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		s.h.m.Errors.Inc(reasonIdle)
		s.log.Warn("twilio: stream idle, ended", "stream_sid", s.streamSid, "idle", s.h.cfg.IdleTimeout.String())
		s.end(ingest.EndFailed, websocket.CloseGoingAway, "idle")
	case errors.Is(err, websocket.ErrReadLimit):
		s.fail(protoErrorf(reasonJSON, "message larger than %d bytes", maxMessageBytes))
	case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
		// Closed without a stop message: the stream is over all the same.
		s.log.Info("twilio: websocket closed without stop", "stream_sid", s.streamSid)
		s.end(ingest.EndClosed, websocket.CloseNormalClosure, "")
	default:
		s.log.Info("twilio: websocket broken", "stream_sid", s.streamSid, "err", err)
		s.end(ingest.EndFailed, websocket.CloseAbnormalClosure, "")
	}
}

// handle acts on one message; false ends the session.
func (s *session) handle(ctx context.Context, m *message) bool {
	if s.call != nil && m.StreamSid != "" && m.StreamSid != s.streamSid {
		s.fail(protoErrorf(reasonStream, "message of stream %q on the socket of stream %q", m.StreamSid, s.streamSid))
		return false
	}
	switch m.Event {
	case "connected":
		if m.Protocol != "" && m.Protocol != "Call" {
			s.log.Info("twilio: unexpected protocol", "protocol", m.Protocol, "version", m.Version)
		}
	case "start":
		if s.call != nil {
			s.fail(protoErrorf(reasonOrder, "a second start message"))
			return false
		}
		return s.start(ctx, m)
	case "media":
		if s.call == nil {
			s.fail(protoErrorf(reasonOrder, "media before start"))
			return false
		}
		return s.media(m)
	case "stop":
		if s.call == nil {
			s.fail(protoErrorf(reasonOrder, "stop before start"))
			return false
		}
		s.log.Info("twilio: stream stopped", "stream_sid", s.streamSid)
		s.end(ingest.EndClosed, websocket.CloseNormalClosure, "stopped")
		return false
	case "mark", "dtmf":
		// Marks answer audio a bidirectional stream played; DTMF is not
		// speech. Neither moves the analysis.
	default:
		s.log.Debug("twilio: unknown event ignored", "event", m.Event)
	}
	return true
}

// start opens the call of a start message.
func (s *session) start(ctx context.Context, m *message) bool {
	st := m.Start
	repTrack := s.h.cfg.RepTrack
	if v, ok := st.CustomParameters[ParamRepTrack]; ok {
		if v != trackInbound && v != trackOutbound {
			s.fail(protoErrorf(reasonParameter, "custom parameter %s=%q (want inbound or outbound)", ParamRepTrack, v))
			return false
		}
		repTrack = v
	}
	s.roles = map[string]ingest.Role{}
	for _, t := range st.Tracks {
		if t == repTrack {
			s.roles[t] = ingest.Rep
		} else {
			s.roles[t] = ingest.Customer
		}
	}
	dec, err := audio.NewG711Decoder(false, ingest.SampleRate)
	if err != nil {
		s.fail(err)
		return false
	}
	s.dec, s.buf = dec, [][]float32{make([]float32, audio.MaxPacketSamples)}
	meta := ingest.CallMeta{
		Source: ingest.SourceTwilio, ExternalID: st.CallSid,
		Name: st.CustomParameters[ParamName], Rep: st.CustomParameters[ParamRep], Customer: st.CustomParameters[ParamCustomer],
		StartedAt: time.Now(),
	}
	call, err := s.h.cfg.Parent.StartCall(ctx, meta)
	if err != nil {
		if errors.Is(err, ingest.ErrBusy) {
			s.h.m.Errors.Inc(reasonBusy)
			s.h.limiter.Warn(s.log, reasonBusy, "twilio: call refused", "call_sid", st.CallSid, "err", err)
			s.closeWith(websocket.CloseTryAgainLater, "busy")
			return false
		}
		s.h.m.Errors.Inc(reasonOther)
		s.log.Error("twilio: cannot start call", "call_sid", st.CallSid, "err", err)
		s.closeWith(websocket.CloseInternalServerErr, "cannot start the call")
		return false
	}
	s.callMu.Lock()
	s.call, s.streamSid = call, st.StreamSid
	s.callMu.Unlock()
	s.log = s.log.With("call_sid", st.CallSid)
	s.h.m.CallsStarted.Inc()
	s.log.Info("twilio: stream started", "stream_sid", st.StreamSid, "tracks", st.Tracks, "rep_track", repTrack)
	// The service may end the call (its own shutdown, a limit): the socket
	// closes with it, which ends the read loop.
	go func() {
		select {
		case <-call.Done():
			s.closeWith(websocket.CloseNormalClosure, "call ended")
		case <-s.done:
		}
	}()
	return true
}

// media hands one media message's audio to the call.
func (s *session) media(m *message) bool {
	md := m.Media
	role, ok := s.roles[md.Track]
	if !ok {
		s.fail(protoErrorf(reasonTrack, "media of track %q, not one the start message announced", md.Track))
		return false
	}
	s.h.m.Media.Inc(role.String())
	n, err := s.dec.Decode(m.payload, s.buf)
	if err != nil {
		s.fail(protoErrorf(reasonPayload, "media payload: %v", err))
		return false
	}
	pcm := make([]float32, n)
	copy(pcm, s.buf[0][:n])
	med := ingest.Media{
		Clock: ingest.Clock{ID: 0, Rate: mulawClockRate},
		TS:    md.Timestamp.v * mulawClockRate / 1000,
		Seq:   md.Chunk.v,
		At:    time.Now(),
		PCM:   pcm,
	}
	if !s.call.Deliver(role, med) {
		s.closeWith(websocket.CloseNormalClosure, "call ended")
		return false
	}
	return true
}
