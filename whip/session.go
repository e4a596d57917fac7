package whip

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"talkratio/live"
)

// sessionParent is what a session sees of the server that made it.
type sessionParent interface {
	sessionClosed(s *session)
}

// session is one WHIP session: a PeerConnection publishing into a call, of
// which it is a source. end runs once; it clears the PeerConnection's
// handlers so that nothing calls back into a session that is gone.
type session struct {
	parent sessionParent
	call   *live.Call
	token  string
	plan   rolePlan
	log    *slog.Logger
	// The session's media arrives over one of two transports: pion's
	// PeerConnection (pc), or the ICE-lite receiver (lite).
	pc   *webrtc.PeerConnection
	lite *liteSession

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
		if s.pc != nil {
			s.pc.OnTrack(nil)
			s.pc.OnConnectionStateChange(nil)
			if err := s.pc.Close(); err != nil {
				s.log.Debug("close peer connection", "err", err)
			}
		}
		if s.lite != nil {
			s.lite.close()
		}
		s.parent.sessionClosed(s)
		s.call.Detach(s, reason)
	})
}

// Close is end for a call that is itself finishing (live.Source).
func (s *session) Close() { s.end(live.EndClosed) }

// onConnectionState ends the session when the connection cannot come back.
// Disconnected may recover; failed (after the ICE timeout) and closed do
// not.
func (s *session) onConnectionState(st webrtc.PeerConnectionState) {
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.connected.CompareAndSwap(0, time.Now().UnixNano())
	case webrtc.PeerConnectionStateFailed:
		s.log.Info("connection failed")
		go s.end(live.EndFailed)
	case webrtc.PeerConnectionStateClosed:
		go s.end(live.EndClosed)
	}
}

// readTrack is the track's read loop: pion runs OnTrack on a goroutine of
// its own, and that goroutine is this loop. It hands every packet to the
// call's track, stamped with its arrival.
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
	tr, err := s.call.NewTrack(live.TrackSpec{
		Codec: codec.MimeType, Roles: s.plan.rolesFor(mid), Log: log,
		SendStart: s.mediaSince(), Stereo: s.plan.mode == stereoTrack,
	})
	if err != nil {
		log.Warn("ignoring track", "err", err)
		return
	}
	log.Info("track started", "roles", tr.RoleNames())
	// One buffer and one packet for the track's life: ReadRTP would
	// allocate both for every packet (1.5 KB, 50 times a second per
	// track), garbage the collector then spends time on. Packet is done
	// with the payload when it returns (it decodes it there).
	buf := make([]byte, readBufferBytes)
	var pkt rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			log.Debug("track ended", "err", err)
			tr.End()
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			// SRTP authenticated it, so this is a sender's bug: skip the
			// packet, as a lost one, rather than end the track.
			log.Debug("bad RTP packet", "err", err)
			continue
		}
		if !tr.Packet(pkt.SequenceNumber, pkt.Timestamp, pkt.Payload, time.Now()) {
			return
		}
	}
}

// readBufferBytes holds any packet a track delivers: pion's receive MTU
// is 1460 bytes by default, and an Ethernet frame cannot carry more than
// 1500.
const readBufferBytes = 1500
