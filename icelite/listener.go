// Package icelite receives WebRTC audio from publishers that only send
// (WHIP), as an ICE-lite agent on one UDP port shared by every session.
//
// A WHIP publisher only sends: the service never offers, never sends
// media, and needs no candidate of its own beyond the address it listens
// on. So instead of a PeerConnection per session, whose every packet
// crosses four goroutines (ICE read loop, mux, SRTP session, track
// reader), one set of UDP sockets on one port serves every session (RFC
// 8445 section 2.5): it answers connectivity checks, runs the DTLS
// handshake as the DTLS server and then, in the goroutine that read the
// datagram, decrypts each SRTP packet and hands it to the session's
// Handler. There are as many reading goroutines as cores, not two per
// call, and each system call reads up to readBatch datagrams.
//
// It knows nothing of calls or SDP beyond what ICE and DTLS need: the
// caller writes the answer from the session's credentials, the
// listener's candidates and its fingerprint.
package icelite

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/pion/dtls/v3/pkg/crypto/selfsign"
	"github.com/pion/transport/v5"
	"golang.org/x/net/ipv4"
)

const (
	// readBatch datagrams are read per system call (recvmmsg on Linux):
	// at 250 calls a socket gets 12,500 packets a second, and a read that
	// wakes for each costs more than the decryption.
	readBatch = 32
	// maxSockets bounds the sockets sharing the port (one reading
	// goroutine each, SO_REUSEPORT spreading remote addresses over them):
	// more than there are cores only adds contention.
	maxSockets = 4
	// datagramBytes holds any datagram: an Ethernet frame carries at
	// most 1500 bytes, and the loopback's larger MTU is not used by
	// WebRTC senders, which packetize for the path MTU.
	datagramBytes = 1500
	// socketBufferBytes: each socket's receive buffer asked for, about a
	// second of a full socket's datagrams (12,500 a second, each taking
	// its size plus ~700 bytes of kernel bookkeeping).
	socketBufferBytes = 8 << 20
	// addrsPerSession bounds the remote addresses a session may check
	// from (its candidates): a browser has a few per interface.
	addrsPerSession = 16
	// dtlsQueue datagrams of a handshake may wait for the DTLS
	// goroutine; a flight is a handful.
	dtlsQueue = 32
	// handshakeTimeout bounds the DTLS handshake, which browsers
	// finish in one or two round trips.
	handshakeTimeout = 10 * time.Second
	// readRetryPause: a socket whose read failed is read again this soon,
	// briefly enough that no check or handshake times out over it.
	readRetryPause = 10 * time.Millisecond
	// rtcpInterval: each session sends a receiver report this often, as
	// pion's report interceptor does, so that the sender's rate control
	// (and Opus FEC) hears of loss.
	rtcpInterval = time.Second
)

// Config configures a Listener.
type Config struct {
	// Port is the UDP port; 0 picks one.
	Port int
	// PublicIPs are announced instead of the interfaces' addresses, for a
	// service behind 1:1 NAT.
	PublicIPs []string
	// Net replaces the operating system's network (tests: pion's vnet).
	Net transport.Net
	// Disconnected and Failed: a session whose publisher has sent nothing
	// (no check, no media) for Disconnected is logged as disconnected, and
	// for Failed is ended.
	Disconnected, Failed time.Duration
	Log                  *slog.Logger
}

// Listener is the ICE-lite receiver: its sockets, certificate and
// sessions.
type Listener struct {
	log   *slog.Logger
	conns []net.PacketConn // all on port, sharing it
	port  int
	cands []netip.Addr // the addresses announced in candidates
	cert  tls.Certificate
	// fingerprint is the SHA-256 fingerprint of cert, as SDP writes it.
	fingerprint          string
	disconnected, failed time.Duration

	mu      sync.RWMutex
	byUfrag map[string]*Session
	byAddr  map[netip.AddrPort]*Session

	stop      chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// Listen opens the sockets and starts their readers.
func Listen(cfg Config) (*Listener, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Disconnected <= 0 || cfg.Failed <= 0 {
		return nil, errors.New("ICE-lite: the disconnect and failure timeouts must be positive")
	}
	cert, err := selfsign.GenerateSelfSigned()
	if err != nil {
		return nil, fmt.Errorf("DTLS certificate: %w", err)
	}
	fp, err := certFingerprint("sha-256", cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	m := &Listener{
		log: cfg.Log, cert: cert, fingerprint: fp,
		disconnected: cfg.Disconnected, failed: cfg.Failed,
		byUfrag: map[string]*Session{}, byAddr: map[netip.AddrPort]*Session{},
		stop: make(chan struct{}),
	}
	if err := m.listen(cfg); err != nil {
		return nil, err
	}
	if m.cands, err = candidateAddrs(cfg); err != nil {
		m.closeConns()
		return nil, err
	}
	for _, c := range m.conns {
		m.wg.Add(1)
		go m.read(c)
	}
	m.wg.Add(1)
	go m.janitor()
	return m, nil
}

// listen opens the sockets: on the operating system's network, one per
// core (up to maxSockets) on one port with SO_REUSEPORT, where the
// system has it; on a virtual network (tests), one.
func (m *Listener) listen(cfg Config) error {
	if cfg.Net != nil {
		ips, err := netAddrs(cfg.Net)
		if err != nil {
			return err
		}
		if len(ips) == 0 {
			return errors.New("ICE-lite: the network has no IPv4 address")
		}
		c, err := cfg.Net.ListenUDP("udp4", &net.UDPAddr{IP: ips[0].AsSlice(), Port: cfg.Port})
		if err != nil {
			return fmt.Errorf("ICE-lite UDP port %d: %w", cfg.Port, err)
		}
		m.conns = []net.PacketConn{c}
		m.port = c.LocalAddr().(*net.UDPAddr).Port
		return nil
	}
	n := min(runtime.GOMAXPROCS(0), maxSockets)
	if !reusePortWorks {
		n = 1
	}
	lc := net.ListenConfig{Control: reusePort}
	port := cfg.Port
	for range n {
		c, err := lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf(":%d", port))
		if err != nil {
			m.closeConns()
			return fmt.Errorf("ICE-lite UDP port %d: %w", port, err)
		}
		if uc, ok := c.(*net.UDPConn); ok {
			// The system caps it (net.core.rmem_max); where it is
			// raised, a burst waits in the socket rather than being
			// dropped while the reader is busy.
			_ = uc.SetReadBuffer(socketBufferBytes)
		}
		m.conns = append(m.conns, c)
		port = c.LocalAddr().(*net.UDPAddr).Port
	}
	m.port = port
	return nil
}

// Port is the UDP port every session's media comes to.
func (m *Listener) Port() int { return m.port }

// Candidates are the addresses to announce, the preferred first.
func (m *Listener) Candidates() []netip.Addr { return m.cands }

// Fingerprint is the SHA-256 fingerprint of the listener's DTLS
// certificate, as SDP writes it (a=fingerprint:sha-256 ...).
func (m *Listener) Fingerprint() string { return m.fingerprint }

// Close stops the readers and the janitor and closes the sockets; later
// calls return the first's result. Sessions still open get no more media.
func (m *Listener) Close() error {
	m.closeOnce.Do(func() {
		close(m.stop)
		m.closeErr = m.closeConns()
		m.wg.Wait()
	})
	return m.closeErr
}

func (m *Listener) closeConns() error {
	var errs []error
	for _, c := range m.conns {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// read is one socket's read loop: datagrams in batches where the socket
// allows it, each handled in this goroutine.
func (m *Listener) read(c net.PacketConn) {
	defer m.wg.Done()
	udp, ok := c.(*net.UDPConn)
	if !ok {
		buf := make([]byte, datagramBytes)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				if m.readFailed(err) {
					return
				}
				continue
			}
			if ua, ok := from.(*net.UDPAddr); ok {
				m.datagram(c, buf[:n], addrPort(ua), time.Now())
			}
		}
	}
	pc := ipv4.NewPacketConn(udp)
	msgs := make([]ipv4.Message, readBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, datagramBytes)}
	}
	for {
		n, err := pc.ReadBatch(msgs, 0)
		if err != nil {
			if m.readFailed(err) {
				return
			}
			continue
		}
		now := time.Now()
		for _, msg := range msgs[:n] {
			if ua, ok := msg.Addr.(*net.UDPAddr); ok {
				m.datagram(c, msg.Buffers[0][:msg.N], addrPort(ua), now)
			}
		}
	}
}

func addrPort(ua *net.UDPAddr) netip.AddrPort {
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// readFailed says whether a read loop is over: when its socket is
// closed. Any other error (the system short of buffers, say) is logged,
// and reading goes on after a pause that keeps a persistent one from
// spinning a core.
func (m *Listener) readFailed(err error) bool {
	select {
	case <-m.stop:
		return true
	default:
	}
	if errors.Is(err, net.ErrClosed) {
		m.log.Error("ICE-lite socket closed: no more media on it", "err", err)
		return true
	}
	m.log.Warn("ICE-lite socket read", "err", err)
	time.Sleep(readRetryPause)
	return false
}

// datagram demultiplexes one datagram by its first byte (RFC 7983): STUN
// finds its session by the username it carries, anything else by the
// address it came from, which a connectivity check must have proven first.
func (m *Listener) datagram(c net.PacketConn, b []byte, from netip.AddrPort, now time.Time) {
	if len(b) == 0 {
		return
	}
	switch first := b[0]; {
	case first < 4:
		m.stun(c, b, from, now)
	case first >= 20 && first < 64:
		if s := m.session(from); s != nil {
			s.dtlsDatagram(c, b, from)
		}
	case first >= 128 && first < 192:
		if s := m.session(from); s != nil {
			s.srtpDatagram(b, from, now)
		}
	}
}

func (m *Listener) session(from netip.AddrPort) *Session {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.byAddr[from]
}

// add registers a session's credentials.
func (m *Listener) add(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byUfrag[s.ufrag] = s
}

// remove forgets a session and its addresses.
func (m *Listener) remove(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byUfrag[s.ufrag] == s {
		delete(m.byUfrag, s.ufrag)
	}
	for _, a := range s.addrs {
		if m.byAddr[a] == s {
			delete(m.byAddr, a)
		}
	}
}

// bind maps a remote address, proven by a connectivity check, to its
// session. A session may check from a few; an address that moves to
// another session (a port reused by a new publisher) is taken from the
// old one.
func (m *Listener) bind(s *Session, from netip.AddrPort) {
	m.mu.RLock()
	cur := m.byAddr[from]
	m.mu.RUnlock()
	if cur == s {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byUfrag[s.ufrag] != s || len(s.addrs) >= addrsPerSession {
		return // ended, or checking from too many places
	}
	m.byAddr[from] = s
	s.addrs = append(s.addrs, from)
}

// janitor sends the receiver reports and ends sessions whose publisher
// has gone silent (no checks, no media) for the ICE failure timeout.
func (m *Listener) janitor() {
	defer m.wg.Done()
	// Ticks often enough to notice a disconnect within a quarter of its
	// timeout; reports go out every rtcpInterval regardless.
	tick := time.NewTicker(min(rtcpInterval, m.disconnected/4))
	defer tick.Stop()
	var sessions []*Session
	for {
		select {
		case <-m.stop:
			return
		case now := <-tick.C:
			m.mu.RLock()
			sessions = sessions[:0]
			for _, s := range m.byUfrag {
				sessions = append(sessions, s)
			}
			m.mu.RUnlock()
			for _, s := range sessions {
				s.tick(now)
			}
		}
	}
}
