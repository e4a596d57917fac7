package audio

import (
	"encoding/binary"
	"math"
)

// decodeFunc converts n interleaved frames of blockAlign bytes each from buf
// into dst[c][:n]. One is chosen per file when the header is parsed, so the
// per-sample work is a tight loop with no interface calls or format switches.
// Each loop walks one channel with a stride of blockAlign; this keeps the
// loops generic over the channel count without an inner per-channel switch.
type decodeFunc func(dst [][]float32, buf []byte, n, blockAlign int)

// Integer scales map the most negative code to exactly -1. They are powers of
// two, so the multiplication is exact.
const (
	scale8  = 1.0 / (1 << 7)
	scale16 = 1.0 / (1 << 15)
	scale24 = 1.0 / (1 << 23)
	scale32 = 1.0 / (1 << 31)
)

func decoderFor(enc Encoding, bits int) decodeFunc {
	switch enc {
	case EncodingPCM:
		switch bits {
		case 8:
			return decodePCM8
		case 16:
			return decodePCM16
		case 24:
			return decodePCM24
		case 32:
			return decodePCM32
		}
	case EncodingFloat:
		switch bits {
		case 32:
			return decodeFloat32
		case 64:
			return decodeFloat64
		}
	case EncodingMuLaw:
		if bits == 8 {
			return func(dst [][]float32, buf []byte, n, ba int) { decodeTable(dst, buf, n, ba, muLawTable) }
		}
	case EncodingALaw:
		if bits == 8 {
			return func(dst [][]float32, buf []byte, n, ba int) { decodeTable(dst, buf, n, ba, aLawTable) }
		}
	}
	return nil
}

// decodePCM8 handles WAV's one unsigned format: 8-bit samples are offset by 128.
func decodePCM8(dst [][]float32, buf []byte, n, ba int) {
	for c, d := range dst {
		d = d[:n]
		off := c
		for i := range d {
			d[i] = (float32(buf[off]) - 128) * scale8
			off += ba
		}
	}
}

func decodePCM16(dst [][]float32, buf []byte, n, ba int) {
	if len(dst) == 2 && ba == 4 {
		decodePCM16Stereo(dst[0][:n], dst[1][:n], buf[:n*4])
		return
	}
	for c, d := range dst {
		d = d[:n]
		off := 2 * c
		for i := range d {
			d[i] = float32(int16(binary.LittleEndian.Uint16(buf[off:]))) * scale16
			off += ba
		}
	}
}

// decodePCM16Stereo is the common case for call recordings (rep + customer),
// unrolled so both channels come from one pass over the buffer.
func decodePCM16Stereo(l, r []float32, buf []byte) {
	r = r[:len(l)]
	for i := range l {
		b := buf[4*i : 4*i+4 : 4*i+4]
		l[i] = float32(int16(binary.LittleEndian.Uint16(b[0:]))) * scale16
		r[i] = float32(int16(binary.LittleEndian.Uint16(b[2:]))) * scale16
	}
}

func decodePCM24(dst [][]float32, buf []byte, n, ba int) {
	for c, d := range dst {
		d = d[:n]
		off := 3 * c
		for i := range d {
			b := buf[off : off+3 : off+3]
			// Build the value in the top 24 bits and shift back down, so the
			// arithmetic shift sign-extends for free.
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			d[i] = float32(v) * scale24
			off += ba
		}
	}
}

func decodePCM32(dst [][]float32, buf []byte, n, ba int) {
	for c, d := range dst {
		d = d[:n]
		off := 4 * c
		for i := range d {
			d[i] = float32(int32(binary.LittleEndian.Uint32(buf[off:]))) * scale32
			off += ba
		}
	}
}

// clampUnit keeps float input inside the Source contract: NaN becomes 0 and
// out-of-range (including ±Inf) values are clipped, because a single NaN or
// Inf would poison every energy sum downstream.
func clampUnit(v float32) float32 {
	switch {
	case v > 1:
		return 1
	case v < -1:
		return -1
	case v != v:
		return 0
	}
	return v
}

func decodeFloat32(dst [][]float32, buf []byte, n, ba int) {
	for c, d := range dst {
		d = d[:n]
		off := 4 * c
		for i := range d {
			d[i] = clampUnit(math.Float32frombits(binary.LittleEndian.Uint32(buf[off:])))
			off += ba
		}
	}
}

func decodeFloat64(dst [][]float32, buf []byte, n, ba int) {
	for c, d := range dst {
		d = d[:n]
		off := 8 * c
		for i := range d {
			d[i] = clampUnit(float32(math.Float64frombits(binary.LittleEndian.Uint64(buf[off:]))))
			off += ba
		}
	}
}

func decodeTable(dst [][]float32, buf []byte, n, ba int, t *[256]float32) {
	if len(dst) == 1 {
		decodeG711(dst[0][:n], buf[:n], t)
		return
	}
	for c, d := range dst {
		d = d[:n]
		off := c
		for i := range d {
			d[i] = t[buf[off]]
			off += ba
		}
	}
}

// decodeG711 is the shared contiguous loop behind the G.711 decoders; the
// caller guarantees len(dst) >= len(src).
func decodeG711(dst []float32, src []byte, t *[256]float32) {
	dst = dst[:len(src)] // lets the compiler drop the bounds check below
	for i, b := range src {
		dst[i] = t[b]
	}
}
