package server

import (
	"encoding/json"
	"errors"
	"log/slog"
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

// Live pipeline timing.
const (
	// snapshotInterval: the dashboard gets 10 snapshots a second, so a
	// packet waits at most 100 ms for the next one.
	snapshotInterval = 100 * time.Millisecond
	// maxSkew: a side more than this behind the other is taken as silent
	// for now (DTX, loss, a stalled sender), so it cannot hold up the
	// meter; it is also the most reordering that is repaired.
	maxSkew = 120 * time.Millisecond
	// idleAdvance: when no packet at all has come for this long (both
	// sides in DTX), the call clock moves on by wall time so that the
	// meter keeps counting the silence.
	idleAdvance = 300 * time.Millisecond
	// ringDuration of samples per channel is held for placement: enough
	// for the skew, reordering and a burst.
	ringDuration = 4 * time.Second
	// reanchorAfter: when a track's RTP time and its arrival time move
	// apart by more than this from one packet to the next, the timestamp
	// jumped (a restarted sender, a bogus timestamp) and the track is
	// re-anchored where arrival time puts it, so that one packet cannot
	// make the call analyze hours of silence. A sender faster than real
	// time (a recording replayed) drifts by a few ms a packet and stays.
	reanchorAfter = 5 * time.Second
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
	role    vad.Role
	ts      int64 // unwrapped RTP timestamp
	samples []float32
	at      time.Time
}

// trackClock places one track's packets on the call clock.
type trackClock struct {
	clockRate int
	anchored  bool
	anchorTS  int64 // RTP timestamp of the anchor packet
	anchorPos int64 // its call position (samples at analysisRate)
	lastTS    int64 // the previous packet's RTP timestamp
	lastAt    time.Time
	lastPos   int64 // and its call position
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
	start     time.Time // arrival of the call's first packet (call position 0)
	lastPkt   time.Time
	liveAt    time.Time // when live was last refreshed
	analyzedS float64   // seconds counted into the analyzed metric
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
			c.advance(time.Time{})
		case now := <-tick.C:
			c.advance(now)
			c.publish(now, false)
		case <-c.done:
			c.finish()
			return
		}
	}
}

// place writes a packet at its position on the call clock.
func (c *Call) place(p pcm) {
	if c.start.IsZero() {
		c.start = p.at
	}
	c.lastPkt = p.at
	k := p.track
	pos := k.anchorPos + (p.ts-k.anchorTS)*analysisRate/int64(k.clockRate)
	switch {
	case !k.anchored:
		// The track's first packet: its arrival puts it on the call
		// clock; from here on its RTP timestamps do.
		pos = int64(p.at.Sub(c.start).Seconds() * analysisRate)
		k.anchored, k.anchorTS, k.anchorPos = true, p.ts, pos
	case absDuration(time.Duration(float64(p.ts-k.lastTS)/float64(k.clockRate)*float64(time.Second))-p.at.Sub(k.lastAt)) > reanchorAfter:
		pos = k.lastPos + int64(p.at.Sub(k.lastAt).Seconds()*analysisRate)
		k.anchorTS, k.anchorPos = p.ts, pos
		c.log.Warn("RTP timestamp jump: re-anchored the track on arrival time", "role", p.role.String())
	}
	k.lastTS, k.lastAt, k.lastPos = p.ts, p.at, pos
	end := pos + int64(len(p.samples))
	if over := c.tl.room(end); over > 0 {
		c.analyze(c.tl.base + over)
	}
	if late := c.tl.put(int(p.role), pos, p.samples, p.at); late > 0 {
		c.srv.m.lateBy[p.role].Inc()
	}
	c.srv.putSamples(p.samples)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// advance analyzes as far as both channels allow. With a zero now it only
// follows the packets; with the wall time it also moves through silence
// when no packet has come for idleAdvance.
func (c *Call) advance(now time.Time) {
	if c.start.IsZero() {
		return
	}
	skew := int64(maxSkew.Seconds() * analysisRate)
	target := c.tl.target(skew)
	if !now.IsZero() && now.Sub(c.lastPkt) > idleAdvance {
		wall := int64((now.Sub(c.start) - idleAdvance).Seconds() * analysisRate)
		target = max(target, wall)
	}
	c.analyze(target)
}

// analyze runs the detector on the timeline up to call position upto.
func (c *Call) analyze(upto int64) {
	if upto <= c.tl.base {
		return
	}
	c.tl.consume(upto, func(rep, cust []float32) {
		// Equal lengths by construction; an error here is a bug.
		if err := c.an.Write(rep, cust); err != nil {
			c.log.Error("analyze", "err", err)
		}
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

// publish sends a snapshot to the call's viewers and records how long the
// packets it covers waited since they arrived.
func (c *Call) publish(now time.Time, final bool) {
	arrivals := c.tl.takeAnalyzed() // valid until the next analyze
	watched := final || c.srv.fan.Viewers(c.rec.ID) > 0
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
	msg, err := json.Marshal(c.snapshot(l, final))
	if err != nil {
		c.log.Error("snapshot", "err", err)
		return
	}
	c.srv.fan.Publish(c.rec.ID, msg, final)
	sent := time.Now()
	for _, at := range arrivals {
		c.srv.m.latency.Observe(sent.Sub(at).Seconds())
	}
}

// finish analyzes what is left, closes the sessions and stores the call.
func (c *Call) finish() {
	// Whatever is already written is part of the call; nothing more comes.
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
	c.publish(time.Now(), true)
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
	OverlapS          float64        `json:"overlap_s"`
	MutualSilenceS    float64        `json:"mutual_silence_s"`
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
}

func (c *Call) info(state string) callInfo {
	return callInfo{ID: c.rec.ID, Name: c.rec.Name, Rep: c.rec.Rep, Customer: c.rec.Customer, State: state, StartedAt: c.rec.StartedAt}
}

func (c *Call) snapshot(l vad.Live, final bool) snapshotMsg {
	state := stateLive
	if final {
		state = stateEnded
		l.Talking = [2]bool{}
		l.Moment = vad.Moment{}
	}
	return buildSnapshot(c.info(state), l, c.srv.cfg.MonologueNudge.Seconds())
}

// buildSnapshot turns the analyzer's view into the websocket message.
func buildSnapshot(info callInfo, l vad.Live, nudgeAfter float64) snapshotMsg {
	m := l.Metrics
	msg := snapshotMsg{
		Type: "snapshot", Call: info, NowS: round3(l.NowS), TargetListenPct: m.TargetListen,
		RecentWindowS: vad.DefaultTallyConfig().RecentWindowSec,
		RepTalkS:      m.RepTalkS, CustomerTalkS: m.CustomerTalkS,
		RepSharePct: m.RepSharePct, CustomerSharePct: m.CustomerSharePct,
		OverlapS: m.OverlapS, MutualSilenceS: m.MutualSilenceS,
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
			Rep: nonNil(l.Timeline[vad.Rep]), Customer: nonNil(l.Timeline[vad.Customer]),
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
