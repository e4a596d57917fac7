package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"talkratio/call"
	"talkratio/tally"
	"talkratio/vad"
)

// checkpointEvery: how often a live call refreshes its record in the store
// (its figures so far), which is what the call list and the API show of
// it, and what survives a crash.
const checkpointEvery = 2 * time.Second

// A Source feeds a call: a WHIP session, later a SIPREC leg or a media
// stream. The call closes its sources when it ends.
type Source interface {
	Close()
}

// Attach's refusals.
var (
	ErrCallOver  = errors.New("the call has ended")
	ErrRoleTaken = errors.New("that role already has a publisher in this call")
)

// parent is what a call sees of the registry that started it.
type parent interface {
	// ended says the call is over and stored.
	ended(c *Call)
	// getSamples and putSamples recycle decode buffers.
	getSamples(n int) []float32
	putSamples(b []float32)
}

// Call is one live call. Its timeline, analyzer and recording are worked
// on under one lock: a track's read loop places each decoded packet and
// analyzes what it completes there and then (no hand-off to another
// goroutine per packet), and the call's goroutine (run) takes the lock
// for its snapshots and checkpoints. End asks run to finish, which it
// does once; after that the packet path touches nothing.
type Call struct {
	cfg    *Config
	parent parent
	rec    call.Record // metadata, as started; never changed
	log    *slog.Logger
	done   chan struct{} // closed when the call must end
	over   chan struct{} // closed when run has stored the call
	// tried is closed once the call's final record was first offered to
	// the store; storeErr is what the store said (nil: stored).
	tried    chan struct{}
	storeErr atomic.Pointer[error]

	endOnce   sync.Once
	endReason string

	mu      sync.Mutex
	sources map[Source]struct{}
	roles   map[tally.Role]Source // which source carries which role

	// work guards what follows: the packet path and run's ticks take
	// it; finish, once done is closed, owns it all.
	work      sync.Mutex
	an        *vad.Analyzer
	recording *recorder     // with Config.Record: the audio being kept
	tl        *timeline     // the two channels on the call clock
	start     time.Time     // real time of call position 0
	firstPkt  time.Time     // arrival of the call's first packet
	lastPkt   time.Time     // arrival of the latest packet
	holding   []*trackClock // tracks whose first packets are held
	shownNow  float64       // the meter's clock as last published (s), kept monotonic
	savedAt   time.Time     // when the record was last refreshed in the store
	analyzedS float64       // seconds counted into the analyzed metric
	snapSize  int           // the last snapshot's length in bytes
}

func newCall(cfg *Config, p parent, rec call.Record) (*Call, error) {
	an, err := vad.NewAnalyzer(vad.DefaultConfig(), cfg.Rules.Tally(), AnalysisRate)
	if err != nil {
		return nil, err
	}
	// A live call is analyzed (and recorded) at the analysis rate, rep
	// left and customer right.
	rec.SampleRate, rec.Channels = AnalysisRate, 2
	rec.SetChannels(0, 1)
	return &Call{
		cfg:     cfg,
		parent:  p,
		rec:     rec,
		log:     cfg.Log.With("call", rec.ID),
		done:    make(chan struct{}),
		over:    make(chan struct{}),
		tried:   make(chan struct{}),
		sources: map[Source]struct{}{},
		roles:   map[tally.Role]Source{},
		an:      an,
		tl:      newTimeline(int(ringDuration.Seconds() * AnalysisRate)),
		savedAt: time.Now(),
	}, nil
}

// ID is the call's public id.
func (c *Call) ID() string { return c.rec.ID }

// Record is the call's metadata as it started.
func (c *Call) Record() call.Record { return c.rec }

// Log is the call's logger.
func (c *Call) Log() *slog.Logger { return c.log }

// End asks the call to finish; the first reason given wins.
func (c *Call) End(reason string) {
	c.endOnce.Do(func() {
		c.endReason = reason
		close(c.done)
	})
}

// Done is closed once the call has ended and is stored.
func (c *Call) Done() <-chan struct{} { return c.over }

// deliver places a decoded packet on the call clock and analyzes what it
// completes, on the caller's goroutine (a track's read loop), unless the
// call is over.
func (c *Call) deliver(p pcm) bool {
	c.work.Lock()
	defer c.work.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	c.place(p)
	c.analyze(c.commitTarget())
	return true
}

// run is the call's goroutine. It returns once the call is stored.
func (c *Call) run() {
	defer close(c.over)
	// Every call ticks on the same instants, the multiples of the
	// interval in wall-clock time: the process then wakes once for all of
	// them rather than once per call, and a wake-up is what costs most
	// when a core has little else to do. Each tick is set from the
	// clock, not from the last one, so that no call's scheduling delays
	// move its ticks off the shared instants.
	nextTick := func() time.Duration {
		now := time.Now()
		return now.Truncate(snapshotInterval).Add(snapshotInterval).Sub(now)
	}
	tick := time.NewTimer(nextTick())
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			tick.Reset(nextTick())
			c.work.Lock()
			out := c.prepare(now)
			c.work.Unlock()
			c.send(out)
		case <-c.done:
			c.finish()
			return
		}
	}
}

// analyze runs the detector on the timeline up to call position upto.
// Where neither side's audio is known the analyzer is told it is missing;
// where one side's is, it gets that side's audio, the other side as
// silence, and the tally hears that the other side is missing. The
// recording, the call's other consumer, gets the same audio.
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
		for i, r := range tally.Roles {
			if !known[i] {
				c.cfg.Metrics.Missing(r, float64(len(rep))/AnalysisRate)
			}
		}
		c.recording.write(rep, cust)
	})
	s := float64(c.tl.base) / AnalysisRate
	for _, r := range tally.Roles {
		c.cfg.Metrics.Analyzed(r, s-c.analyzedS)
	}
	c.analyzedS = s
}

// tickOut is what one tick of the call sends out, made under the call's
// lock and sent after it: a checkpoint's record, a snapshot, and the
// arrival times of the packets the snapshot covers.
type tickOut struct {
	rec      *call.Record
	msg      []byte
	arrivals []time.Time
}

// prepare makes a tick's snapshot (if the call has viewers) and, every
// checkpointEvery, its checkpoint record; send sends them, out of the
// lock, so that a slow store does not hold up the packet path.
func (c *Call) prepare(now time.Time) tickOut {
	var out tickOut
	analyzed := c.tl.takeAnalyzed()
	watched := c.cfg.Bus.Watched(c.rec.ID)
	due := now.Sub(c.savedAt) >= checkpointEvery
	if !watched && !due {
		return out
	}
	l := c.an.Live(call.TimelineWindowS)
	if due {
		c.savedAt = now
		out.rec = c.checkpoint(l)
	}
	if !watched {
		return out
	}
	// Sized as the last one: the bus keeps each message, so no buffer is
	// reused.
	msg, err := c.snapshot(l, c.clockAt(now)).AppendJSON(make([]byte, 0, c.snapSize))
	c.snapSize = len(msg)
	if err != nil {
		c.log.Error("snapshot", "err", err)
		return out
	}
	out.msg = msg
	// takeAnalyzed's slice is reused by the next analyze.
	out.arrivals = append([]time.Time(nil), analyzed...)
	return out
}

// send publishes a tick's snapshot, records how long the packets it
// covers waited since they arrived, and stores its checkpoint: the
// snapshot first, since viewers wait for it and the store may be slow
// (every call's checkpoint falls on one of the ticks all calls share).
func (c *Call) send(out tickOut) {
	if out.msg != nil {
		if err := c.cfg.Bus.Publish(context.Background(), c.rec.ID, out.msg, false); err != nil {
			c.log.Warn("publish snapshot", "err", err)
		}
		sent := time.Now()
		for _, at := range out.arrivals {
			c.cfg.Metrics.SnapshotLatency(sent.Sub(at).Seconds())
		}
	}
	if out.rec != nil {
		if err := c.cfg.Store.Put(context.Background(), out.rec); err != nil {
			c.cfg.Metrics.StoreError()
			c.log.Error("store live call", "err", err)
		}
	}
}

// checkpoint is the call's record as it stands: its figures so far (not
// yet its segments or meter). The recording is flushed with it, so that
// what is stored of the audio keeps up with what the record says.
func (c *Call) checkpoint(l tally.Live) *call.Record {
	c.recording.flush()
	rec := c.rec
	rec.DurationS = call.Round3(l.NowS)
	rec.Result = &tally.Result{Metrics: l.Metrics}
	return &rec
}

// snapshot is the websocket message for the live call's view l; clock is
// the meter's clock (see clockAt), at or past l.NowS.
func (c *Call) snapshot(l tally.Live, clock float64) call.Snapshot {
	msg := c.cfg.Rules.NewSnapshot(call.InfoOf(&c.rec, call.StateLive), l)
	msg.NowS = call.Round3(max(l.NowS, clock))
	msg.Timeline.ToS = msg.NowS
	msg.Timeline.FromS = call.Round3(max(0, msg.NowS-call.TimelineWindowS))
	return msg
}

// finish analyzes what is left, closes the sources, stores the call and
// sends its viewers the final snapshot: the stored record's, the same a
// viewer opening the ended call gets.
func (c *Call) finish() {
	// deliver refuses packets now that done is closed; one being placed
	// is let finish first. After this the call's state is finish's alone.
	c.work.Lock()
	c.anchorHeld()
	c.analyze(max(c.tl.written[0], c.tl.written[1]))
	c.an.Close()
	c.work.Unlock()
	c.closeSources()
	if c.firstPkt.IsZero() {
		c.forget()
		return
	}
	res := c.an.Result()
	meter := c.cfg.Rules.Meter(&res)
	rec := c.rec
	rec.Result, rec.Meter = &res, &meter
	rec.DurationS, rec.State = res.DurationS, call.StateEnded
	rec.HasAudio = c.recording.close()
	c.cfg.Metrics.Speech(tally.Rep, res.RepTalkS)
	c.cfg.Metrics.Speech(tally.Customer, res.CustomerTalkS)
	ctx := context.Background()
	c.storeFinal(ctx, &rec)
	c.cfg.Metrics.CallEnded(c.endReason)
	if msg, err := json.Marshal(c.cfg.Rules.FinalSnapshot(&rec)); err != nil {
		c.log.Error("snapshot", "err", err)
	} else if err := c.cfg.Bus.Publish(ctx, c.rec.ID, msg, true); err != nil {
		c.log.Warn("publish final snapshot", "err", err)
	}
	c.cfg.Bus.Forget(c.rec.ID)
	c.parent.ended(c)
	c.log.Info("call ended", "reason", c.endReason, "duration_s", res.DurationS, "listen_pct", tally.LogPct(res.ListenPct))
}

// Attach adds a source to the call; the roles it carries must be free.
func (c *Call) Attach(s Source, roles []tally.Role) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return ErrCallOver
	default:
	}
	for _, r := range roles {
		if c.roles[r] != nil {
			return ErrRoleTaken
		}
	}
	for _, r := range roles {
		c.roles[r] = s
	}
	c.sources[s] = struct{}{}
	return nil
}

// Detach removes a source; the call ends with its last one.
func (c *Call) Detach(s Source, reason string) {
	c.mu.Lock()
	if _, ok := c.sources[s]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.sources, s)
	for r, x := range c.roles {
		if x == s {
			delete(c.roles, r)
		}
	}
	last := len(c.sources) == 0
	c.mu.Unlock()
	if last {
		c.End(reason)
	}
}

// Sources is how many sources feed the call.
func (c *Call) Sources() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sources)
}

func (c *Call) closeSources() {
	c.mu.Lock()
	ss := make([]Source, 0, len(c.sources))
	for s := range c.sources {
		ss = append(ss, s)
	}
	c.mu.Unlock()
	for _, s := range ss {
		s.Close()
	}
}
