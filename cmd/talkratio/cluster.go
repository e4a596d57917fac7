package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"

	"talkratio/call"
	"talkratio/cluster"
	"talkratio/nats"
	"talkratio/postgres"
)

// natsPrefix starts every subject the nodes use.
const natsPrefix = "talkratio"

// clusterFlags are serve's flags for running as one node of several.
type clusterFlags struct {
	on                     *bool
	nodeID, nodeURL        *string
	listen, clusterListen  *string
	routes, url            *string
	creds, secretFile      *string
	tlsCert, tlsKey, tlsCA *string
}

func addClusterFlags(fs *flag.FlagSet) *clusterFlags {
	return &clusterFlags{
		on:            fs.Bool("cluster", false, "run as one node of several: embed a NATS server, routed to the peers of -nats-routes; the library must be Postgres (-db)"),
		nodeID:        fs.String("node-id", "", "this node's name in a cluster: letters, digits, _ or - (default: the host name)"),
		nodeURL:       fs.String("node-url", "", "where other nodes and redirected WHIP clients reach this node, e.g. http://10.0.0.5:8080 (default: http:// and the -addr host and port)"),
		listen:        fs.String("nats-listen", "127.0.0.1:4222", "with -cluster: the embedded NATS server's client address"),
		clusterListen: fs.String("nats-cluster", "127.0.0.1:6222", "with -cluster: the embedded NATS server's route address, which peers' -nats-routes name"),
		routes:        fs.String("nats-routes", "", "with -cluster: comma-separated nats-route://HOST:PORT of the peers' -nats-cluster addresses"),
		url:           fs.String("nats-url", "", "use this external NATS (comma-separated nats:// or tls:// URLs) instead of embedding one; implies a cluster"),
		creds:         fs.String("nats-creds", "", "with -nats-url: a NATS credentials file (.creds: JWT and nkey seed)"),
		secretFile:    fs.String("nats-secret-file", "", "with -cluster: a file holding the embedded NATS servers' shared secret (clients and routes must present it)"),
		tlsCert:       fs.String("nats-tls-cert", "", "TLS certificate (PEM) of the embedded NATS server, and this node's client certificate"),
		tlsKey:        fs.String("nats-tls-key", "", "the key of -nats-tls-cert"),
		tlsCA:         fs.String("nats-tls-ca", "", "CA (PEM) that NATS peers' and servers' certificates are checked against"),
	}
}

// enabled reports whether serve runs as a cluster node.
func (f *clusterFlags) enabled() bool { return *f.on || *f.url != "" }

// check refuses what cannot work: a cluster on SQLite, NATS off loopback
// without TLS and credentials.
func (f *clusterFlags) check(dbURL, addr string) error {
	if !f.enabled() {
		for _, v := range []*string{f.nodeID, f.nodeURL, f.routes, f.creds, f.secretFile} {
			if *v != "" {
				return errors.New("-node-id, -node-url, -nats-routes, -nats-creds and -nats-secret-file belong to a cluster: add -cluster (or -nats-url)")
			}
		}
		return nil
	}
	if dbURL == "" {
		return errors.New("a cluster's nodes share one library, and SQLite is one node's: give -db postgres://... (the same database to every node)")
	}
	if *f.nodeID == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("-node-id: no host name to default to: %w", err)
		}
		*f.nodeID = strings.Map(func(r rune) rune {
			if r == '.' || !call.ValidID(string(r)) {
				return '-'
			}
			return r
		}, h)
	}
	if !call.ValidID(*f.nodeID) {
		return fmt.Errorf("-node-id %q: use 1-64 letters, digits, _ or -", *f.nodeID)
	}
	if *f.nodeURL == "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("-addr %s: %w", addr, err)
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			if host, err = os.Hostname(); err != nil {
				return fmt.Errorf("-node-url: no host name to default to: %w", err)
			}
		}
		*f.nodeURL = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(*f.nodeURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("-node-url %q: want http://HOST:PORT or https://HOST:PORT", *f.nodeURL)
	}
	*f.nodeURL = strings.TrimSuffix(*f.nodeURL, "/")
	if *f.url != "" {
		if *f.on && (*f.routes != "" || *f.secretFile != "") {
			return errors.New("-nats-url uses an external NATS; -nats-routes and -nats-secret-file configure the embedded one: give one or the other")
		}
		var hosts []string
		userInURL := false
		tlsURL := false
		for _, s := range strings.Split(*f.url, ",") {
			u, err := url.Parse(strings.TrimSpace(s))
			if err != nil || u.Host == "" {
				return fmt.Errorf("-nats-url %q: want nats://HOST:PORT or tls://HOST:PORT", s)
			}
			hosts = append(hosts, u.Hostname())
			userInURL = userInURL || u.User != nil
			tlsURL = tlsURL || u.Scheme == "tls"
		}
		return nats.CheckExposure(hosts, tlsURL || *f.tlsCA != "", *f.creds != "" || userInURL)
	}
	hosts := []string{hostOf(*f.listen), hostOf(*f.clusterListen)}
	for _, r := range f.routeList() {
		if u, err := url.Parse(r); err == nil && u.Host != "" {
			hosts = append(hosts, u.Hostname())
		} else {
			hosts = append(hosts, hostOf(r))
		}
	}
	tlsOn := *f.tlsCert != "" && *f.tlsKey != "" && *f.tlsCA != ""
	return nats.CheckExposure(hosts, tlsOn, *f.secretFile != "")
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

func (f *clusterFlags) routeList() []string {
	var out []string
	for _, r := range strings.Split(*f.routes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// node is a running cluster node's NATS side: the embedded server, if
// any, the connection, the bus and the table of nodes.
type node struct {
	server *natsserver.Server
	nc     *natsgo.Conn
	bus    *nats.Bus
	nodes  *postgres.Nodes
	*cluster.Cluster
	serving *natsgo.Subscription
}

// startNode starts the NATS side of a cluster node: the embedded server
// (or the connection to an external one), the bus and the table of nodes.
func startNode(ctx context.Context, f *clusterFlags, dbURL string, maxCalls, maxViewers int, log *slog.Logger) (*node, error) {
	n := &node{}
	secret := ""
	if *f.secretFile != "" {
		b, err := os.ReadFile(*f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("-nats-secret-file: %w", err)
		}
		if secret = strings.TrimSpace(string(b)); secret == "" {
			return nil, fmt.Errorf("-nats-secret-file %s is empty", *f.secretFile)
		}
	}
	cc := nats.ConnectConfig{Name: *f.nodeID, CredsFile: *f.creds, CertFile: *f.tlsCert, KeyFile: *f.tlsKey, CAFile: *f.tlsCA, Log: log}
	if *f.url != "" {
		cc.URLs = *f.url
	} else {
		s, err := nats.StartServer(nats.ServerConfig{
			Name: *f.nodeID, Listen: *f.listen, ClusterListen: *f.clusterListen, Routes: f.routeList(),
			Secret: secret, CertFile: *f.tlsCert, KeyFile: *f.tlsKey, CAFile: *f.tlsCA, Log: log,
		})
		if err != nil {
			return nil, err
		}
		// The node's own connection is in-process: no socket, and no TLS
		// to a server in the same process.
		n.server = s
		cc.Server, cc.Token = s, secret
	}
	var err error
	if n.nc, err = nats.Connect(cc); err != nil {
		n.Close()
		return nil, err
	}
	if n.bus, err = nats.New(n.nc, nats.Options{Prefix: natsPrefix, Node: *f.nodeID, MaxViewers: maxViewers, Log: log}); err != nil {
		n.Close()
		return nil, err
	}
	if n.nodes, err = postgres.OpenNodes(ctx, dbURL); err != nil {
		n.Close()
		return nil, err
	}
	if n.Cluster, err = cluster.New(cluster.Config{ID: *f.nodeID, URL: *f.nodeURL, MaxCalls: maxCalls, Nodes: n.nodes, Log: log}); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Forward implements whip.Cluster: a session request for another node
// goes to it over NATS request-reply.
func (n *node) Forward(ctx context.Context, id string, r *http.Request) (*http.Response, error) {
	return nats.Forward(ctx, n.nc, nats.NodeSubject(natsPrefix, id), r)
}

// serveSessions answers the session requests other nodes forward here.
func (n *node) serveSessions(h http.Handler) error {
	s, err := nats.ServeHTTP(n.nc, nats.NodeSubject(natsPrefix, n.ID()), h)
	n.serving = s
	return err
}

// Close leaves the cluster: no more heartbeats, then the bus, the
// connection and the embedded server go.
func (n *node) Close() {
	if n.Cluster != nil {
		n.Cluster.Close()
	}
	if n.serving != nil {
		_ = n.serving.Unsubscribe()
	}
	if n.bus != nil {
		n.bus.Close()
	}
	if n.nc != nil {
		n.nc.Close()
	}
	if n.nodes != nil {
		n.nodes.Close()
	}
	if n.server != nil {
		n.server.Shutdown()
		n.server.WaitForShutdown()
	}
}
