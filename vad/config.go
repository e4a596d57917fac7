package vad

import (
	"errors"
	"fmt"
)

// Config holds every tunable of the detector. Each field is named with its
// unit; DefaultConfig documents the chosen values and why. The defaults were
// tuned on synthetic calls from ../shared/eval (three sets, 60 calls, 8, 16
// and 48 kHz, noise down to 5 dB SNR, bleed) and are what `talkratio
// analyze` and the live service use.
type Config struct {
	// FrameMS is the analysis hop. 10 ms resolves syllables and matches the
	// frame grid accuracy is scored on.
	FrameMS int

	// BandLowHz and BandHighHz bound the speech band the energy is measured
	// in. Below ~250 Hz sit mains hum, rumble and handling noise; above
	// ~3.8 kHz speech carries little energy while hiss carries a lot.
	BandLowHz  float64
	BandHighHz float64

	// NoiseWindowMS is how far back the noise-floor tracker looks for the
	// quietest moment. It must be longer than any pause-free stretch of
	// speech (else the floor climbs onto the voice) and short enough to
	// follow a line whose noise changes.
	NoiseWindowMS int
	// NoiseBiasDB is added to the tracked minimum: the minimum of a noisy
	// energy track sits below its mean, and the mean is the floor we want.
	NoiseBiasDB float64

	// StartSNRDB is how far above the noise floor a frame must be to start
	// speech; StaySNRDB is the lower level that keeps it going (hysteresis,
	// so that a word's quiet tail does not chop the segment).
	StartSNRDB float64
	StaySNRDB  float64

	// StartOverBackgroundDB and StayOverBackgroundDB: thresholds above the
	// loud end (90th percentile) of the background, the frames far from
	// any of the speaker's loud frames. When the background is other people
	// talking, this is what speech must clear, not the noise floor.
	StartOverBackgroundDB float64
	StayOverBackgroundDB  float64

	// SmoothMS is the window of the smoothed level: the mean power of the
	// frames around a frame. Over a few hundred ms babble (several voices)
	// averages out to a steady level while the voice on the line adds its
	// full power, so the smoothed level tells them apart where single
	// frames cannot. The decision for a frame waits for the second half of
	// its window: SmoothMS/2 is the analysis delay.
	SmoothMS int
	// SmoothStartOverBackgroundDB and SmoothStayOverBackgroundDB: the
	// smoothed level must clear the 90th percentile of the background's
	// smoothed level by this much for a frame to start or keep speech, on
	// top of the frame-level thresholds.
	SmoothStartOverBackgroundDB float64
	SmoothStayOverBackgroundDB  float64
	// StartUnderSmoothDB: a frame this far under its smoothed level may
	// keep speech going but not start it: the sound just before a voice
	// (a recording's room, a breath) is far under the mean of a window
	// that already holds the voice.
	StartUnderSmoothDB float64
	// IsolationMS: a frame counts as background only if no loud frame (one
	// within 6 dB of the speaker's loud level) is this close in time, so
	// that the quiet parts of words are not taken for background.
	IsolationMS int

	// FallFromPeakDB: a frame whose level and smoothed level have both
	// fallen this far under the recent peak of the smoothed level, amid
	// steady sound, neither starts nor keeps speech. Recorded speech comes
	// with its room: a noisy office, music, a fan, 10-20 dB over the line's
	// floor and so over every floor-based threshold, yet far under the
	// voice. Without this the tail of an utterance runs on through it.
	FallFromPeakDB float64
	// PeakDecayDBPerSec: the recent peak falls this fast while the other
	// side is not talking, so that a talker who turns quieter (or moves
	// off the mic) is followed again within a few seconds.
	PeakDecayDBPerSec float64

	// TailUnderPeakDB: a frame this far under the recent peak of the
	// smoothed level, with the next tailAheadMS under it too, is a phrase's
	// tail, not more of the voice (see tailAheadMS).
	TailUnderPeakDB float64

	// AbsFloorDBFS is the band energy below which a frame is never speech,
	// however quiet the line: it keeps digital silence, dither and codec
	// idle noise from counting.
	AbsFloorDBFS float64

	// OnsetMS of frames at the start level are needed to open a segment, so
	// that clicks and pops do not.
	OnsetMS int
	// MinSpeechMS: shorter segments are dropped.
	MinSpeechMS int
	// PreRollMS: a new segment is extended back over frames at the stay
	// level, up to this long, because the energy crosses the start level
	// after the soft first phoneme has begun.
	PreRollMS int
	// HangoverMS is added after the last frame at the stay level: word
	// endings decay under the noise before the speaker has finished.
	// NoisyHangoverMS is the hangover where the voice stands no more than
	// noisySNRDB over the floor, where more of each ending is under the
	// noise; between that and cleanSNRDB it shrinks to HangoverMS.
	HangoverMS      int
	NoisyHangoverMS int
	// BridgeMS: pauses shorter than this inside one speaker's speech are
	// counted as talk, as a listener hears them.
	BridgeMS int

	// BleedWindowMS is the longest delay between a voice on one channel
	// and its leak into the other (headset echo, speakerphone, line echo).
	BleedWindowMS int
	// BleedMarginDB: a frame must carry this much more energy than the
	// predicted leak from the other channel to count as its own speech.
	BleedMarginDB float64
	// BleedLearnSNRDB: the coupling between the channels is learned only
	// from frames where the other channel is at least this far above its
	// floor, so that the estimate rests on clear speech.
	BleedLearnSNRDB float64
	// WarmupMS: a call's first decisions wait until this much audio has
	// come, so that the noise floor, the background and the leak between
	// the channels are known for its first seconds too (calls often open
	// with speech, which a floor tracked from the first frame takes for
	// noise).
	WarmupMS int
	// DisableBleed turns the cross-channel check off (for comparison and
	// for truly independent channels).
	DisableBleed bool
}

// DefaultConfig returns the tuned defaults. The frame-level thresholds are
// low because the smoothed level guards against noise bursts and babble:
//   - FrameMS 10: syllable resolution, the scorer's grid.
//   - BandLowHz 250, BandHighHz 3800: the telephone speech band.
//   - NoiseWindowMS 3000: longer than any pause-free stretch of speech.
//   - NoiseBiasDB 2: the tracked minimum sits about that far under the mean.
//   - StartSNRDB 3, StaySNRDB 0.5: a few dB over the floor; the smoothed
//     gate keeps steady noise out, and at 5 dB SNR half of a voice's
//     frames are under the noise, so a higher stay level chops words.
//   - StartOverBackgroundDB 3, StayOverBackgroundDB -3: a start must clear
//     the background's loud end; staying may dip into it, as quiet phonemes
//     do, while the smoothed level vouches for the speech around them.
//   - SmoothMS 400: a few syllables, long enough for babble to average
//     out, and a 200 ms delay, within the live path's budget.
//   - SmoothStartOverBackgroundDB 2, SmoothStayOverBackgroundDB 1: the
//     smoothed background is narrow (its 90th percentile is near its
//     top), and a voice at 5 dB SNR adds about 6 dB to it.
//   - StartUnderSmoothDB 12: a speech onset is within a few dB of the
//     400 ms mean around it; real talkers' lead-ins (a room, a breath)
//     sit 15-25 dB under it.
//   - IsolationMS 300: a syllable or two either side of a loud frame.
//   - FallFromPeakDB 8, PeakDecayDBPerSec 1.5: a pause's steady background
//     sits 10-25 dB under the voice in real recordings, while a voice's
//     own 400 ms level stays within a few dB of its peak; 1.5 dB/s forgets
//     a loud passage in about five seconds.
//   - TailUnderPeakDB 15: a voice's syllables, quiet ones included, keep
//     coming back within 15 dB of its peak; a phrase's tail and the room
//     after it fall further.
//   - AbsFloorDBFS -72: under any real line noise, over codec idle noise.
//   - OnsetMS 50, MinSpeechMS 150: longer than a click or a babble burst,
//     shorter than "yeah" (the shortest utterances are about 250 ms).
//   - PreRollMS 60, HangoverMS 80: soft word onsets and decaying endings.
//   - NoisyHangoverMS 250: at 5 dB SNR the last 100-200 ms of a word are
//     under the noise; with 80 ms there, real speech came out a tenth
//     shorter, relative to clean lines, than it is.
//   - BridgeMS 400: pauses inside one speaker's utterance.
//   - BleedWindowMS 120: headset and line echo delays.
//   - BleedMarginDB 6, BleedLearnSNRDB 10: see the fields.
func DefaultConfig() Config {
	return Config{
		FrameMS:                     10,
		BandLowHz:                   250,
		BandHighHz:                  3800,
		NoiseWindowMS:               3000,
		NoiseBiasDB:                 2,
		StartSNRDB:                  3,
		StaySNRDB:                   0.5,
		StartOverBackgroundDB:       3,
		StayOverBackgroundDB:        -3,
		SmoothMS:                    400,
		SmoothStartOverBackgroundDB: 2,
		SmoothStayOverBackgroundDB:  1,
		StartUnderSmoothDB:          12,
		IsolationMS:                 300,
		FallFromPeakDB:              8,
		PeakDecayDBPerSec:           1.5,
		TailUnderPeakDB:             15,
		AbsFloorDBFS:                -72,
		OnsetMS:                     50,
		MinSpeechMS:                 150,
		PreRollMS:                   60,
		HangoverMS:                  80,
		NoisyHangoverMS:             250,
		BridgeMS:                    400,
		BleedWindowMS:               120,
		BleedMarginDB:               6,
		BleedLearnSNRDB:             10,
		WarmupMS:                    3000,
	}
}

// Validate reports the first unusable field.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.FrameMS >= 5 && c.FrameMS <= 50, "FrameMS %d out of 5-50", c.FrameMS)
	check(c.BandLowHz >= 20 && c.BandHighHz > c.BandLowHz, "band %g-%g Hz is not a band", c.BandLowHz, c.BandHighHz)
	check(c.NoiseWindowMS >= 5*c.FrameMS, "NoiseWindowMS %d shorter than 5 frames", c.NoiseWindowMS)
	check(c.StartSNRDB >= c.StaySNRDB, "StartSNRDB %g below StaySNRDB %g", c.StartSNRDB, c.StaySNRDB)
	check(c.StaySNRDB > 0, "StaySNRDB %g must be positive", c.StaySNRDB)
	check(c.AbsFloorDBFS < 0, "AbsFloorDBFS %g must be below full scale", c.AbsFloorDBFS)
	check(c.StartOverBackgroundDB >= c.StayOverBackgroundDB, "StartOverBackgroundDB %g below StayOverBackgroundDB %g", c.StartOverBackgroundDB, c.StayOverBackgroundDB)
	check(c.SmoothStartOverBackgroundDB >= c.SmoothStayOverBackgroundDB, "SmoothStartOverBackgroundDB %g below SmoothStayOverBackgroundDB %g", c.SmoothStartOverBackgroundDB, c.SmoothStayOverBackgroundDB)
	check(c.StartUnderSmoothDB > 0, "StartUnderSmoothDB %g must be positive", c.StartUnderSmoothDB)
	check(c.FallFromPeakDB > 0, "FallFromPeakDB %g must be positive", c.FallFromPeakDB)
	check(c.TailUnderPeakDB > tailAheadSlackDB, "TailUnderPeakDB %g must be over %g", c.TailUnderPeakDB, tailAheadSlackDB)
	check(c.NoisyHangoverMS >= c.HangoverMS, "NoisyHangoverMS %d below HangoverMS %d", c.NoisyHangoverMS, c.HangoverMS)
	check(c.PeakDecayDBPerSec >= 0, "PeakDecayDBPerSec %g must not be negative", c.PeakDecayDBPerSec)
	check(c.SmoothMS <= 600, "SmoothMS %d over 600: the decision delay is half of it", c.SmoothMS)
	for _, f := range []struct {
		name string
		ms   int
	}{{"OnsetMS", c.OnsetMS}, {"MinSpeechMS", c.MinSpeechMS}, {"PreRollMS", c.PreRollMS},
		{"HangoverMS", c.HangoverMS}, {"NoisyHangoverMS", c.NoisyHangoverMS}, {"BridgeMS", c.BridgeMS}, {"BleedWindowMS", c.BleedWindowMS},
		{"SmoothMS", c.SmoothMS}, {"WarmupMS", c.WarmupMS}} {
		check(f.ms >= 0 && f.ms <= 60000, "%s %d out of 0-60000", f.name, f.ms)
	}
	return errors.Join(errs...)
}
