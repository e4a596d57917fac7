package siprec

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"talkratio/ingest"
)

// rawRequest sends a SIP request as text over TCP (the server's port) and
// returns the first final response's status and headers.
func rawRequest(t *testing.T, addr net.Addr, method, extra, ct, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:srs@%s;transport=tcp SIP/2.0\r\n", method, addr)
	fmt.Fprintf(&b, "Via: SIP/2.0/TCP %s;branch=z9hG4bK%d\r\n", local, time.Now().UnixNano())
	fmt.Fprintf(&b, "From: <sip:src@example.com>;tag=%d\r\nTo: <sip:srs@example.com>\r\n", time.Now().UnixNano())
	fmt.Fprintf(&b, "Call-ID: %d@example.com\r\nCSeq: 1 %s\r\nMax-Forwards: 70\r\n", time.Now().UnixNano(), method)
	fmt.Fprintf(&b, "Contact: <sip:src@%s;transport=tcp>\r\n", local)
	b.WriteString(extra)
	if ct != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", ct)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	rd := bufio.NewReader(conn)
	for {
		status, hdrs, err := readResponse(rd)
		if err != nil {
			t.Fatalf("%s: no response: %v", method, err)
		}
		if status >= 200 {
			return status, hdrs
		}
	}
}

func readResponse(rd *bufio.Reader) (int, string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "SIP/2.0" {
		return 0, "", fmt.Errorf("status line %q", line)
	}
	status, _ := strconv.Atoi(f[1])
	var hdrs strings.Builder
	length := 0
	for {
		h, err := rd.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if h == "\r\n" {
			break
		}
		hdrs.WriteString(h)
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if _, err := rd.Discard(length); err != nil {
		return 0, "", err
	}
	return status, line + hdrs.String(), nil
}

const goodSDP = "v=0\r\no=SRC 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0\r\na=label:1\r\na=sendonly\r\nm=audio 40002 RTP/AVP 0\r\na=label:2\r\na=sendonly\r\n"

// TestRefusals: each malformed or unsupported request gets its SIP error
// response, is counted by reason, and starts no call.
func TestRefusals(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	_, tcp, _ := r.srv.Addrs()
	multi := func(sdpPart, mdPart string) string {
		return "--B\r\nContent-Type: application/sdp\r\n\r\n" + sdpPart + "\r\n--B\r\nContent-Type: application/rs-metadata+xml\r\n\r\n" + mdPart + "\r\n--B--\r\n"
	}
	for _, tc := range []struct {
		name, method, extra, ct, body string
		status                        int
		reason                        string // metric label; "" when nothing is counted
		header                        string // a header the response must carry
	}{
		{"options", "OPTIONS", "", "", "", 200, "", "Accept: application/sdp"},
		{"no body", "INVITE", "", "", "", 488, reasonSDP, "Warning: 399 talkratio"},
		{"text body", "INVITE", "", "text/plain", "hello", 415, reasonContentType, "Accept: application/sdp, application/rs-metadata+xml, multipart/mixed"},
		{"multipart without boundary", "INVITE", "", "multipart/mixed", multi(goodSDP, "<recording/>"), 400, reasonBody, ""},
		{"broken multipart", "INVITE", "", "multipart/mixed;boundary=B", "--B\r\nContent-Type: application/sdp\r\n\r\nv=0", 400, reasonBody, ""},
		{"malformed SDP", "INVITE", "", "application/sdp", "v=0\r\nhello\r\n", 400, reasonSDP, ""},
		{"malformed metadata", "INVITE", "", "multipart/mixed;boundary=B", multi(goodSDP, "<recording><participant>"), 400, reasonMetadata, ""},
		{"G.729 only", "INVITE", "", "application/sdp", strings.ReplaceAll(goodSDP, "RTP/AVP 0", "RTP/AVP 18"), 488, reasonCodec, "Warning: 399 talkratio"},
		{"unknown extension", "INVITE", "Require: siprec, 100rel\r\n", "application/sdp", goodSDP, 420, reasonExtension, "Unsupported: 100rel"},
		{"BYE of no session", "BYE", "", "", "", 481, reasonSIP, ""},
		{"CANCEL of nothing", "CANCEL", "", "", "", 481, "", ""},
		{"MESSAGE", "MESSAGE", "", "text/plain", "hi", 405, "", "Allow: INVITE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := 0.0
			if tc.reason != "" {
				before = r.errors(tc.reason)
			}
			status, hdrs := rawRequest(t, tcp, tc.method, tc.extra, tc.ct, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d\n%s", status, tc.status, hdrs)
			}
			if tc.header != "" && !strings.Contains(hdrs, tc.header) {
				t.Errorf("no %q in\n%s", tc.header, hdrs)
			}
			if tc.reason != "" {
				if n := r.errors(tc.reason) - before; n != 1 {
					t.Errorf("%s errors +%v", tc.reason, n)
				}
			}
		})
	}
	if n := len(r.parent.Calls()); n != 0 {
		t.Errorf("%d calls started", n)
	}
}

// TestForbiddenSource: SIP and RTP from outside the allow list are
// refused.
func TestForbiddenSource(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *Config) { c.Allow, _ = ParseAllow("10.0.0.0/8") })
	_, tcp, _ := r.srv.Addrs()
	for _, m := range []string{"INVITE", "OPTIONS", "BYE"} {
		ct, body := "", ""
		if m == "INVITE" {
			ct, body = "application/sdp", goodSDP
		}
		if status, _ := rawRequest(t, tcp, m, "", ct, body); status != 403 {
			t.Errorf("%s: status %d, want 403", m, status)
		}
	}
	if n := r.errors(reasonForbidden); n != 3 {
		t.Errorf("forbidden %v", n)
	}
}

func TestBusyAndPorts(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	_, tcp, _ := r.srv.Addrs()
	r.parent.Busy = fmt.Errorf("at the limit: %w", ingest.ErrBusy)
	status, hdrs := rawRequest(t, tcp, "INVITE", "", "application/sdp", goodSDP)
	if status != 503 || !strings.Contains(hdrs, "Retry-After: 5") {
		t.Errorf("busy: %d\n%s", status, hdrs)
	}
	r.parent.Busy = nil
	if r.srv.ports.inUse() != 0 {
		t.Errorf("busy call left %d ports", r.srv.ports.inUse())
	}
	// A range of one port pair: the second stream finds none.
	r2 := newRig(t, func(c *Config) { c.RTPPorts = PortRange{c.RTPPorts.Min, c.RTPPorts.Min + 1} })
	_, tcp2, _ := r2.srv.Addrs()
	status, hdrs = rawRequest(t, tcp2, "INVITE", "", "application/sdp", goodSDP)
	if status != 503 || r2.errors(reasonPorts) != 1 {
		t.Errorf("no ports: %d\n%s", status, hdrs)
	}
	if r2.srv.ports.inUse() != 0 {
		t.Errorf("refused call left %d ports", r2.srv.ports.inUse())
	}
}

// TestServerEnds: the service ending the call, a stream going silent, and
// shutdown each end the session with a BYE to the SRC.
func TestServerEnds(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(c *Config) { c.RTPTimeout = 500 * time.Millisecond })
	s := newSRC(t)
	body, ct := siprecBody(40000, []leg{{label: "1", codecs: "0"}, {label: "2", codecs: "0"}}, false)
	expectBye := func(what string) {
		t.Helper()
		select {
		case <-s.byes:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no BYE", what)
		}
	}

	if _, err := s.invite(r.udp, body, ct); err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	call.End("deleted")
	expectBye("service ended the call")

	// No RTP at all: the RTP timeout ends it.
	if _, err := s.invite(r.udp, body, ct); err != nil {
		t.Fatal(err)
	}
	call = r.parent.Next(t, time.Second)
	if reason := call.Wait(t, 5*time.Second); reason != ingest.EndFailed {
		t.Errorf("RTP timeout: ended %q", reason)
	}
	expectBye("RTP timeout")
	if r.errors(reasonRTPTimeout) < 1 {
		t.Error("no rtp_timeout counted")
	}

	// Held streams send nothing and are not timed out; shutdown ends them.
	held, _ := siprecBody(40000, []leg{{label: "1", codecs: "0", dir: "inactive"}, {label: "2", codecs: "0", dir: "inactive"}}, false)
	if _, err := s.invite(r.udp, held, ct); err != nil {
		t.Fatal(err)
	}
	call = r.parent.Next(t, time.Second)
	time.Sleep(time.Second)
	if call.Reason() != "" {
		t.Fatalf("held call ended %q", call.Reason())
	}
	r.srv.Close()
	if reason := call.Wait(t, time.Second); reason != ingest.EndShutdown {
		t.Errorf("shutdown: ended %q", reason)
	}
	expectBye("shutdown")
}

// TestRTPSource: RTP from outside the allow list, and datagrams that are
// not RTP, are dropped and counted.
func TestRTPSource(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	s := newSRC(t)
	body, ct := siprecBody(40000, []leg{{label: "1", codecs: "0"}, {label: "2", codecs: "0"}}, false)
	c, err := s.invite(r.udp, body, ct)
	if err != nil {
		t.Fatal(err)
	}
	call := r.parent.Next(t, time.Second)
	out := newRTPOut(t, c.ports[0])
	if _, err := out.conn.Write([]byte("not rtp")); err != nil {
		t.Fatal(err)
	}
	if err := out.send(8, make([]byte, 160), 160); err != nil { // PCMA, not negotiated
		t.Fatal(err)
	}
	if err := out.send(0, make([]byte, 160), 160); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if r.errors(reasonRTP) != 1 || r.errors(reasonPayloadType) != 1 || call.Packets()[0] != 1 {
		t.Errorf("rtp errors %v, payload type errors %v, packets %v", r.errors(reasonRTP), r.errors(reasonPayloadType), call.Packets())
	}
	if err := c.bye(); err != nil {
		t.Fatal(err)
	}
}

// TestTLS: SIP over TLS with a certificate and key.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeSelfSigned(t, certFile, keyFile)
	r := newRig(t, func(c *Config) { c.TLSAddr, c.TLSCertFile, c.TLSKeyFile = "127.0.0.1:0", certFile, keyFile })
	_, _, tlsAddr := r.srv.Addrs()
	conn, err := tls.Dial("tcp", tlsAddr.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	msg := fmt.Sprintf("OPTIONS sips:srs@%s SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKtls1\r\nFrom: <sips:src@example.com>;tag=1\r\nTo: <sips:srs@example.com>\r\nCall-ID: tls1@example.com\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", tlsAddr, local)
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	status, hdrs, err := readResponse(bufio.NewReader(conn))
	if err != nil || status != 200 {
		t.Fatalf("OPTIONS over TLS: %d %v\n%s", status, err, hdrs)
	}
	if _, err := NewServer(Config{Parent: r.parent, Addr: "127.0.0.1:0", Allow: r.srv.cfg.Allow, TLSAddr: "127.0.0.1:0"}); err == nil {
		t.Error("TLS without a certificate: no error")
	}
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "talkratio-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewServerChecks(t *testing.T) {
	p := &struct{ ingest.Parent }{}
	allow, _ := ParseAllow("127.0.0.1")
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no parent", Config{Addr: ":5060", Allow: allow}},
		{"no address", Config{Parent: p, Allow: allow}},
		{"no allow list", Config{Parent: p, Addr: ":5060"}},
		{"bad ports", Config{Parent: p, Addr: ":5060", Allow: allow, RTPPorts: PortRange{10, 20}}},
	} {
		if _, err := NewServer(tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	_ = sip.StatusOK
}
