package vad

import (
	"math"

	"talkratio/tally"
	"talkratio/vad/internal/dsp"
)

// The per-frame work: each frame updates the floor and leak models, and
// the frame half a smoothing window older is classified (speech or not,
// per channel), fed to the detectors and learned from.

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

// tailAheadMS, tailAheadSlackDB: a frame more than Config.TailUnderPeakDB
// under the voice's recent peak (see channel.peakSmooth), with the next
// tailAheadMS averaging under it too (by that less tailAheadSlackDB, as
// the mean of a decay starts a little higher), is the tail of a phrase (its
// last syllable decaying, the room ringing on) or a breath, not more of the
// voice: speech that goes on after a dip comes back within a syllable or
// two. Human labels end a phrase where the voice does; on a clean line the
// tail stays over the floor for a few hundred ms, on a noisy one it is
// under the noise at once, so without this rule talk is over-counted on
// clean lines only, and the listen % leans to whichever side is cleaner.
const (
	tailAheadMS      = 150.0
	tailAheadSlackDB = 3.0
)

// noisySNRDB, cleanSNRDB: where the voice's recent peak (channel.peakSmooth)
// stands at most noisySNRDB over the noise floor, the hangover is
// Config.NoisyHangoverMS; from cleanSNRDB up it is Config.HangoverMS, and
// in between it shrinks linearly. The lower the voice stands over the
// noise, the more of each word's decaying end is under it: with one
// hangover for all, real speech at 5 dB SNR came out 9-12% shorter,
// relative to its truth, than on clean channels, and the listen % leaned
// to the cleaner side.
const (
	noisySNRDB = 6.0
	cleanSNRDB = 15.0
)

// hangoverFor returns the hangover, in frames, for a voice that stands snr
// dB over the noise floor (see noisySNRDB). A level not known (NaN) counts
// as noisy: min and max would pass the NaN on, and int64(NaN) is no count.
func (a *Analyzer) hangoverFor(snr float64) int64 {
	noisy := 1.0
	if snr > noisySNRDB {
		noisy = max(min((cleanSNRDB-snr)/(cleanSNRDB-noisySNRDB), 1), 0)
	}
	return int64(math.Round(a.hangover[0] + noisy*(a.hangover[1]-a.hangover[0])))
}

// steadySpreadDB: a background whose frame levels spread by at most this
// (90th less 50th percentile) is steady: hiss and hum spread by 1-2 dB,
// babble by 5-10. There the smoothed level alone can start speech (see
// classify).
const steadySpreadDB = 2.5

// frame analyzes one frame of both channels from its band powers: it
// updates the floor and leak models at once, then decides the frame that
// is a half smoothing window old, whose window is now complete.
func (a *Analyzer) frame(p [2]float64) {
	var fl, sp [2]float64
	for c := range a.ch {
		ch := &a.ch[c]
		fl[c] = max(ch.floor.Update(p[c]), a.absFloor)
		sp[c] = max(p[c]-fl[c], 0)
	}
	// Both channels' logarithms side by side (see dsp.PowerToDB2).
	spDB0, spDB1 := dsp.PowerToDB2(sp[0], sp[1])
	a.ch[0].hist.pushDB(sp[0], spDB0)
	a.ch[1].hist.pushDB(sp[1], spDB1)
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
	m[0].db, m[1].db = dsp.PowerToDB2(max(m[0].own, m[0].fl), max(m[1].own, m[1].fl))
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
		fl := max(ch.floor.Value(), a.absFloor)
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
	smDB[0], smDB[1] = dsp.PowerToDB2(sm[0], sm[1])
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
			ownDB = dsp.PowerToDB(own)
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
		// A phrase's tail is not the voice (see tailAheadMS).
		if tail := ch.peakSmooth - a.cfg.TailUnderPeakDB; ownDB < tail {
			if e := min(end, t+1+a.tailAhead); e > t+1 &&
				dsp.PowerToDB(max(ch.lag.mean(t+1, e), a.absFloor)) < tail+tailAheadSlackDB {
				lv[c] = quiet
			}
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
		// A talker's level does not fade while he listens: the peak
		// decays only while the other side is not talking, so that what
		// this channel carries through the other side's turn (babble, a
		// room) stays as far under it as it is.
		decay := a.peakDecay
		if a.ch[1-c].det.talking() {
			decay = 0
		}
		ch.peakSmooth = max(smDB[c], ch.peakSmooth-decay)
		ch.sf = ch.smFloor.Update(sm[c])
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
		// gaps and would make its babble look far over the floor. A frame
		// this side takes for the start of speech is double talk, not
		// listening: babble with deep gaps on the other side passes that
		// test, and would teach this side's own voice as its background.
		dominated := lv[c] != hot && lv[1-c] == hot && m[1-c].own*m[c].fl >= a.dominance*m[c].own*ref[1-c]
		lin := max(m[c].own, m[c].fl)
		if t%bgUpdateFrames == 0 {
			ch.textureDB = dsp.PowerToDB(ch.sf / m[c].fl)
			ch.det.hangover = a.hangoverFor(ch.peakSmooth - dsp.PowerToDB(m[c].fl))
		}
		ch.background.add(m[c].db, lin, smDB[c], lv[c] == hot, dominated, ch.textureDB)
	}
	if a.trace != nil {
		a.trace(t, lv, m, smDB)
	}
	return lv
}
