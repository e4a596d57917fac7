package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"talkratio/auth"
	"talkratio/blobdir"
	"talkratio/call"
	"talkratio/retention"
	"talkratio/server"
	"talkratio/upload"
	"talkratio/web"
	"talkratio/whip"
)

const serveUsage = `Usage:
  talkratio serve [flags]

Runs the live service: WHIP ingest (POST /whip), the dashboard (/), the
capture page (/capture), the API (/api/calls), websocket snapshots
(/ws/calls/ID) and Prometheus metrics (/metrics). Calls straight from a
phone system, each turned on by its flags: SIPREC (-sip-addr), Twilio Media
Streams (/ingest/twilio) and Genesys AudioHook (/ingest/audiohook).

Flags:
`

// HTTP server timeouts. A WHIP answer may wait for ICE gathering (pion: 5 s);
// websockets set their own deadlines after the upgrade; an upload moves its
// read deadline on as its body comes, so as never to cut a slow, steady one.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr(addrEnv, defaultAddr), "HTTP listen address (host:port); or set "+addrEnv+", which healthcheck reads too")
	target := fs.Float64("target", 0.8, "listen share reps aim for, 0-1")
	nudge := fs.Duration("monologue-nudge", 60*time.Second, "nudge the rep after talking this long without a break (0 = never)")
	icePort := fs.Int("ice-port", 0, "the UDP port for all WebRTC media (0: pick one; with -whip-media pion, a port per session); the Docker image uses 8443")
	whipMedia := fs.String("whip-media", "lite", "WebRTC media path: lite (one ICE-lite receiver on one port for every session) or pion (a pion PeerConnection per session)")
	publicIP := fs.String("public-ip", "", "comma-separated IPs to announce in ICE candidates when behind 1:1 NAT")
	maxCalls := fs.Int("max-calls", 1000, "most concurrent live calls; more get 503 with Retry-After")
	maxViewers := fs.Int("max-viewers", 50, "most dashboard viewers per call")
	whipRate := fs.Float64("whip-rate", 2, "WHIP offers allowed per client IP and second, bursts of 10 (raise it when many reps share one NAT address)")
	uploadRate := fs.Float64("upload-rate", 0.2, "uploads allowed per client IP and second, bursts of 3")
	drain := fs.Duration("drain-timeout", 20*time.Second, "on SIGTERM, how long to wait for live calls to end and be stored")
	dataDir := fs.String("data", "talkratio-data", "data directory (created if missing): the SQLite database and the audio, unless -db and -blob put them elsewhere")
	dbURL := fs.String("db", "", "the call library's database: postgres://USER@HOST/DB?sslmode=... (default: SQLite in the data directory)")
	blobURL := fs.String("blob", "", "where audio and uploads go: s3://BUCKET/PREFIX, credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, S3_ENDPOINT (default: the data directory)")
	record := fs.Bool("record-audio", false, "keep live calls' audio in the library (off by default: recording needs the callers' consent)")
	audioDays := fs.Int("audio-retention-days", 0, "delete calls' audio once the call started more than this many days ago, keeping its analysis (0: keep)")
	callDays := fs.Int("call-retention-days", 0, "delete whole calls (analysis and audio) once they started more than this many days ago (0: keep)")
	maxUpload := fs.Int64("max-upload", upload.DefaultMaxUpload, "largest upload accepted, in bytes")
	keyFile := fs.String("token-key-file", "", "file with the token key (talkratio token -new-key); required unless -addr is loopback; or set TALKRATIO_TOKEN_KEY")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pprofAddr := fs.String("pprof-addr", "", "serve Go profiling (net/http/pprof) on this address, e.g. localhost:6060; off by default; off loopback it needs a token key and the admin grant")
	allowedHosts := fs.String("allowed-hosts", "", "comma-separated host names that requests may name (Host, Origin), besides loopback names, the -addr host and -public-ip; * for any (default: those, plus this machine's addresses when -addr has no host)")
	minFree := fs.Int64("min-free-space", 256<<20, "below this many bytes free in the data directory, /readyz fails (0: no check)")
	secureCookies := fs.Bool("secure-cookies", false, "mark the sign-in cookie Secure on plain HTTP too: set it behind a TLS-terminating proxy")
	phone := addIngestFlags(fs)
	cf := addClusterFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "talkratio serve: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if !(*whipRate > 0) || !(*uploadRate > 0) {
		fmt.Fprintln(stderr, "talkratio serve: -whip-rate and -upload-rate must be above 0")
		return exitUsage
	}
	if *whipMedia != whip.MediaLite && *whipMedia != whip.MediaPion {
		fmt.Fprintf(stderr, "talkratio serve: -whip-media %q: want %s or %s\n", *whipMedia, whip.MediaLite, whip.MediaPion)
		return exitUsage
	}
	var publicIPs []string
	if *publicIP != "" {
		for _, ip := range strings.Split(*publicIP, ",") {
			if net.ParseIP(strings.TrimSpace(ip)) == nil {
				fmt.Fprintf(stderr, "talkratio serve: -public-ip: %q is not an IP address\n", ip)
				return exitUsage
			}
			publicIPs = append(publicIPs, strings.TrimSpace(ip))
		}
	}
	if *audioDays < 0 || *callDays < 0 {
		fmt.Fprintln(stderr, "talkratio serve: -audio-retention-days and -call-retention-days take 0 (keep) or more days")
		return exitUsage
	}
	if err := cf.check(*dbURL, *addr); err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "talkratio serve: -log-level %q: want debug, info, warn or error\n", *logLevel)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ingest, err := phone.config()
	if err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitUsage
	}

	key, err := loadKey(*keyFile)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitUsage
	}
	var tokens *auth.Auth
	switch {
	case key != nil:
		if tokens, err = auth.New(key); err != nil {
			fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
			return exitUsage
		}
	case !loopbackOnly(*addr):
		fmt.Fprintf(stderr, "talkratio serve: -addr %s is reachable from other machines, so access needs tokens:\n"+
			"  talkratio token -new-key > talkratio.key\n"+
			"  talkratio serve -addr %s -token-key-file talkratio.key\n"+
			"  talkratio token -key-file talkratio.key -admin    # then sign in at /login\n", *addr, *addr)
		return exitUsage
	}
	if *pprofAddr != "" && tokens == nil && !loopbackOnly(*pprofAddr) {
		fmt.Fprintf(stderr, "talkratio serve: -pprof-addr %s is reachable from other machines: profiling then needs a token key (-token-key-file) and is served to admins only\n", *pprofAddr)
		return exitUsage
	}
	// The call library: records in a database (SQLite in the data
	// directory unless -db says otherwise), audio and uploads in a blob
	// store (a directory there unless -blob says otherwise).
	lib, err := openLibrary(context.Background(), *dbURL, *blobURL, *dataDir, log)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitFail
	}
	defer lib.Close()
	if old, err := lib.oldFormat(context.Background(), *dataDir); err != nil || old {
		if err == nil {
			err = fmt.Errorf("%s holds calls in the format of an earlier talkratio (one directory per call); import them first:\n"+
				"  talkratio migrate -from %s%s\n"+
				"(the old files are kept; the import can be run again, and resumes where it stopped)", *dataDir, *dataDir, libFlags(*dataDir, *dbURL, *blobURL))
		}
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitFail
	}
	if *dbURL == "" {
		// One node owns an SQLite library: a live call found there is one
		// this service did not end (a crash). With a shared database the
		// live calls may be other nodes'.
		if err := lib.store.InterruptLive(context.Background()); err != nil {
			fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
			return exitFail
		}
	}
	var clusterNode *node
	if cf.enabled() {
		if clusterNode, err = startNode(context.Background(), cf, *dbURL, *maxCalls, *maxViewers, log); err != nil {
			fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
			return exitFail
		}
		defer clusterNode.Close()
		if *blobURL == "" {
			log.Warn("cluster: audio and uploads stay in this node's data directory, where the other nodes cannot serve them; share them with -blob s3://...")
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	cfg := server.Config{
		Store:             lib.store,
		Audio:             lib.files,
		Staging:           lib.files,
		Metrics:           reg,
		Auth:              tokens,
		RecordAudio:       *record,
		MaxUpload:         *maxUpload,
		Rules:             call.Rules{TargetListen: *target, MonologueNudge: *nudge},
		ICEUDPPort:        *icePort,
		PublicIPs:         publicIPs,
		WHIPMedia:         *whipMedia,
		MaxCalls:          *maxCalls,
		MaxViewersPerCall: *maxViewers,
		WHIPRate:          *whipRate,
		UploadRate:        *uploadRate,
		Static:            web.FS(),
		SecureCookies:     *secureCookies,
		MinFreeSpace:      *minFree,
		Logger:            log,
		Ingest:            ingest,
	}
	if *nudge == 0 {
		cfg.Rules.MonologueNudge = -1 // never
	}
	// The free-space check watches the data directory: the SQLite
	// database, and the audio unless -blob puts it elsewhere.
	cfg.FreeSpace = func() (int64, error) { return blobdir.FreeBytes(*dataDir) }
	if u, ok := lib.blobs.(call.BlobUsage); ok {
		cfg.Blobs = u
	}
	cfg.AllowedHosts = allowedHostsFor(*addr, cfg.PublicIPs, *allowedHosts)
	if clusterNode != nil {
		cfg.Bus, cfg.Cluster = clusterNode.Bus(), clusterNode
	}
	srv, err := server.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitFail
	}
	defer srv.Close()
	if clusterNode != nil {
		if err = clusterNode.Start(context.Background(), srv); err == nil {
			err = clusterNode.Serve(srv.SessionHandler())
		}
		if err != nil {
			fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
			return exitFail
		}
		log.Info("cluster node", "node", clusterNode.ID(), "url", *cf.nodeURL)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio serve: %v\n", err)
		return exitFail
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("talkratio serving", "url", "http://"+displayAddr(ln.Addr()), "ice_port", srv.MediaPort(), "tokens_required", tokens != nil, "db", lib.desc)
	if ingest.Twilio != nil {
		log.Info("Twilio Media Streams", "url", "ws://"+displayAddr(ln.Addr())+"/ingest/twilio")
	}
	if ingest.AudioHook != nil {
		log.Info("Genesys AudioHook", "url", "ws://"+displayAddr(ln.Addr())+"/ingest/audiohook")
	}

	if *pprofAddr != "" {
		go func() {
			// A separate listener, so that profiling is never exposed on
			// the service's own address by accident.
			log.Info("profiling", "url", "http://"+*pprofAddr+"/debug/pprof/")
			ps := &http.Server{Addr: *pprofAddr, Handler: srv.AdminOnly(pprofMux()), ReadHeaderTimeout: readHeaderTimeout}
			if err := ps.ListenAndServe(); err != nil {
				log.Error("pprof listener", "err", err)
			}
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	// Retention runs hourly (and at start) until the service stops.
	policy := retention.Policy{Audio: days(*audioDays), Calls: days(*callDays)}
	go srv.RunRetention(ctx, policy, time.Hour)
	select {
	case err := <-errc:
		log.Error("http server", "err", err)
		return exitFail
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down: ending live calls", "timeout", drain.String())
	dctx, cancel := context.WithTimeout(context.Background(), *drain)
	defer cancel()
	code := exitOK
	if err := srv.Drain(dctx); err != nil {
		log.Error("drain", "err", err)
		code = exitFail
	}
	if err := hs.Shutdown(dctx); err != nil {
		log.Warn("http shutdown", "err", err)
	}
	log.Info("stopped")
	return code
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// pprofMux serves the runtime profiles.
func pprofMux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	m.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return m
}

// loopbackOnly reports whether a listen address is reachable from this
// machine only: then the service runs open, with no tokens to set up.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// allowedHostsFor is the host allow-list: the -addr host (or, for a
// wildcard address, every address of this machine), the public IPs, and
// what -allowed-hosts adds. Loopback names are always allowed.
func allowedHostsFor(addr string, publicIPs []string, extra string) []string {
	hosts := append([]string{}, publicIPs...)
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		hosts = append(hosts, host)
	} else if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				hosts = append(hosts, n.IP.String())
			}
		}
	}
	for _, h := range strings.Split(extra, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// displayAddr turns a listen address into something a browser can open.
func displayAddr(a net.Addr) string {
	s := a.String()
	if strings.HasPrefix(s, "[::]:") || strings.HasPrefix(s, "0.0.0.0:") {
		_, port, _ := net.SplitHostPort(s)
		return "localhost:" + port
	}
	return s
}
