// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package opus

import (
	"math"
	"math/rand"
	"testing"

	"github.com/pion/opus/internal/silk"
	"github.com/stretchr/testify/require"
)

// skipTestRates are the output rates at which SetSkipInaudibleCELT takes
// effect, plus 24 kHz, where it must not.
var skipTestRates = []int{8000, 12000, 16000, 24000} //nolint:gochecknoglobals

// requireSameDecode decodes packets with two decoders, one skipping the
// inaudible CELT layer, and requires bit-identical results packet by
// packet. Decoder errors are fine but must match.
func requireSameDecode(t *testing.T, packets [][]byte, sampleRate, channels int) (skippable int) {
	t.Helper()

	full, err := NewDecoderWithOutput(sampleRate, channels)
	require.NoError(t, err)
	skipping, err := NewDecoderWithOutput(sampleRate, channels)
	require.NoError(t, err)
	skipping.SetSkipInaudibleCELT(true)

	fullOut := make([]float32, 5760*channels)
	skipOut := make([]float32, 5760*channels)
	for i, packet := range packets {
		fullN, fullErr := full.DecodeToFloat32(packet, fullOut)
		skipN, skipErr := skipping.DecodeToFloat32(packet, skipOut)
		require.Equal(t, fullErr, skipErr, "packet %d: errors differ", i)
		require.Equal(t, fullN, skipN, "packet %d: sample counts differ", i)
		for j := range fullN * channels {
			// Compare bits: == would let -0 and +0 pass as equal.
			require.Equal(t, math.Float32bits(fullOut[j]), math.Float32bits(skipOut[j]),
				"packet %d, sample %d", i, j)
		}
		if len(packet) > 0 && tableOfContentsHeader(packet[0]).configuration().mode() == configurationModeHybrid {
			skippable++
		}
	}

	return skippable
}

// randomPacket returns a packet with the given TOC byte and random frame
// data. Any bytes decode: the range decoder reads them as some sequence of
// symbols, so random frames reach the redundancy and mode-switch paths,
// including sequences libopus would not produce.
func randomPacket(rng *rand.Rand, toc byte) []byte {
	packet := make([]byte, 1+rng.Intn(160))
	packet[0] = toc &^ 0x03 // one frame per packet
	for i := 1; i < len(packet); i++ {
		packet[i] = byte(rng.Intn(256))
	}
	if rng.Intn(4) == 0 && len(packet) > 1 {
		// Redundancy flags are read late in the frame: make them likely by
		// leaving long runs of one value there.
		for i := len(packet) / 2; i < len(packet); i++ {
			packet[i] = 0xff
		}
	}

	return packet
}

func TestSkipInaudibleCELTMatchesFullDecode(t *testing.T) {
	rng := rand.New(rand.NewSource(1)) //nolint:gosec // reproducible test data
	// Runs of random packets of one mode, switching modes between runs:
	// hybrid SWB/FB (configs 12-15), SILK NB/MB/WB (0-11), CELT (16-31),
	// mono and stereo.
	for range 40 {
		var packets [][]byte
		for range 12 {
			config := rng.Intn(32)
			stereo := byte(rng.Intn(2)) << 2
			for range 1 + rng.Intn(4) {
				packets = append(packets, randomPacket(rng, byte(config<<3)|stereo))
			}
		}
		for _, sampleRate := range skipTestRates {
			for _, channels := range []int{1, 2} {
				requireSameDecode(t, packets, sampleRate, channels)
			}
		}
	}
}

// TOC bytes of one-frame 20 ms mono packets.
const (
	tocHybridFullband = 15 << 3
	tocCELTFullband   = 31 << 3
	tocSILKWideband   = 11 << 3
)

// hybridWithRedundancy returns a random hybrid packet that, decoded after
// prefix, carries a redundant CELT frame in the wanted direction. Random
// frames signal redundancy rarely (a 1/4096 flag, then a length that must
// fit), too rarely for random sequences to reach it, so this searches for
// one: first on a fresh decoder, then after prefix, since the SILK state it
// leaves decides where the flag is read.
func hybridWithRedundancy(t *testing.T, rng *rand.Rand, prefix [][]byte, celtToSilk bool) []byte {
	t.Helper()

	out := make([]float32, 5760)
	signals := func(packet []byte, prefix [][]byte) bool {
		probe, err := NewDecoderWithOutput(48000, 1)
		require.NoError(t, err)
		for _, p := range prefix {
			_, _ = probe.DecodeToFloat32(p, out)
		}
		frame := packet[1:]
		probe.rangeDecoder.Init(frame)
		err = probe.silkDecoder.DecodeWithRangeToChannels(
			&probe.rangeDecoder, out[:320], false, 1, frameDuration20ms.nanoseconds(), silk.Bandwidth(BandwidthWideband),
		)
		require.NoError(t, err)
		redundancy := probe.decodeHybridRedundancyHeader(frame)

		return redundancy.present && redundancy.celtToSilk == celtToSilk
	}
	for range 1 << 20 {
		// Long frames leave room for the redundant frame's length.
		packet := make([]byte, 300+rng.Intn(900))
		packet[0] = tocHybridFullband
		for i := 1; i < len(packet); i++ {
			packet[i] = byte(rng.Intn(256))
		}
		if signals(packet, nil) && signals(packet, prefix) {
			return packet
		}
	}
	t.Fatal("no hybrid packet with redundancy found")

	return nil
}

func randomPackets(rng *rand.Rand, toc byte, count int) [][]byte {
	packets := make([][]byte, count)
	for i := range packets {
		packets[i] = randomPacket(rng, toc)
	}

	return packets
}

// TestSkipInaudibleCELTAcrossRedundancy covers the transitions that carry a
// redundant CELT frame in a hybrid packet, including one libopus never
// produces: a CELT to SILK redundant frame straight after hybrid packets,
// which continues the CELT state of the skipped frames.
func TestSkipInaudibleCELTAcrossRedundancy(t *testing.T) {
	rng := rand.New(rand.NewSource(2)) //nolint:gosec // reproducible test data
	for _, tc := range []struct {
		name       string
		before     [][]byte
		celtToSilk bool
		after      [][]byte
	}{
		{"hybrid to CELT", randomPackets(rng, tocHybridFullband, 3), false, randomPackets(rng, tocCELTFullband, 3)},
		{"CELT to hybrid", randomPackets(rng, tocCELTFullband, 3), true, randomPackets(rng, tocHybridFullband, 3)},
		{
			"CELT to SILK redundancy after hybrid", randomPackets(rng, tocHybridFullband, 3), true,
			append(randomPackets(rng, tocHybridFullband, 2), randomPackets(rng, tocSILKWideband, 2)...),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			packets := append(tc.before, hybridWithRedundancy(t, rng, tc.before, tc.celtToSilk))
			packets = append(packets, tc.after...)
			for _, sampleRate := range skipTestRates {
				for _, channels := range []int{1, 2} {
					requireSameDecode(t, packets, sampleRate, channels)
				}
			}
		})
	}
}

func TestSkipInaudibleCELTKeptByInit(t *testing.T) {
	decoder, err := NewDecoderWithOutput(16000, 1)
	require.NoError(t, err)
	decoder.SetSkipInaudibleCELT(true)
	require.NoError(t, decoder.Init(8000, 1))
	require.True(t, decoder.skipInaudibleCELT)
}

func FuzzSkipInaudibleCELT(f *testing.F) {
	f.Add([]byte{0x78, 0x01, 0x02, 0x03, 0x04, 0x00, 0x6b, 0x80, 0x00, 0x11, 0x22, 0x00, 0xfc, 0xff, 0xfe}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, rateIndex uint8) {
		// Packets are separated by zero bytes, so the fuzzer can build
		// mode switches.
		var packets [][]byte
		start := 0
		for i, b := range data {
			if b == 0 {
				packets = append(packets, data[start:i])
				start = i + 1
			}
		}
		packets = append(packets, data[start:])
		sampleRate := skipTestRates[int(rateIndex)%len(skipTestRates)]
		requireSameDecode(t, packets, sampleRate, 1+int(rateIndex/4)%2)
	})
}
