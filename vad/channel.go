package vad

import (
	"math"

	"talkratio/vad/internal/dsp"
)

// Per-channel state: the models and trackers each channel keeps, and the
// ring of recent frame measures the smoothing windows read.

// channel is the per-channel state of the analyzer.
type channel struct {
	floor      dsp.FloorTracker
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
	smFloor dsp.FloorTracker
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
		ch.startBG = dsp.DBToPower(b + cfg.StartOverBackgroundDB)
		ch.stayBG = dsp.DBToPower(b + cfg.StayOverBackgroundDB)
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
func (m *frameMeasure) setLevel() { m.db = dsp.PowerToDB(max(m.own, m.fl)) }

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
