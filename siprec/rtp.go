package siprec

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp"

	"talkratio/audio"
	"talkratio/ingest"
)

// RTP limits.
const (
	// maxRTPPacket: a datagram larger than this is no RTP audio packet
	// (120 ms of G.711 is 960 bytes of payload).
	maxRTPPacket = 1500
	// DefaultRTPTimeout: a stream that is not on hold and receives no
	// packet for this long is dead (the SRC vanished without a BYE).
	// Senders with silence suppression still send comfort noise every few
	// seconds.
	DefaultRTPTimeout = 30 * time.Second
)

// ParseAllow reads a comma-separated list of CIDRs or addresses.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("allow list: %q is neither a CIDR nor an address", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func allowedAddr(allow []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// stream receives one m-line's RTP and hands it to the call as one role.
type stream struct {
	sess  *session
	index int // m-line index
	label string
	role  ingest.Role
	conn  *net.UDPConn
	port  int

	// What the SDP says, changed by re-INVITEs while the reader runs.
	mu       sync.Mutex
	codec    codec
	dtmf     *codec
	held     bool
	newClock bool // the next packet starts a new media clock (after hold, a codec change)

	// Owned by the reader goroutine.
	dec      audio.PacketDecoder
	decCodec codec
	clockID  int
	started  bool
	ssrc     uint32
	ts0      int64
	seq      seqExtender
	ts       tsUnwrapper
	skipped  int64 // in-order packets not handed on (DTMF, comfort noise)
	buf      [][]float32
	done     chan struct{}
}

// setSDP applies an m-line's (re-)negotiation. Resuming from hold or
// changing codec starts a new media clock: the time between is missing
// audio, not silence, and the new codec's timestamps count afresh.
func (st *stream) setSDP(c codec, dtmf *codec, held bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if (st.held && !held) || c != st.codec {
		st.newClock = true
	}
	st.codec, st.dtmf, st.held = c, dtmf, held
}

// sdpState is the negotiated state as the reader needs it.
func (st *stream) sdpState() (c codec, dtmf *codec, held, newClock bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.codec, st.dtmf, st.held, st.newClock
}

// clockStarted clears the new-clock flag once a clock has started.
func (st *stream) clockStarted() {
	st.mu.Lock()
	st.newClock = false
	st.mu.Unlock()
}

// run is the stream's reader goroutine.
func (st *stream) run() {
	defer close(st.done)
	s := st.sess
	m := s.srv.m
	buf := make([]byte, maxRTPPacket+1)
	st.buf = [][]float32{make([]float32, audio.MaxPacketSamples)}
	var pkt rtp.Packet
	for {
		_ = st.conn.SetReadDeadline(time.Now().Add(s.srv.cfg.RTPTimeout))
		n, from, err := st.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if _, _, held, _ := st.sdpState(); held {
					continue
				}
				s.rtpTimeout(st)
			}
			return
		}
		at := time.Now()
		if !allowedAddr(s.srv.cfg.Allow, from.Addr()) {
			m.Errors.Inc(reasonRTPSource)
			s.srv.limiter.Warn(s.log, reasonRTPSource, "siprec: RTP from a source outside the allow list dropped", "from", from.String(), "port", st.port)
			continue
		}
		if n > maxRTPPacket {
			m.Errors.Inc(reasonRTP)
			s.srv.limiter.Warn(s.log, reasonRTP, "siprec: datagram too large for RTP dropped", "from", from.String(), "bytes", n)
			continue
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil || pkt.Version != 2 {
			m.Errors.Inc(reasonRTP)
			s.srv.limiter.Warn(s.log, reasonRTP, "siprec: malformed RTP dropped", "from", from.String(), "err", err)
			continue
		}
		if !st.packet(&pkt, at) {
			return
		}
	}
}

// packet handles one RTP packet; false once the call is over.
func (st *stream) packet(pkt *rtp.Packet, at time.Time) bool {
	s := st.sess
	m := s.srv.m
	c, dtmf, held, newClock := st.sdpState()
	if held {
		// The SDP says the SRC sends nothing now (inactive, 0.0.0.0):
		// stray packets are not audio of the call.
		return true
	}
	if st.started && pkt.SSRC != st.ssrc {
		newClock = true
	}
	pt := int(pkt.PayloadType)
	if (dtmf != nil && pt == dtmf.pt) || pt == staticCN {
		// DTMF events and comfort noise: no speech. They take sequence
		// numbers, so the call is told the next audio follows on.
		if st.started && !newClock && st.seq.isNext(pkt.SequenceNumber) {
			st.seq.extend(pkt.SequenceNumber)
			st.skipped++
		}
		return true
	}
	switch {
	case pt == c.pt:
		if st.dec == nil || st.decCodec != c {
			dec, err := audio.NewPacketDecoder(c.mime(), ingest.SampleRate, 1)
			if err != nil {
				m.Errors.Inc(reasonCodec)
				s.srv.limiter.Warn(s.log, reasonCodec, "siprec: cannot decode the negotiated codec", "codec", c.name, "err", err)
				return true
			}
			st.dec, st.decCodec, newClock = dec, c, true
		}
	case st.dec != nil && pt == st.decCodec.pt && pkt.SSRC == st.ssrc:
		// The codec negotiated before a re-INVITE changed it: packets sent
		// before the change, read after it. They go on the clock they
		// belong to; the new codec's first packet starts the new one.
		newClock = false
	default:
		m.Errors.Inc(reasonPayloadType)
		s.srv.limiter.Warn(s.log, reasonPayloadType, "siprec: RTP of a payload type not negotiated dropped", "payload_type", pt, "want", c.pt, "port", st.port)
		return true
	}
	if !st.started || newClock {
		// A new media clock: the first packet, a new SSRC, a resume from
		// hold, a new codec.
		st.started, st.ssrc = true, pkt.SSRC
		st.clockID = s.nextClock()
		st.seq, st.ts, st.skipped = seqExtender{}, tsUnwrapper{}, 0
		st.ts0 = int64(pkt.Timestamp)
		st.clockStarted()
	}
	seq := st.seq.extend(pkt.SequenceNumber)
	ts := st.ts.unwrap(pkt.Timestamp)
	m.Packets.Inc(st.role.String())
	med := ingest.Media{
		Clock: ingest.Clock{ID: st.clockID, Rate: st.dec.ClockRate()},
		TS:    ts - st.ts0,
		Seq:   seq - st.skipped,
		At:    at,
	}
	if len(pkt.Payload) > 0 {
		n, err := st.dec.Decode(pkt.Payload, st.buf)
		if err != nil {
			m.Errors.Inc(reasonDecode)
			s.srv.limiter.Warn(s.log, reasonDecode, "siprec: RTP payload did not decode", "codec", c.name, "err", err)
		} else {
			med.PCM = append([]float32(nil), st.buf[0][:n]...)
		}
	}
	if !s.call.Deliver(st.role, med) {
		go s.serviceEnded()
		return false
	}
	return true
}

// staticCN is comfort noise's static payload type (RFC 3389).
const staticCN = 13

// seqExtender extends 16-bit RTP sequence numbers across wrap-round.
type seqExtender struct {
	started bool
	last    int64
}

func (q *seqExtender) extend(seq uint16) int64 {
	if !q.started {
		q.started, q.last = true, int64(seq)
		return q.last
	}
	v := q.last + int64(int16(seq-uint16(q.last)))
	q.last = max(q.last, v)
	return v
}

// isNext reports whether seq follows the newest one.
func (q *seqExtender) isNext(seq uint16) bool {
	return q.started && seq == uint16(q.last)+1
}

// tsUnwrapper extends 32-bit RTP timestamps across wrap-round.
type tsUnwrapper struct {
	started bool
	last    int64
}

func (u *tsUnwrapper) unwrap(ts uint32) int64 {
	if !u.started {
		u.started, u.last = true, int64(ts)
		return u.last
	}
	v := u.last + int64(int32(ts-uint32(u.last)))
	u.last = max(u.last, v)
	return v
}
