package server

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"talkratio/audio"
	"talkratio/vad"
)

// roleMode says how a WHIP session's audio maps to the call's roles.
type roleMode int

const (
	// twoTracks: one session, two audio tracks; roles named by stream or
	// track id ("rep", "customer"), else by m-line order (rep first).
	twoTracks roleMode = iota
	// stereoTrack: one session, one stereo Opus track; channels map to
	// roles like a WAV's (rep on the left unless rep-channel=right).
	stereoTrack
	// perRole: one session per role (role=rep or role=customer), joined
	// into one call by call=ID.
	perRole
)

// rolePlan is how one session's tracks become roles.
type rolePlan struct {
	mode     roleMode
	byMid    map[string]vad.Role // twoTracks
	repRight bool                // stereoTrack: the rep is on the right channel
	role     vad.Role            // perRole
}

// roles returns the role of each output channel of a track's decoder.
func (p rolePlan) rolesFor(mid string) []vad.Role {
	switch p.mode {
	case stereoTrack:
		if p.repRight {
			return []vad.Role{vad.Customer, vad.Rep}
		}
		return []vad.Role{vad.Rep, vad.Customer}
	case perRole:
		return []vad.Role{p.role}
	}
	if r, ok := p.byMid[mid]; ok {
		return []vad.Role{r}
	}
	return nil
}

// carried lists the roles the session brings to its call.
func (p rolePlan) carried() []vad.Role {
	if p.mode == perRole {
		return []vad.Role{p.role}
	}
	return []vad.Role{vad.Rep, vad.Customer}
}

// session is one WHIP session: a PeerConnection publishing into a call.
// close runs once; it clears the PeerConnection's handlers so that nothing
// calls back into a session that is gone.
type session struct {
	srv   *Server
	call  *Call
	token string
	plan  rolePlan
	pc    *webrtc.PeerConnection
	log   *slog.Logger

	closeOnce sync.Once
	closed    chan struct{}
	reason    string

	// created is when the offer came; connected (unix ns) when the
	// connection came up: no media was sent before.
	created   time.Time
	connected atomic.Int64
}

// mediaSince is the earliest a packet of this session can have been sent.
func (s *session) mediaSince() time.Time {
	if ns := s.connected.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return s.created
}

// end closes the session for a reason and detaches it from its call.
func (s *session) end(reason string) {
	s.closeOnce.Do(func() {
		s.reason = reason
		close(s.closed)
		s.pc.OnTrack(nil)
		s.pc.OnConnectionStateChange(nil)
		if err := s.pc.Close(); err != nil {
			s.log.Debug("close peer connection", "err", err)
		}
		s.srv.removeSession(s)
		s.call.detach(s, reason)
	})
}

// close is end for a call that is itself finishing.
func (s *session) close() { s.end(endClosed) }

// onConnectionState ends the session when the connection cannot come back.
// Disconnected may recover; failed (after the ICE timeout) and closed do
// not.
func (s *session) onConnectionState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.connected.CompareAndSwap(0, time.Now().UnixNano())
	case webrtc.PeerConnectionStateFailed:
		s.log.Info("connection failed")
		go s.end(endFailed)
	case webrtc.PeerConnectionStateClosed:
		go s.end(endClosed)
	}
}

// readTrack is the track's read loop: pion runs OnTrack on a goroutine of
// its own, and that goroutine is this loop. It decodes every packet and
// hands it to the call, stamped with its RTP time and arrival.
func (s *session) readTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	mid := ""
	if tr := recv.RTPTransceiver(); tr != nil {
		mid = tr.Mid()
	}
	codec := track.Codec()
	log := s.log.With("mid", mid, "codec", codec.MimeType)
	if track.Kind() != webrtc.RTPCodecTypeAudio {
		log.Info("ignoring track", "kind", track.Kind().String())
		return
	}
	tr, err := s.srv.newTrackReader(codec.MimeType, s.plan.rolesFor(mid), log)
	if err != nil {
		log.Warn("ignoring track", "err", err)
		return
	}
	tr.stereo = s.plan.mode == stereoTrack
	tr.clock.sendStart = s.mediaSince()
	log.Info("track started", "roles", tr.roleNames)
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			log.Debug("track ended", "err", err)
			return
		}
		if !tr.packet(pkt, time.Now(), s.call) {
			return
		}
	}
}

// trackReader turns one track's RTP packets into timed, decoded audio for
// its call: loss accounting, timestamp unwrapping, decoding.
type trackReader struct {
	srv       *Server
	log       *slog.Logger
	roles     []vad.Role // one per decoded channel
	roleNames []string
	codec     string
	dec       audio.PacketDecoder
	clock     *trackClock
	seq       seqTracker
	ts        tsUnwrapper
	buf       [][]float32
	stereo    bool // a stereo-mapped track: warn once if it carries mono
	warned    bool
}

func (s *Server) newTrackReader(mimeType string, roles []vad.Role, log *slog.Logger) (*trackReader, error) {
	if len(roles) == 0 {
		return nil, errors.New("no role for this track")
	}
	dec, err := audio.NewPacketDecoder(mimeType, analysisRate, len(roles))
	if err != nil {
		return nil, err
	}
	tr := &trackReader{
		srv: s, log: log, roles: roles, dec: dec,
		codec: strings.ToLower(strings.TrimPrefix(mimeType, "audio/")),
		clock: &trackClock{clockRate: dec.ClockRate()},
		buf:   make([][]float32, len(roles)),
	}
	for i, r := range roles {
		tr.roleNames = append(tr.roleNames, r.String())
		tr.buf[i] = make([]float32, audio.MaxPacketSamples)
	}
	return tr, nil
}

// packet handles one RTP packet that arrived at at; it returns false once
// the call is over.
func (tr *trackReader) packet(pkt *rtp.Packet, at time.Time, call *Call) bool {
	m := tr.srv.m
	seq := tr.seq.extend(pkt.SequenceNumber)
	lost := tr.seq.update(pkt.SequenceNumber)
	for _, r := range tr.roles {
		m.packetsBy[r].Inc()
		if lost > 0 {
			m.lostBy[r].Add(float64(lost))
		}
	}
	t := tr.ts.unwrap(pkt.Timestamp)
	if len(pkt.Payload) == 0 {
		return true // padding only
	}
	if tr.stereo && !tr.warned && !audio.IsStereoOpus(pkt.Payload) {
		tr.warned = true
		tr.log.Warn("stereo session gets mono Opus: both roles hear the same audio; publish two tracks or one session per role instead")
	}
	p := pcm{track: tr.clock, roles: tr.roles, seq: seq, ts: t, at: at}
	n, err := tr.dec.Decode(pkt.Payload, tr.buf)
	if err != nil {
		// Its audio is lost, but the packet still tells the call how far
		// the sender's clock has come.
		m.decodeErrors.WithLabelValues(tr.codec).Inc()
	} else {
		p.samples = make([][]float32, len(tr.roles))
		for i := range tr.roles {
			p.samples[i] = tr.srv.getSamples(n)
			copy(p.samples[i], tr.buf[i][:n])
		}
	}
	return call.deliver(p)
}

// seqTracker counts lost RTP packets: a sequence number that has not shown
// up by the time the newest one is 64 ahead of it is lost. Reordered
// packets inside that window are not counted.
type seqTracker struct {
	started bool
	hi      int64  // highest extended sequence number
	seen    uint64 // bit i: hi-i was received
	valid   int    // how many bits of seen are real (fewer at the start)
}

// extend returns the extended (64-bit) form of a sequence number, as
// update will see it; before the first packet, the number itself.
func (q *seqTracker) extend(seq uint16) int64 {
	if !q.started {
		return int64(seq)
	}
	return q.hi + int64(int16(seq-uint16(q.hi)))
}

func (q *seqTracker) update(seq uint16) (lost int) {
	if !q.started {
		q.started, q.hi, q.seen, q.valid = true, int64(seq), 1, 1
		return 0
	}
	ext := q.hi + int64(int16(seq-uint16(q.hi)))
	d := ext - q.hi
	switch {
	case d > 0:
		// Bits falling out of the 64-wide window without being seen
		// are lost.
		drop := min(d, 64)
		for i := 64 - drop; i < 64; i++ {
			if int(i) < q.valid && q.seen&(1<<uint(i)) == 0 {
				lost++
			}
		}
		if d > 64 {
			lost += int(d - 64)
		}
		if d >= 64 {
			q.seen = 1
		} else {
			q.seen = q.seen<<uint(d) | 1
		}
		q.valid = int(min(64, int64(q.valid)+d))
		q.hi = ext
	case d > -64 && int(-d) < q.valid:
		q.seen |= 1 << uint(-d)
	}
	return lost
}

// tsUnwrapper extends 32-bit RTP timestamps to 64 bits across wrap-round.
type tsUnwrapper struct {
	started bool
	last    int64
}

func (u *tsUnwrapper) unwrap(ts uint32) int64 {
	if !u.started {
		u.started, u.last = true, int64(ts)
		return u.last
	}
	u.last += int64(int32(ts - uint32(u.last)))
	return u.last
}

// Errors that map to HTTP statuses.
var (
	errCallOver       = errors.New("the call has ended")
	errRoleTaken      = errors.New("that role already has a publisher in this call")
	errTooManyViewers = errors.New("too many viewers for this call")
)
