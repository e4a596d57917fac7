package live

import (
	"slices"
	"time"

	"talkratio/tally"
)

// AnalysisRate is the one rate live calls are analyzed (and recorded) at:
// Opus decodes straight to it and G.711 is repeated up to it. 16 kHz keeps
// the speech band whole; the detector averages down to 8 kHz before
// measuring.
const AnalysisRate = 16000

// Live pipeline timing. Media is placed by its own clock (RTP timestamps);
// the analysis follows the audio that has arrived, never the wall clock, so
// a sender that falls behind and then catches up loses nothing.
const (
	// snapshotInterval: the dashboard gets 10 snapshots a second, so a
	// packet waits at most 100 ms for the next one.
	snapshotInterval = 100 * time.Millisecond
	// maxSkew: how far (call time) one side's audio may run ahead of the
	// other's before the analysis stops waiting for the other: what the
	// other side did not send by then is missing audio. Long enough that
	// a sender stalled for a second (a busy laptop, a backgrounded tab, a
	// network stall) catches up with its backlog in time; short enough
	// that a side that went silent without a word (silence suppression
	// without keep-alives, a dropped peer) holds the meter's figures back
	// by no more than this. Opus DTX sends a packet every 400 ms, which
	// settles its silences far sooner.
	maxSkew = 2 * time.Second
	// maxStall: how long a side that has never been quiet on the wire
	// (every packet so far followed the one before, timestamps without a
	// gap: no DTX, no silence suppression) is waited for when its packets
	// stop. Such a sender does not fall silent, it stalls: a browser's
	// encoder starved on a busy machine held one track 2 s while the other
	// went on, then sent the backlog. Its audio is coming; waiting for it
	// costs the meter's figures a few seconds, dropping it costs the call's
	// numbers. A track that ends is not waited for at all.
	maxStall = 8 * time.Second
	// quietGapMin: a timestamp gap after the next packet in sequence at
	// least this long is the sender being quiet on purpose (DTX, silence
	// suppression); shorter is a sender's timestamp rounding.
	quietGapMin = 20 * time.Millisecond
	// joinWait: for this long after the call's first packet arrives (real
	// time), a side not heard from yet holds the analysis up: the two
	// tracks of one sender start together, but a busy service may start
	// reading one of them seconds later (its packets wait in a buffer and
	// then come in a burst). A side that joins later (a session of its
	// own) starts where it arrives.
	joinWait = 3 * time.Second
	// anchorWait: while the call is joining, a track's first packets are
	// held this long (real time, from the first) before the track is put
	// on the call clock, by the least delayed of them: a track whose
	// reading started late is lined up by its timestamps, not by when its
	// backlog was read. Longer than any such burst takes to read.
	anchorWait = 500 * time.Millisecond
	// reorderHold: a hole in a side's audio (lost packets) waits until that
	// side's audio has gone this far past it before it is taken as
	// missing: a packet delayed by network jitter lands in its place.
	// Jitter of 50 ms puts packets up to ~70 ms out of order.
	reorderHold = 200 * time.Millisecond
	// maxLead: how far a track's RTP clock may run ahead of real time (the
	// arrival of its first packet plus the time since). A real sender is
	// ahead by no more than the delay its first packet had; a clock that
	// runs further ahead is fast or bogus (one publisher stepped 4.9 s per
	// 20 ms packet) and would turn seconds of sending into hours of call,
	// so its packets are placed by arrival time instead.
	maxLead = 3 * time.Second
	// maxJumpBack: a packet whose timestamp is this far behind its track's
	// newest audio comes from a restarted clock (nothing is reordered by
	// seconds), and the track is re-anchored where arrival time puts it.
	maxJumpBack = 5 * time.Second
	// ringDuration of samples per channel is held for placement: one side
	// may be maxSkew behind while the other runs maxLead ahead of real
	// time, plus room for a burst. A call whose continuous side stalls
	// grows its ring, once, to maxRingDuration (most calls never do: 0.77
	// MB against 1.5 MB a call).
	ringDuration    = maxSkew + maxLead + time.Second
	maxRingDuration = maxStall + maxLead + time.Second
	// provisionalAfter: when no packet has come for this long (a stall,
	// both sides silent without keep-alives), the meter's clock runs on by
	// wall time, provisionally, for at most maxSkew: the figures wait for
	// the audio, the clock does not.
	provisionalAfter = 200 * time.Millisecond
	// aheadLogEvery: a track whose clock runs ahead is logged once, then
	// at most this often, with the count since.
	aheadLogEvery = 10 * time.Second
)

// pcm is a decoded packet on its way from a track to its call.
type pcm struct {
	track   *trackClock
	roles   []tally.Role // the role of each decoded channel
	seq     int64        // extended RTP sequence number
	ts      int64        // unwrapped RTP timestamp
	samples [][]float32  // per role; empty when the payload did not decode
	at      time.Time
	end     bool // not a packet: the track has ended
}

// trackClock places one track's packets on the call clock.
type trackClock struct {
	clockRate int
	anchored  bool
	anchorTS  int64 // RTP timestamp of the anchor packet
	anchorPos int64 // its call position (samples at AnalysisRate)
	// Before it is anchored: the packets held (see anchorWait), the first
	// one's arrival and timestamp, and the earliest real time the held
	// packets say the track's first timestamp was sent at.
	held       []pcm
	heldSince  time.Time
	ts0        int64
	mediaStart time.Time
	// sendStart: no packet of the track was sent before (its session's
	// connection); a backlog cannot reach back further. Zero: not known,
	// and then the track starts where its first packet arrived.
	sendStart time.Time
	lastSeq   int64 // the newest packet's sequence number
	lastEnd   int64 // the end of the newest packet's audio (call position)
	// lastLost: the newest packet did not decode, so the audio after
	// lastEnd is not known to be silence.
	lastLost bool
	// Packets ahead of real time, and late ones, since the last log line
	// about them, and when that was.
	ahead, late         int
	aheadLast, lateLast time.Time
}

// position is where the track's clock puts RTP timestamp ts.
func (k *trackClock) position(ts int64) int64 {
	return k.anchorPos + (ts-k.anchorTS)*AnalysisRate/int64(k.clockRate)
}

// wallPos is the call position real time puts an arrival at.
func (c *Call) wallPos(at time.Time) int64 {
	return int64(at.Sub(c.start).Seconds() * AnalysisRate)
}

// place writes a packet at its position on the call clock: its track's RTP
// time, anchored where its first packets arrived.
func (c *Call) place(p pcm) {
	if p.end {
		c.trackEnded(p)
		return
	}
	if c.firstPkt.IsZero() {
		c.firstPkt, c.start = p.at, p.at
	}
	c.lastPkt = p.at
	k := p.track
	if k.anchored {
		c.placeAnchored(p)
		return
	}
	if k.held == nil {
		k.heldSince, k.ts0 = p.at, p.ts
		c.holding = append(c.holding, k)
	}
	// The real time this packet says the track's first timestamp was sent
	// at: the least delayed packet says it best. A sender faster than real
	// time (or a fast clock) says "long ago": no earlier than its session
	// could send, nor than its first packet when that is not known.
	started := p.at.Add(-k.duration(p.ts - k.ts0))
	if k.sendStart.IsZero() {
		started = k.heldSince
	}
	if started.Before(k.sendStart) {
		started = k.sendStart
	}
	if k.mediaStart.IsZero() || started.Before(k.mediaStart) {
		k.mediaStart = started
	}
	k.held = append(k.held, p)
	if c.joining() && p.at.Sub(k.heldSince) < anchorWait {
		return
	}
	c.anchor(k)
}

// trackEnded places what an ended track still held, and stops waiting for
// its roles' audio.
func (c *Call) trackEnded(p pcm) {
	if k := p.track; !k.anchored && k.held != nil {
		c.anchor(k)
	}
	for _, r := range p.roles {
		c.tl.gone[r] = true
	}
}

// joining reports whether the call is in its first joinWait.
func (c *Call) joining() bool { return c.lastPkt.Sub(c.firstPkt) < joinWait }

// duration is how long d RTP ticks of the track last.
func (k *trackClock) duration(d int64) time.Duration {
	return time.Duration(d) * time.Second / time.Duration(k.clockRate)
}

// anchor puts a track on the call clock where its held packets say it
// started, and places them. The call's first track to be anchored sets the
// call's origin, at the earliest start any held track shows.
func (c *Call) anchor(k *trackClock) {
	if !c.tl.seen[0] && !c.tl.seen[1] && c.tl.base == 0 {
		for _, h := range c.holding {
			if h.mediaStart.Before(c.start) {
				c.start = h.mediaStart
			}
		}
	}
	pos := max(c.wallPos(k.mediaStart), c.tl.base)
	k.anchored, k.anchorTS, k.anchorPos = true, k.ts0, pos
	held := k.held
	k.held = nil
	k.lastSeq, k.lastEnd = held[0].seq-1, pos
	c.holding = slices.DeleteFunc(c.holding, func(h *trackClock) bool { return h == k })
	for _, q := range held {
		c.placeAnchored(q)
	}
}

// anchorHeld anchors every track still holding its first packets.
func (c *Call) anchorHeld() {
	for len(c.holding) > 0 {
		c.anchor(c.holding[0])
	}
}

// placeAnchored places a packet of an anchored track.
func (c *Call) placeAnchored(p pcm) {
	k := p.track
	n := 0
	if len(p.samples) > 0 {
		n = len(p.samples[0])
	}
	wall := c.wallPos(p.at)
	lead := wall + int64(maxLead.Seconds()*AnalysisRate)
	pos := k.position(p.ts)
	if jumpedBack := pos < k.lastEnd-int64(maxJumpBack.Seconds()*AnalysisRate); jumpedBack || pos+int64(n) > lead {
		// A clock far ahead of real time or jumped back: the packet goes
		// where it arrived, after the track's own audio.
		pos = max(wall, k.lastEnd, c.tl.base)
		if jumpedBack {
			c.log.Warn("RTP timestamp jumped back: re-anchored the track on arrival time", "roles", roleNames(p.roles))
		} else {
			c.aheadOfRealTime(p)
		}
		if pos+int64(n) > lead {
			// The track's own audio is already maxLead ahead: a sender
			// faster than real time (a recording replayed at speed). The
			// packet is dropped.
			if p.seq > k.lastSeq {
				k.lastSeq, k.lastLost = p.seq, true
			}
			for _, smp := range p.samples {
				c.parent.putSamples(smp)
			}
			return
		}
		k.anchorTS, k.anchorPos = p.ts, pos
	}
	end := pos + int64(n)
	if over := c.tl.room(end); over > 0 {
		if size := int64(maxRingDuration.Seconds() * AnalysisRate); c.tl.size() < size {
			c.tl.grow(size)
		}
		if over := c.tl.room(end); over > 0 {
			c.analyze(c.tl.base + over)
		}
	}
	// The next packet in sequence, later than the audio before it: the
	// sender sent nothing in between on purpose (DTX, silence suppression).
	// That is silence; a gap in the sequence is loss, and stays unknown.
	dtx := p.seq == k.lastSeq+1 && pos > k.lastEnd && !k.lastLost
	quiet := dtx && pos-k.lastEnd >= int64(quietGapMin.Seconds()*AnalysisRate)
	for i, r := range p.roles {
		if dtx {
			c.tl.silent(int(r), k.lastEnd, pos)
		}
		if quiet {
			c.tl.quiet[r] = true
		}
		c.tl.gone[r] = false
		if n > 0 {
			if late := c.tl.put(int(r), pos, p.samples[i], p.at); late > 0 {
				c.cfg.Metrics.Late(r)
				c.lateLog(p, r, pos)
			}
		}
	}
	if p.seq > k.lastSeq {
		k.lastSeq, k.lastEnd, k.lastLost = p.seq, end, n == 0
	}
	for _, smp := range p.samples {
		c.parent.putSamples(smp)
	}
}

// aheadOfRealTime counts a packet whose RTP clock ran ahead of real time
// (placed by arrival instead, or dropped) and logs it: once, then at most
// every aheadLogEvery.
func (c *Call) aheadOfRealTime(p pcm) {
	for _, r := range p.roles {
		c.cfg.Metrics.Ahead(r)
	}
	k := p.track
	k.ahead++
	if k.aheadLast.IsZero() || p.at.Sub(k.aheadLast) >= aheadLogEvery {
		c.log.Warn("RTP clock runs ahead of real time: packets placed by arrival time instead",
			"roles", roleNames(p.roles), "packets", k.ahead, "max_lead", maxLead.String())
		k.ahead, k.aheadLast = 0, p.at
	}
}

// lateLog logs a packet whose audio was analyzed before it came (its side
// was more than maxSkew behind the other): once, then at most every
// aheadLogEvery, with the count since.
func (c *Call) lateLog(p pcm, r tally.Role, pos int64) {
	k := p.track
	k.late++
	if k.lateLast.IsZero() || p.at.Sub(k.lateLast) >= aheadLogEvery {
		c.log.Warn("packets came after their audio was analyzed: dropped", "role", r.String(), "packets", k.late,
			"behind_s", float64(c.tl.base-pos)/AnalysisRate, "wall_s", float64(c.wallPos(p.at))/AnalysisRate,
			"analyzed_s", float64(c.tl.base)/AnalysisRate, "reach_s", float64(max(c.tl.written[0], c.tl.written[1]))/AnalysisRate)
		k.late, k.lateLast = 0, p.at
	}
}

func roleNames(rs []tally.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// commitTarget is how far the analysis may go: as far as every side that
// has sent audio is settled (its audio placed, its silences declared, its
// lost packets given up on), except that a side more than maxSkew behind
// the furthest audio is not waited for (maxStall for a side never quiet on
// the wire; not at all for a side whose tracks ended). A side never heard
// from holds everything up for the call's first joinWait. Only arrived
// audio moves it, never the wall clock: a call whose senders all stall
// waits for them.
func (c *Call) commitTarget() int64 {
	if c.joining() && len(c.holding) > 0 {
		return c.tl.base
	}
	t := c.tl
	reach := max(t.written[0], t.written[1])
	slack := int64(reorderHold.Seconds() * AnalysisRate)
	target := reach
	for ch := range t.seen {
		switch {
		case t.seen[ch] && t.gone[ch]:
			// Nothing more is coming for it: no wait.
		case t.seen[ch]:
			wait := maxStall
			if t.quiet[ch] {
				wait = maxSkew
			}
			target = min(target, max(t.settled(ch, slack), reach-int64(wait.Seconds()*AnalysisRate)))
		case c.joining():
			target = t.base
		}
	}
	return target
}

// clockAt is the meter's clock at now (s): the call time analyzed, or the
// furthest audio that has arrived; when none has come for provisionalAfter,
// running on by wall time for up to maxSkew. Past the analyzed time it is
// provisional: the figures are those of the analyzed time.
func (c *Call) clockAt(now time.Time) float64 {
	reach := float64(max(c.tl.written[0], c.tl.written[1])) / AnalysisRate
	t := max(c.an.Now(), reach)
	if idle := now.Sub(c.lastPkt); !c.lastPkt.IsZero() && c.tl.seen != [2]bool{} && idle > provisionalAfter {
		t = max(t, reach+min(idle, maxSkew).Seconds())
	}
	c.shownNow = max(c.shownNow, t)
	return c.shownNow
}
