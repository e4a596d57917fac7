// SPDX-FileCopyrightText: 2026 The Pion community <https://pion.ly>
// SPDX-License-Identifier: MIT

package silkresample

import (
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/pion/opus/internal/bitdepth"
)

func quantizeFloat(sample float32) float32 {
	var out [1]float32
	quantizeFloats(out[:], []float32{sample})

	return out[0]
}

func checkQuantize16(t *testing.T, sample float32) {
	t.Helper()
	want := bitdepth.Float32ToSigned16(sample)
	if got := quantize16(sample); got != want {
		t.Fatalf("quantize16(%v [%#08x]) = %d, Float32ToSigned16 %d", sample, math.Float32bits(sample), got, want)
	}
	if got := quantizeFloat(sample); math.Float32bits(got) != math.Float32bits(float32(want)/32768.0) {
		t.Fatalf("quantizeFloats(%v [%#08x]) = %v, Float32ToSigned16 %d", sample, math.Float32bits(sample), got, want)
	}
}

// TestQuantize16MatchesFloat32ToSigned16 checks the copy path's quantizer
// on every half-step boundary and its neighbours, specials and random bit
// patterns, and quantizeFloats likewise. PION_OPUS_EXHAUSTIVE=1 checks all
// 2^32 float32 values (about a minute).
func TestQuantize16MatchesFloat32ToSigned16(t *testing.T) {
	if os.Getenv("PION_OPUS_EXHAUSTIVE") != "" {
		for b := uint64(0); b < 1<<32; b++ {
			v := math.Float32frombits(uint32(b))
			want := bitdepth.Float32ToSigned16(v)
			if quantize16(v) != want || math.Float32bits(quantizeFloat(v)) != math.Float32bits(float32(want)/32768.0) {
				checkQuantize16(t, v)
			}
		}

		return
	}
	for _, v := range []float32{
		0, float32(math.Copysign(0, -1)), 1, -1, 1e-40, -1e-40, 1e-30, -1e-30,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.MaxFloat32, -math.MaxFloat32, 1.0000001, -1.0000001, 2, -2,
	} {
		checkQuantize16(t, v)
	}
	for k := -65537; k <= 65537; k++ {
		v := float32(k) / 65536
		checkQuantize16(t, v)
		checkQuantize16(t, math.Nextafter32(v, 2))
		checkQuantize16(t, math.Nextafter32(v, -2))
	}
	rng := rand.New(rand.NewSource(1))
	for range 1_000_000 {
		checkQuantize16(t, math.Float32frombits(rng.Uint32()))
		checkQuantize16(t, rng.Float32()*2-1)
	}
}

// TestResampleCopyMatchesGeneralPath runs the copy path and the general
// int16 path it replaces side by side over chunks of varying length, at
// every rate where input and output rates are equal, and compares output
// and state.
func TestResampleCopyMatchesGeneralPath(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, rate := range []int{8000, 12000, 16000} {
		var fast, slow Resampler
		if err := fast.Init(rate, rate); err != nil {
			t.Fatal(err)
		}
		if err := slow.Init(rate, rate); err != nil {
			t.Fatal(err)
		}
		// The general path, as Resample ran it before the copy path.
		slow.resamplerFunction = -1
		kHz := rate / 1000
		for chunk := range 200 {
			in := make([]float32, kHz*(1+rng.Intn(60)))
			for i := range in {
				switch rng.Intn(50) {
				case 0:
					in[i] = float32(rng.NormFloat64() * 3)
				case 1:
					in[i] = float32(math.NaN())
				default:
					in[i] = rng.Float32()*2 - 1
				}
			}
			want := make([]float32, len(in)+3)
			got := make([]float32, len(in)+3)
			if err := slow.Resample(in, want); err != nil {
				t.Fatal(err)
			}
			if err := fast.Resample(in, got); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d Hz, chunk %d, sample %d: %v, general path %v", rate, chunk, i, got[i], want[i])
				}
			}
			if fast.delayBuf != slow.delayBuf {
				t.Fatalf("%d Hz, chunk %d: delayBuf %v, general path %v", rate, chunk, fast.delayBuf, slow.delayBuf)
			}
			// The same slice as input and output.
			same := append([]float32(nil), in...)
			copy(want, in)
			alias := fast
			if err := fast.Resample(in, want[:len(in)]); err != nil {
				t.Fatal(err)
			}
			if err := alias.Resample(same, same); err != nil {
				t.Fatal(err)
			}
			for i := range same {
				if math.Float32bits(same[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d Hz, chunk %d, in place, sample %d: %v, want %v", rate, chunk, i, same[i], want[i])
				}
			}
			fast = alias
			if err := slow.Resample(in, make([]float32, len(in))); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// BenchmarkResampleCopy resamples 20 ms at 16 kHz to 16 kHz by the copy
// path and by the general int16 path it replaces.
func BenchmarkResampleCopy(b *testing.B) {
	rng := rand.New(rand.NewSource(3))
	in := make([]float32, 320)
	for i := range in {
		in[i] = rng.Float32()*2 - 1
	}
	out := make([]float32, len(in))
	for _, path := range []struct {
		name     string
		function int
	}{{"copy", resamplerCopy}, {"general", -1}} {
		b.Run(path.name, func(b *testing.B) {
			var r Resampler
			if err := r.Init(16000, 16000); err != nil {
				b.Fatal(err)
			}
			r.resamplerFunction = path.function
			for b.Loop() {
				if err := r.Resample(in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
