package nats

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

const (
	// clusterName is the same on every node: routes between servers of
	// different clusters are refused.
	clusterName = "talkratio"
	// routeUser names the route credentials; only the secret is secret.
	routeUser = "talkratio-route"
	// readyTimeout: how long a server may take to listen before starting
	// is given up (it listens in milliseconds unless something is wrong).
	readyTimeout = 10 * time.Second
	// readyPoll: how often readiness and fatal errors are checked while
	// waiting (the server polls every 25 ms itself; shorter spins).
	readyPoll = 50 * time.Millisecond
	// firstConnectWait: how long Connect keeps trying for its first
	// connection (an external NATS starting alongside the node), before
	// failing with the last error.
	firstConnectWait = 10 * time.Second
	// connectRetryPause between first-connection attempts.
	connectRetryPause = 250 * time.Millisecond
)

// ServerConfig configures a node's embedded NATS server.
type ServerConfig struct {
	Name          string   // server name: the node id
	Listen        string   // client host:port; port 0 picks a free one
	ClusterListen string   // route host:port; "" for a lone server
	Routes        []string // peers' routes: nats-route://host:port or host:port
	// Secret: clients must give it as their token, and routes
	// authenticate with it.
	Secret string
	// CertFile, KeyFile and CAFile, all three or none: TLS for clients
	// and routes, clients' and peers' certificates verified against CA.
	CertFile, KeyFile, CAFile string
	Log                       *slog.Logger // nil: slog.Default()
}

// StartServer starts an embedded NATS server in cluster "talkratio" and
// waits until it accepts connections. No JetStream, no monitoring port;
// routes to peers that are down are retried for as long as it runs.
func StartServer(c ServerConfig) (*natsserver.Server, error) {
	o, err := serverOptions(c)
	if err != nil {
		return nil, fmt.Errorf("nats: start server: %w", err)
	}
	s, err := natsserver.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("nats: start server: %w", err)
	}
	log := c.Log
	if log == nil {
		log = slog.Default()
	}
	// A listen failure is reported as fatal; the adapter passes it on
	// here instead of exiting, so it fails the start at once.
	l := &serverLog{log: log.With("component", "nats-server"), fatal: make(chan string, 1)}
	s.SetLoggerV2(l, false, false, false)
	go s.Start()
	deadline := time.Now().Add(readyTimeout)
	for !s.ReadyForConnections(readyPoll) {
		select {
		case msg := <-l.fatal:
			s.Shutdown()
			return nil, fmt.Errorf("nats: start server: %s", msg)
		default:
		}
		if time.Now().After(deadline) {
			s.Shutdown()
			return nil, fmt.Errorf("nats: start server: not ready for connections on %s after %s", c.Listen, readyTimeout)
		}
	}
	return s, nil
}

// serverOptions turns the config into the server's options, refusing
// what would otherwise start a server other than the one asked for.
func serverOptions(c ServerConfig) (*natsserver.Options, error) {
	host, port, err := hostPort(c.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %q: %w", c.Listen, err)
	}
	o := &natsserver.Options{
		ServerName: c.Name, Host: host, Port: port,
		NoSigs: true, // the service handles signals; a server that did would exit under it
		NoLog:  true, // only the slog adapter set by StartServer logs, even after a reload
	}
	o.Authorization = c.Secret
	tlsOn := c.CertFile != "" || c.KeyFile != "" || c.CAFile != ""
	if tlsOn {
		if c.CertFile == "" || c.KeyFile == "" || c.CAFile == "" {
			return nil, errors.New("TLS needs a certificate, its key and a CA, all three")
		}
		cfg, err := tlsConfig(c)
		if err != nil {
			return nil, err
		}
		o.TLSConfig, o.TLS, o.TLSVerify = cfg, true, true
	}
	if c.ClusterListen == "" {
		if len(c.Routes) > 0 {
			return nil, errors.New("routes to peers need a cluster listen address")
		}
		return o, nil
	}
	if o.Cluster.Host, o.Cluster.Port, err = hostPort(c.ClusterListen); err != nil {
		return nil, fmt.Errorf("cluster listen %q: %w", c.ClusterListen, err)
	}
	// Routes given here are explicit: the server retries them for as
	// long as it runs, so a peer booting later or restarting rejoins.
	o.Cluster.Name = clusterName
	if c.Secret != "" {
		o.Cluster.Username, o.Cluster.Password = routeUser, c.Secret
	}
	if tlsOn {
		cfg, err := tlsConfig(c)
		if err != nil {
			return nil, err
		}
		// A route is both client and server: peers verify each other
		// against the same CA.
		cfg.RootCAs = cfg.ClientCAs
		o.Cluster.TLSConfig = cfg
	}
	for _, r := range c.Routes {
		u, err := routeURL(r, c.Secret)
		if err != nil {
			return nil, err
		}
		o.Routes = append(o.Routes, u)
	}
	return o, nil
}

// hostPort splits host:port; port 0 means a free port (the server's own
// 0 would mean its default).
func hostPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("port %q is not a number from 0 to 65535", p)
	}
	if n == 0 {
		n = natsserver.RANDOM_PORT
	}
	return h, n, nil
}

// routeURL takes nats-route://host:port or host:port and adds the route
// credentials.
func routeURL(r, secret string) (*url.URL, error) {
	s := strings.TrimSpace(r)
	if !strings.Contains(s, "://") {
		s = "nats-route://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Port() == "" {
		return nil, fmt.Errorf("route %q: want nats-route://host:port or host:port", r)
	}
	if secret != "" {
		u.User = url.UserPassword(routeUser, secret)
	}
	return u, nil
}

// tlsConfig loads the certificate and CA, requiring and verifying the
// other side's certificate.
func tlsConfig(c ServerConfig) (*tls.Config, error) {
	cfg, err := natsserver.GenTLSConfig(&natsserver.TLSConfigOpts{CertFile: c.CertFile, KeyFile: c.KeyFile, CaFile: c.CAFile, Verify: true})
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	if cfg == nil || cfg.ClientCAs == nil {
		// GenTLSConfig returns no error for an unreadable CA file.
		return nil, fmt.Errorf("TLS: cannot read CA file %s", c.CAFile)
	}
	return cfg, nil
}

// serverLog is natsserver.Logger on slog. Debug and trace stay off.
type serverLog struct {
	log   *slog.Logger
	fatal chan string
}

func (l *serverLog) Noticef(f string, v ...any) { l.log.Info(msg(f, v)) }
func (l *serverLog) Warnf(f string, v ...any)   { l.log.Warn(msg(f, v)) }
func (l *serverLog) Errorf(f string, v ...any)  { l.log.Error(msg(f, v)) }
func (l *serverLog) Debugf(f string, v ...any)  { l.log.Debug(msg(f, v)) }
func (l *serverLog) Tracef(f string, v ...any)  { l.log.Debug(msg(f, v)) }

// Fatalf: the server's own logger would exit the process; this one logs
// and lets StartServer fail.
func (l *serverLog) Fatalf(f string, v ...any) {
	m := msg(f, v)
	l.log.Error(m)
	select {
	case l.fatal <- m:
	default:
	}
}

func msg(f string, v []any) string { return strings.TrimSpace(fmt.Sprintf(f, v...)) }

// ConnectConfig configures a node's connection to NATS.
type ConnectConfig struct {
	URLs   string             // comma-separated nats:// or tls:// URLs of an external NATS
	Server *natsserver.Server // set: connect in-process to this embedded server, ignoring URLs and TLS
	Name   string
	Token  string
	// CredsFile: a NATS user's credentials (JWT and seed).
	CredsFile string
	// CertFile and KeyFile: a client certificate; CAFile: the CA to
	// verify the server with.
	CertFile, KeyFile, CAFile string
	Log                       *slog.Logger // nil: slog.Default()
}

// Connect connects to NATS. A first connection that fails is retried for
// up to firstConnectWait, except for refusals that retrying cannot fix
// (authorization, TLS); after that the connection reconnects forever and
// logs its losses and recoveries.
func Connect(c ConnectConfig) (*natsgo.Conn, error) {
	o, err := connectOptions(c)
	if err != nil {
		return nil, fmt.Errorf("nats: connect: %w", err)
	}
	where := redacted(c.URLs)
	if c.Server != nil {
		where = "the embedded server"
	}
	deadline := time.Now().Add(firstConnectWait)
	for {
		nc, err := o.Connect()
		if err == nil {
			connLog(c).Info("nats: connected", "url", nc.ConnectedUrlRedacted(), "server", nc.ConnectedServerName())
			return nc, nil
		}
		if permanent(err) || time.Now().Add(connectRetryPause).After(deadline) {
			return nil, fmt.Errorf("nats: connect to %s: %w", where, err)
		}
		time.Sleep(connectRetryPause)
	}
}

func connectOptions(c ConnectConfig) (natsgo.Options, error) {
	log := connLog(c)
	opts := []natsgo.Option{
		natsgo.Name(c.Name),
		natsgo.MaxReconnects(-1),
		natsgo.DisconnectErrHandler(func(_ *natsgo.Conn, err error) {
			if err != nil {
				log.Warn("nats: disconnected", "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(nc *natsgo.Conn) { log.Info("nats: reconnected", "url", nc.ConnectedUrlRedacted()) }),
		// Each failed attempt during an outage: the disconnect was
		// logged already.
		natsgo.ReconnectErrHandler(func(_ *natsgo.Conn, err error) { log.Debug("nats: reconnect failed", "err", err) }),
		natsgo.ErrorHandler(func(_ *natsgo.Conn, s *natsgo.Subscription, err error) {
			subject := ""
			if s != nil {
				subject = s.Subject
			}
			log.Error("nats: async error", "subject", subject, "err", err)
		}),
	}
	if c.Token != "" {
		opts = append(opts, natsgo.Token(c.Token))
	}
	if c.CredsFile != "" {
		opts = append(opts, natsgo.UserCredentials(c.CredsFile))
	}
	if c.Server != nil {
		// A pipe inside the process: TLS would protect nothing, and
		// other servers of the cluster are not this node's to use.
		opts = append(opts, natsgo.InProcessServer(c.Server), natsgo.IgnoreDiscoveredServers())
	} else {
		if strings.TrimSpace(c.URLs) == "" {
			return natsgo.Options{}, errors.New("no NATS URL")
		}
		if (c.CertFile == "") != (c.KeyFile == "") {
			return natsgo.Options{}, errors.New("a client certificate needs its key, and a key its certificate")
		}
		if c.CertFile != "" {
			opts = append(opts, natsgo.ClientCert(c.CertFile, c.KeyFile))
		}
		if c.CAFile != "" {
			opts = append(opts, natsgo.RootCAs(c.CAFile))
		}
	}
	o := natsgo.GetDefaultOptions()
	for _, s := range strings.Split(c.URLs, ",") {
		if s = strings.TrimSpace(s); s != "" && c.Server == nil {
			o.Servers = append(o.Servers, s)
		}
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return natsgo.Options{}, err
		}
	}
	return o, nil
}

// redacted is the URLs without the passwords some carry.
func redacted(urls string) string {
	var out []string
	for _, s := range strings.Split(urls, ",") {
		if u, err := url.Parse(strings.TrimSpace(s)); err == nil {
			s = u.Redacted()
		} else {
			s = "(a URL that does not parse)"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

// connLog is the connection's logger.
func connLog(c ConnectConfig) *slog.Logger {
	if c.Log == nil {
		return slog.Default().With("component", "nats")
	}
	return c.Log.With("component", "nats")
}

// permanent: a first-connection error that the next attempt would meet
// again: refused credentials, a TLS handshake failed or a certificate
// rejected, a missing file.
func permanent(err error) bool {
	for _, e := range []error{natsgo.ErrAuthorization, natsgo.ErrAuthExpired, natsgo.ErrAuthRevoked,
		natsgo.ErrTLS, natsgo.ErrSecureConnRequired, natsgo.ErrSecureConnWanted, fs.ErrNotExist} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// CheckExposure refuses NATS reachable beyond this host without both TLS
// and credentials: snapshots name reps and customers, and anyone who can
// publish can feed dashboards. Loopback hosts (127.0.0.0/8, ::1,
// localhost) need neither; an empty or unspecified host (all interfaces)
// is exposed.
func CheckExposure(hosts []string, tls, creds bool) error {
	var exposed []string
	for _, h := range hosts {
		if !loopback(h) {
			if h == "" {
				h = `""`
			}
			exposed = append(exposed, h)
		}
	}
	if len(exposed) == 0 || (tls && creds) {
		return nil
	}
	var need []string
	if !tls {
		need = append(need, "TLS (-nats-tls-cert, -nats-tls-key and -nats-tls-ca; with -nats-url, tls:// URLs)")
	}
	if !creds {
		need = append(need, "credentials (-nats-secret-file for the embedded server; -nats-creds with -nats-url)")
	}
	return fmt.Errorf("NATS on %s is reachable from other hosts: add %s, or keep NATS on loopback",
		strings.Join(exposed, ", "), strings.Join(need, " and "))
}

func loopback(h string) bool {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
