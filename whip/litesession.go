package whip

import (
	"time"

	"github.com/pion/rtp"

	"talkratio/icelite"
	"talkratio/live"
)

// Media paths (Config.Media).
const (
	// MediaLite receives every session on one UDP port as an ICE-lite
	// agent (package icelite): a packet is read, decrypted, decoded and
	// analyzed in one goroutine.
	MediaLite = "lite"
	// MediaPion runs a pion PeerConnection per session.
	MediaPion = "pion"
)

// liteSession is a session's media on the ICE-lite path: the icelite
// session, and the call's tracks by SSRC. It is the icelite.Handler.
type liteSession struct {
	sess  *session
	offer *liteOffer
	ice   *icelite.Session
	// tracks is used by RTP alone (icelite never overlaps its calls),
	// then by close, after the icelite session is closed.
	tracks map[uint32]*liteTrack
}

// liteTrack is one SSRC of the session.
type liteTrack struct {
	t    *live.Track // nil: not a track the session takes
	pt   uint8
	done bool // the call is over
}

var _ icelite.Handler = (*liteSession)(nil)

// Connected is when the session's media may begin: no packet was sent
// before (the tracks' clocks start there).
func (ls *liteSession) Connected() {
	ls.sess.connected.CompareAndSwap(0, time.Now().UnixNano())
	ls.sess.log.Debug("connected")
}

// Ended ends the session, off icelite's goroutine (ending closes the
// icelite session, which may be waiting for that goroutine).
func (ls *liteSession) Ended(failed bool, why string) {
	reason := live.EndClosed
	if failed {
		reason = live.EndFailed
		ls.sess.log.Info("connection failed", "why", why)
	} else {
		ls.sess.log.Info("connection closed", "why", why)
	}
	go ls.sess.end(reason)
}

// RTP hands a packet to its track, which the SSRC's first packet starts.
func (ls *liteSession) RTP(h *rtp.Header, payload []byte, at time.Time) {
	tr := ls.tracks[h.SSRC]
	if tr == nil {
		if tr = ls.newTrack(h); tr == nil {
			return
		}
		ls.tracks[h.SSRC] = tr
	}
	if tr.t == nil || tr.done || h.PayloadType != tr.pt {
		return // not audio the session takes (a refused track, comfort noise, DTMF)
	}
	if !tr.t.Packet(h.SequenceNumber, h.Timestamp, payload, at) {
		tr.done = true
	}
}

// newTrack starts the track of an SSRC: its m-line is the one the offer's
// a=ssrc names, else the one its RTP mid extension names, else the only
// one; its codec is its first audio packet's payload type. It returns nil
// for a packet that decides nothing yet (a payload type the answer did
// not list), and a track without t for an SSRC the session refuses.
func (ls *liteSession) newTrack(h *rtp.Header) *liteTrack {
	l := ls.offer.lineFor(h)
	if l == nil {
		ls.sess.log.Info("ignoring an SSRC no m-line claims", "ssrc", h.SSRC)
		return &liteTrack{}
	}
	c, ok := l.codec(h.PayloadType)
	if !ok {
		return nil
	}
	log := ls.sess.log.With("mid", l.mid, "codec", c.mime)
	t, err := ls.sess.call.NewTrack(live.TrackSpec{
		Codec: c.mime, Roles: ls.sess.plan.rolesFor(l.mid), Log: log,
		SendStart: ls.sess.mediaSince(), Stereo: ls.sess.plan.mode == stereoTrack,
	})
	if err != nil {
		log.Warn("ignoring track", "err", err)
		return &liteTrack{}
	}
	log.Info("track started", "roles", t.RoleNames())
	return &liteTrack{t: t, pt: h.PayloadType}
}

// close closes the icelite session, after which no packet reaches the
// tracks, and ends them.
func (ls *liteSession) close() {
	ls.ice.Close()
	for _, tr := range ls.tracks {
		if tr.t != nil && !tr.done {
			tr.t.End()
		}
	}
}
