package vad

import (
	"fmt"
	"math"

	"talkratio/tally"
)

// Sample rates the analyzer accepts: narrowband telephony up to full-band
// WebRTC audio.
const (
	MinSampleRate = 8000
	MaxSampleRate = 48000
)

// dominanceDB: the other side dominates a frame when its level over its
// smoothed floor beats this side's level over its noise floor by this much.
const dominanceDB = 10.0

// provisionalOverMinDB: until the smoothed background is known (the first
// seconds of a call, longer in babble), the smoothed level must clear the
// lowest smoothed level seen so far by this much (plus the smoothed start
// or stay margin). The quietest moment is background; on a steady line the
// background's smoothed level hardly moves off it, and a voice at 5 dB SNR
// that talks through the first seconds adds only 3-6 dB.
//
// provisionalTextureDB, provisionalBabbleDB: on a babble-like channel
// (texture, see channel.textureDB, over provisionalTextureDB) the gate
// rises by the excess texture, up to provisionalBabbleDB: babble's
// smoothed level spans 3-6 dB over its lowest, and its lowest is set by a
// rare gap of all its voices at once.
const (
	provisionalOverMinDB = 1.0
	provisionalTextureDB = 1.0
	provisionalBabbleDB  = 5.0
)

// speakerRangeDB: the smoothed level of speech stays within this of the
// speaker's loud level (see backgroundModel.loudDB); a 400 ms mean of
// speech hardly ever falls 20 dB under its loud frames, while babble and
// leaks on a line 30 dB quieter do.
const speakerRangeDB = 20.0

// fallSteadyDB, fallSteadyMS: a stretch whose frame levels spread by less
// than fallSteadyDB (standard deviation, dB) over the fallSteadyMS before
// or after a frame is steady: a hum, a fan, music, the room a recording was made
// in. Speech, however quiet or far, rises and falls with its syllables by
// 6-15 dB. See Config.FallFromPeakDB.
const (
	fallSteadyDB = 3.0
	fallSteadyMS = 200.0
)

// steadySpreadDB: a background whose frame levels spread by at most this
// (90th less 50th percentile) is steady: hiss and hum spread by 1-2 dB,
// babble by 5-10. There the smoothed level alone can start speech (see
// classify).
const steadySpreadDB = 2.5

// channel is the per-channel state of the analyzer.
type channel struct {
	floor      floorTracker
	hist       history   // speech power of the latest frames, to predict the leak into the other channel
	leak       leakModel // how the other channel leaks into this one
	background backgroundModel
	lag        measureRing // the latest frames' measures, for smoothing and the decision delay
	det        detector
	minSmooth  float64 // lowest smoothed level (dB) so far, for the provisional gate
	// peakSmooth is the recent peak of the smoothed level (dB): the
	// voice's level, falling by peakDecay per frame.
	peakSmooth float64
	// smFloor follows the minimum of the smoothed level: unlike the frame
	// floor, it does not drop into the brief gaps of babble.
	smFloor floorTracker
	sf      float64 // the smoothed floor's latest value (linear)
	// textureDB is how far the smoothed floor sits over the frame floor:
	// about 0 dB on a steady background (hiss, hum, a clean line), 6-25 dB
	// in babble, whose frames dip into brief gaps that a 400 ms mean never
	// sees. Updated every bgUpdateFrames.
	textureDB float64
	// The background thresholds as linear power, recomputed only when the
	// background estimate moves (every few frames), not every frame.
	thrBG           float64
	startBG, stayBG float64
}

// bgThresholds returns the start and stay thresholds the background sets.
func (ch *channel) bgThresholds(cfg *Config) (start, stay float64) {
	if b := ch.background.bgDB; b != ch.thrBG {
		ch.thrBG = b
		ch.startBG = dbToPower(b + cfg.StartOverBackgroundDB)
		ch.stayBG = dbToPower(b + cfg.StayOverBackgroundDB)
	}
	return ch.startBG, ch.stayBG
}

// frameMeasure is what the decision needs of one frame of one channel.
type frameMeasure struct {
	p   float64 // band power
	fl  float64 // noise floor
	own float64 // band power less the predicted leak from the other side
	db  float64 // the frame's level: own power, at least the floor, in dB (see setLevel)
}

// setLevel sets m.db from the powers.
func (m *frameMeasure) setLevel() { m.db = powerToDB(max(m.own, m.fl)) }

// measureRing holds the measures of the latest frames, with running sums
// of own power, and of the level in dB and its square, so that a window's
// mean power and the spread of its levels cost a few lookups. Its length
// is a power of two, so that frame t's slot is t&mask, not a division.
type measureRing struct {
	m    []frameMeasure
	mask int64
	cum  []float64 // cum[t&mask] = sum of clamped own power of frames before t
	sum  float64
	// cdb, cdb2: the same for the frame level in dB (own power, at least
	// the noise floor) and its square.
	cdb, cdb2 []float64
	sdb, sdb2 float64
	n         int64 // frames pushed
}

// newMeasureRing holds at least n frames; the sums need one more slot for
// the window's end.
func newMeasureRing(n int) measureRing {
	size := 1
	for size < n+1 {
		size *= 2
	}
	return measureRing{m: make([]frameMeasure, size), mask: int64(size - 1),
		cum: make([]float64, size), cdb: make([]float64, size), cdb2: make([]float64, size)}
}

// push adds the next frame's measure, its level (m.db) set.
func (r *measureRing) push(m frameMeasure) {
	// The sums before frame n are in slot n already: the previous push
	// put them there (rebuild, for frame 0).
	k := r.mask
	r.m[r.n&k] = m
	r.sum += max(m.own, 0)
	r.sdb += m.db
	r.sdb2 += m.db * m.db
	r.n++
	r.cum[r.n&k], r.cdb[r.n&k], r.cdb2[r.n&k] = r.sum, r.sdb, r.sdb2
}

// rebuild replaces the measures of frames [0, n), which must all be in the
// ring, with f's, and recomputes the running sums.
func (r *measureRing) rebuild(n int64, f func(t int64, m frameMeasure) frameMeasure) {
	r.sum, r.sdb, r.sdb2, r.n = 0, 0, 0, 0
	r.cum[0], r.cdb[0], r.cdb2[0] = 0, 0, 0
	for t := range n {
		m := f(t, r.at(t))
		m.setLevel()
		r.push(m)
	}
}

// at returns frame t's measure; t must be one of the latest len(m) frames.
func (r *measureRing) at(t int64) frameMeasure { return r.m[t&r.mask] }

// mean returns the mean own power (negative values, left by the leak
// subtraction, as 0) of frames [from, to), which must all be in the ring.
func (r *measureRing) mean(from, to int64) float64 {
	return max(r.cum[to&r.mask]-r.cum[from&r.mask], 0) / float64(to-from)
}

// spreadDB returns the standard deviation of the frame levels (dB) of
// frames [from, to), which must all be in the ring.
func (r *measureRing) spreadDB(from, to int64) float64 {
	i, j := to&r.mask, from&r.mask
	k := float64(to - from)
	m := (r.cdb[i] - r.cdb[j]) / k
	return math.Sqrt(max((r.cdb2[i]-r.cdb2[j])/k-m*m, 0))
}

// Analyzer runs voice activity detection on a call's two channels (rep and
// customer) at one sample rate and feeds the segments it finds to a Tally.
// Feed it with Write in blocks of any size; call Close at the end.
type Analyzer struct {
	cfg        Config
	rate, hop  int
	frameSec   float64
	ch         [2]channel
	filt       *bandFilter  // both channels' band filter
	pending    [2][]float32 // samples of an incomplete frame, per channel
	energy     [2][]float64 // band power of a block's frames, per channel
	frames     int64
	samples    int64 // per channel, partial frames included
	tally      *tally.Tally
	absFloor   float64 // linear power of Config.AbsFloorDBFS
	startRatio float64
	stayRatio  float64
	margin     float64 // linear factor for Config.BleedMarginDB
	learnRatio float64
	dominance  float64 // linear factor for dominanceDB
	peakDecay  float64 // Config.PeakDecayDBPerSec per frame
	steadyHalf int64   // fallSteadyMS in frames
	closed     bool
	half       int // decision delay in frames: half the smoothing window
	// warm is how many frames the first decisions wait for (see
	// Config.WarmupMS); decided is the next frame to decide. Until the
	// warm-up is over, wsp keeps each channel's speech power per frame, so
	// that the leak can be predicted again with the model learned by then.
	warm    int64
	warmed  bool
	decided int64
	wsp     [2][]float64
	// from is the first frame after the latest missing audio (missing.go):
	// smoothing windows start there, as at a call's start.
	from int64
	// trace, when set (by tests), sees every frame the background models
	// learn from, with what was decided: the golden tests digest it to
	// show that a change leaves every decision as it was.
	trace func(t int64, lv [2]level, m [2]frameMeasure, smDB [2]float64)
}

// NewAnalyzer returns an analyzer for audio at sampleRate Hz.
func NewAnalyzer(cfg Config, tcfg tally.Config, sampleRate int) (*Analyzer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vad config: %w", err)
	}
	if sampleRate < MinSampleRate || sampleRate > MaxSampleRate {
		return nil, fmt.Errorf("vad: sample rate %d Hz outside %d-%d Hz", sampleRate, MinSampleRate, MaxSampleRate)
	}
	hop := int(math.Round(float64(sampleRate) * float64(cfg.FrameMS) / 1000))
	a := &Analyzer{
		cfg:        cfg,
		rate:       sampleRate,
		hop:        hop,
		frameSec:   float64(hop) / float64(sampleRate),
		tally:      tally.New(tcfg),
		absFloor:   dbToPower(cfg.AbsFloorDBFS),
		startRatio: dbToPower(cfg.StartSNRDB),
		stayRatio:  dbToPower(cfg.StaySNRDB),
		margin:     dbToPower(cfg.BleedMarginDB),
		learnRatio: dbToPower(cfg.BleedLearnSNRDB),
		dominance:  dbToPower(dominanceDB),
	}
	a.filt = newBandFilter(cfg.BandLowHz, cfg.BandHighHz, sampleRate, hop)
	a.peakDecay = cfg.PeakDecayDBPerSec * a.frameSec
	a.steadyHalf = int64(math.Round(fallSteadyMS / 1000 / a.frameSec))
	histLen := 1 + int(math.Round(float64(cfg.BleedWindowMS)/1000/a.frameSec))
	a.half = int(math.Round(float64(cfg.SmoothMS) / 2000 / a.frameSec))
	a.warm = int64(math.Round(float64(cfg.WarmupMS) / 1000 / a.frameSec))
	for c := range a.ch {
		a.ch[c] = channel{
			floor:      newFloorTracker(int(math.Round(float64(cfg.NoiseWindowMS)/1000/a.frameSec)), cfg.NoiseBiasDB),
			hist:       newHistory(histLen),
			leak:       newLeakModel(histLen - 1),
			background: newBackgroundModel(int(math.Round(float64(cfg.IsolationMS)/1000/a.frameSec)), a.frameSec),
			det:        newDetector(cfg, a.frameSec),
			lag:        newMeasureRing(int(a.warm) + 2*a.half + 1),
			minSmooth:  math.Inf(1),
			peakSmooth: math.Inf(-1),
			smFloor:    newFloorTracker(int(math.Round(float64(cfg.NoiseWindowMS)/1000/a.frameSec)), 0),
		}
		a.pending[c] = make([]float32, 0, hop)
		a.wsp[c] = make([]float64, 0, a.warm)
	}
	return a, nil
}

func dbToPower(db float64) float64 { return math.Pow(10, db/10) }

// powerToDB converts power to decibels. It runs a few times per frame and
// channel, so it trades math.Log10's last digits for speed: the series for
// ln(m) = 2 atanh((m-1)/(m+1)) on the mantissa, to four odd terms, is good
// to 0.0003 dB, a thousandth of the smallest threshold it is compared with.
func powerToDB(p float64) float64 {
	// p = m * 2^e with m in [0.5, 1), read off the bits of a normal
	// positive number as math.Frexp would, without its call and its
	// special cases, which only the rare rest needs.
	b := math.Float64bits(p)
	bexp := int(b>>52) & 0x7ff
	if b>>63 != 0 || bexp == 0 || bexp == 0x7ff {
		return powerToDBSlow(p)
	}
	m := math.Float64frombits(b&^(0x7ff<<52) | 1022<<52)
	return dbFromMantissa(m, bexp-1022)
}

// powerToDB2 is powerToDB of two powers, side by side: each conversion is
// a chain of dependent operations (a division, then a polynomial), and two
// independent chains in one stretch of code overlap in the processor.
func powerToDB2(p, q float64) (float64, float64) {
	bp, bq := math.Float64bits(p), math.Float64bits(q)
	ep, eq := int(bp>>52)&0x7ff, int(bq>>52)&0x7ff
	if bp>>63 != 0 || ep == 0 || ep == 0x7ff || bq>>63 != 0 || eq == 0 || eq == 0x7ff {
		return powerToDB(p), powerToDB(q)
	}
	mp := math.Float64frombits(bp&^(0x7ff<<52) | 1022<<52)
	mq := math.Float64frombits(bq&^(0x7ff<<52) | 1022<<52)
	return dbFromMantissa(mp, ep-1022), dbFromMantissa(mq, eq-1022)
}

// powerToDBSlow is powerToDB for zero, negative, subnormal, infinite and
// NaN power.
func powerToDBSlow(p float64) float64 {
	if p <= 0 || math.IsNaN(p) {
		return math.Inf(-1)
	}
	if math.IsInf(p, 1) {
		return p
	}
	m, e := math.Frexp(p)
	return dbFromMantissa(m, e)
}

// dbFromMantissa is powerToDB of m * 2^e, m in [0.5, 1).
func dbFromMantissa(m float64, e int) float64 {
	if m < math.Sqrt2/2 {
		m, e = m*2, e-1 // m in [0.707, 1.414): |t| < 0.172
	}
	t := (m - 1) / (m + 1)
	t2 := t * t
	ln := 2 * t * (1 + t2*(1.0/3+t2*(1.0/5+t2*(1.0/7))))
	return dbPerNeper * (ln + float64(e)*math.Ln2)
}

// dbPerNeper converts a natural logarithm of power to decibels.
const dbPerNeper = 10 / math.Ln10

// Now is the call time analyzed so far, in seconds: whole frames only.
func (a *Analyzer) Now() float64 { return float64(a.frames) * a.frameSec }

// Write analyzes the next samples of both channels. rep and customer must
// have the same length: they are the same stretch of call time.
func (a *Analyzer) Write(rep, customer []float32) error {
	if len(rep) != len(customer) {
		return fmt.Errorf("vad: channel blocks differ in length (%d rep, %d customer samples)", len(rep), len(customer))
	}
	if a.closed {
		return fmt.Errorf("vad: write after close")
	}
	a.samples += int64(len(rep))
	x := [2][]float32{rep, customer}
	// Complete a frame left over from the previous write.
	if k := len(a.pending[0]); k > 0 {
		take := min(a.hop-k, len(rep))
		for c := range x {
			a.pending[c] = append(a.pending[c], x[c][:take]...)
			x[c] = x[c][take:]
		}
		if len(a.pending[0]) < a.hop {
			return nil
		}
		a.energies([2][]float32{a.pending[0], a.pending[1]})
		a.pending[0], a.pending[1] = a.pending[0][:0], a.pending[1][:0]
	}
	whole := len(x[0]) / a.hop * a.hop
	a.energies([2][]float32{x[0][:whole], x[1][:whole]})
	for c := range x {
		a.pending[c] = append(a.pending[c], x[c][whole:]...)
	}
	a.settle()
	return nil
}

// energies measures the whole frames of a block (both channels the same
// length, a multiple of the hop) and analyzes them frame by frame.
func (a *Analyzer) energies(x [2][]float32) {
	n := len(x[0]) / a.hop
	for c := range a.energy {
		if cap(a.energy[c]) < n {
			a.energy[c] = make([]float64, n)
		}
		a.energy[c] = a.energy[c][:n]
	}
	a.filt.framesF32(x, a.energy)
	for i := range n {
		a.frame([2]float64{a.energy[0][i], a.energy[1][i]})
	}
}

// frame analyzes one frame of both channels from its band powers: it
// updates the floor and leak models at once, then decides the frame that
// is a half smoothing window old, whose window is now complete.
func (a *Analyzer) frame(p [2]float64) {
	var fl, sp [2]float64
	for c := range a.ch {
		ch := &a.ch[c]
		fl[c] = max(ch.floor.update(p[c]), a.absFloor)
		sp[c] = max(p[c]-fl[c], 0)
		ch.hist.push(sp[c])
	}
	var m [2]frameMeasure
	for c := range a.ch {
		ch, o := &a.ch[c], &a.ch[1-c]
		own := p[c]
		if !a.cfg.DisableBleed {
			// The other side is loud when far over its smoothed floor
			// too: babble over its frame floor is no voice to learn from.
			ch.leak.learn(&ch.hist, &o.hist, a.learnRatio*max(fl[1-c], o.sf))
			own -= ch.leak.predict(&o.hist) * a.margin
		}
		m[c] = frameMeasure{p: p[c], fl: fl[c], own: own}
		if !a.warmed {
			a.wsp[c] = append(a.wsp[c], sp[c])
		}
	}
	m[0].db, m[1].db = powerToDB2(max(m[0].own, m[0].fl), max(m[1].own, m[1].fl))
	for c := range a.ch {
		a.ch[c].lag.push(m[c])
	}
	a.frames++
	if !a.warmed {
		if a.frames < a.warm {
			return
		}
		a.endWarmup()
	}
	a.decideUpTo(a.frames-int64(a.half), a.frames)
}

// decideUpTo decides the frames before upto, with the frames before end
// available for their smoothing windows.
func (a *Analyzer) decideUpTo(upto, end int64) {
	for ; a.decided < upto; a.decided++ {
		a.decide(a.decided, end)
	}
}

// endWarmup ends the warm-up: the frames seen so far are measured again
// with what the whole warm-up taught the models, so that a call's first
// seconds are judged like the rest. Their noise floor becomes the floor
// found over the warm-up (a floor tracked from the first frame starts on
// whatever came first, often speech), and their leak is predicted with the
// leak model learned by now (it learns from the other side's first
// words). The background model then learns from these frames once before
// they are decided.
func (a *Analyzer) endWarmup() {
	a.warmed = true
	n := a.frames
	for c := range a.ch {
		ch := &a.ch[c]
		fl := max(ch.floor.value(), a.absFloor)
		ch.lag.rebuild(n, func(t int64, m frameMeasure) frameMeasure {
			m.fl = min(m.fl, fl)
			m.own = m.p
			if !a.cfg.DisableBleed {
				m.own -= ch.leak.predictFrom(a.wsp[1-c], int(t)) * a.margin
			}
			return m
		})
	}
	a.wsp = [2][]float64{}
	for t := int64(0); t < max(0, n-int64(a.half)); t++ {
		a.learn(t, n)
	}
}

// classify decides the levels of frame t of both channels, with the frames
// before end (exclusive) available for its smoothing window. It changes
// nothing, so that a live snapshot can run it ahead on frames whose window
// is not complete yet.
//
// A frame is hot (can start speech) or warm (keeps it going) when both its
// own level and its smoothed level clear their thresholds. The frame level
// places the edges of speech to the frame; the smoothed level keeps babble
// and noise bursts out, which lets the frame thresholds sit low enough to
// follow quiet speech in steady noise.
func (a *Analyzer) classify(t, end int64) (lv [2]level, m [2]frameMeasure, sm, smDB [2]float64) {
	h := int64(a.half)
	for c := range a.ch {
		ch := &a.ch[c]
		m[c] = ch.lag.at(t)
		sm[c] = max(ch.lag.mean(max(a.from, t-h), min(end, t+h+1)), a.absFloor)
	}
	smDB[0], smDB[1] = powerToDB2(sm[0], sm[1])
	for c := range a.ch {
		ch := &a.ch[c]
		bg := &ch.background
		smBG := bg.smoothDB
		if math.IsInf(smBG, -1) {
			smBG = min(ch.minSmooth, smDB[c]) + provisionalOverMinDB + min(max(ch.textureDB-provisionalTextureDB, 0), provisionalBabbleDB)
		}
		// However the background sits, speech is within a few tens of dB
		// of the speaker's own loud level; far under it is babble or a
		// leak at most.
		smBG = max(smBG, bg.loudDB-speakerRangeDB)
		startBG, stayBG := ch.bgThresholds(&a.cfg)
		own, fl := m[c].own, m[c].fl
		switch {
		case m[c].p < a.absFloor:
			lv[c] = quiet
		case own >= max(a.startRatio*fl, startBG) && smDB[c] >= smBG+a.cfg.SmoothStartOverBackgroundDB:
			lv[c] = hot
		case own >= max(a.stayRatio*fl, stayBG) && smDB[c] >= smBG+a.cfg.SmoothStayOverBackgroundDB:
			lv[c] = warm
			// On a steady background (hiss, hum) the smoothed level is
			// exact: over its start threshold, a frame at the stay level
			// may start speech, since at 5 dB SNR a voice's syllables
			// rarely stay over the frame start level for a whole onset.
			if bg.spreadDB <= steadySpreadDB && smDB[c] >= smBG+a.cfg.SmoothStartOverBackgroundDB {
				lv[c] = hot
			}
		}
		if lv[c] == quiet {
			continue // the rules below only demote a frame
		}
		// The frame's level is own power in dB where that is over the
		// floor, as it mostly is here.
		ownDB := m[c].db
		if own < fl {
			ownDB = powerToDB(own)
		}
		// The tail follows the voice: where the voice has fallen far under
		// its recent level, frame and smoothed level alike, and what is
		// left is steady, that is the background the voice stood out of (a
		// recording's room, music, a fan), not more of the voice. Steady
		// on either side will do: where that sound stops, the step down
		// is no syllable.
		if fall := ch.peakSmooth - a.cfg.FallFromPeakDB; smDB[c] < fall && ownDB < fall &&
			min(ch.lag.spreadDB(max(a.from, t-a.steadyHalf), t+1), ch.lag.spreadDB(t, min(end, t+a.steadyHalf+1))) < fallSteadyDB {
			lv[c] = quiet
		}
		// A frame far under the level around it does not start speech:
		// it is a lead-in to something louder (a recording's room just
		// before its voice, a breath) or a dip between syllables. The
		// voice starts where its frames come near their surroundings;
		// pre-roll still reaches back over a soft first phoneme.
		if lv[c] == hot && ownDB < smDB[c]-a.cfg.StartUnderSmoothDB {
			lv[c] = warm
		}
	}
	return lv, m, sm, smDB
}

// decide classifies frame t for good: it updates the background models
// and feeds the detectors.
func (a *Analyzer) decide(t, end int64) {
	lv := a.learn(t, end)
	for c := range a.ch {
		if s, ok := a.ch[c].det.push(lv[c]); ok {
			a.tally.Add(tally.Role(c), a.segment(s))
		}
	}
}

// learn classifies frame t and updates the background models with it.
func (a *Analyzer) learn(t, end int64) [2]level {
	lv, m, sm, smDB := a.classify(t, end)
	var ref [2]float64
	for c := range a.ch {
		ch := &a.ch[c]
		ch.minSmooth = min(ch.minSmooth, smDB[c])
		ch.peakSmooth = max(smDB[c], ch.peakSmooth-a.peakDecay)
		ch.sf = ch.smFloor.update(sm[c])
		ref[c] = max(m[c].fl, ch.sf)
	}
	for c := range a.ch {
		ch := &a.ch[c]
		// While the other side clearly speaks and dominates, this side
		// mostly listens: what this channel carries then is its background.
		// Dominance is judged over each side's own floor, so that a
		// channel full of babble does not pass for a talker over a clean
		// one; the other side's floor is the higher of its frame floor and
		// its smoothed floor, since babble's frame floor drops into brief
		// gaps and would make its babble look far over the floor.
		dominated := lv[1-c] == hot && m[1-c].own*m[c].fl >= a.dominance*m[c].own*ref[1-c]
		lin := max(m[c].own, m[c].fl)
		if t%bgUpdateFrames == 0 {
			ch.textureDB = powerToDB(ch.sf / m[c].fl)
		}
		ch.background.add(m[c].db, lin, smDB[c], dominated, ch.textureDB)
	}
	if a.trace != nil {
		a.trace(t, lv, m, smDB)
	}
	return lv
}

func (a *Analyzer) segment(s span) tally.Segment {
	return tally.Segment{Start: float64(s.start) * a.frameSec, End: float64(s.end) * a.frameSec}
}

// settle tells the tally how far both channels are final.
func (a *Analyzer) settle() {
	h := min(a.ch[0].det.horizon(), a.ch[1].det.horizon())
	a.tally.Settle(float64(h) * a.frameSec)
}

// Close ends the call: a trailing partial frame is dropped (it is shorter
// than the frame hop), open segments are closed, and everything settles.
func (a *Analyzer) Close() {
	if a.closed {
		return
	}
	a.closed = true
	if !a.warmed {
		a.endWarmup()
	}
	a.decideUpTo(a.frames, a.frames)
	for c := range a.ch {
		if s, ok := a.ch[c].det.flush(); ok {
			a.tally.Add(tally.Role(c), a.segment(s))
		}
	}
	a.tally.Settle(a.Now())
}

// Duration is the length of the audio written so far, in seconds.
func (a *Analyzer) Duration() float64 { return float64(a.samples) / float64(a.rate) }

// Report returns the final metrics; call it after Close.
func (a *Analyzer) Report() tally.Metrics { return a.tally.Report(a.Duration()) }

// Segments returns a role's finished segments.
func (a *Analyzer) Segments(r tally.Role) []tally.Segment { return a.tally.Segments(r) }
