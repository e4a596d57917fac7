package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"talkratio/audio"
	"talkratio/ingest"
)

// Timing.
const (
	// DefaultIdleTimeout: Twilio sends a media message every 20 ms on each
	// track for as long as the stream runs; a socket silent this long is
	// dead (the TCP connection vanished without a close).
	DefaultIdleTimeout = 10 * time.Second
	// closeWait bounds writing a close frame to a peer that reads nothing.
	closeWait = time.Second
	// shutdownWait: how long Close waits for sessions to finish storing
	// their calls.
	shutdownWait = 5 * time.Second
	// mulawClockRate: Media Streams carry 8 kHz mu-law; media timestamps
	// are milliseconds, placed on an 8 kHz clock.
	mulawClockRate = 8000
)

// Custom parameters of <Stream> (TwiML <Parameter name=... value=...>)
// that talkratio reads.
const (
	ParamRepTrack = "rep_track" // "inbound" or "outbound": which track is the rep
	ParamName     = "name"      // the call's label
	ParamRep      = "rep"       // the rep's name
	ParamCustomer = "customer"  // the customer's name
)

// Config configures a Handler.
type Config struct {
	// Parent opens the calls (required).
	Parent ingest.Parent
	// AuthToken is the Twilio account's auth token, which signs every
	// request (required; see LoadAuthToken).
	AuthToken []byte
	// PublicURL is the base URL Twilio is told to connect to
	// ("wss://talkratio.example.com"), when a proxy in front of the
	// service changes the scheme or host: the signature covers the URL
	// Twilio used. Empty: the request's own Host, and wss when the request
	// came over TLS or X-Forwarded-Proto says https.
	PublicURL string
	// RepTrack is the track that carries the rep: "outbound" (the
	// default: the audio Twilio sends to the caller, which is the agent's
	// side of a call the agent's app placed or answered) or "inbound". The
	// stream's rep_track custom parameter overrides it.
	RepTrack string
	// IdleTimeout ends a stream that sends nothing for this long
	// (DefaultIdleTimeout when 0).
	IdleTimeout time.Duration
	// Log receives the handler's log lines (slog.Default when nil).
	Log *slog.Logger
	// Metrics counts what the handler does (NewMetrics when nil); the
	// caller registers it.
	Metrics *Metrics
}

// Metrics are the handler's Prometheus counters. No per-call labels.
type Metrics struct {
	CallsStarted prometheus.Counter
	Media        *ingest.Counters // by role
	Errors       *ingest.Counters // by reason
}

// NewMetrics returns the handler's counters, every labelled series created.
func NewMetrics() *Metrics {
	return &Metrics{
		CallsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_twilio_calls_started_total",
			Help: "Calls started from Twilio Media Streams.",
		}),
		Media: ingest.NewCounters("talkratio_twilio_media_messages_total",
			"Twilio media messages (20 ms of audio each) received, by role (rep, customer).", "role", ingest.RoleNames...),
		Errors: ingest.NewCounters("talkratio_twilio_errors_total",
			"Twilio Media Streams connections or messages refused, by reason (signature, upgrade, busy, json, order, format, track, payload, stream, idle, parameter, other).",
			"reason", errorReasons...),
	}
}

// Collectors lists the metrics, to register on the service's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.CallsStarted, m.Media.Collector(), m.Errors.Collector()}
}

// Handler is the Media Streams websocket endpoint (an http.Handler, to
// mount at /ingest/twilio).
type Handler struct {
	cfg     Config
	public  *url.URL
	log     *slog.Logger
	m       *Metrics
	limiter ingest.LogLimiter
	up      websocket.Upgrader

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// NewHandler checks cfg and returns the handler.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Parent == nil {
		return nil, errors.New("twilio: no parent to start calls in")
	}
	if len(cfg.AuthToken) == 0 {
		return nil, errors.New("twilio: no auth token: every Media Streams request is signed with the account's auth token, and unsigned ones are refused")
	}
	switch cfg.RepTrack {
	case "":
		cfg.RepTrack = trackOutbound
	case trackInbound, trackOutbound:
	default:
		return nil, fmt.Errorf("twilio: rep track %q (want inbound or outbound)", cfg.RepTrack)
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics()
	}
	h := &Handler{cfg: cfg, log: cfg.Log.With("ingest", ingest.SourceTwilio), m: cfg.Metrics, sessions: map[*session]struct{}{}}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "wss" && u.Scheme != "ws" && u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("twilio: public URL %q is not a ws:// or wss:// URL", cfg.PublicURL)
		}
		// Twilio is given wss:// URLs; an https:// base names the same.
		switch u.Scheme {
		case "https":
			u.Scheme = "wss"
		case "http":
			u.Scheme = "ws"
		}
		h.public = u
	}
	h.up = websocket.Upgrader{
		// Twilio is no browser and sends no Origin; the signature is what
		// authenticates the request.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return h, nil
}

// httpError answers a request that is refused before the upgrade.
func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr)
	if err := checkSignature(h.cfg.AuthToken, h.public, r); err != nil {
		h.m.Errors.Inc(reasonSignature)
		h.limiter.Warn(log, reasonSignature, "twilio: request refused", "err", err, "url", r.URL.RequestURI())
		httpError(w, http.StatusForbidden, "invalid X-Twilio-Signature")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		h.m.Errors.Inc(reasonUpgrade)
		httpError(w, http.StatusBadRequest, "Twilio Media Streams connect with a websocket")
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		httpError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	conn, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		// The upgrader has answered the request.
		h.m.Errors.Inc(reasonUpgrade)
		h.limiter.Warn(log, reasonUpgrade, "twilio: websocket upgrade failed", "err", err)
		return
	}
	s := &session{h: h, conn: conn, log: log, done: make(chan struct{})}
	if !h.add(s) {
		s.closeWith(websocket.CloseGoingAway, "shutting down")
		return
	}
	defer h.remove(s)
	s.run(r.Context())
	s.finish()
}

func (h *Handler) add(s *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.sessions[s] = struct{}{}
	return true
}

func (h *Handler) remove(s *session) {
	h.mu.Lock()
	delete(h.sessions, s)
	h.mu.Unlock()
}

// Close ends every stream (their calls end with reason shutdown), refuses
// new ones, and waits a few seconds for the sessions to finish.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	ss := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.shutdown()
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownWait):
		h.log.Warn("twilio: sessions still running at shutdown")
	}
}

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
