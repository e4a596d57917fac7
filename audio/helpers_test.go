package audio

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"
)

// Test fixtures are built here rather than committed, so each case states
// exactly which bytes it feeds the reader.

// chunk encodes one RIFF chunk, adding the pad byte after an odd body.
func chunk(id string, body []byte) []byte {
	b := make([]byte, 0, 8+len(body)+1)
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// rawChunk encodes a chunk header with an arbitrary declared size.
func rawChunk(id string, size uint32, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], size)
	return append(b, body...)
}

// riff wraps chunks in a RIFF/WAVE header with a correct size.
func riff(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := []byte("RIFF\x00\x00\x00\x00WAVE")
	binary.LittleEndian.PutUint32(b[4:], uint32(4+len(body)))
	return append(b, body...)
}

// fmtBody is a classic 16-byte fmt chunk body.
func fmtBody(tag uint16, channels, rate, bits int) []byte {
	return fmtBodyBA(tag, channels, rate, bits, channels*bits/8)
}

func fmtBodyBA(tag uint16, channels, rate, bits, blockAlign int) []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, 16)
	b = le.AppendUint16(b, tag)
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(rate*blockAlign))
	b = le.AppendUint16(b, uint16(blockAlign))
	b = le.AppendUint16(b, uint16(bits))
	return b
}

// fmtExtensible is a 40-byte WAVE_FORMAT_EXTENSIBLE body with the standard
// KSDATAFORMAT_SUBTYPE GUID for sub.
func fmtExtensible(sub uint16, channels, rate, bits, valid int) []byte {
	le := binary.LittleEndian
	b := fmtBody(tagExtensible, channels, rate, bits)
	b = le.AppendUint16(b, 22)
	b = le.AppendUint16(b, uint16(valid))
	b = le.AppendUint32(b, 0) // channel mask: unspecified
	b = le.AppendUint16(b, sub)
	return append(b, guidSuffix[:]...)
}

// testSignal is a deterministic multi-channel signal that includes the
// extremes, so clamping and sign handling are exercised.
func testSignal(channels, frames int) [][]float64 {
	s := make([][]float64, channels)
	for c := range s {
		s[c] = make([]float64, frames)
		for i := range s[c] {
			s[c][i] = 0.9 * math.Sin(2*math.Pi*float64((i+1)*(c+1))/37)
		}
		if frames > 3 {
			s[c][0], s[c][1], s[c][2] = -1, 0.999, 0
		}
	}
	return s
}

func quant(x float64, bits uint) int64 {
	full := float64(int64(1) << (bits - 1))
	return int64(math.Max(-full, math.Min(full-1, math.Round(x*full))))
}

// encode interleaves and encodes samples the way a WAV writer would.
func encode(t testing.TB, enc Encoding, bits int, s [][]float64) []byte {
	t.Helper()
	le := binary.LittleEndian
	var b []byte
	for i := range s[0] {
		for c := range s {
			x := s[c][i]
			switch {
			case enc == EncodingPCM && bits == 8:
				b = append(b, byte(quant(x, 8)+128))
			case enc == EncodingPCM && bits == 16:
				b = le.AppendUint16(b, uint16(quant(x, 16)))
			case enc == EncodingPCM && bits == 24:
				v := uint32(quant(x, 24))
				b = append(b, byte(v), byte(v>>8), byte(v>>16))
			case enc == EncodingPCM && bits == 32:
				b = le.AppendUint32(b, uint32(quant(x, 32)))
			case enc == EncodingFloat && bits == 32:
				b = le.AppendUint32(b, math.Float32bits(float32(x)))
			case enc == EncodingFloat && bits == 64:
				b = le.AppendUint64(b, math.Float64bits(x))
			case enc == EncodingMuLaw:
				b = append(b, muLawCompress(int16(quant(x, 16))))
			case enc == EncodingALaw:
				b = append(b, aLawCompress(int16(quant(x, 16))))
			default:
				t.Fatalf("test encode: unsupported %d-bit %s", bits, enc)
			}
		}
	}
	return b
}

// muLawCompress is ITU-T G.191 ulaw_compress, an independent check on the
// decoder tables.
func muLawCompress(lin int16) byte {
	v := int(lin)
	var absno int
	if v < 0 {
		absno = ((^v) >> 2) + 33
	} else {
		absno = (v >> 2) + 33
	}
	absno = min(absno, 0x1FFF)
	segno := 1
	for i := absno >> 6; i != 0; i >>= 1 {
		segno++
	}
	high := 8 - segno
	low := 0x0F - ((absno >> segno) & 0x0F)
	out := high<<4 | low
	if v >= 0 {
		out |= 0x80
	}
	return byte(out)
}

// aLawCompress is ITU-T G.191 alaw_compress.
func aLawCompress(lin int16) byte {
	v := int(lin)
	var ix int
	if v < 0 {
		ix = (^v) >> 4
	} else {
		ix = v >> 4
	}
	if ix > 15 {
		exp := 1
		for ix > 16+15 {
			ix >>= 1
			exp++
		}
		ix -= 16
		ix += exp << 4
	}
	if v >= 0 {
		ix |= 0x80
	}
	return byte(ix ^ 0x55)
}

// plainReader hides io.Seeker so the streaming (non-seeking) path is used.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// readAll drains src in reads of step frames, checking the Source contract
// on every call.
func readAll(t testing.TB, src Source, step int) ([][]float32, error) {
	t.Helper()
	ch := src.Format().Channels
	dst := make([][]float32, ch)
	for c := range dst {
		dst[c] = make([]float32, step)
	}
	out := make([][]float32, ch)
	for calls := 0; ; calls++ {
		n, err := src.Read(dst)
		if n < 0 || n > step {
			t.Fatalf("Read returned n=%d for %d-frame dst", n, step)
		}
		if n > 0 && err != nil {
			t.Fatalf("Read returned n=%d with err=%v", n, err)
		}
		for c := range out {
			out[c] = append(out[c], dst[c][:n]...)
		}
		if err != nil {
			// The end must be sticky.
			if n2, err2 := src.Read(dst); n2 != 0 || !errors.Is(err2, err) {
				t.Fatalf("Read after %v returned %d, %v", err, n2, err2)
			}
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		if n == 0 {
			t.Fatalf("Read returned 0, nil")
		}
		if calls > 1<<20 {
			t.Fatalf("Read did not end")
		}
	}
}
