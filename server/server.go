package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"talkratio/auth"
	"talkratio/vad"
)

// Config is the service's configuration. Zero values take the defaults
// documented on each field.
type Config struct {
	// TargetListen is the listen share (0-1) reps aim for; default 0.8.
	TargetListen float64
	// MonologueNudge: the dashboard nudges the rep after talking this long
	// in one run; default 60 s, negative to never nudge.
	MonologueNudge time.Duration
	// ICEUDPPort is the one UDP port all WebRTC media uses (so that a
	// container or firewall needs a single rule); 0 picks ephemeral ports.
	ICEUDPPort int
	// PublicIPs are the addresses to announce in ICE candidates when the
	// service runs behind 1:1 NAT (a container, a cloud VM).
	PublicIPs []string
	// MaxCalls caps concurrent live calls; past it WHIP answers 503 with
	// Retry-After. Default 1000.
	MaxCalls int
	// MaxViewersPerCall caps dashboard websockets per call; default 50.
	MaxViewersPerCall int
	// Store keeps ended calls and uploads; default an in-memory store
	// (no uploads, no audio). A DiskStore is the embedded default of
	// `talkratio serve`.
	Store Store
	// RecordAudio keeps live calls' audio with their analysis. Off by
	// default: recording people needs their consent.
	RecordAudio bool
	// MaxUpload caps an upload's body in bytes; default DefaultMaxUpload.
	MaxUpload int64
	// Auth, when set, requires tokens (see Grants); nil lets everyone do
	// everything, which is only right on a loopback address.
	Auth *auth.Auth
	// WHIPRate and UploadRate cap requests per client IP and second
	// (bursts of 10 and 3); defaults 2 and 0.2.
	WHIPRate, UploadRate float64
	// ICETimeouts override how long a silent publisher may be gone before
	// its call ends (disconnected, failed); zero for the defaults.
	ICEDisconnected, ICEFailed time.Duration
	// Net replaces the operating system's network for WebRTC media, for
	// tests under a virtual network with loss and jitter (pion's vnet).
	Net transport.Net
	// Fanout carries snapshots to viewers; default an in-process Hub.
	Fanout Fanout
	// Static is the dashboard's files (index.html, call.html,
	// capture.html and their assets).
	Static fs.FS
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Defaults.
const (
	// A publisher starts a call or two a minute; a burst of 10 allows a
	// few retries and per-role sessions.
	defaultWHIPRate = 2.0
	whipBurst       = 10
	// Uploads are big: one every 5 s per client after a burst of 3.
	defaultUploadRate = 0.2
	uploadBurst       = 3

	defaultTargetListen   = 0.8
	defaultMonologueNudge = 60 * time.Second
	defaultMaxCalls       = 1000
	defaultMaxViewers     = 50
	// capacityRetrySeconds is the Retry-After of a WHIP offer refused at
	// the call cap: calls last minutes, so a few seconds is a fair wait.
	capacityRetrySeconds = 5
	// releaseEvery bounds how often the end of the last live call hands
	// memory back to the OS (a full collection each time).
	releaseEvery = 30 * time.Second
)

// Server is the live service: WHIP ingest, dashboard, API and metrics.
type Server struct {
	cfg   Config
	log   *slog.Logger
	m     *metrics
	api   *webrtc.API
	udp   net.PacketConn // the fixed ICE port, if any
	store Store
	fan   Fanout

	mu       sync.Mutex
	calls    map[string]*Call
	sessions map[string]*session
	draining atomic.Bool
	released atomic.Int64 // when memory was last handed back (unix ns)

	samples sync.Pool // recycled decode buffers ([]float32)

	whipLimit, uploadLimit *limiter

	bg       sync.WaitGroup // upload analyses running
	progMu   sync.Mutex
	progress map[string]float64 // upload id -> share analyzed
}

// New builds a server. Close releases its UDP port.
func New(cfg Config) (*Server, error) {
	if cfg.TargetListen == 0 {
		cfg.TargetListen = defaultTargetListen
	}
	if !(cfg.TargetListen > 0 && cfg.TargetListen <= 1) {
		return nil, fmt.Errorf("target listen share %v: want 0-1", cfg.TargetListen)
	}
	if cfg.MonologueNudge == 0 {
		cfg.MonologueNudge = defaultMonologueNudge
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = defaultMaxCalls
	}
	if cfg.MaxViewersPerCall <= 0 {
		cfg.MaxViewersPerCall = defaultMaxViewers
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.Fanout == nil {
		cfg.Fanout = NewHub(cfg.MaxViewersPerCall)
	}
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.WHIPRate <= 0 {
		cfg.WHIPRate = defaultWHIPRate
	}
	if cfg.UploadRate <= 0 {
		cfg.UploadRate = defaultUploadRate
	}
	if cfg.ICEDisconnected <= 0 {
		cfg.ICEDisconnected = disconnectTimeout
	}
	if cfg.ICEFailed <= 0 {
		cfg.ICEFailed = failTimeout
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, m: newMetrics(), store: cfg.Store, fan: cfg.Fanout,
		calls: map[string]*Call{}, sessions: map[string]*session{}, progress: map[string]float64{},
		whipLimit:   newLimiter(cfg.WHIPRate, whipBurst),
		uploadLimit: newLimiter(cfg.UploadRate, uploadBurst),
	}
	s.samples.New = func() any { b := make([]float32, 0, 1920); return &b }
	if err := s.setupWebRTC(); err != nil {
		return nil, err
	}
	if st, ok := s.store.(*DiskStore); ok {
		s.resumeUploads(st)
	}
	return s, nil
}

func (s *Server) setProgress(id string, p float64) {
	s.progMu.Lock()
	defer s.progMu.Unlock()
	s.progress[id] = min(max(p, 0), 1)
}

func (s *Server) clearProgress(id string) {
	s.progMu.Lock()
	defer s.progMu.Unlock()
	delete(s.progress, id)
}

// withProgress fills in the live progress of uploads being analyzed.
func (s *Server) withProgress(rows []CallSummary) {
	s.progMu.Lock()
	defer s.progMu.Unlock()
	for i := range rows {
		if p, ok := s.progress[rows[i].ID]; ok && rows[i].State == stateAnalyzing {
			rows[i].Progress = p
		}
	}
}

// ICE timeouts: a publisher that vanishes without DELETE is noticed
// within disconnectTimeout and its call ended (and stored) at failTimeout.
const (
	disconnectTimeout = 5 * time.Second
	failTimeout       = 15 * time.Second
	keepAlive         = 2 * time.Second
)

func (s *Server) setupWebRTC() error {
	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1;stereo=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return fmt.Errorf("register codec %s: %w", c.MimeType, err)
		}
	}
	ir := &interceptor.Registry{}
	// Receiver reports and NACKs keep senders' rate control and loss
	// repair working; no video interceptors are needed.
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return fmt.Errorf("rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureNack(me, ir); err != nil {
		return fmt.Errorf("nack: %w", err)
	}
	se := webrtc.SettingEngine{}
	se.SetICETimeouts(s.cfg.ICEDisconnected, s.cfg.ICEFailed, keepAlive)
	se.SetIncludeLoopbackCandidate(true) // a publisher on the same host
	if s.cfg.Net != nil {
		se.SetNet(s.cfg.Net)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	}
	if len(s.cfg.PublicIPs) > 0 {
		se.SetNAT1To1IPs(s.cfg.PublicIPs, webrtc.ICECandidateTypeHost)
	}
	if s.cfg.ICEUDPPort > 0 {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{Port: s.cfg.ICEUDPPort})
		if err != nil {
			return fmt.Errorf("ICE UDP port %d: %w", s.cfg.ICEUDPPort, err)
		}
		s.udp = conn
		se.SetICEUDPMux(webrtc.NewICEUDPMux(nil, conn))
	}
	s.api = webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return nil
}

func (s *Server) tallyConfig() vad.TallyConfig {
	t := vad.DefaultTallyConfig()
	t.TargetListen = s.cfg.TargetListen
	return t
}

func (s *Server) getSamples(n int) []float32 {
	p := s.samples.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	return (*p)[:n]
}

func (s *Server) putSamples(b []float32) {
	b = b[:0]
	s.samples.Put(&b)
}

// startCall registers and starts a live call, unless the cap is reached.
func (s *Server) startCall(rec CallRecord) (*Call, error) {
	c, err := newCall(s, rec)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.calls) >= s.cfg.MaxCalls {
		s.mu.Unlock()
		return nil, &httpError{code: http.StatusServiceUnavailable, retryAfter: capacityRetrySeconds,
			msg: fmt.Sprintf("the service is at its limit of %d live calls; retry later", s.cfg.MaxCalls)}
	}
	if _, dup := s.calls[rec.ID]; dup {
		s.mu.Unlock()
		return nil, errorf(http.StatusConflict, "call %s exists", rec.ID)
	}
	s.calls[rec.ID] = c
	s.mu.Unlock()
	s.m.callsStarted.Inc()
	s.m.callsActive.Inc()
	go c.run()
	c.log.Info("call started", "name", rec.Name, "rep", rec.Rep)
	return c, nil
}

func (s *Server) liveCall(id string) *Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// removeCall forgets an ended call. When the last live call ends, what
// the calls held (decoders, buffers, pion's goroutine stacks: a few MB
// each) is garbage. It is handed back to the OS at once rather than
// minutes later, so that an idle service looks idle to whoever watches
// its RSS; at most once per releaseEvery, so that a quiet service going
// between zero and one call does not collect on every call.
func (s *Server) removeCall(c *Call) {
	s.mu.Lock()
	if s.calls[c.ID()] == c {
		delete(s.calls, c.ID())
	}
	idle := len(s.calls) == 0
	s.mu.Unlock()
	if !idle {
		return
	}
	now := time.Now().UnixNano()
	if last := s.released.Load(); now-last >= int64(releaseEvery) && s.released.CompareAndSwap(last, now) {
		debug.FreeOSMemory()
	}
}

func (s *Server) liveCalls() []*Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Call, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, c)
	}
	return out
}

func (s *Server) addSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions[sess.token] = sess
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, sess.token)
}

func (s *Server) session(token string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[token]
}

// Handler returns the HTTP handler of the whole service.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(name, h))
	}
	// The WHIP session URL is itself the capability (an unguessable
	// token, as RFC 9725 has it): whoever started the session holds it.
	handle("POST /whip", "whip", s.whipLimit.limit(s.require(auth.Publish, s.handleWHIP)))
	handle("OPTIONS /whip", "whip", s.handleWHIPOptions)
	handle("/whip/sessions/{token}", "whip_session", s.handleSession)
	handle("GET /api/calls", "api_calls", s.require(auth.View, s.handleListCalls))
	handle("POST /api/calls", "api_upload", s.uploadLimit.limit(s.require(auth.Publish, s.handleUpload)))
	handle("GET /api/calls/{id}", "api_call", s.require(auth.View, s.handleGetCall))
	handle("DELETE /api/calls/{id}", "api_call_delete", s.require(auth.Admin, s.handleDeleteCall))
	handle("GET /api/calls/{id}/audio", "api_call_audio", s.require(auth.View, s.handleCallAudio))
	handle("GET /api/reps", "api_reps", s.require(auth.View, s.handleReps))
	handle("GET /api/whoami", "api_whoami", s.handleWhoami)
	handle("GET /ws/calls/{id}", "websocket", s.require(auth.View, s.handleWS))
	handle("POST /login", "login", s.handleLogin)
	handle("POST /logout", "login", s.handleLogout)
	handle("GET /livez", "livez", s.handleLivez)
	handle("GET /readyz", "readyz", s.handleReadyz)
	handle("GET /metrics", "metrics", s.require(auth.Admin, promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{Registry: s.m.reg}).ServeHTTP))
	if s.cfg.Static != nil {
		handle("GET /{$}", "page", s.page("index.html"))
		handle("GET /login", "page", s.page("login.html"))
		handle("GET /capture", "page", s.page("capture.html"))
		handle("GET /calls/{id}", "page", s.callPage("call.html"))
		handle("GET /replay/{id}", "page", s.callPage("replay.html"))
		handle("GET /reps", "page", s.page("reps.html"))
		handle("GET /reps/{rep}", "page", s.page("reps.html"))
		handle("GET /assets/", "static", noDirListing(http.FileServerFS(s.cfg.Static)).ServeHTTP)
	}
	return securityHeaders(s.authenticate(mux))
}

// page serves one HTML file of the dashboard.
func (s *Server) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := fs.ReadFile(s.cfg.Static, name)
		if err != nil {
			writeError(w, errorf(http.StatusNotFound, "page %s is missing from this build", name))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}
}

// callPage serves a page about one call if the call exists, 404
// otherwise.
func (s *Server) callPage(name string) http.HandlerFunc {
	serve := s.page(name)
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		p := principalOf(r)
		// Without a token the page loads and asks to sign in; it holds
		// no data itself, and its existence check would leak call ids.
		if p.Open || p.Has(auth.View) {
			if _, err := s.visibleCall(r, id); err != nil {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>No such call</title><p>No such call. <a href="/">Back to all calls</a></p>`)
				return
			}
		}
		serve(w, r)
	}
}

// noDirListing refuses directory paths, so the file server never lists.
func noDirListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || r.URL.Path[len(r.URL.Path)-1] == '/' {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every response carries: no sniffing,
// no framing, and a CSP that allows only this origin.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// statusRecorder captures the status code for the request counter.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to the websocket upgrader, which asks for
// http.Hijacker directly.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot be hijacked")
	}
	r.code = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *Server) instrument(name string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK // hijacked (websocket) or nothing written
			if name == "websocket" {
				code = http.StatusSwitchingProtocols
			}
		}
		s.m.httpRequests.WithLabelValues(name, fmt.Sprint(code)).Inc()
	})
}

// writeError answers with an error's status and a JSON body that says
// what went wrong.
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	msg := "internal error"
	var he *httpError
	switch {
	case errors.As(err, &he):
		code, msg = he.code, he.msg
		if he.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
		}
	case errors.Is(err, ErrNotFound):
		code, msg = http.StatusNotFound, err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	writeJSONBody(w, v)
}

// writeJSONBody writes v after the headers have been sent.
func writeJSONBody(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) handleLivez(w http.ResponseWriter, r *http.Request) {
	_, _ = fmt.Fprintln(w, "ok")
}

// handleReadyz says whether to send new calls here: 503 while draining.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	_, _ = fmt.Fprintln(w, "ready")
}

// Drain stops taking new calls (WHIP answers 503, /readyz fails) and ends
// every live call, storing each. It returns when all are stored or ctx
// ends, whichever is first.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	calls := s.liveCalls()
	for _, c := range calls {
		c.end(endShutdown)
	}
	for _, c := range calls {
		select {
		case <-c.over:
		case <-ctx.Done():
			return fmt.Errorf("drain: %d calls not stored in time: %w", len(s.liveCalls()), ctx.Err())
		}
	}
	// Uploads being analyzed get the rest of the time; one that does not
	// finish keeps its files and is finished at the next start.
	done := make(chan struct{})
	go func() {
		s.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.log.Warn("drain: upload analyses still running; they resume at the next start")
	}
	return nil
}

// Close releases the ICE UDP port. Call after Drain.
func (s *Server) Close() error {
	if s.udp != nil {
		return s.udp.Close()
	}
	return nil
}
