package icelite

import (
	"io"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/stun/v4"
)

// nopHandler counts nothing: these tests never get as far as media.
type nopHandler struct{}

func (nopHandler) Connected()                         {}
func (nopHandler) RTP(*rtp.Header, []byte, time.Time) {}
func (nopHandler) Ended(bool, string)                 {}

// A connectivity check is answered, and binds the address it came from,
// only when its username names an open session and its integrity is that
// session's password; anything else gets silence and binds nothing, so
// that DTLS and media from that address are not even looked at.
func TestConnectivityChecks(t *testing.T) {
	m, err := Listen(Config{Disconnected: 5 * time.Second, Failed: 15 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Open(nopHandler{}, Fingerprint{})
	defer s.Close()
	other := m.Open(nopHandler{}, Fingerprint{})
	defer other.Close()

	for _, tc := range []struct {
		name      string
		user, pwd string
		answered  bool
	}{
		{"unknown ufrag", "nobody:x", s.Pwd(), false},
		{"wrong password", s.Ufrag() + ":x", "not-the-password-at-all", false},
		{"another session's password", s.Ufrag() + ":x", other.Pwd(), false},
		{"right credentials", s.Ufrag() + ":x", s.Pwd(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The probe checks for the other session unless this check
			// must bind the address to s: a check moves the address to
			// its session.
			ps := other
			if tc.answered {
				ps = s
			}
			resp, from := exchange(t, m, tc.user, tc.pwd, ps)
			if answered := resp != nil; answered != tc.answered {
				t.Fatalf("check answered %v, want %v", answered, tc.answered)
			}
			if bound := m.session(from) == s; bound != tc.answered {
				t.Errorf("address bound to the session: %v, want %v", bound, tc.answered)
			}
			if !tc.answered {
				return
			}
			if resp.Type != stun.BindingSuccess {
				t.Errorf("answer type %v, want a binding success", resp.Type)
			}
			if err := stun.NewShortTermIntegrity(s.Pwd()).Check(resp); err != nil {
				t.Errorf("answer's integrity: %v", err)
			}
			var xor stun.XORMappedAddress
			if err := xor.GetFrom(resp); err != nil || xor.Port != int(from.Port()) || !xor.IP.Equal(from.Addr().AsSlice()) {
				t.Errorf("XOR-MAPPED-ADDRESS %v (%v), want %v", xor, err, from)
			}
		})
	}

	// A closed session's checks go unanswered, and no address stays
	// bound to it.
	user, pwd := s.Ufrag()+":x", s.Pwd()
	s.Close()
	if resp, _ := exchange(t, m, user, pwd, other); resp != nil {
		t.Error("a closed session's check was answered")
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := len(m.byUfrag); n != 1 {
		t.Errorf("%d sessions registered after one of two closed", n)
	}
	for a, bound := range m.byAddr {
		if bound == s {
			t.Errorf("address %v still bound to the closed session", a)
		}
	}
}

// exchange sends, from a new loopback socket, a check with user and pwd,
// then one that must be answered (for probe's session), and returns the
// answer to the first (nil: none) and the socket's address. A silent
// listener is told from a slow one by the probe's answer: on loopback,
// answers come in the order the checks were handled.
func exchange(t *testing.T, m *Listener, user, pwd string, probe *Session) (*stun.Message, netip.AddrPort) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(user),
		stun.NewShortTermIntegrity(pwd), stun.Fingerprint)
	last := stun.MustBuild(stun.TransactionID, stun.BindingRequest, stun.NewUsername(probe.Ufrag()+":x"),
		stun.NewShortTermIntegrity(probe.Pwd()), stun.Fingerprint)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}
	for _, msg := range []*stun.Message{req, last} {
		if _, err := c.WriteTo(msg.Raw, to); err != nil {
			t.Fatal(err)
		}
	}
	var first *stun.Message
	buf := make([]byte, 1500)
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no answer to the probe: %v", err)
		}
		resp := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
		if err := resp.Decode(); err != nil {
			t.Fatalf("answer: %v", err)
		}
		switch resp.TransactionID {
		case req.TransactionID:
			first = resp
		case last.TransactionID:
			return first, netip.MustParseAddrPort(c.LocalAddr().String())
		}
	}
}
