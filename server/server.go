// Package server is talkratio's HTTP service: the routes, the call API,
// the dashboard's websocket, the middleware (security headers, sign-in and
// permissions, rate limits, the draining check, the request counter) and
// the Prometheus metrics. It wires the live calls (live), their WHIP
// ingest (whip), the phone-system adapters (siprec, twilio, audiohook:
// Ingest) and uploads (upload) onto the store, audio, staging and bus it
// is given; which technologies those are is for cmd to choose.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/transport/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"talkratio/auth"
	"talkratio/call"
	"talkratio/inmem"
	"talkratio/live"
	"talkratio/retention"
	"talkratio/upload"
	"talkratio/whip"
)

// Config is the service's configuration. Zero values take the defaults
// documented on each field.
type Config struct {
	// Rules judge every call: the listen target (default 0.8) and the
	// monologue nudge (default 60 s, negative to never nudge).
	Rules call.Rules
	// ICEUDPPort is the one UDP port all WebRTC media uses (so that a
	// container or firewall needs a single rule); 0 picks ephemeral ports.
	ICEUDPPort int
	// WHIPMedia picks WHIP's media path: whip.MediaLite (default) or
	// whip.MediaPion.
	WHIPMedia string
	// PublicIPs are the addresses to announce in ICE candidates when the
	// service runs behind 1:1 NAT (a container, a cloud VM).
	PublicIPs []string
	// MaxCalls caps concurrent live calls; past it WHIP answers 503 with
	// Retry-After. Default 1000.
	MaxCalls int
	// MaxViewersPerCall caps dashboard websockets per call; default 50.
	MaxViewersPerCall int
	// Store keeps the calls; default in memory (inmem).
	Store call.Store
	// Audio keeps calls' audio and Staging uploads' files: without them
	// there is no audio and no upload. `talkratio serve` gives its data
	// directory (disk) for all three.
	Audio   call.AudioStore
	Staging call.Staging
	// Bus carries snapshots to viewers; default in this process (inmem).
	Bus call.Bus
	// RecordAudio keeps live calls' audio with their analysis. Off by
	// default: recording people needs their consent.
	RecordAudio bool
	// MaxUpload caps an upload's body in bytes; default
	// upload.DefaultMaxUpload.
	MaxUpload int64
	// FreeSpace tells the space left where calls are stored; below
	// MinFreeSpace bytes /readyz fails, so that a balancer sends new calls
	// elsewhere before writes fail. Nil or 0: no check.
	FreeSpace    func() (int64, error)
	MinFreeSpace int64
	// Blobs tells how much the library's files take, for the disk-usage
	// metrics (with FreeSpace); nil reports no bytes.
	Blobs call.BlobUsage
	// UploadStallTimeout cuts an upload whose body stops coming for this
	// long; default upload.DefaultStallTimeout. A steady upload takes as
	// long as it needs.
	UploadStallTimeout time.Duration
	// Auth, when set, requires tokens (see auth.Grants); nil lets everyone
	// do everything, which is only right on a loopback address.
	Auth *auth.Auth
	// AllowedHosts are the host names (besides loopback names and
	// addresses, always allowed) that requests may name in Host and
	// Origin; "*" allows any. Anything else is refused, which stops DNS
	// rebinding.
	AllowedHosts []string
	// SecureCookies marks the sign-in cookie Secure even on plain HTTP:
	// for a service behind a TLS-terminating proxy.
	SecureCookies bool
	// WHIPRate and UploadRate cap requests per client IP and second
	// (bursts of 10 and 3); defaults 2 and 0.2.
	WHIPRate, UploadRate float64
	// ICETimeouts override how long a silent publisher may be gone before
	// its call ends (disconnected, failed); zero for the defaults.
	ICEDisconnected, ICEFailed time.Duration
	// Net replaces the operating system's network for WebRTC media, for
	// tests under a virtual network with loss and jitter (pion's vnet).
	Net transport.Net
	// Static is the dashboard's files (index.html, call.html,
	// capture.html and their assets).
	Static fs.FS
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Metrics is the registry the service's metrics go on, and /metrics
	// serves; default a registry of its own with the Go and process
	// collectors.
	Metrics *prometheus.Registry
	// Ingest turns on calls straight from phone systems (SIPREC, Twilio
	// Media Streams, Genesys AudioHook); all off by default.
	Ingest Ingest
	// Cluster makes the service one node of several; nil: one node.
	Cluster Cluster
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

	defaultMaxCalls   = 1000
	defaultMaxViewers = 50
	// drainingRetrySeconds is the Retry-After of a call refused while
	// the service shuts down.
	drainingRetrySeconds = 5
)

// Server is the service: live calls, WHIP ingest, uploads, dashboard, API
// and metrics.
type Server struct {
	cfg      Config
	log      *slog.Logger
	m        *metrics
	rules    call.Rules
	store    call.Store
	audio    call.AudioStore
	bus      call.Bus
	calls    *live.Registry
	whip     *whip.Server
	uploads  *upload.Service
	ingest   adapters
	draining atomic.Bool
	// editMu serializes edits of stored calls (comments): read, change,
	// write.
	editMu sync.Mutex

	whipLimit, uploadLimit *limiter
}

// New builds the service and finishes the upload analyses a restart cut
// short. Close releases its UDP port.
func New(cfg Config) (*Server, error) {
	rules := cfg.Rules.WithDefaults()
	if err := rules.Validate(); err != nil {
		return nil, err
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
		cfg.Store = inmem.NewStore()
	}
	if cfg.Bus == nil {
		cfg.Bus = inmem.NewBus(cfg.MaxViewersPerCall)
	}
	if cfg.WHIPRate <= 0 {
		cfg.WHIPRate = defaultWHIPRate
	}
	if cfg.UploadRate <= 0 {
		cfg.UploadRate = defaultUploadRate
	}
	s := &Server{
		cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Metrics), rules: rules,
		store: cfg.Store, audio: cfg.Audio, bus: cfg.Bus,
		whipLimit:   newLimiter(cfg.WHIPRate, whipBurst),
		uploadLimit: newLimiter(cfg.UploadRate, uploadBurst),
	}
	s.m.reg.MustRegister(newUsage(cfg.Store, cfg.Blobs, cfg.FreeSpace, cfg.Logger))
	lc := live.Config{
		Store: cfg.Store, Bus: cfg.Bus, Record: cfg.RecordAudio, Audio: cfg.Audio, Rules: rules,
		Metrics: s.m, MaxCalls: cfg.MaxCalls, Log: cfg.Logger,
	}
	wc := whip.Config{
		Calls: s.calls, Store: cfg.Store, ICEUDPPort: cfg.ICEUDPPort, PublicIPs: cfg.PublicIPs,
		ICEDisconnected: cfg.ICEDisconnected, ICEFailed: cfg.ICEFailed, Net: cfg.Net, Log: cfg.Logger,
		Media: cfg.WHIPMedia,
	}
	if cfg.Cluster != nil {
		lc.Owners, wc.Cluster = cfg.Cluster, cfg.Cluster
	}
	s.calls = live.NewRegistry(lc)
	wc.Calls = s.calls
	var err error
	s.whip, err = whip.New(wc)
	if err != nil {
		return nil, err
	}
	s.uploads = upload.New(upload.Config{
		Store: cfg.Store, Audio: cfg.Audio, Staging: cfg.Staging, Rules: rules,
		MaxUpload: cfg.MaxUpload, StallTimeout: cfg.UploadStallTimeout, Analyzing: s.m.uploadsActive, Metrics: s.m, Log: cfg.Logger,
	})
	if err := s.startIngest(cfg.Ingest); err != nil {
		_ = s.whip.Close()
		return nil, err
	}
	s.uploads.Resume(context.Background())
	s.recoverAudio(context.Background())
	return s, nil
}

// recoverAudio gives the interrupted calls (a crash, a power cut) the
// recordings their service was writing, as far as they got, and drops
// what is written again anyway (an upload's audio, which its resumed
// analysis rewrites) and the uploads that were being received (never
// accepted). A live call's is left alone: in a cluster it is another
// node's. Nothing recorded with consent is deleted; each step is logged.
func (s *Server) recoverAudio(ctx context.Context) {
	ar, ok := s.audio.(call.AudioRecoverer)
	if !ok {
		return
	}
	ids, err := ar.PartialAudio(ctx)
	if err != nil {
		s.log.Error("recover partial audio", "err", err)
	}
	for _, id := range ids {
		rec, err := s.store.Get(ctx, id)
		switch {
		case err == nil && rec.State == call.StateLive:
			continue
		case err == nil && rec.State == call.StateInterrupted:
			if _, err = ar.RecoverAudio(ctx, id); err == nil {
				rec.HasAudio = true
				err = s.store.Put(ctx, rec)
			}
			if err != nil {
				s.log.Error("recover an interrupted call's audio", "call", id, "err", err)
				continue
			}
			s.log.Warn("an interrupted call's recording is kept, as far as it got", "call", id)
		default:
			if err := ar.DropPartialAudio(ctx, id); err != nil {
				s.log.Error("drop partial audio", "call", id, "err", err)
			}
		}
	}
	if n, err := ar.DropPartialUploads(ctx); err != nil {
		s.log.Error("drop uploads cut short", "err", err)
	} else if n > 0 {
		s.log.Warn("removed uploads that were being received when the service stopped (their clients got no answer)", "count", n)
	}
}

// Handler returns the HTTP handler of the whole service.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, name string, h http.HandlerFunc) {
		mux.Handle(pattern, s.instrument(name, h))
	}
	handle("POST /whip", "whip", s.whipLimit.limit(s.require(auth.Publish, s.whip.Redirect(s.busy, s.unlessDraining(s.whip.HandleOffer)))))
	handle("OPTIONS /whip", "whip", s.whip.HandleOptions)
	handle("/whip/sessions/{token}", "whip_session", s.whip.HandleSession)
	if s.cfg.Cluster != nil {
		handle("/whip/s/{node}/{token}", "whip_session", s.whip.HandleNodeSession)
	}
	handle("GET /api/calls", "api_calls", s.require(auth.View, s.handleListCalls))
	handle("POST /api/calls", "api_upload", s.uploadLimit.limitUnless(bulkImporter, s.require(auth.Publish, s.unlessDraining(s.uploads.Handle))))
	handle("GET /api/calls/{id}", "api_call", s.require(auth.View, s.handleGetCall))
	handle("DELETE /api/calls/{id}", "api_call_delete", s.require(auth.Admin, s.handleDeleteCall))
	handle("POST /api/calls/{id}/retry", "api_call_retry", s.require(auth.Admin, s.handleRetry))
	handle("GET /api/calls/{id}/audio", "api_call_audio", s.require(auth.View, s.handleCallAudio))
	handle("POST /api/calls/{id}/comments", "api_comments", s.require(auth.View, s.handleAddComment))
	handle("DELETE /api/calls/{id}/comments/{cid}", "api_comments", s.require(auth.View, s.handleDeleteComment))
	handle("GET /api/reps", "api_reps", s.require(auth.View, s.handleReps))
	handle("GET /api/whoami", "api_whoami", s.handleWhoami)
	handle("GET /ws/calls/{id}", "websocket", s.require(auth.View, s.handleWS))
	handle("POST /login", "login", s.handleLogin)
	handle("POST /logout", "login", s.handleLogout)
	s.mountIngest(handle)
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
		handle("GET /wall", "page", s.page("wall.html"))
		handle("GET /reps/{rep}", "page", s.page("reps.html"))
		handle("GET /assets/", "static", noDirListing(http.FileServerFS(s.cfg.Static)).ServeHTTP)
	}
	return securityHeaders(s.guard(s.authenticate(mux)))
}

// AdminOnly serves h to admins only (to everyone in open mode), behind the
// same host, origin and token checks as the service: for a side listener
// such as profiling.
func (s *Server) AdminOnly(h http.Handler) http.Handler {
	return securityHeaders(s.guard(s.authenticate(s.require(auth.Admin, h.ServeHTTP))))
}

func (s *Server) handleLivez(w http.ResponseWriter, r *http.Request) {
	_, _ = fmt.Fprintln(w, "ok")
}

// handleReadyz says whether to send new calls here: 503 while draining,
// and while the space left to store calls is below MinFreeSpace.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	if s.cfg.Cluster != nil && s.busy() {
		// One node of several: the balancer sends new calls to the others.
		http.Error(w, "full", http.StatusServiceUnavailable)
		return
	}
	if s.cfg.FreeSpace != nil && s.cfg.MinFreeSpace > 0 {
		if free, err := s.cfg.FreeSpace(); err == nil && free < s.cfg.MinFreeSpace {
			http.Error(w, fmt.Sprintf("low on space: %d MiB free where calls are stored, below the %d MiB of -min-free-space", free>>20, s.cfg.MinFreeSpace>>20), http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = fmt.Fprintln(w, "ready")
}

// Drain stops taking new calls and uploads (they get 503, /readyz fails)
// and ends every live call, storing each. It returns when all are stored
// or ctx ends, whichever is first; upload analyses get the rest of the
// time.
func (s *Server) Drain(ctx context.Context) error {
	s.draining.Store(true)
	if err := s.closeIngest(); err != nil {
		s.log.Warn("drain: phone-system ingest", "err", err)
	}
	if err := s.calls.Shutdown(ctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	// An analysis that does not finish keeps its files and is finished at
	// the next start.
	if !s.uploads.Wait(ctx) {
		s.log.Warn("drain: upload analyses still running; they resume at the next start")
	}
	return nil
}

// Close releases the ICE UDP port and stops the phone-system ingest. Call
// after Drain.
func (s *Server) Close() error {
	return errors.Join(s.closeIngest(), s.whip.Close())
}

// RunRetention applies a retention policy to the library at once and then
// every interval, until ctx ends; it returns at once if the policy keeps
// everything.
func (s *Server) RunRetention(ctx context.Context, p retention.Policy, every time.Duration) {
	sw := &retention.Sweeper{Store: s.store, Audio: s.audio, Policy: p, Metrics: s.m, Log: s.log}
	sw.Run(ctx, every)
}
