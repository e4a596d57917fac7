package nats

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// NodeConfig is one cluster node's NATS side.
type NodeConfig struct {
	// Embed, when set, starts this node's own NATS server (routed to its
	// peers) and connects to it in-process; nil connects to the external
	// NATS of Connect.URLs.
	Embed *ServerConfig
	// Connect: the connection's name and credentials (and, with no
	// Embed, the URLs and client TLS).
	Connect ConnectConfig
	// Bus: the snapshot bus's options; its Node names this node in
	// subjects (forwarded session requests come to it there).
	Bus Options
}

// Node is a cluster node's NATS side: the embedded server if any, the
// connection, the snapshot bus, and the subject where other nodes'
// requests for this node's sessions arrive. Close releases them all.
type Node struct {
	server  *natsserver.Server
	nc      *natsgo.Conn
	bus     *Bus
	serving *natsgo.Subscription
}

// StartNode starts the server (if embedded), connects and starts the bus.
func StartNode(c NodeConfig) (*Node, error) {
	n := &Node{}
	cc := c.Connect
	if c.Embed != nil {
		s, err := StartServer(*c.Embed)
		if err != nil {
			return nil, err
		}
		// The node's own connection is in-process: no socket, and no TLS
		// to a server in the same process.
		n.server, cc.Server, cc.Token = s, s, c.Embed.Secret
	}
	var err error
	if n.nc, err = Connect(cc); err != nil {
		n.Close()
		return nil, err
	}
	if n.bus, err = New(n.nc, c.Bus); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Bus is the node's snapshot bus.
func (n *Node) Bus() *Bus { return n.bus }

// Forward sends a request on one of node's sessions to that node and
// returns its answer.
func (n *Node) Forward(ctx context.Context, node string, r *http.Request) (*http.Response, error) {
	return Forward(ctx, n.nc, NodeSubject(n.bus.prefix, node), r)
}

// Serve answers, with h, the requests other nodes forward to this one.
func (n *Node) Serve(h http.Handler) error {
	if n.serving != nil {
		return errors.New("nats: node already serves forwarded requests")
	}
	s, err := ServeHTTP(n.nc, NodeSubject(n.bus.prefix, n.bus.Node()), h)
	n.serving = s
	return err
}

// Close stops serving, then closes the bus, the connection and the
// embedded server.
func (n *Node) Close() {
	if n.serving != nil {
		_ = n.serving.Unsubscribe()
	}
	if n.bus != nil {
		n.bus.Close()
	}
	if n.nc != nil {
		n.nc.Close()
	}
	if n.server != nil {
		n.server.Shutdown()
		n.server.WaitForShutdown()
	}
}

// CheckURLs checks the URLs of an external NATS (comma-separated nats://
// or tls://): well formed, and, off loopback, with TLS and credentials
// (creds: a credentials file is given; a user in a URL counts too).
func CheckURLs(urls string, tlsCA, creds bool) error {
	var hosts []string
	tlsOn := tlsCA
	for _, s := range strings.Split(urls, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
			return fmt.Errorf("-nats-url %q: want nats://HOST:PORT or tls://HOST:PORT", s)
		}
		hosts = append(hosts, u.Hostname())
		creds = creds || u.User != nil
		tlsOn = tlsOn || u.Scheme == "tls"
	}
	return CheckExposure(hosts, tlsOn, creds)
}

// CheckServer checks that an embedded server reachable from other hosts
// (its addresses or its routes' off loopback) has TLS and a secret.
func CheckServer(c ServerConfig) error {
	hosts := []string{hostOf(c.Listen), hostOf(c.ClusterListen)}
	for _, r := range c.Routes {
		if u, err := url.Parse(r); err == nil && u.Host != "" {
			hosts = append(hosts, u.Hostname())
		} else {
			hosts = append(hosts, hostOf(r))
		}
	}
	return CheckExposure(hosts, c.CertFile != "" && c.KeyFile != "" && c.CAFile != "", c.Secret != "")
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
