package vad

import (
	"math"

	"talkratio/vad/internal/dsp"
)

// Bleed: one side's voice leaking into the other side's channel (headset
// echo, a speakerphone, line echo, a stereo recorder with crosstalk). The
// leak is the other voice, delayed and attenuated. leakModel learns that
// path from the call itself and predicts, frame by frame, how much of a
// channel's energy is the other side's voice, so that only the rest can
// count as this channel's speech.
//
// It works on frame energies, not waveforms: an acoustic echo path smears
// and filters the voice so that waveform correlation is weak, while the
// syllable rhythm of the energy survives. For every candidate delay it keeps
// a running median of the level ratio (this channel over the other) and how
// much that ratio scatters. A real leak gives one delay with a steady ratio;
// with no leak every ratio is low and scattered, and the prediction stays
// far below the noise.

// Leak learning constants.
const (
	// leakFloorDB: ratios below this mean "no leak" and are clamped.
	leakFloorDB = -100.0
	// leakFastSteps updates use leakFastStepDB so that the model finds the
	// path within the first second or two of the other side's speech;
	// after that leakStepDB keeps it steady.
	leakFastSteps  = 100
	leakFastStepDB = 1.0
	leakStepDB     = 0.3
	// leakSpreadWeight is the weight of a new frame in the running
	// scatter of a delay's ratio (about a two-second memory).
	leakSpreadWeight = 0.02
	// leakSpreadStartDB: a delay is assumed scattered until shown steady.
	leakSpreadStartDB = 20.0
	// leakMaxDB: a leak this close to the source's own level is not a leak
	// (crosstalk and echo lose at least ~10 dB on the way); such a "steady
	// ratio" is this channel's own noise, babble say, heard while the other
	// side talks, and subtracting it would eat this side's double talk.
	leakMaxDB = -9.0
	// leakMaxSpreadDB: a ratio that scatters more than this is no path.
	leakMaxSpreadDB = 12.0
	// leakFaintDB, leakFaintMaxSpreadDB: a "leak" this far under the
	// source must be steadier still. Babble on this channel, heard while
	// the other side talks, gives a ratio of -30 to -50 dB scattering by
	// 4-9 dB; a real leak that faint (rare: headsets and echo cancellers
	// lose less) hardly matters, and a real path scatters by 1-3 dB.
	leakFaintDB          = -30.0
	leakFaintMaxSpreadDB = 4.0
)

type leakModel struct {
	ratioDB  []float64 // per delay in frames: running median of this/other (dB)
	spreadDB []float64 // per delay: running mean absolute deviation (dB)
	updates  []int
	best     int  // delay with the steadiest ratio
	sure     bool // whether best's ratio is trusted as a leak (see trusted)
	// gains converts the ratios predicted with to power ratios: the ratio
	// moves in steps while the other side talks and stands still between.
	gains dsp.GainCache
}

func newLeakModel(maxDelayFrames int) leakModel {
	n := maxDelayFrames + 1
	m := leakModel{ratioDB: make([]float64, n), spreadDB: make([]float64, n), updates: make([]int, n)}
	for k := range n {
		m.ratioDB[k] = leakFloorDB
		m.spreadDB[k] = leakSpreadStartDB
	}
	m.gains = dsp.NewGainCache(leakFloorDB)
	return m
}

// history is a ring of a channel's recent speech power, newest last, kept
// in dB as well: the leak model compares every delay every frame, and one
// logarithm per frame is much cheaper than one per delay. The logarithm is
// taken as a frame is pushed (for both channels at once, see pushDB), so
// that the leak model's loop over the delays makes no call: a call there
// makes the compiler keep the loop's state in memory across it.
//
// The ring is stored twice over, end to end (slot i and slot i+n hold the
// same frame), so that the latest n frames are always one slice,
// p[pos:pos+n], oldest first: the leak model walks it with no wrap.
type history struct {
	p   []float64
	db  []float64
	n   int
	pos int // next slot to write, in [0, n)
	// top is the largest power in the ring, and unsure counts down the
	// pushes until a NaN pushed (only from NaN input) has left it: while
	// one is in, top says nothing (NaN is neither larger nor smaller).
	top    float64
	unsure int
}

func newHistory(n int) history {
	return history{p: make([]float64, 2*n), db: make([]float64, 2*n), n: n}
}

// push adds the next frame's speech power.
func (h *history) push(v float64) { h.pushDB(v, dsp.PowerToDB(v)) }

// pushDB adds the next frame's speech power v, with db = dsp.PowerToDB(v).
func (h *history) pushDB(v, db float64) {
	old := h.p[h.pos]
	h.p[h.pos], h.p[h.pos+h.n] = v, v
	h.db[h.pos], h.db[h.pos+h.n] = db, db
	h.pos++
	if h.pos == h.n {
		h.pos = 0
	}
	if h.unsure > 0 {
		h.unsure--
	}
	switch {
	case v != v:
		h.unsure = h.n // until n more pushes have moved it out
	case v >= h.top:
		h.top = v
	case old == h.top:
		// The largest left: find the next, among the n latest.
		h.top = math.Inf(-1)
		for _, x := range h.p[h.pos : h.pos+h.n] {
			if x > h.top {
				h.top = x
			}
		}
	}
}

// index is the slot of the frame k frames before the newest, in the
// window p[pos:pos+n].
func (h *history) index(k int) int { return h.pos + h.n - 1 - k }

// ago returns the value k frames before the newest (k = 0 is the newest).
func (h *history) ago(k int) float64 { return h.p[h.index(k)] }

// learn updates the model with this channel's speech power now (the newest
// in hist) and the other channel's recent speech powers, on a frame where
// the other side is loud enough (strong: its power must reach this for a
// delay to learn).
func (m *leakModel) learn(hist, other *history, strong float64) {
	own := hist.ago(0)
	// No delay learns where even the loudest of the other side's latest
	// frames is not loud enough, or not louder than this side: most
	// frames, when nobody or only this side talks.
	if other.unsure == 0 && (other.top < strong || other.top <= own) {
		return
	}
	// Slices of one length, so that the loop runs without bounds checks;
	// op and odb are the other side's latest frames, newest last.
	ratio := m.ratioDB
	n := len(ratio)
	spread, updates := m.spreadDB[:n], m.updates[:n]
	op, odb := other.p[other.pos:other.pos+n], other.db[other.pos:other.pos+n]
	ownDB := atLeastLeakFloor(hist.db[hist.index(0)])
	learned := false
	// first is the first delay with the least spread, found on the way:
	// a delay's spread is final once the loop has passed it. The spreads
	// are compared by their bits, with no branch and no move between
	// register files: a spread is never negative (it starts positive and
	// moves toward a deviation's size, never past 0), and non-negative
	// floats order as their bits do; a NaN spread (from NaN input), its
	// sign bit set or not, is over +Inf's bits and so never the least, as
	// a compare would have it.
	first, leastBits := 0, math.Float64bits(math.Inf(1))
	for k := range ratio {
		i := n - 1 - k // k frames before the newest
		if o := op[i]; !(o < strong || o <= own) {
			learned = true
			r := atLeastLeakFloor(ownDB - odb[i])
			step := leakStepDB
			if updates[k] < leakFastSteps {
				step = leakFastStepDB
				if updates[k] == 0 {
					ratio[k] = r
				}
			}
			updates[k]++
			// The ratio steps toward r, up or down, and the spread
			// follows |r - ratio|: the direction is a coin toss where
			// the ratio has settled, so it is taken by flipping sign bits
			// (conditional integer moves), not by a branch the processor
			// would mispredict half the time. Stepping down adds -step,
			// which is subtracting step; stepping up never goes under
			// the floor (the ratio is never under it), so one clamp
			// serves both.
			dev := r - ratio[k]
			var flip uint64
			if !(dev > 0) {
				flip = signBit
			}
			ratio[k] = atLeastLeakFloor(ratio[k] + math.Float64frombits(math.Float64bits(step)^flip))
			spread[k] += leakSpreadWeight * (math.Float64frombits(math.Float64bits(dev)^flip) - spread[k])
		}
		if sb := math.Float64bits(spread[k]); sb < leastBits {
			first, leastBits = k, sb
		}
	}
	// The steadiest delay changes only where a spread did, and then to
	// the first of the least spread, unless the current one's is as small
	// (the choice a scan for a smaller spread, starting from it, makes).
	if learned {
		if spread[m.best] > math.Float64frombits(leastBits) {
			m.best = first
		}
		m.sure = m.trusted()
	}
}

// trusted reports whether the steadiest delay's ratio is a leak to
// subtract: steady, and neither too close to the source's own level nor
// so faint that only a steadier ratio than babble's would vouch for it.
// It only changes as the model learns, so learn keeps it (m.sure).
func (m *leakModel) trusted() bool {
	k := m.best
	return !(m.ratioDB[k] > leakMaxDB || m.spreadDB[k] > leakMaxSpreadDB ||
		m.ratioDB[k] < leakFaintDB && m.spreadDB[k] > leakFaintMaxSpreadDB)
}

// signBit is a float64's sign bit: flipping it negates.
const signBit = 1 << 63

// atLeastLeakFloor is max(x, leakFloorDB), NaN and all, as a compare the
// processor predicts well rather than the sequence that max of floats
// compiles to (which must also order +0 over -0, a question that a
// nonzero floor never asks).
func atLeastLeakFloor(x float64) float64 {
	if x < leakFloorDB {
		return leakFloorDB
	}
	return x
}

// predict returns the leak power expected in this channel now. The other
// side's power is taken at the learned delay and its neighbours, because a
// real delay falls between frames and echo smears it.
func (m *leakModel) predict(other *history) float64 {
	if !m.sure {
		return 0
	}
	k := m.best
	p := other.ago(k)
	if k > 0 {
		p = max(p, other.ago(k-1))
	}
	if k+1 < len(m.ratioDB) {
		p = max(p, other.ago(k+1))
	}
	return p * m.gains.Gain(m.ratioDB[k])
}

// predictFrom is predict for frame t of a recording of the other side's
// speech power per frame (sp[t] is frame t), as the history would have
// held it then.
func (m *leakModel) predictFrom(sp []float64, t int) float64 {
	at := func(k int) float64 {
		if i := t - k; i >= 0 && i < len(sp) {
			return sp[i]
		}
		return 0
	}
	if !m.sure {
		return 0
	}
	k := m.best
	p := at(k)
	if k > 0 {
		p = max(p, at(k-1))
	}
	if k+1 < len(m.ratioDB) {
		p = max(p, at(k+1))
	}
	return p * m.gains.Gain(m.ratioDB[k])
}
