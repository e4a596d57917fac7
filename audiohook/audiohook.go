package audiohook

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"talkratio/ingest"
)

// Timing.
const (
	// DefaultIdleTimeout: Genesys sends audio every few tens of
	// milliseconds and pings while the stream is paused; a socket silent
	// this long is dead.
	DefaultIdleTimeout = 60 * time.Second
	// closeGrace: after the server asks the client to disconnect, it has
	// this long to close the session before the socket is dropped.
	closeGrace = 5 * time.Second
	// writeWait bounds one write to a client that reads nothing.
	writeWait = 2 * time.Second
	// shutdownWait: how long Close waits for sessions to finish.
	shutdownWait = closeGrace + time.Second
)

// Config configures a Handler.
type Config struct {
	// Parent opens the calls (required).
	Parent ingest.Parent
	// Keys maps each accepted API key to its client secret (required; see
	// LoadKeys). A key with an empty secret takes unsigned requests.
	Keys map[string][]byte
	// IdleTimeout ends a session that sends nothing for this long
	// (DefaultIdleTimeout when 0).
	IdleTimeout time.Duration
	// Log receives the handler's log lines (slog.Default when nil).
	Log *slog.Logger
	// Metrics counts what the handler does (NewMetrics when nil); the
	// caller registers it.
	Metrics *Metrics
	// Now is the clock signatures are checked against (time.Now when nil).
	Now func() time.Time
}

// Metrics are the handler's Prometheus counters. No per-call labels.
type Metrics struct {
	CallsStarted prometheus.Counter
	Frames       prometheus.Counter
	Missing      *ingest.Counters // seconds of audio the client did not send, by reason
	Errors       *ingest.Counters // by reason
}

// NewMetrics returns the handler's counters, every labelled series created.
func NewMetrics() *Metrics {
	return &Metrics{
		CallsStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_audiohook_calls_started_total",
			Help: "Calls started from Genesys AudioHook sessions (connection probes not counted).",
		}),
		Frames: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "talkratio_audiohook_audio_frames_total",
			Help: "AudioHook binary audio frames received.",
		}),
		Missing: ingest.NewCounters("talkratio_audiohook_missing_audio_seconds_total",
			"Seconds of AudioHook stream the client declared it did not send, by reason (paused, discarded); counted as missing audio, not silence.",
			"reason", "paused", "discarded"),
		Errors: ingest.NewCounters("talkratio_audiohook_errors_total",
			"AudioHook connections or messages refused, by reason (key, signature, upgrade, busy, json, sequence, order, media, frame, identity, idle, client, other).",
			"reason", errorReasons...),
	}
}

// Collectors lists the metrics, to register on the service's registry.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.CallsStarted, m.Frames, m.Missing.Collector(), m.Errors.Collector()}
}

// Handler is the AudioHook websocket endpoint (an http.Handler, to mount
// at /ingest/audiohook).
type Handler struct {
	cfg     Config
	log     *slog.Logger
	m       *Metrics
	limiter ingest.LogLimiter
	nonces  nonceCache
	up      websocket.Upgrader

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
}

// NewHandler checks cfg and returns the handler.
func NewHandler(cfg Config) (*Handler, error) {
	if cfg.Parent == nil {
		return nil, errors.New("audiohook: no parent to start calls in")
	}
	if len(cfg.Keys) == 0 {
		return nil, errNoKeys
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg, log: cfg.Log.With("ingest", ingest.SourceAudioHook), m: cfg.Metrics, sessions: map[*session]struct{}{}}
	// Genesys is no browser and sends no Origin; the API key and the
	// signature authenticate the request.
	h.up = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return h, nil
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.log.With("remote", r.RemoteAddr, "session_id", truncate(r.Header.Get(HeaderSessionID), 64),
		"correlation_id", truncate(r.Header.Get(HeaderCorrelationID), 64))
	if err := verifyRequest(r, h.cfg.Keys, h.cfg.Now(), &h.nonces); err != nil {
		reason := reasonOther
		var ae *authError
		if errors.As(err, &ae) {
			reason = ae.reason
		}
		h.m.Errors.Inc(reason)
		h.limiter.Warn(log, reason, "audiohook: request refused", "err", err)
		httpError(w, http.StatusUnauthorized, "authentication failed")
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		h.m.Errors.Inc(reasonUpgrade)
		httpError(w, http.StatusBadRequest, "AudioHook connects with a websocket")
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
		h.m.Errors.Inc(reasonUpgrade)
		h.limiter.Warn(log, reasonUpgrade, "audiohook: websocket upgrade failed", "err", err)
		return
	}
	s := &session{
		h: h, conn: conn, log: log, done: make(chan struct{}),
		orgID: r.Header.Get(HeaderOrganizationID), sessionID: r.Header.Get(HeaderSessionID),
	}
	// Server messages carry the session id from the first: the request's,
	// else the first client message's.
	if uuidRE().MatchString(s.sessionID) {
		s.id = s.sessionID
	}
	if !h.add(s) {
		_ = conn.Close()
		return
	}
	defer h.remove(s)
	s.run(r.Context())
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

// Close ends every session (their calls end with reason shutdown; each
// client is asked to disconnect), refuses new ones, and waits for the
// sessions to finish.
func (h *Handler) Close() {
	h.mu.Lock()
	h.closed = true
	ss := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.disconnect(ingest.EndShutdown, "completed", "the service is shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(shutdownWait):
		h.log.Warn("audiohook: sessions still running at shutdown")
	}
}

// state is where a session is in the protocol.
