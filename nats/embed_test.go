package nats

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// embedWait bounds what must happen on loopback: routes form and
// messages cross in milliseconds, however busy the machine.
const embedWait = 10 * time.Second

func TestCheckExposure(t *testing.T) {
	for _, c := range []struct {
		name       string
		hosts      []string
		tls, creds bool
		ok         bool
	}{
		{"none", nil, false, false, true},
		{"loopback v4", []string{"127.0.0.1", "127.1.2.3"}, false, false, true},
		{"loopback v6 and name", []string{"::1", "[::1]", "localhost", "LocalHost"}, false, false, true},
		{"empty host", []string{""}, false, false, false},
		{"all interfaces v4", []string{"0.0.0.0"}, true, false, false},
		{"all interfaces v6", []string{"::"}, false, true, false},
		{"one of several exposed", []string{"127.0.0.1", "10.0.0.2"}, false, false, false},
		{"host name", []string{"nats.internal"}, true, false, false},
		{"exposed with tls and creds", []string{"10.0.0.2", ""}, true, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := CheckExposure(c.hosts, c.tls, c.creds)
			if (err == nil) != c.ok {
				t.Fatalf("CheckExposure(%q, %v, %v) = %v, want ok %v", c.hosts, c.tls, c.creds, err, c.ok)
			}
			if err == nil {
				return
			}
			msg := err.Error()
			if !c.tls && !strings.Contains(msg, "-nats-tls-cert") {
				t.Errorf("no TLS and the error does not say how to add it: %s", msg)
			}
			if !c.creds && !strings.Contains(msg, "-nats-secret-file") {
				t.Errorf("no credentials and the error does not say how to add them: %s", msg)
			}
			if c.tls && strings.Contains(msg, "-nats-tls-cert") {
				t.Errorf("asks for TLS it has: %s", msg)
			}
		})
	}
}

// quiet discards a server's or connection's log.
func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// freeAddr is a loopback address nobody listens on (for configs that
// name each other's ports before either server starts).
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// routedPair starts two servers, each routed to the other, and waits for
// the route.
func routedPair(t testing.TB, c ServerConfig) (a, b *natsserver.Server) {
	t.Helper()
	ra, rb := freeAddr(t), freeAddr(t)
	start := func(name, route, peer string) *natsserver.Server {
		c := c
		c.Name, c.Listen, c.ClusterListen, c.Routes = name, "127.0.0.1:0", route, []string{peer}
		s, err := StartServer(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		return s
	}
	a = start("a", ra, "nats-route://"+rb)
	b = start("b", rb, ra) // host:port works too
	deadline := time.Now().Add(embedWait)
	for a.NumRoutes() == 0 || b.NumRoutes() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the servers never routed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return a, b
}

// crossing checks that a message published on from reaches a subscriber
// on to. The subscription's interest crosses the route on its own time:
// publish until it arrives.
func crossing(t *testing.T, from, to *natsgo.Conn) {
	t.Helper()
	sub, err := to.SubscribeSync("embed.test")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := to.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(embedWait)
	for time.Now().Before(deadline) {
		if err := from.Publish("embed.test", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.NextMsg(20 * time.Millisecond); err == nil {
			if string(m.Data) != "hello" {
				t.Fatalf("got %q", m.Data)
			}
			return
		}
	}
	t.Fatal("no message crossed the route")
}

func connect(t *testing.T, c ConnectConfig) *natsgo.Conn {
	t.Helper()
	c.Log = quiet()
	nc, err := Connect(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// Two routed servers, with and without a secret: a message published on
// one node's connection (in-process) reaches a subscriber on the other's
// (over TCP).
func TestServerRoutes(t *testing.T) {
	for _, secret := range []string{"", "s3cret/with:odd@chars"} {
		t.Run("secret="+secret, func(t *testing.T) {
			a, b := routedPair(t, ServerConfig{Secret: secret, Log: quiet()})
			na := connect(t, ConnectConfig{Server: a, Token: secret, Name: "a"})
			nb := connect(t, ConnectConfig{URLs: b.ClientURL(), Token: secret, Name: "b"})
			crossing(t, na, nb)
			crossing(t, nb, na)
		})
	}
}

// syncBuffer is a log sink tests read while servers write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A secret keeps out clients without it and servers with another.
func TestServerSecret(t *testing.T) {
	var logA syncBuffer
	s, err := StartServer(ServerConfig{
		Name: "a", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Secret: "right",
		Log: slog.New(slog.NewTextHandler(&logA, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	for _, token := range []string{"", "wrong"} {
		start := time.Now()
		nc, err := Connect(ConnectConfig{URLs: s.ClientURL(), Token: token, Log: quiet()})
		if err == nil {
			nc.Close()
			t.Fatalf("token %q accepted", token)
		}
		if !errors.Is(err, natsgo.ErrAuthorization) || time.Since(start) > firstConnectWait/2 {
			t.Errorf("token %q: %v after %s, want an authorization error at once", token, err, time.Since(start))
		}
	}
	connect(t, ConnectConfig{URLs: s.ClientURL(), Token: "right"})

	intruder, err := StartServer(ServerConfig{
		Name: "c", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Secret: "wrong",
		Routes: []string{s.ClusterAddr().String()}, Log: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Shutdown()
	deadline := time.Now().Add(embedWait)
	for !strings.Contains(logA.String(), "authentication error") {
		if time.Now().After(deadline) {
			t.Fatalf("the route with the wrong secret was never refused; log:\n%s", logA.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The intruder counts its outgoing route until the refusal reaches
	// it: wait for that, then both must have none.
	for s.NumRoutes() != 0 || intruder.NumRoutes() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("routed with the wrong secret: %d, %d routes", s.NumRoutes(), intruder.NumRoutes())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// writeCerts makes a throwaway CA and a certificate it signs for
// 127.0.0.1, good for servers and clients alike.
func writeCerts(t *testing.T) (cert, key, ca string) {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "talkratio test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "talkratio node"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("node.pem", "CERTIFICATE", leafDER), write("node-key.pem", "EC PRIVATE KEY", keyDER), write("ca.pem", "CERTIFICATE", caDER)
}

// Two routed servers with TLS (mutual on the route) and a secret: a
// client over tls:// with its certificate and one in-process exchange a
// message; a client without a certificate is refused.
func TestServerTLS(t *testing.T) {
	cert, key, ca := writeCerts(t)
	a, b := routedPair(t, ServerConfig{Secret: "s", CertFile: cert, KeyFile: key, CAFile: ca, Log: quiet()})
	url := "tls://" + a.Addr().String()
	na := connect(t, ConnectConfig{URLs: url, Token: "s", CertFile: cert, KeyFile: key, CAFile: ca})
	nb := connect(t, ConnectConfig{Server: b, Token: "s"})
	crossing(t, na, nb)
	crossing(t, nb, na)
	if nc, err := Connect(ConnectConfig{URLs: url, Token: "s", CAFile: ca, Log: quiet()}); err == nil {
		nc.Close()
		t.Error("a client without a certificate was accepted")
	} else {
		t.Logf("%v (%T)", err, errors.Unwrap(err))
	}
}

// Bad configs fail with an error, at once, and leave no server running.
func TestStartServerBadConfig(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cert, key, ca := writeCerts(t)
	for _, c := range []struct {
		name string
		c    ServerConfig
	}{
		{"listen nonsense", ServerConfig{Listen: "nonsense"}},
		{"port not a number", ServerConfig{Listen: "127.0.0.1:http"}},
		{"port out of range", ServerConfig{Listen: "127.0.0.1:70000"}},
		{"cluster listen nonsense", ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "nonsense"}},
		{"routes without a cluster", ServerConfig{Listen: "127.0.0.1:0", Routes: []string{"127.0.0.1:6222"}}},
		{"route without a port", ServerConfig{Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0", Routes: []string{"nats-route://peer"}}},
		{"TLS without CA", ServerConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key}},
		{"TLS cert missing", ServerConfig{Listen: "127.0.0.1:0", CertFile: cert + ".gone", KeyFile: key, CAFile: ca}},
		{"TLS CA missing", ServerConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key, CAFile: ca + ".gone"}},
		{"TLS CA not a certificate", ServerConfig{Listen: "127.0.0.1:0", CertFile: cert, KeyFile: key, CAFile: key}},
		{"port taken", ServerConfig{Listen: taken.Addr().String()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.c.Log = quiet()
			start := time.Now()
			s, err := StartServer(c.c)
			if err == nil {
				s.Shutdown()
				t.Fatal("started")
			}
			if !strings.HasPrefix(err.Error(), "nats: start server: ") || time.Since(start) > readyTimeout/2 {
				t.Fatalf("%v after %s", err, time.Since(start))
			}
			t.Log(err)
		})
	}
}

// Config errors, and refusals retrying will not fix, fail at once; the
// error shows no password.
func TestConnectBadConfig(t *testing.T) {
	s, err := StartServer(ServerConfig{Listen: "127.0.0.1:0", Secret: "right", Log: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	for _, c := range []struct {
		name string
		c    ConnectConfig
	}{
		{"no URL", ConnectConfig{}},
		{"cert without key", ConnectConfig{URLs: "tls://127.0.0.1:1", CertFile: "x.pem"}},
		{"CA missing", ConnectConfig{URLs: "tls://127.0.0.1:1", CAFile: filepath.Join(t.TempDir(), "gone.pem")}},
		{"creds missing", ConnectConfig{URLs: "nats://127.0.0.1:1", CredsFile: filepath.Join(t.TempDir(), "gone.creds")}},
		{"bad secret", ConnectConfig{URLs: "nats://user:pw-not-to-show@" + s.Addr().String()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.c.Log = quiet()
			start := time.Now()
			nc, err := Connect(c.c)
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if time.Since(start) > firstConnectWait/2 || strings.Contains(err.Error(), "pw-not-to-show") {
				t.Fatalf("%v after %s, want at once and no password", err, time.Since(start))
			}
			t.Log(err)
		})
	}
}
