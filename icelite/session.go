package icelite

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/dtls/v3"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/stun/v4"
)

// Handler is what a session's owner sees of its media.
type Handler interface {
	// Connected says the DTLS handshake is done: media may follow.
	Connected()
	// RTP hands over an authentic packet, decrypted, in the goroutine
	// that read it (or, for packets that came before the keys, the one
	// that made them): h and payload are valid only during the call.
	// Calls for one session never overlap, and none begins after Close
	// returns.
	RTP(h *rtp.Header, payload []byte, at time.Time)
	// Ended says the publisher is gone: it closed the connection (failed
	// false), or its handshake failed or it fell silent for the failure
	// timeout (failed true). The owner closes the session.
	Ended(failed bool, why string)
}

// Session is one publisher's media: its ICE credentials, its DTLS
// handshake and SRTP keys.
type Session struct {
	m     *Listener
	h     Handler
	ufrag string
	pwd   string
	peer  Fingerprint

	// addrs are the remote addresses bound to the session (under m.mu).
	addrs []netip.AddrPort
	// to is where DTLS and reports go: the address nominated, or that
	// media last came from.
	to atomic.Pointer[netip.AddrPort]
	// lastHeard (unix ns): the last authentic datagram, check or media.
	lastHeard atomic.Int64
	created   time.Time

	dtlsOnce sync.Once
	dtlsIn   chan []byte
	done     chan struct{} // closed when the session is closed
	closing  atomic.Bool
	ended    atomic.Bool // Handler.Ended was called

	// mu guards the media state: a session's datagrams are read by the
	// socket its remote address hashes to, but a publisher that changes
	// address may land on another.
	mu           sync.Mutex
	closed       bool
	dc           *dtls.Conn
	rx, tx       *srtp.Context // decrypts what comes, encrypts reports
	stats        map[uint32]*rxStats
	hdr          rtp.Header
	plain        []byte
	early        []earlyDatagram // before the keys
	disconnected bool
	nextReport   time.Time
	localSSRC    uint32
}

// Open starts a session whose publisher's DTLS certificate must match
// peer (the offer's a=fingerprint).
func (m *Listener) Open(h Handler, peer Fingerprint) *Session {
	s := &Session{
		m: m, h: h, peer: peer, ufrag: randomHex(4), pwd: randomHex(12), // 8 and 24 characters (RFC 8839: at least 4 and 22)
		created: time.Now(), dtlsIn: make(chan []byte, dtlsQueue), done: make(chan struct{}),
		stats: map[uint32]*rxStats{}, plain: make([]byte, datagramBytes), localSSRC: randomUint32(),
	}
	m.add(s)
	return s
}

// Ufrag and Pwd are the session's ICE credentials, for the answer.
func (s *Session) Ufrag() string { return s.ufrag }

// Pwd is the session's ICE password.
func (s *Session) Pwd() string { return s.pwd }

// stun answers a connectivity check (a binding request) whose username
// names a session and whose integrity its password proves, and binds the
// address it came from to the session.
func (m *Listener) stun(c net.PacketConn, b []byte, from netip.AddrPort, now time.Time) {
	msg := &stun.Message{Raw: append([]byte(nil), b...)}
	if err := msg.Decode(); err != nil || msg.Type != stun.BindingRequest {
		return
	}
	var user stun.Username
	if err := user.GetFrom(msg); err != nil {
		return
	}
	ufrag, _, _ := strings.Cut(user.String(), ":")
	m.mu.RLock()
	s := m.byUfrag[ufrag]
	m.mu.RUnlock()
	if s == nil {
		return
	}
	if err := stun.NewShortTermIntegrity(s.pwd).Check(msg); err != nil {
		return
	}
	resp, err := stun.Build(stun.NewTransactionIDSetter(msg.TransactionID), stun.BindingSuccess,
		&stun.XORMappedAddress{IP: from.Addr().AsSlice(), Port: int(from.Port())},
		stun.NewShortTermIntegrity(s.pwd), stun.Fingerprint)
	if err != nil {
		return
	}
	m.bind(s, from)
	s.lastHeard.Store(now.UnixNano())
	if msg.Contains(stun.AttrUseCandidate) || s.to.Load() == nil {
		s.to.Store(&from)
	}
	if _, err := c.WriteTo(resp.Raw, net.UDPAddrFromAddrPort(from)); err != nil {
		m.log.Debug("STUN response", "err", err)
	}
}

// dtlsDatagram hands a DTLS record to the handshake, which the first one
// starts.
func (s *Session) dtlsDatagram(c net.PacketConn, b []byte, from netip.AddrPort) {
	s.dtlsOnce.Do(func() {
		s.to.Store(&from)
		go s.handshake(newDTLSConn(s, c, net.UDPAddrFromAddrPort(from)))
	})
	select {
	case s.dtlsIn <- append([]byte(nil), b...):
	default: // a flood; DTLS retransmits what mattered
	}
}

// srtpDatagram decrypts an SRTP or SRTCP datagram and hands RTP to the
// handler, in the reading goroutine.
func (s *Session) srtpDatagram(b []byte, from netip.AddrPort, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.rx == nil {
		// The publisher may send media as soon as its side of the
		// handshake is done, a moment before this side has the keys:
		// those packets wait for them.
		if len(s.early) < earlyPackets {
			s.early = append(s.early, earlyDatagram{append([]byte(nil), b...), from, now})
		}
		return
	}
	s.media(b, from, now)
}

// earlyPackets may wait for the keys: the few sent in the round trip of
// the handshake's last flight, with room to spare.
const earlyPackets = 64

// earlyDatagram is an SRTP datagram that came before the keys.
type earlyDatagram struct {
	b    []byte
	from netip.AddrPort
	at   time.Time
}

// keyed takes the keys from the handshake and handles the datagrams that
// waited for them, before any that come after.
func (s *Session) keyed(dc *dtls.Conn, rx, tx *srtp.Context) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.dc, s.rx, s.tx = dc, rx, tx
	for _, d := range s.early {
		s.media(d.b, d.from, d.at)
	}
	s.early = nil
	return true
}

// media handles an SRTP or SRTCP datagram (under s.mu, with the keys).
func (s *Session) media(b []byte, from netip.AddrPort, now time.Time) {
	// RTCP's packet types 192-223 sit where RTP's marker bit and payload
	// type do (RFC 5761 section 4).
	if len(b) > 1 && b[1] >= 192 && b[1] <= 223 {
		s.rtcp(b, now)
		return
	}
	p, err := s.rx.DecryptRTP(s.plain, b, &s.hdr)
	if err != nil {
		return // not authentic, or replayed
	}
	s.lastHeard.Store(now.UnixNano())
	if to := s.to.Load(); to == nil || *to != from {
		s.to.Store(&from)
	}
	hl := s.hdr.MarshalSize()
	if hl > len(p) {
		return
	}
	payload := p[hl:]
	if s.hdr.Padding {
		if len(payload) == 0 || int(payload[len(payload)-1]) > len(payload) {
			return
		}
		payload = payload[:len(payload)-int(payload[len(payload)-1])]
	}
	st := s.stats[s.hdr.SSRC]
	if st == nil {
		if len(s.stats) >= maxSSRCs {
			return // a publisher sends a track or two, not a stream of SSRCs
		}
		st = &rxStats{}
		s.stats[s.hdr.SSRC] = st
	}
	st.update(s.hdr.SequenceNumber, s.hdr.Timestamp, clockRate(s.hdr.PayloadType), now)
	s.h.RTP(&s.hdr, payload, now)
}

// maxSSRCs a session reports on (and hands over): more than any WHIP
// publisher sends, few enough that a hostile one cannot grow the table.
const maxSSRCs = 16

// clockRate is the RTP clock of a payload type for the jitter estimate:
// 8 kHz for the static G.711 types, else Opus's 48 kHz (RFC 7587), the
// only dynamic type talkratio takes.
func clockRate(pt uint8) uint32 {
	if pt == 0 || pt == 8 {
		return 8000
	}
	return 48000
}

// rtcp takes what reports need from the publisher's RTCP: when its last
// sender report came.
func (s *Session) rtcp(b []byte, now time.Time) {
	plain, err := s.rx.DecryptRTCP(nil, b, nil)
	if err != nil {
		return
	}
	s.lastHeard.Store(now.UnixNano())
	pkts, err := rtcp.Unmarshal(plain)
	if err != nil {
		return
	}
	for _, p := range pkts {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			if st := s.stats[sr.SSRC]; st != nil {
				st.lastSR = uint32(sr.NTPTime >> 16)
				st.lastSRAt = now
			}
		}
	}
}

// tick is the janitor's visit: the session fails when its publisher has
// been silent for the failure timeout (or never connected), and reports
// what it received.
func (s *Session) tick(now time.Time) {
	heard := s.created
	if ns := s.lastHeard.Load(); ns != 0 {
		heard = time.Unix(0, ns)
	}
	silent := now.Sub(heard)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	switch {
	case silent >= s.m.failed:
		if s.ended.Load() {
			return // told already; the owner closes it
		}
		go s.end(true, fmt.Sprintf("nothing heard for %v", silent.Round(time.Millisecond)))
		return
	case silent >= s.m.disconnected && !s.disconnected:
		s.disconnected = true
		s.m.log.Info("ICE-lite session disconnected", "ufrag", s.ufrag, "silent", silent.Round(time.Millisecond))
	case silent < s.m.disconnected && s.disconnected:
		s.disconnected = false
		s.m.log.Info("ICE-lite session back", "ufrag", s.ufrag)
	}
	if s.tx == nil || now.Before(s.nextReport) {
		return
	}
	s.nextReport = now.Add(rtcpInterval)
	s.report(now)
}

// report sends a receiver report on every SSRC heard (under s.mu).
func (s *Session) report(now time.Time) {
	rr := rtcp.ReceiverReport{SSRC: s.localSSRC}
	for ssrc, st := range s.stats {
		rr.Reports = append(rr.Reports, st.report(ssrc, now))
	}
	if len(rr.Reports) == 0 {
		return
	}
	raw, err := rr.Marshal()
	if err != nil {
		return
	}
	enc, err := s.tx.EncryptRTCP(nil, raw, nil)
	if err != nil {
		return
	}
	if to := s.to.Load(); to != nil {
		if _, err := s.m.conns[0].WriteTo(enc, net.UDPAddrFromAddrPort(*to)); err != nil {
			s.m.log.Debug("receiver report", "err", err)
		}
	}
}

// Close ends the session: no more datagrams reach its handler once it
// returns, and the DTLS connection says goodbye (close_notify).
func (s *Session) Close() {
	if !s.closing.CompareAndSwap(false, true) {
		return
	}
	s.m.remove(s)
	close(s.done)
	s.mu.Lock()
	s.closed = true
	dc := s.dc
	s.mu.Unlock()
	if dc != nil {
		if err := dc.Close(); err != nil {
			s.m.log.Debug("DTLS close", "err", err)
		}
	}
}
