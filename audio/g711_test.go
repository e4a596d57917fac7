package audio

import (
	"math"
	"testing"
)

func TestG711KnownValues(t *testing.T) {
	// Expected values from the ITU-T G.191 reference expanders (16-bit
	// linear), scaled by 1/32768.
	tests := []struct {
		name   string
		decode func([]float32, []byte)
		code   byte
		linear int
	}{
		{"mu 0xFF", DecodeMuLaw, 0xFF, 0},
		{"mu 0x7F (negative zero)", DecodeMuLaw, 0x7F, 0},
		{"mu 0x00", DecodeMuLaw, 0x00, -32124},
		{"mu 0x80", DecodeMuLaw, 0x80, 32124},
		{"mu 0xFE", DecodeMuLaw, 0xFE, 8},
		{"mu 0x7E", DecodeMuLaw, 0x7E, -8},
		{"mu 0xF0", DecodeMuLaw, 0xF0, 120},
		{"mu 0xEF", DecodeMuLaw, 0xEF, 132},
		{"mu 0x8F", DecodeMuLaw, 0x8F, 16764},
		{"mu 0x90", DecodeMuLaw, 0x90, 15996},
		{"a 0xD5", DecodeALaw, 0xD5, 8},
		{"a 0x55", DecodeALaw, 0x55, -8},
		{"a 0xD4", DecodeALaw, 0xD4, 24},
		{"a 0xC5", DecodeALaw, 0xC5, 264},
		{"a 0xAA", DecodeALaw, 0xAA, 32256},
		{"a 0x2A", DecodeALaw, 0x2A, -32256},
		{"a 0x80", DecodeALaw, 0x80, 5504},
		{"a 0x00", DecodeALaw, 0x00, -5504},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []float32{99}
			tc.decode(dst, []byte{tc.code})
			if want := float32(tc.linear) / 32768; dst[0] != want {
				t.Errorf("decode(0x%02X) = %v (%v/32768), want %v (%d/32768)", tc.code, dst[0], dst[0]*32768, want, tc.linear)
			}
		})
	}
}

// TestG711Tables checks all 256 codes of both laws: odd symmetry around the
// sign bit, strictly increasing magnitude along the code order the standard
// defines, range, and agreement with the G.191 compressors.
func TestG711Tables(t *testing.T) {
	laws := []struct {
		name     string
		table    *[256]float32
		compress func(int16) byte
		// positive(k) is the positive code with the k-th smallest magnitude.
		positive func(k int) byte
		max      float32
	}{
		{"mu-law", muLawTable, muLawCompress, func(k int) byte { return byte(0xFF - k) }, 32124.0 / 32768},
		{"A-law", aLawTable, aLawCompress, func(k int) byte { return byte(0x80 | (k ^ 0x55)) }, 32256.0 / 32768},
	}
	for _, law := range laws {
		t.Run(law.name, func(t *testing.T) {
			tab := law.table
			for c := range 256 {
				v := tab[c]
				if -v != tab[c^0x80] {
					t.Errorf("code 0x%02X = %v but 0x%02X = %v; want opposite signs", c, v, c^0x80, tab[c^0x80])
				}
				if math.Abs(float64(v)) > float64(law.max) || v != v {
					t.Errorf("code 0x%02X = %v out of range", c, v)
				}
				// Every code except mu-law's negative zero survives
				// expand then compress.
				if back := law.compress(int16(v * 32768)); back != byte(c) && !(law.name == "mu-law" && c == 0x7F) {
					t.Errorf("code 0x%02X expands to %v, compresses back to 0x%02X", c, v*32768, back)
				}
			}
			prev := float32(-1)
			for k := range 128 {
				c := law.positive(k)
				if tab[c] <= prev {
					t.Errorf("magnitude not increasing at code 0x%02X: %v after %v", c, tab[c], prev)
				}
				if tab[c] < 0 {
					t.Errorf("positive code 0x%02X decodes to %v", c, tab[c])
				}
				prev = tab[c]
			}
			if prev != law.max {
				t.Errorf("largest code decodes to %v, want %v", prev, law.max)
			}
		})
	}
}

// TestG711Compress checks the expanders against the compressors across the
// whole 16-bit range: decoding an encoded sample lands within half a
// quantization step of the coarsest segment.
func TestG711Compress(t *testing.T) {
	dst := make([]float32, 1)
	for x := -32768; x <= 32767; x += 7 {
		for _, law := range []struct {
			name     string
			compress func(int16) byte
			decode   func([]float32, []byte)
		}{{"mu-law", muLawCompress, DecodeMuLaw}, {"A-law", aLawCompress, DecodeALaw}} {
			law.decode(dst, []byte{law.compress(int16(x))})
			if d := math.Abs(float64(dst[0])*32768 - float64(x)); d > 1024 {
				t.Fatalf("%s: %d decodes to %v", law.name, x, dst[0]*32768)
			}
		}
	}
}

func TestG711Bulk(t *testing.T) {
	src := make([]byte, 256)
	for i := range src {
		src[i] = byte(i)
	}
	for _, tc := range []struct {
		name   string
		decode func([]float32, []byte)
		table  *[256]float32
	}{{"mu-law", DecodeMuLaw, muLawTable}, {"A-law", DecodeALaw, aLawTable}} {
		dst := make([]float32, 300)
		tc.decode(dst, src)
		for i, b := range src {
			if dst[i] != tc.table[b] {
				t.Errorf("%s: dst[%d] = %v, want %v", tc.name, i, dst[i], tc.table[b])
			}
		}
		if dst[256] != 0 {
			t.Errorf("%s: wrote past len(src)", tc.name)
		}
		// A short dst is filled, not overrun.
		short := make([]float32, 10)
		tc.decode(short, src)
		if short[9] != tc.table[9] {
			t.Errorf("%s: short dst[9] = %v, want %v", tc.name, short[9], tc.table[9])
		}
	}
}
