// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package celt

import (
	"testing"

	"github.com/pion/opus/internal/rangecoding"
	"github.com/stretchr/testify/assert"
)

func TestBandsAboveNyquist(t *testing.T) {
	for _, tc := range []struct {
		startBand, outputSampleRate int
		want                        bool
	}{
		{hybridStartBand, 8000, true},
		{hybridStartBand, 12000, true},
		{hybridStartBand, 16000, true}, // band 17 starts at exactly 8 kHz
		{hybridStartBand, 24000, false},
		{hybridStartBand, 48000, false},
		{13, 8000, true}, // 4 kHz
		{12, 8000, false},
		{0, 8000, false},
	} {
		assert.Equal(t, tc.want, bandsAboveNyquist(tc.startBand, tc.outputSampleRate),
			"band %d at %d Hz", tc.startBand, tc.outputSampleRate)
	}
}

func TestBandsAboveNyquistMatchesLimitOutputBandwidth(t *testing.T) {
	// Where bandsAboveNyquist holds, limitOutputBandwidth zeroes every bin
	// from startBand up, at every LM.
	for _, rate := range []int{8000, 12000, 16000, 24000} {
		for lm := 0; lm <= maxLM; lm++ {
			for band := range maxBands {
				if !bandsAboveNyquist(band, rate) {
					continue
				}
				freq := make([]float32, shortBlockSampleCount<<lm)
				for i := range freq {
					freq[i] = 1
				}
				limitOutputBandwidth(&frameSideInfo{outputSampleRate: rate}, freq)
				for i := int(bandEdges[band]) << lm; i < len(freq); i++ {
					assert.Zero(t, freq[i], "rate %d, LM %d, band %d, bin %d", rate, lm, band, i)
				}
			}
		}
	}
}

func TestSkipWithRangeDeclines(t *testing.T) {
	frame := []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}
	out := make([]float32, 960*2)
	skip := func(d *Decoder, in []byte, rate, startBand int) bool {
		var rangeDecoder rangecoding.Decoder
		rangeDecoder.Init(in)

		return d.SkipWithRange(in, out, false, 1, 960, startBand, maxBands, rate, &rangeDecoder)
	}

	decoder := NewDecoder()
	assert.True(t, skip(&decoder, frame, 16000, hybridStartBand))
	assert.False(t, skip(&decoder, frame, 24000, hybridStartBand), "bands below Nyquist")
	assert.False(t, skip(&decoder, frame[:1], 16000, hybridStartBand), "loss path")
	assert.False(t, skip(&decoder, frame, 16000, maxBands), "invalid band range")
	assert.False(t, decoder.SkipWithRange(frame, out, false, 1, 960, hybridStartBand, maxBands, 16000, nil))

	// Once synthesis has run, the memories may hold signal.
	assert.NoError(t, decoder.DecodeToSampleRate(frame, out, false, 1, 960, 0, maxBands, 16000))
	assert.False(t, skip(&decoder, frame, 16000, hybridStartBand), "memories not known to be zero")
	decoder.Reset()
	assert.True(t, skip(&decoder, frame, 16000, hybridStartBand))
}
