package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

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
		nodeURL:       fs.String("node-url", "", "where WHIP clients redirected to this node reach it, e.g. http://10.0.0.5:8080 (default: http:// and the -addr host and port)"),
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
	hostname, _ := os.Hostname() // what -node-id and -node-url default to
	if *f.nodeID == "" {
		*f.nodeID = strings.Map(func(r rune) rune {
			if r == '.' || !call.ValidID(string(r)) {
				return '-'
			}
			return r
		}, hostname)
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
			host = hostname
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
		return nats.CheckURLs(*f.url, *f.tlsCA != "", *f.creds != "")
	}
	// The secret is read at start; here it only matters that one is given.
	c := f.server("")
	c.Secret = *f.secretFile
	return nats.CheckServer(c)
}

// server is the embedded NATS server's configuration.
func (f *clusterFlags) server(secret string) nats.ServerConfig {
	var routes []string
	for _, r := range strings.Split(*f.routes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			routes = append(routes, r)
		}
	}
	return nats.ServerConfig{
		Name: *f.nodeID, Listen: *f.listen, ClusterListen: *f.clusterListen, Routes: routes,
		Secret: secret, CertFile: *f.tlsCert, KeyFile: *f.tlsKey, CAFile: *f.tlsCA,
	}
}

// node is a running cluster node: its NATS side (the embedded server if
// any, the connection, the bus) and its part in the table of nodes.
type node struct {
	*nats.Node
	nodes *postgres.Nodes
	*cluster.Cluster
}

// startNode starts the NATS side of a cluster node and opens the table of
// nodes; Start joins the cluster once the service runs.
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
	nc := nats.NodeConfig{
		Connect: nats.ConnectConfig{URLs: *f.url, Name: *f.nodeID, CredsFile: *f.creds, CertFile: *f.tlsCert, KeyFile: *f.tlsKey, CAFile: *f.tlsCA, Log: log},
		Bus:     nats.Options{Prefix: natsPrefix, Node: *f.nodeID, MaxViewers: maxViewers, Log: log},
	}
	if *f.url == "" {
		sc := f.server(secret)
		sc.Log = log
		nc.Embed = &sc
	}
	var err error
	if n.Node, err = nats.StartNode(nc); err != nil {
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

// Close leaves the cluster: no more heartbeats, then NATS and the table
// of nodes go.
func (n *node) Close() {
	if n.Cluster != nil {
		n.Cluster.Close()
	}
	if n.Node != nil {
		n.Node.Close()
	}
	if n.nodes != nil {
		n.nodes.Close()
	}
}
