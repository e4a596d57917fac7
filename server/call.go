package server

import (
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"talkratio/audio"
	"talkratio/vad"
)

// Live analysis runs at one rate for every call: Opus decodes straight to
// it and G.711 is repeated up to it. 16 kHz keeps the speech band whole;
// the detector averages down to 8 kHz before measuring.
const analysisRate = 16000

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
	// time, plus room for a burst.
	ringDuration = maxSkew + maxLead + time.Second
	// provisionalAfter: when no packet has come for this long (a stall,
	// both sides silent without keep-alives), the meter's clock runs on by
	// wall time, provisionally, for at most maxSkew: the figures wait for
	// the audio, the clock does not.
	provisionalAfter = 200 * time.Millisecond
	// aheadLogEvery: a track whose clock runs ahead is logged once, then
	// at most this often, with the count since.
	aheadLogEvery = 10 * time.Second
	// unwatchedRefresh: how often a call nobody watches refreshes the view
	// the API lists.
	unwatchedRefresh = time.Second
	// timelineWindow of segments go out with each snapshot.
	timelineWindowS = 300.0
	// pcmQueue: decoded packets waiting for the call's goroutine.
	pcmQueue = 512
)

// pcm is a decoded packet on its way from a track to its call.
type pcm struct {
	track   *trackClock
	roles   []vad.Role  // the role of each decoded channel
	seq     int64       // extended RTP sequence number
	ts      int64       // unwrapped RTP timestamp
	samples [][]float32 // per role; empty when the payload did not decode
	at      time.Time
}

// trackClock places one track's packets on the call clock.
type trackClock struct {
	clockRate int
	anchored  bool
	anchorTS  int64 // RTP timestamp of the anchor packet
	anchorPos int64 // its call position (samples at analysisRate)
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
	return k.anchorPos + (ts-k.anchorTS)*analysisRate/int64(k.clockRate)
}

// Call is one live call: one goroutine (run) owns the timeline, the
// analyzer and the snapshots; tracks hand it decoded packets.
type Call struct {
	srv  *Server
	rec  CallRecord // metadata; Result filled at the end
	log  *slog.Logger
	in   chan pcm
	done chan struct{} // closed when the call must end
	over chan struct{} // closed when run has stored the call

	endOnce   sync.Once
	endReason string

	// live is the latest view of the call, for the API (read by other
	// goroutines; written by run).
	live atomic.Pointer[vad.Live]

	mu       sync.Mutex
	sessions map[*session]struct{}
	roles    map[vad.Role]*session // which session carries which role (per-role sessions)

	// owned by run
	an        *vad.Analyzer
	recFile   AudioFile // with -record-audio: the audio being kept
	recWAV    *audio.WAVWriter
	tl        *timeline
	start     time.Time     // real time of call position 0
	firstPkt  time.Time     // arrival of the call's first packet
	lastPkt   time.Time     // arrival of the latest packet
	holding   []*trackClock // tracks whose first packets are held
	shownNow  float64       // the meter's clock as last published (s), kept monotonic
	liveAt    time.Time     // when live was last refreshed
	analyzedS float64       // seconds counted into the analyzed metric
}

func newCall(srv *Server, rec CallRecord) (*Call, error) {
	an, err := vad.NewAnalyzer(vad.DefaultConfig(), srv.tallyConfig(), analysisRate)
	if err != nil {
		return nil, err
	}
	c := &Call{
		srv:      srv,
		rec:      rec,
		log:      srv.log.With("call", rec.ID),
		in:       make(chan pcm, pcmQueue),
		done:     make(chan struct{}),
		over:     make(chan struct{}),
		sessions: map[*session]struct{}{},
		roles:    map[vad.Role]*session{},
		an:       an,
		tl:       newTimeline(int(ringDuration.Seconds() * analysisRate)),
	}
	if srv.cfg.RecordAudio {
		if err := c.startRecording(); err != nil {
			// Analysis matters more than the recording: go on without.
			c.log.Error("cannot record this call's audio", "err", err)
		}
	}
	return c, nil
}

// startRecording opens the call's audio file: both channels as analyzed,
// rep left and customer right, at the analysis rate.
func (c *Call) startRecording() error {
	as, ok := c.srv.store.(AudioStore)
	if !ok {
		return errors.New("the store keeps no audio (serve -data DIR)")
	}
	f, err := as.NewAudio(c.rec.ID)
	if err != nil {
		return err
	}
	w, err := audio.NewWAVWriter(f, analysisRate, 2)
	if err != nil {
		f.Abort()
		return err
	}
	c.recFile, c.recWAV = f, w
	return nil
}

// stopRecording completes the audio file; it reports whether the call now
// has audio.
func (c *Call) stopRecording() bool {
	if c.recWAV == nil {
		return false
	}
	err := c.recWAV.Close()
	if err == nil {
		err = c.recFile.Commit()
	} else {
		c.recFile.Abort()
	}
	if err != nil {
		c.log.Error("recording", "err", err)
		return false
	}
	return true
}

// ID is the call's public id.
func (c *Call) ID() string { return c.rec.ID }

// end asks the call to finish; the first reason given wins.
func (c *Call) end(reason string) {
	c.endOnce.Do(func() {
		c.endReason = reason
		close(c.done)
	})
}

// deliver hands a decoded packet to the call, unless it is over.
func (c *Call) deliver(p pcm) bool {
	select {
	case c.in <- p:
		return true
	case <-c.done:
		return false
	}
}

// run is the call's goroutine. It returns once the call is stored.
func (c *Call) run() {
	defer close(c.over)
	tick := time.NewTicker(snapshotInterval)
	defer tick.Stop()
	for {
		select {
		case p := <-c.in:
			c.place(p)
			c.analyze(c.commitTarget())
		case now := <-tick.C:
			c.publish(now)
		case <-c.done:
			c.finish()
			return
		}
	}
}

// wallPos is the call position real time puts an arrival at.
func (c *Call) wallPos(at time.Time) int64 {
	return int64(at.Sub(c.start).Seconds() * analysisRate)
}

// place writes a packet at its position on the call clock: its track's RTP
// time, anchored where its first packets arrived.
func (c *Call) place(p pcm) {
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
	lead := wall + int64(maxLead.Seconds()*analysisRate)
	pos := k.position(p.ts)
	if jumpedBack := pos < k.lastEnd-int64(maxJumpBack.Seconds()*analysisRate); jumpedBack || pos+int64(n) > lead {
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
				c.srv.putSamples(smp)
			}
			return
		}
		k.anchorTS, k.anchorPos = p.ts, pos
	}
	end := pos + int64(n)
	if over := c.tl.room(end); over > 0 {
		c.analyze(c.tl.base + over)
	}
	// The next packet in sequence, later than the audio before it: the
	// sender sent nothing in between on purpose (DTX, silence suppression).
	// That is silence; a gap in the sequence is loss, and stays unknown.
	dtx := p.seq == k.lastSeq+1 && pos > k.lastEnd && !k.lastLost
	for i, r := range p.roles {
		if dtx {
			c.tl.silent(int(r), k.lastEnd, pos)
		}
		if n > 0 {
			if late := c.tl.put(int(r), pos, p.samples[i], p.at); late > 0 {
				c.srv.m.lateBy[r].Inc()
				c.lateLog(p, r, pos)
			}
		}
	}
	if p.seq > k.lastSeq {
		k.lastSeq, k.lastEnd, k.lastLost = p.seq, end, n == 0
	}
	for _, smp := range p.samples {
		c.srv.putSamples(smp)
	}
}

// aheadOfRealTime counts a packet whose RTP clock ran ahead of real time
// (placed by arrival instead, or dropped) and logs it: once, then at most
// every aheadLogEvery.
func (c *Call) aheadOfRealTime(p pcm) {
	for _, r := range p.roles {
		c.srv.m.aheadBy[r].Inc()
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
func (c *Call) lateLog(p pcm, r vad.Role, pos int64) {
	k := p.track
	k.late++
	if k.lateLast.IsZero() || p.at.Sub(k.lateLast) >= aheadLogEvery {
		c.log.Warn("packets came after their audio was analyzed: dropped", "role", r.String(), "packets", k.late,
			"behind_s", float64(c.tl.base-pos)/analysisRate, "wall_s", float64(c.wallPos(p.at))/analysisRate,
			"analyzed_s", float64(c.tl.base)/analysisRate, "reach_s", float64(max(c.tl.written[0], c.tl.written[1]))/analysisRate)
		k.late, k.lateLast = 0, p.at
	}
}

func roleNames(rs []vad.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// commitTarget is how far the analysis may go: as far as every side that
// has sent audio is settled (its audio placed, its silences declared, its
// lost packets given up on), except that a side more than maxSkew behind
// the furthest audio is not waited for. A side never heard from holds
// everything up for the call's first joinWait. Only arrived audio moves it,
// never the wall clock: a call whose senders all stall waits for them.
func (c *Call) commitTarget() int64 {
	if c.joining() && len(c.holding) > 0 {
		return c.tl.base
	}
	t := c.tl
	reach := max(t.written[0], t.written[1])
	skew := int64(maxSkew.Seconds() * analysisRate)
	slack := int64(reorderHold.Seconds() * analysisRate)
	target := reach
	for ch := range t.seen {
		switch {
		case t.seen[ch]:
			target = min(target, max(t.settled(ch, slack), reach-skew))
		case c.joining():
			target = t.base
		}
	}
	return target
}

// analyze runs the detector on the timeline up to call position upto.
// Where neither side's audio is known the analyzer is told it is missing;
// where one side's is, it gets that side's audio, the other side as
// silence, and the tally hears that the other side is missing.
func (c *Call) analyze(upto int64) {
	if upto <= c.tl.base {
		return
	}
	c.tl.consume(upto, func(rep, cust []float32, known [2]bool) {
		var err error
		switch {
		case !known[0] && !known[1]:
			err = c.an.WriteMissing(len(rep))
		case !known[0] || !known[1]:
			if err = c.an.MarkMissing(len(rep)); err == nil {
				err = c.an.Write(rep, cust)
			}
		default:
			err = c.an.Write(rep, cust)
		}
		// Equal lengths by construction; an error here is a bug.
		if err != nil {
			c.log.Error("analyze", "err", err)
		}
		for i, r := range vad.Roles {
			if !known[i] {
				c.srv.m.missingBy[r].Add(float64(len(rep)) / analysisRate)
			}
		}
		// The recording keeps call time: missing audio is silence there.
		if c.recWAV != nil {
			if err := c.recWAV.Write([][]float32{rep, cust}); err != nil {
				c.log.Error("recording stopped", "err", err)
				c.recFile.Abort()
				c.recWAV, c.recFile = nil, nil
			}
		}
	})
	s := float64(c.tl.base) / analysisRate
	for _, r := range vad.Roles {
		c.srv.m.analyzedBy[r].Add(s - c.analyzedS)
	}
	c.analyzedS = s
}

// clockAt is the meter's clock at now (s): the call time analyzed, or the
// furthest audio that has arrived; when none has come for provisionalAfter,
// running on by wall time for up to maxSkew. Past the analyzed time it is
// provisional: the figures are those of the analyzed time.
func (c *Call) clockAt(now time.Time) float64 {
	reach := float64(max(c.tl.written[0], c.tl.written[1])) / analysisRate
	t := max(c.an.Now(), reach)
	if idle := now.Sub(c.lastPkt); !c.lastPkt.IsZero() && c.tl.seen != [2]bool{} && idle > provisionalAfter {
		t = max(t, reach+min(idle, maxSkew).Seconds())
	}
	c.shownNow = max(c.shownNow, t)
	return c.shownNow
}

// publishFinal sends the ended call's last snapshot: the stored record's,
// the same a viewer opening the ended call gets.
func (c *Call) publishFinal(rec *CallRecord) {
	msg, err := json.Marshal(recordSnapshot(rec, c.srv.cfg.MonologueNudge.Seconds()))
	if err != nil {
		c.log.Error("snapshot", "err", err)
		return
	}
	c.srv.fan.Publish(c.rec.ID, msg, true)
}

// publish sends a snapshot to the call's viewers and records how long the
// packets it covers waited since they arrived.
func (c *Call) publish(now time.Time) {
	arrivals := c.tl.takeAnalyzed() // valid until the next analyze
	watched := c.srv.fan.Viewers(c.rec.ID) > 0
	// Unwatched, the view is only for the call list, which polls every few
	// seconds: refresh it once a second rather than every tick.
	if !watched && now.Sub(c.liveAt) < unwatchedRefresh {
		return
	}
	c.liveAt = now
	l := c.an.Live(timelineWindowS)
	c.live.Store(&l)
	if !watched {
		return
	}
	msg, err := json.Marshal(c.snapshot(l, c.clockAt(now)))
	if err != nil {
		c.log.Error("snapshot", "err", err)
		return
	}
	c.srv.fan.Publish(c.rec.ID, msg, false)
	sent := time.Now()
	for _, at := range arrivals {
		c.srv.m.latency.Observe(sent.Sub(at).Seconds())
	}
}

// finish analyzes what is left, closes the sessions and stores the call.
func (c *Call) finish() {
	// Whatever is already written is part of the call; nothing more comes.
	c.anchorHeld()
	c.analyze(max(c.tl.written[0], c.tl.written[1]))
	c.an.Close()
	c.closeSessions()
	res := c.an.Result()
	meter := vad.MeterSeries(res.Segments, res.DurationS, meterStepS, c.srv.tallyConfig())
	c.mu.Lock()
	rec := c.rec // the API reads c.rec until the call is removed
	c.mu.Unlock()
	rec.Result, rec.Meter = &res, &meter
	rec.DurationS, rec.State = res.DurationS, stateEnded
	rec.HasAudio = c.stopRecording()
	c.srv.m.speechBy[vad.Rep].Add(res.RepTalkS)
	c.srv.m.speechBy[vad.Customer].Add(res.CustomerTalkS)
	if err := c.srv.store.Put(&rec); err != nil {
		c.log.Error("store call", "err", err)
	}
	c.srv.m.callsEnded.WithLabelValues(c.endReason).Inc()
	c.srv.m.callsActive.Dec()
	c.publishFinal(&rec)
	c.srv.fan.Forget(c.rec.ID)
	c.srv.removeCall(c)
	c.log.Info("call ended", "reason", c.endReason, "duration_s", res.DurationS, "listen_pct", res.ListenPct)
}

func (c *Call) closeSessions() {
	c.mu.Lock()
	ss := make([]*session, 0, len(c.sessions))
	for s := range c.sessions {
		ss = append(ss, s)
	}
	c.mu.Unlock()
	for _, s := range ss {
		s.close()
	}
}

// attach adds a session; roles it carries must be free.
func (c *Call) attach(s *session, roles []vad.Role) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return errCallOver
	default:
	}
	for _, r := range roles {
		if c.roles[r] != nil {
			return errRoleTaken
		}
	}
	for _, r := range roles {
		c.roles[r] = s
	}
	c.sessions[s] = struct{}{}
	return nil
}

// detach removes a session; the call ends with its last session.
func (c *Call) detach(s *session, reason string) {
	c.mu.Lock()
	if _, ok := c.sessions[s]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.sessions, s)
	for r, x := range c.roles {
		if x == s {
			delete(c.roles, r)
		}
	}
	last := len(c.sessions) == 0
	c.mu.Unlock()
	if last {
		c.end(reason)
	}
}

// snapshotMsg is the websocket message; see README for the schema.
type snapshotMsg struct {
	Type              string         `json:"type"`
	Call              callInfo       `json:"call"`
	NowS              float64        `json:"now_s"`
	TargetListenPct   float64        `json:"target_listen_pct"`
	ListenPct         *float64       `json:"listen_pct"`
	RecentListenPct   *float64       `json:"recent_listen_pct"`
	RecentWindowS     float64        `json:"recent_window_s"`
	RepTalkS          float64        `json:"rep_talk_s"`
	CustomerTalkS     float64        `json:"customer_talk_s"`
	RepSharePct       float64        `json:"rep_share_pct"`
	CustomerSharePct  float64        `json:"customer_share_pct"`
	OnTarget          bool           `json:"on_target"`
	OverlapS          float64        `json:"overlap_s"`
	MutualSilenceS    float64        `json:"mutual_silence_s"`
	MissingAudioS     float64        `json:"missing_audio_s"`
	Speaking          roleFlags      `json:"speaking"`
	Monologue         monologueInfo  `json:"monologue"`
	CurrentSilenceS   float64        `json:"current_silence_s"`
	LongSilences      int            `json:"long_silences"`
	Interruptions     roleCounts     `json:"interruptions"`
	TurnSwitches      int            `json:"turn_switches"`
	TurnSwitchesPerMn float64        `json:"turn_switches_per_min"`
	Timeline          timelineWindow `json:"timeline"`
}

type callInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Rep       string    `json:"rep"`
	Customer  string    `json:"customer"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"started_at"`
}

type roleFlags struct {
	Rep      bool `json:"rep"`
	Customer bool `json:"customer"`
}

type roleCounts struct {
	Rep      int `json:"rep"`
	Customer int `json:"customer"`
}

type monologueInfo struct {
	CurrentS    float64 `json:"current_s"`
	NudgeAfterS float64 `json:"nudge_after_s"`
	Nudge       bool    `json:"nudge"`
	LongestS    float64 `json:"longest_s"`
}

type timelineWindow struct {
	FromS    float64       `json:"from_s"`
	ToS      float64       `json:"to_s"`
	Rep      []vad.Segment `json:"rep"`
	Customer []vad.Segment `json:"customer"`
	Missing  []vad.Segment `json:"missing"`
}

func (c *Call) info(state string) callInfo {
	return callInfo{ID: c.rec.ID, Name: c.rec.Name, Rep: c.rec.Rep, Customer: c.rec.Customer, State: state, StartedAt: c.rec.StartedAt}
}

// snapshot is the websocket message for the live call's view l; clock is
// the meter's clock (see clockAt), at or past l.NowS.
func (c *Call) snapshot(l vad.Live, clock float64) snapshotMsg {
	msg := buildSnapshot(c.info(stateLive), l, c.srv.cfg.MonologueNudge.Seconds())
	msg.NowS = round3(max(l.NowS, clock))
	msg.Timeline.ToS = msg.NowS
	msg.Timeline.FromS = round3(max(0, msg.NowS-timelineWindowS))
	return msg
}

// buildSnapshot turns the analyzer's view into the websocket message.
func buildSnapshot(info callInfo, l vad.Live, nudgeAfter float64) snapshotMsg {
	m := l.Metrics
	msg := snapshotMsg{
		Type: "snapshot", Call: info, NowS: round3(l.NowS), TargetListenPct: m.TargetListen,
		RecentWindowS: vad.DefaultTallyConfig().RecentWindowSec,
		RepTalkS:      m.RepTalkS, CustomerTalkS: m.CustomerTalkS,
		RepSharePct: m.RepSharePct, CustomerSharePct: m.CustomerSharePct,
		OnTarget: m.OnTarget, OverlapS: m.OverlapS, MutualSilenceS: m.MutualSilenceS, MissingAudioS: m.MissingAudioS,
		Speaking: roleFlags{l.Talking[vad.Rep], l.Talking[vad.Customer]},
		Monologue: monologueInfo{
			CurrentS: round3(l.RunS[vad.Rep]), NudgeAfterS: nudgeAfter,
			Nudge: nudgeAfter > 0 && l.RunS[vad.Rep] >= nudgeAfter, LongestS: m.LongestRepMonologue.Dur,
		},
		CurrentSilenceS: round3(l.SilenceS),
		LongSilences:    len(m.LongSilences),
		Interruptions:   roleCounts{m.InterruptionsByRep, m.InterruptionsByCustomer},
		TurnSwitches:    m.TurnSwitches, TurnSwitchesPerMn: m.TurnSwitchesPerMinute,
		Timeline: timelineWindow{
			FromS: round3(max(0, l.NowS-timelineWindowS)), ToS: round3(l.NowS),
			Rep: nonNil(l.Timeline[vad.Rep]), Customer: nonNil(l.Timeline[vad.Customer]), Missing: nonNil(l.Missing),
		},
	}
	msg.ListenPct = m.ListenPct
	if l.RecentOK {
		v := l.RecentListenPct
		msg.RecentListenPct = &v
	}
	return msg
}

func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }

func nonNil(s []vad.Segment) []vad.Segment {
	if s == nil {
		return []vad.Segment{}
	}
	return s
}
