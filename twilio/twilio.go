package twilio

import (
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
