package vad

import (
	"math"
	"slices"

	"talkratio/vad/internal/dsp"
)

// backgroundModel learns what a channel sounds like when its speaker is not
// talking, so that thresholds clear the background and not just the noise
// floor. That matters when the background is other people talking (a call
// center floor, a TV): such babble rises far above the minimum-statistics
// floor, yet stays well below the person on the line.
//
// It works on two levels of each frame: the frame's own level, and the
// smoothed level (the mean power over a window of about 400 ms around the
// frame, see Config.SmoothMS). Babble is as loud as quiet speech from frame
// to frame, but over 400 ms three voices average out while the near voice
// adds its full power, so the smoothed level separates the two far better.
//
// It keeps level histograms with a slow memory:
//   - every frame's level; its 95th percentile is the speaker's loud level;
//   - the levels of background frames: frames far in time from any loud
//     frame (the quiet parts of an utterance sit next to its loud vowels and
//     are left out, so they do not pass for background), and frames where
//     the other side dominates (this side is listening then);
//   - the smoothed levels of the isolated frames;
//   - the smoothed levels of quiet blocks (see quietBlocks), which still
//     find the background when it is babble, whose own loud frames leave
//     hardly any frame isolated.
//
// The 90th percentiles of these set how high a frame must rise to be
// speech: a steady hiss has a narrow spread and allows low thresholds,
// babble has a wide one and raises them.
type backgroundModel struct {
	all, bg     dsp.Histogram
	iso         dsp.Histogram // smoothed levels of the isolated frames
	quiet       dsp.Histogram // smoothed levels of the quiet blocks' frames
	ring        []ringFrame   // the newest frames, waiting to be judged isolated
	pos         int
	n           int64   // frames seen
	toDecay     int     // frames until the next decay
	lastLoud    int64   // index of the latest loud frame
	loudDB      float64 // frames at or over it are loud; -Inf until known (see add)
	bgDB        float64 // background 90th percentile, or -Inf while unknown
	smoothDB    float64 // smoothed background's 90th percentile, or -Inf while unknown
	spreadDB    float64 // background's 90th less its 50th percentile, or +Inf while unknown
	decayEvery  int
	decayFactor float64
	minWeight   float64 // frames of background needed before a percentile is trusted
	blocks      quietBlocks
}

const (
	loudQuantile = 0.95
	// loudBelowDB: frames within this of the loud level are "loud".
	loudBelowDB = 6.0
	// bgQuantile of the background sets the thresholds.
	bgQuantile = 0.9
	// bgMidQuantile: the background's spread is bgQuantile less this.
	bgMidQuantile = 0.5
	// bgMemorySec: the histograms forget with this time constant: long
	// enough to span a speaker's silence, short enough to follow a change.
	bgMemorySec = 30.0
	// bgMinSec of background must be seen before it is used.
	bgMinSec = 2.0
	// bgUpdateFrames: percentiles are recomputed this often; they move
	// slowly and a query walks every bin.
	bgUpdateFrames = 25
)

func newBackgroundModel(isolationFrames int, frameSec float64) backgroundModel {
	every := int(math.Round(1 / frameSec)) // once a second
	return backgroundModel{
		all:         dsp.NewHistogram(),
		bg:          dsp.NewHistogram(),
		iso:         dsp.NewHistogram(),
		quiet:       dsp.NewHistogram(),
		toDecay:     every,
		ring:        make([]ringFrame, max(1, isolationFrames)),
		lastLoud:    math.MinInt64 / 2,
		loudDB:      math.Inf(-1), // see the field
		bgDB:        math.Inf(-1),
		smoothDB:    math.Inf(-1),
		spreadDB:    math.Inf(1),
		decayEvery:  every,
		decayFactor: math.Exp(-float64(every) * frameSec / bgMemorySec),
		minWeight:   bgMinSec / frameSec,
		blocks:      newQuietBlocks(frameSec),
	}
}

// ringFrame is a frame waiting to be judged isolated: its level and
// smoothed level (dB), and whether it was taken for the start of speech.
type ringFrame struct {
	db, sdb float64
	speech  bool
}

// add takes the next frame's level (dB, and as linear power) and smoothed
// level (dB). A frame's level enters the background histogram at once if
// the other side is speaking loud and clear (this side is then listening).
// Otherwise its level and smoothed level enter once it is len(ring) frames
// old and no loud frame came within len(ring) frames on either side of it,
// unless it was taken for the start of speech (speech): a talker who turns
// quieter than the loud level of the last half minute has no loud frames,
// and his voice would become his background. The smoothed levels of quiet
// blocks enter when the block is complete; textureDB (see
// channel.textureDB) tells how far quiet blocks may vary.
func (m *backgroundModel) add(db, lin, sdb float64, speech, otherTalking bool, textureDB float64) {
	d := int64(len(m.ring))
	if otherTalking {
		m.bg.Add(db)
	}
	if m.n >= d && m.lastLoud < m.n-2*d {
		// The smoothed level of a dominated frame can still carry this
		// side's own speech nearby, so only isolation vouches for it.
		if old := m.ring[m.pos]; !old.speech {
			if !otherTalking {
				m.bg.Add(old.db)
			}
			m.iso.Add(old.sdb)
		}
	}
	if blk, ok := m.blocks.add(lin, sdb, textureDB); ok {
		for _, v := range blk {
			m.quiet.Add(v)
		}
	}
	m.ring[m.pos] = ringFrame{db, sdb, speech}
	if m.pos++; m.pos == len(m.ring) {
		m.pos = 0
	}
	m.all.Add(db)
	// Until the first percentiles are in, loudDB is -Inf and every frame
	// is loud, so that none passes for isolated background: speech that
	// opens a recording would fill the isolated histogram, set the
	// smoothed background at the voice's own level and so go unheard.
	if db >= m.loudDB {
		m.lastLoud = m.n
	}
	m.n++
	if m.toDecay--; m.toDecay == 0 {
		m.toDecay = m.decayEvery
		m.all.Scale(m.decayFactor)
		m.bg.Scale(m.decayFactor)
		m.iso.Scale(m.decayFactor)
		m.quiet.Scale(m.decayFactor)
	}
	if m.n%bgUpdateFrames == 0 {
		m.loudDB = m.all.Quantile(loudQuantile) - loudBelowDB
		if m.bg.Total() >= m.minWeight {
			m.bgDB = m.bg.Quantile(bgQuantile)
			m.spreadDB = m.bgDB - m.bg.Quantile(bgMidQuantile)
		}
		// Of the two smoothed estimates, the lower: isolation is exact on
		// a steady background but biased low or absent in babble; quiet
		// blocks find babble but may take in some speech when the
		// speaker talks most of the time.
		s := math.Inf(1)
		if m.iso.Total() >= m.minWeight {
			s = m.iso.Quantile(bgQuantile)
		}
		if m.quiet.Total() >= m.minWeight {
			s = min(s, m.quiet.Quantile(bgQuantile))
		}
		if !math.IsInf(s, 1) {
			m.smoothDB = s
		}
	}
}

// Quiet block constants.
const (
	// quietBlockSec: blocks are long enough for babble's level to average
	// out and short enough to fit in a speaker's pause.
	quietBlockSec = 0.5
	// quietWindowSec: blocks are compared with those of the last
	// quietWindowSec, which spans several turns of a conversation.
	quietWindowSec = 20.0
	// quietQuantile: a block is quiet if no more than this fraction of the
	// window's blocks are quieter. A speaker is silent far more often than
	// that in a conversation, so the quiet blocks are background...
	quietQuantile = 0.3
	// quietMaxOverMinDB: ...as long as they are also within this of the
	// quietest block: when a speaker talks through most of the window, the
	// quantile lands on speech, which is far louder than the quietest
	// block on a clean line (babble blocks, by contrast, vary by a few dB).
	quietMaxOverMinDB = 6.0
	// quietMinOverMinDB, quietTextureMarginDB: a steady background (hiss,
	// hum) varies far less from block to block than babble, so the margin
	// over the quietest block shrinks to this when the channel's texture
	// (see channel.textureDB) says steady; quiet speech at 5 dB SNR raises a
	// block by 3-6 dB and must not pass for background.
	quietMinOverMinDB    = 2.0
	quietTextureMarginDB = 2.0
	// quietMinBlocks must be seen before any block can be judged quiet.
	quietMinBlocks = 4
)

// quietBlocks finds the stretches of a channel where its speaker is silent
// by their level: the call is cut into blocks, and a block whose mean power
// is among the lowest of the last while is background. Unlike isolation from
// loud frames, this works when the background is itself speech-like
// (babble): its loud frames do not disqualify it.
type quietBlocks struct {
	len    int       // frames per block
	cur    []float64 // the current block's smoothed levels (dB)
	sum    float64   // the current block's summed linear frame power
	means  []float64 // mean power (dB) of the latest blocks (ring)
	sorted []float64 // the same values, kept sorted as one comes and one goes
	n      int       // blocks completed
}

func newQuietBlocks(frameSec float64) quietBlocks {
	n := max(1, int(math.Round(quietBlockSec/frameSec)))
	w := max(quietMinBlocks, int(math.Round(quietWindowSec/quietBlockSec)))
	return quietBlocks{len: n, cur: make([]float64, 0, n), means: make([]float64, w), sorted: make([]float64, 0, w)}
}

// add takes a frame's power (linear) and smoothed level (dB), and the
// channel's texture (dB); when they complete a quiet block, it returns the block's smoothed levels, valid
// until the next call.
func (q *quietBlocks) add(lin, sdb, textureDB float64) ([]float64, bool) {
	q.cur = append(q.cur, sdb)
	q.sum += lin
	if len(q.cur) < q.len {
		return nil, false
	}
	blk := q.cur
	q.cur = q.cur[:0]
	mean := dsp.PowerToDB(q.sum / float64(q.len))
	q.sum = 0
	pos := q.n % len(q.means)
	if q.n >= len(q.means) {
		i, _ := slices.BinarySearch(q.sorted, q.means[pos])
		q.sorted = slices.Delete(q.sorted, i, i+1)
	}
	q.means[pos] = mean
	i, _ := slices.BinarySearch(q.sorted, mean)
	q.sorted = slices.Insert(q.sorted, i, mean)
	q.n++
	if q.n < quietMinBlocks {
		return nil, false
	}
	over := min(max(textureDB+quietTextureMarginDB, quietMinOverMinDB), quietMaxOverMinDB)
	limit := min(q.sorted[int(quietQuantile*float64(len(q.sorted)-1))], q.sorted[0]+over)
	if mean > limit {
		return nil, false
	}
	return blk, true
}
