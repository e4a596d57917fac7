package live

import (
	"errors"
	"log/slog"
	"strings"
	"time"

	"talkratio/audio"
	"talkratio/tally"
)

// TrackSpec says what a track carries.
type TrackSpec struct {
	// Codec is the payload's MIME type: audio/opus, audio/PCMU or
	// audio/PCMA (any case).
	Codec string
	// Roles is the role of each channel the payload decodes to: one, or
	// two for a stereo track (rep and customer in either order).
	Roles []tally.Role
	// SendStart: no packet of the track was sent before it (its
	// connection came up); zero when not known, and then the track starts
	// where its first packet arrives.
	SendStart time.Time
	// Stereo: the track is meant to carry both sides; a warning is logged
	// once if it carries mono.
	Stereo bool
	// Log is the track's logger; nil for the call's.
	Log *slog.Logger
}

// Track turns one track's packets into timed, decoded audio for its call:
// loss accounting, timestamp unwrapping, decoding. Its Packet method is
// called from one goroutine, the track's read loop.
type Track struct {
	c      *Call
	log    *slog.Logger
	roles  []tally.Role // one per decoded channel
	names  []string
	codec  string
	dec    audio.PacketDecoder
	clock  *trackClock
	seq    seqTracker
	ts     tsUnwrapper
	buf    [][]float32
	stereo bool // a stereo-mapped track: warn once if it carries mono
	warned bool
}

// NewTrack starts a track of the call.
func (c *Call) NewTrack(spec TrackSpec) (*Track, error) {
	if len(spec.Roles) == 0 {
		return nil, errors.New("no role for this track")
	}
	dec, err := audio.NewPacketDecoder(spec.Codec, AnalysisRate, len(spec.Roles))
	if err != nil {
		return nil, err
	}
	if spec.Log == nil {
		spec.Log = c.log
	}
	t := &Track{
		c: c, log: spec.Log, roles: spec.Roles, dec: dec, stereo: spec.Stereo,
		codec: strings.ToLower(strings.TrimPrefix(spec.Codec, "audio/")),
		clock: &trackClock{clockRate: dec.ClockRate(), sendStart: spec.SendStart},
		buf:   make([][]float32, len(spec.Roles)),
	}
	for i, r := range spec.Roles {
		t.names = append(t.names, r.String())
		t.buf[i] = make([]float32, audio.MaxPacketSamples)
	}
	return t, nil
}

// RoleNames names the roles of the track's channels.
func (t *Track) RoleNames() []string { return t.names }

// Packet handles one packet that arrived at at: its RTP sequence number
// and timestamp, and its payload. It returns false once the call is over.
func (t *Track) Packet(seqNo uint16, ts uint32, payload []byte, at time.Time) bool {
	m := t.c.cfg.Metrics
	seq := t.seq.extend(seqNo)
	lost := t.seq.update(seqNo)
	for _, r := range t.roles {
		m.Received(r, lost)
	}
	pos := t.ts.unwrap(ts)
	if len(payload) == 0 {
		return true // padding only
	}
	if t.stereo && !t.warned && !audio.IsStereoOpus(payload) {
		t.warned = true
		t.log.Warn("stereo session gets mono Opus: both roles hear the same audio; publish two tracks or one session per role instead")
	}
	p := pcm{track: t.clock, roles: t.roles, seq: seq, ts: pos, at: at}
	n, err := t.dec.Decode(payload, t.buf)
	if err != nil {
		// Its audio is lost, but the packet still tells the call how far
		// the sender's clock has come.
		m.DecodeError(t.codec)
	} else {
		p.samples = make([][]float32, len(t.roles))
		for i := range t.roles {
			p.samples[i] = t.c.parent.getSamples(n)
			copy(p.samples[i], t.buf[i][:n])
		}
	}
	return t.c.deliver(p)
}

// End tells the call that the track has ended (its read loop is over):
// what it sent is all there is, and the call stops waiting for more.
func (t *Track) End() {
	t.c.deliver(pcm{track: t.clock, roles: t.roles, end: true})
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
