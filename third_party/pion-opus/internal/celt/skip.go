// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package celt

import "github.com/pion/opus/internal/rangecoding"

// deferredFrame is the last frame SkipWithRange did not decode.
type deferredFrame struct {
	pending      bool
	data         []byte
	rangeDecoder rangecoding.Decoder
	cfg          frameConfig
	out          []float32
}

// bandsAboveNyquist reports whether every MDCT bin from startBand up lies at
// or above the Nyquist frequency of outputSampleRate, so that the lower-rate
// output path zeroes all of them before synthesis (limitOutputBandwidth).
// Band edges are in units of 200 Hz at any LM, so the test is edge*200 >=
// outputSampleRate/2. In Opus this holds for the CELT layer of hybrid
// packets (band 17 up, from 8 kHz) at output rates of 16 kHz and below.
func bandsAboveNyquist(startBand, outputSampleRate int) bool {
	return int(bandEdges[startBand])*sampleRate >= outputSampleRate*shortBlockSampleCount
}

// SkipWithRange stands in for DecodeWithRangeToSampleRate when decoding the
// frame cannot change the output: every band it codes lies at or above the
// output Nyquist frequency and the synthesis memories are zero, so decoding
// would emit exact zeros and leave those memories zero. It then writes the
// zeros to out and reports true; otherwise it does nothing and reports
// false, and the frame must be decoded.
//
// Decoding the frame would still change state that later frames read: the
// final range (the next frame's noise seed), the band energies and the
// post-filter parameters. The frame is therefore kept and decoded just
// before anything next reads the state; for streams from libopus, that is
// only the 2.5 ms transition frame of a hybrid to SILK switch, as every
// other switch resets the CELT state first. Only the last skipped frame is
// kept: its final range does not depend on earlier frames, and it resets
// the same bands. The energies it then leaves from startBand up derive from
// older ones than a full decode would have used, which cannot show: those
// bands stay above the output's Nyquist frequency for as long as the output
// rate does, the decoder's lifetime.
//
// The caller's rangeDecoder is left where the CELT data begins, so the
// final range it reports no longer covers the frame.
func (d *Decoder) SkipWithRange(
	in []byte,
	out []float32,
	isStereo bool,
	outputChannelCount int,
	frameSampleCount int,
	startBand int,
	endBand int,
	outputSampleRate int,
	rangeDecoder *rangecoding.Decoder,
) bool {
	// Empty and one-byte frames take the loss path, which is cheap and
	// itself clears the synthesis memories; decode them.
	if !d.quiet || len(in) <= 1 || rangeDecoder == nil {
		return false
	}
	channelCount := 1
	if isStereo {
		channelCount = 2
	}
	cfg := frameConfig{
		frameSampleCount:   frameSampleCount,
		startBand:          startBand,
		endBand:            endBand,
		channelCount:       channelCount,
		outputChannelCount: outputChannelCount,
		outputSampleRate:   outputSampleRate,
	}
	// Invalid arguments are left to the decoder to report.
	if _, err := d.validateFrameConfig(cfg); err != nil {
		return false
	}
	outputFrameSampleCount, err := frameSampleCountAtRate(frameSampleCount, outputSampleRate)
	if err != nil || len(out) < outputFrameSampleCount*outputChannelCount ||
		!bandsAboveNyquist(startBand, outputSampleRate) {
		return false
	}
	clear(out[:outputFrameSampleCount*outputChannelCount])

	frame := &d.deferred
	frame.rangeDecoder = *rangeDecoder
	frame.data = frame.rangeDecoder.MoveTo(frame.data) // in, as the range decoder reads it
	frame.cfg = cfg
	frame.pending = true

	return true
}

// decodeDeferred decodes the frame SkipWithRange kept, so that the state is
// what decoding every frame would have left (see SkipWithRange). Its output
// is zeros and is dropped.
func (d *Decoder) decodeDeferred() {
	frame := &d.deferred
	frame.pending = false
	rangeDecoder := frame.rangeDecoder
	cfg := frame.cfg
	outputFrameSampleCount, err := frameSampleCountAtRate(cfg.frameSampleCount, cfg.outputSampleRate)
	if err != nil {
		return // SkipWithRange checked the configuration: unreachable
	}
	if cap(frame.out) < outputFrameSampleCount*cfg.outputChannelCount {
		frame.out = make([]float32, outputFrameSampleCount*cfg.outputChannelCount)
	}
	// With the configuration checked and no post-filter to parse above
	// band 0, decoding cannot fail.
	_ = d.decode(
		frame.data,
		frame.out[:outputFrameSampleCount*cfg.outputChannelCount],
		cfg.channelCount == 2,
		cfg.outputChannelCount,
		cfg.frameSampleCount,
		cfg.startBand,
		cfg.endBand,
		cfg.outputSampleRate,
		&rangeDecoder,
	)
	// Synthesizing bins that are all zeroed from zero memories leaves them
	// zero.
	d.quiet = true
}
