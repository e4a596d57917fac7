package audio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func tagFor(enc Encoding) uint16 {
	switch enc {
	case EncodingFloat:
		return tagFloat
	case EncodingMuLaw:
		return tagMuLaw
	case EncodingALaw:
		return tagALaw
	}
	return tagPCM
}

// tolerance is one quantization step of the format (G.711: half its
// coarsest segment step), against the float64 signal that was encoded.
func tolerance(enc Encoding, bits int) float64 {
	switch enc {
	case EncodingPCM:
		if bits == 32 {
			return 1e-7 // float32 output resolution dominates
		}
		return 1/math.Exp2(float64(bits-1)) + 1e-9
	case EncodingFloat:
		return 1e-7
	}
	return 1.0 / 32
}

// readModes exercise seeking, known-size streaming, unknown-size streaming
// and readers that return partial frames.
var readModes = []struct {
	name string
	open func(b []byte) (io.Reader, int64)
}{
	{"seeker", func(b []byte) (io.Reader, int64) { return bytes.NewReader(b), -1 }},
	{"sized", func(b []byte) (io.Reader, int64) { return plainReader{bytes.NewReader(b)}, int64(len(b)) }},
	{"stream", func(b []byte) (io.Reader, int64) { return plainReader{bytes.NewReader(b)}, -1 }},
	{"onebyte", func(b []byte) (io.Reader, int64) { return iotest.OneByteReader(bytes.NewReader(b)), -1 }},
	{"half", func(b []byte) (io.Reader, int64) { return iotest.HalfReader(bytes.NewReader(b)), int64(len(b)) }},
	{"dataerr", func(b []byte) (io.Reader, int64) { return iotest.DataErrReader(bytes.NewReader(b)), -1 }},
}

func TestWAVRoundTrip(t *testing.T) {
	list := chunk("LIST", []byte("INFOISFT\x06\x00\x00\x00talkr\x00"))
	fact := chunk("fact", []byte{100, 0, 0, 0})
	oddJunk := chunk("JUNK", []byte("odd")) // 3 bytes + pad

	tests := []struct {
		name     string
		enc      Encoding
		bits     int
		channels int
		rate     int
		frames   int
		ext      bool   // WAVE_FORMAT_EXTENSIBLE
		valid    int    // extensible valid bits; 0 means equal to bits
		fmtExtra []byte // appended to the fmt body (cbSize, vendor bytes)
		lead     [][]byte
		before   [][]byte
		after    [][]byte
	}{
		{name: "pcm8 mono 8k", enc: EncodingPCM, bits: 8, channels: 1, rate: 8000, frames: 301},
		{name: "pcm8 mono 16k odd data", enc: EncodingPCM, bits: 8, channels: 1, rate: 16000, frames: 77, after: [][]byte{list}},
		{name: "pcm16 mono 16k", enc: EncodingPCM, bits: 16, channels: 1, rate: 16000, frames: 300},
		{name: "pcm16 stereo 8k", enc: EncodingPCM, bits: 16, channels: 2, rate: 8000, frames: 300},
		{name: "pcm16 stereo 48k", enc: EncodingPCM, bits: 16, channels: 2, rate: 48000, frames: 257},
		{name: "pcm16 3ch 16k", enc: EncodingPCM, bits: 16, channels: 3, rate: 16000, frames: 200},
		{name: "pcm16 cbSize 0", enc: EncodingPCM, bits: 16, channels: 2, rate: 16000, frames: 50, fmtExtra: []byte{0, 0}},
		{name: "pcm16 odd fmt size", enc: EncodingPCM, bits: 16, channels: 1, rate: 16000, frames: 50, fmtExtra: []byte{0}},
		{name: "pcm24 stereo 48k", enc: EncodingPCM, bits: 24, channels: 2, rate: 48000, frames: 200},
		{name: "pcm24 mono 8k odd data", enc: EncodingPCM, bits: 24, channels: 1, rate: 8000, frames: 33, after: [][]byte{fact}},
		{name: "pcm32 stereo 16k", enc: EncodingPCM, bits: 32, channels: 2, rate: 16000, frames: 200},
		{name: "float32 mono 16k", enc: EncodingFloat, bits: 32, channels: 1, rate: 16000, frames: 200},
		{name: "float32 5ch 48k", enc: EncodingFloat, bits: 32, channels: 5, rate: 48000, frames: 100},
		{name: "float64 stereo 8k", enc: EncodingFloat, bits: 64, channels: 2, rate: 8000, frames: 100},
		{name: "mulaw mono 8k", enc: EncodingMuLaw, bits: 8, channels: 1, rate: 8000, frames: 301},
		{name: "mulaw stereo 8k", enc: EncodingMuLaw, bits: 8, channels: 2, rate: 8000, frames: 300},
		{name: "alaw mono 8k", enc: EncodingALaw, bits: 8, channels: 1, rate: 8000, frames: 300},
		{name: "alaw stereo 16k", enc: EncodingALaw, bits: 8, channels: 2, rate: 16000, frames: 301},
		{name: "extensible pcm16 stereo", enc: EncodingPCM, bits: 16, channels: 2, rate: 16000, frames: 200, ext: true},
		{name: "extensible pcm24 valid20 4ch", enc: EncodingPCM, bits: 24, channels: 4, rate: 48000, frames: 100, ext: true, valid: 20},
		{name: "extensible pcm32 valid0", enc: EncodingPCM, bits: 32, channels: 1, rate: 8000, frames: 100, ext: true, valid: -1},
		{name: "extensible float32 stereo", enc: EncodingFloat, bits: 32, channels: 2, rate: 16000, frames: 100, ext: true},
		{name: "extensible float64 mono", enc: EncodingFloat, bits: 64, channels: 1, rate: 48000, frames: 100, ext: true},
		{name: "extensible mulaw", enc: EncodingMuLaw, bits: 8, channels: 2, rate: 8000, frames: 101, ext: true},
		{name: "extensible alaw", enc: EncodingALaw, bits: 8, channels: 1, rate: 8000, frames: 101, ext: true},
		{name: "extra chunks before and after data", enc: EncodingPCM, bits: 16, channels: 2, rate: 16000, frames: 120,
			lead: [][]byte{oddJunk}, before: [][]byte{list, fact, oddJunk}, after: [][]byte{list, fact}},
		{name: "odd chunks around odd data", enc: EncodingPCM, bits: 8, channels: 1, rate: 8000, frames: 99,
			lead: [][]byte{chunk("bext", []byte("x"))}, before: [][]byte{oddJunk}, after: [][]byte{oddJunk}},
		{name: "32 channels", enc: EncodingPCM, bits: 16, channels: MaxChannels, rate: 8000, frames: 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := testSignal(tc.channels, tc.frames)
			payload := encode(t, tc.enc, tc.bits, sig)
			var fmtB []byte
			if tc.ext {
				valid := tc.bits
				if tc.valid != 0 {
					valid = max(tc.valid, 0)
				}
				fmtB = fmtExtensible(tagFor(tc.enc), tc.channels, tc.rate, tc.bits, valid)
			} else {
				fmtB = fmtBody(tagFor(tc.enc), tc.channels, tc.rate, tc.bits)
			}
			fmtB = append(fmtB, tc.fmtExtra...)
			var chunks [][]byte
			chunks = append(chunks, tc.lead...)
			chunks = append(chunks, chunk("fmt ", fmtB))
			chunks = append(chunks, tc.before...)
			chunks = append(chunks, chunk("data", payload))
			chunks = append(chunks, tc.after...)
			file := riff(chunks...)

			// G.711 output must equal the tables exactly; the tolerance
			// check below only shows the codes carry the right signal.
			var exact []float32
			switch tc.enc {
			case EncodingMuLaw:
				exact = make([]float32, len(payload))
				DecodeMuLaw(exact, payload)
			case EncodingALaw:
				exact = make([]float32, len(payload))
				DecodeALaw(exact, payload)
			}

			wantFormat := Format{SampleRate: tc.rate, Channels: tc.channels, BitsPerSample: tc.bits, Encoding: tc.enc}
			tol := tolerance(tc.enc, tc.bits)
			for _, mode := range readModes {
				for _, step := range []int{1, 7, 4096} {
					r, size := mode.open(file)
					w, err := NewWAVReader(r, size)
					if err != nil {
						t.Fatalf("%s: NewWAVReader: %v", mode.name, err)
					}
					if got := w.Format(); got != wantFormat {
						t.Fatalf("%s: Format = %+v, want %+v", mode.name, got, wantFormat)
					}
					if got := w.Frames(); got != int64(tc.frames) {
						t.Fatalf("%s: Frames = %d, want %d", mode.name, got, tc.frames)
					}
					got, err := readAll(t, w, step)
					if err != nil {
						t.Fatalf("%s step %d: read: %v", mode.name, step, err)
					}
					for c := range sig {
						if len(got[c]) != tc.frames {
							t.Fatalf("%s step %d: channel %d has %d frames, want %d", mode.name, step, c, len(got[c]), tc.frames)
						}
						for i, x := range sig[c] {
							g := got[c][i]
							if math.Abs(float64(g)-x) > tol {
								t.Fatalf("%s step %d: ch %d frame %d = %v, want %v ± %g", mode.name, step, c, i, g, x, tol)
							}
							if exact != nil && g != exact[i*tc.channels+c] {
								t.Fatalf("%s step %d: ch %d frame %d = %v, table says %v", mode.name, step, c, i, g, exact[i*tc.channels+c])
							}
						}
					}
				}
			}
		})
	}
}

func TestWAVDuration(t *testing.T) {
	file := riff(chunk("fmt ", fmtBody(tagPCM, 2, 16000, 16)), chunk("data", make([]byte, 16000*4*3/2)))
	w, err := NewWAVReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Duration(), 1500*time.Millisecond; got != want {
		t.Errorf("Duration = %v, want %v", got, want)
	}
}

// TestWAVUntilEOF covers streaming writers that put 0xFFFFFFFF in the data
// size: samples run to EOF and a trailing partial frame is dropped.
func TestWAVUntilEOF(t *testing.T) {
	sig := testSignal(2, 100)
	payload := encode(t, EncodingPCM, 16, sig)
	payload = append(payload, 0x12, 0x34, 0x56) // 3 bytes of a 4-byte frame
	file := riff(chunk("fmt ", fmtBody(tagPCM, 2, 8000, 16)), rawChunk("data", dataUntilEOF, payload))
	for _, mode := range readModes {
		r, size := mode.open(file)
		w, err := NewWAVReader(r, size)
		if err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		if w.Frames() != -1 || w.Duration() != 0 {
			t.Errorf("%s: Frames = %d, Duration = %v, want -1, 0", mode.name, w.Frames(), w.Duration())
		}
		got, err := readAll(t, w, 33)
		if err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		if len(got[0]) != 100 || len(got[1]) != 100 {
			t.Fatalf("%s: got %d/%d frames, want 100", mode.name, len(got[0]), len(got[1]))
		}
	}
}

// TestWAVDataPartialFrame: a declared data size that is not a whole number
// of frames yields the whole frames only.
func TestWAVDataPartialFrame(t *testing.T) {
	payload := append(encode(t, EncodingPCM, 16, testSignal(2, 10)), 1, 2)
	file := riff(chunk("fmt ", fmtBody(tagPCM, 2, 8000, 16)), chunk("data", payload))
	for _, mode := range readModes {
		r, size := mode.open(file)
		w, err := NewWAVReader(r, size)
		if err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		if w.Frames() != 10 {
			t.Errorf("%s: Frames = %d, want 10", mode.name, w.Frames())
		}
		got, err := readAll(t, w, 4)
		if err != nil || len(got[0]) != 10 {
			t.Fatalf("%s: got %d frames, err %v; want 10, nil", mode.name, len(got[0]), err)
		}
	}
}

// TestWAVTruncatedData: when the length is unknown up front, a data chunk
// that ends early delivers what is there and then ErrTruncated.
func TestWAVTruncatedData(t *testing.T) {
	payload := encode(t, EncodingPCM, 16, testSignal(1, 50))
	file := riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16)), rawChunk("data", 200, payload))
	for _, mode := range readModes {
		r, size := mode.open(file)
		w, err := NewWAVReader(r, size)
		if size >= 0 || mode.name == "seeker" {
			// Length known: rejected before any sample is read.
			if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "data chunk declares 200 bytes, only 100 remain") {
				t.Errorf("%s: NewWAVReader err = %v, want truncated data chunk", mode.name, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", mode.name, err)
		}
		got, err := readAll(t, w, 16)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: read err = %v, want ErrTruncated", mode.name, err)
		}
		if len(got[0]) != 50 {
			t.Errorf("%s: got %d frames before the error, want 50", mode.name, len(got[0]))
		}
	}
}

func TestWAVFloatClamp(t *testing.T) {
	vals := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1.5, -2, 0.25}
	want := []float32{0, 1, -1, 1, -1, 0.25}
	var payload []byte
	for _, v := range vals {
		payload = append(payload, byte(math.Float32bits(v)), byte(math.Float32bits(v)>>8), byte(math.Float32bits(v)>>16), byte(math.Float32bits(v)>>24))
	}
	file := riff(chunk("fmt ", fmtBody(tagFloat, 1, 8000, 32)), chunk("data", payload))
	w, err := NewWAVReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, w, 16)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[0][i] != want[i] {
			t.Errorf("sample %d (%v) = %v, want %v", i, vals[i], got[0][i], want[i])
		}
	}
}

func TestWAVReadBadDst(t *testing.T) {
	file := riff(chunk("fmt ", fmtBody(tagPCM, 2, 8000, 16)), chunk("data", make([]byte, 40)))
	w, err := NewWAVReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	for name, dst := range map[string][][]float32{
		"nil":           nil,
		"one channel":   {make([]float32, 4)},
		"ragged":        {make([]float32, 4), make([]float32, 3)},
		"three channel": {make([]float32, 4), make([]float32, 4), make([]float32, 4)},
	} {
		if n, err := w.Read(dst); n != 0 || err == nil {
			t.Errorf("%s: Read = %d, %v; want 0 and an error", name, n, err)
		}
	}
	// Empty buffers are a no-op, as for io.Reader.
	if n, err := w.Read([][]float32{{}, {}}); n != 0 || err != nil {
		t.Errorf("empty dst: Read = %d, %v; want 0, nil", n, err)
	}
	var zero WAVReader
	if n, err := zero.Read(nil); n != 0 || err == nil {
		t.Errorf("zero WAVReader: Read = %d, %v; want an error", n, err)
	}
}

func TestWAVBadInput(t *testing.T) {
	pcm := func(channels, rate, bits int) []byte { return chunk("fmt ", fmtBody(tagPCM, channels, rate, bits)) }
	data := chunk("data", make([]byte, 8))
	badGUID := fmtExtensible(tagPCM, 1, 8000, 16, 16)
	badGUID[30] ^= 0xFF
	id3 := []byte("ID3\x04\x00\x00\x00\x00\x00\x23TSSE\x00\x00\x00\x0f\x00\x00\x03Lavf58.29.100\x00\xff\xfb\x90\x64")

	tests := []struct {
		name string
		in   []byte
		is   error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "empty file"},
		{"text file", []byte("hello, this is a plain text file\nnot audio\n"), ErrNotWAV, "not a RIFF/WAVE file"},
		{"mp3 with ID3", id3, ErrNotWAV, "MP3"},
		{"mp3 frame sync", []byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0}, ErrNotWAV, "MP3"},
		{"m4a", []byte("\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00"), ErrNotWAV, "MP4"},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), ErrNotWAV, "Ogg"},
		{"avi", []byte("RIFF\x04\x00\x00\x00AVI "), ErrNotWAV, `RIFF form "AVI "`},
		{"rifx", []byte("RIFX\x00\x00\x00\x04WAVE"), ErrUnsupported, "RIFX"},
		{"rf64", []byte("RF64\xff\xff\xff\xffWAVE"), ErrUnsupported, "RF64"},
		{"short RIFF", []byte("RIF"), ErrTruncated, "RIFF header is 3 bytes"},
		{"short RIFF WAV", []byte("RIFF\x00\x00\x00\x00WAV"), ErrTruncated, "RIFF header is 11 bytes"},
		{"short not RIFF", []byte("MThd"), ErrNotWAV, `starts with "MThd"`},
		{"header only", riff(), ErrMalformed, "fmt chunk missing"},
		{"only LIST", riff(chunk("LIST", []byte("INFO"))), ErrMalformed, "fmt chunk missing"},
		{"no data", riff(pcm(1, 8000, 16)), ErrMalformed, "no data chunk"},
		{"no data after LIST", riff(pcm(1, 8000, 16), chunk("LIST", []byte("INFO"))), ErrMalformed, "no data chunk"},
		{"partial chunk header", append(riff(), "fmt"...), ErrTruncated, "chunk header is 3 bytes"},
		{"fmt too small", riff(chunk("fmt ", make([]byte, 14)), data), ErrMalformed, "fmt chunk too small (14 bytes, need 16)"},
		{"fmt too large", riff(chunk("fmt ", make([]byte, 2000)), data), ErrMalformed, "fmt chunk too large (2000 bytes, max 1024)"},
		{"fmt truncated", riff(rawChunk("fmt ", 100, fmtBody(tagPCM, 1, 8000, 16))), ErrTruncated, "fmt chunk declares 100 bytes, only 16 remain"},
		{"duplicate fmt", riff(pcm(1, 8000, 16), pcm(1, 8000, 16), data), ErrMalformed, "duplicate fmt"},
		{"data before fmt", riff(data, pcm(1, 8000, 16)), ErrUnsupported, "data chunk before fmt chunk"},
		{"mpeg layer 3", riff(chunk("fmt ", fmtBody(0x0055, 1, 8000, 0)), data), ErrUnsupported, "format tag 0x0055 (MPEG Layer III)"},
		{"ima adpcm", riff(chunk("fmt ", fmtBody(0x0011, 1, 8000, 4)), data), ErrUnsupported, "format tag 0x0011 (IMA ADPCM)"},
		{"unknown tag", riff(chunk("fmt ", fmtBody(0x1234, 1, 8000, 16)), data), ErrUnsupported, "format tag 0x1234 (unknown)"},
		{"extensible too small", riff(chunk("fmt ", append(fmtBody(tagExtensible, 1, 8000, 16), 0, 0)), data), ErrMalformed, "too small for WAVE_FORMAT_EXTENSIBLE"},
		{"extensible bad cbSize", riff(chunk("fmt ", func() []byte { b := fmtExtensible(tagPCM, 1, 8000, 16, 16); b[16] = 0; return b }()), data), ErrMalformed, "extension size 0"},
		{"extensible unknown GUID", riff(chunk("fmt ", badGUID), data), ErrUnsupported, "sub-format GUID"},
		{"extensible adpcm", riff(chunk("fmt ", fmtExtensible(0x0002, 1, 8000, 16, 16)), data), ErrUnsupported, "sub-format 0x0002 (Microsoft ADPCM)"},
		{"extensible nested", riff(chunk("fmt ", fmtExtensible(tagExtensible, 1, 8000, 16, 16)), data), ErrUnsupported, "sub-format 0xFFFE"},
		{"extensible valid > bits", riff(chunk("fmt ", fmtExtensible(tagPCM, 1, 8000, 16, 24)), data), ErrMalformed, "24 valid bits in a 16-bit container"},
		{"extensible float valid", riff(chunk("fmt ", fmtExtensible(tagFloat, 1, 8000, 32, 24)), data), ErrMalformed, "24 valid bits for 32-bit float"},
		{"pcm 12 bits", riff(chunk("fmt ", fmtBodyBA(tagPCM, 1, 8000, 12, 2)), data), ErrUnsupported, "12 bits per sample for PCM (want 8, 16, 24 or 32)"},
		{"pcm 0 bits", riff(chunk("fmt ", fmtBodyBA(tagPCM, 1, 8000, 0, 2)), data), ErrUnsupported, "0 bits per sample"},
		{"float 16 bits", riff(chunk("fmt ", fmtBody(tagFloat, 1, 8000, 16)), data), ErrUnsupported, "16 bits per sample for float (want 32 or 64)"},
		{"mulaw 16 bits", riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 16)), data), ErrUnsupported, "16 bits per sample for mu-law (want 8)"},
		{"alaw 4 bits", riff(chunk("fmt ", fmtBodyBA(tagALaw, 1, 8000, 4, 1)), data), ErrUnsupported, "4 bits per sample for A-law"},
		{"zero channels", riff(pcm(0, 8000, 16), data), ErrMalformed, "bad channel count 0"},
		{"too many channels", riff(pcm(33, 8000, 16), data), ErrUnsupported, "bad channel count 33 (max 32)"},
		{"65535 channels", riff(pcm(65535, 8000, 16), data), ErrUnsupported, "bad channel count 65535"},
		{"rate too low", riff(pcm(1, 7999, 16), data), ErrUnsupported, "sample rate 7999 Hz out of range (supported 8000-48000 Hz)"},
		{"rate too high", riff(pcm(1, 96000, 16), data), ErrUnsupported, "sample rate 96000 Hz out of range"},
		{"rate zero", riff(pcm(1, 0, 16), data), ErrUnsupported, "sample rate 0 Hz"},
		{"block align mismatch", riff(chunk("fmt ", fmtBodyBA(tagPCM, 2, 8000, 16, 2)), data), ErrMalformed, "block align 2 does not match 2 channels of 16 bits (want 4)"},
		{"block align zero", riff(chunk("fmt ", fmtBodyBA(tagPCM, 1, 8000, 16, 0)), data), ErrMalformed, "block align 0"},
		{"data larger than file", riff(pcm(1, 8000, 16), rawChunk("data", 1000, make([]byte, 10))), ErrTruncated, "data chunk declares 1000 bytes, only 10 remain"},
		{"LIST larger than file", riff(pcm(1, 8000, 16), rawChunk("LIST", 5000, []byte("INFO"))), ErrTruncated, `"LIST" chunk declares 5000 bytes, only 4 remain`},
		{"huge LIST in 24 bytes", append([]byte("RIFF\x10\x00\x00\x00WAVELIST\xf0\xff\xff\xff"), "INFO"...), ErrTruncated, `"LIST" chunk declares 4294967280 bytes, only 4 remain`},
		{"huge fmt", append([]byte("RIFF\x10\x00\x00\x00WAVEfmt \xf0\xff\xff\xff"), "INFO"...), ErrMalformed, "fmt chunk too large"},
		{"huge data", riff(pcm(1, 8000, 16), rawChunk("data", 0xFFFFFFFE, make([]byte, 10))), ErrTruncated, "data chunk declares 4294967294 bytes, only 10 remain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range readModes {
				r, size := mode.open(tc.in)
				err := openAndDrain(t, r, size)
				if err == nil {
					t.Fatalf("%s: no error", mode.name)
				}
				if !errors.Is(err, tc.is) {
					t.Errorf("%s: err = %v, want errors.Is %v", mode.name, err, tc.is)
				}
				// Streaming without a length can only notice an oversized
				// chunk when the bytes run out, so the wording differs there.
				known := size >= 0 || mode.name == "seeker"
				if known && !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("%s: err = %q, want it to contain %q", mode.name, err, tc.msg)
				}
				if !strings.HasPrefix(err.Error(), "wav: ") {
					t.Errorf("%s: err = %q, want a wav: prefix", mode.name, err)
				}
			}
		})
	}
}

// openAndDrain returns the first error from parsing or reading, or nil.
func openAndDrain(t testing.TB, r io.Reader, size int64) error {
	t.Helper()
	w, err := NewWAVReader(r, size)
	if err != nil {
		if w != nil {
			t.Fatalf("NewWAVReader returned a reader with error %v", err)
		}
		return err
	}
	_, err = readAll(t, w, 64)
	return err
}

// TestWAVHugeChunkAllocation: a 24-byte file declaring a 4 GiB chunk must
// be rejected without allocating anything near its declared size.
func TestWAVHugeChunkAllocation(t *testing.T) {
	inputs := map[string][]byte{
		"LIST": append([]byte("RIFF\x10\x00\x00\x00WAVELIST\xf0\xff\xff\xff"), "INFO"...),
		"fmt":  append([]byte("RIFF\x10\x00\x00\x00WAVEfmt \xf0\xff\xff\xff"), "INFO"...),
		"data": append(riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 16))), "data\xf0\xff\xff\xff\x00\x00"...),
	}
	for name, in := range inputs {
		for _, mode := range readModes {
			alloc := totalAlloc(func() {
				for range 10 {
					r, size := mode.open(in)
					if err := openAndDrain(t, r, size); err == nil {
						t.Fatalf("%s %s: no error", name, mode.name)
					}
				}
			})
			if alloc > 1<<20 {
				t.Errorf("%s %s: 10 rejections allocated %d bytes, want < 1 MiB", name, mode.name, alloc)
			}
		}
	}
}

func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// synthWAV produces a 16-bit stereo WAV lazily: header then a repeating
// pattern, so a long stream costs no test memory either.
type synthWAV struct {
	header  []byte
	pattern []byte
	size    int64
	pos     int64
}

func newSynthWAV(t testing.TB, rate int, dur time.Duration) *synthWAV {
	frames := int64(dur / time.Second * time.Duration(rate))
	dataLen := frames * 4
	header := riff(chunk("fmt ", fmtBody(tagPCM, 2, rate, 16)), chunk("LIST", []byte("INFO")))
	header = append(header, rawChunk("data", uint32(dataLen), nil)...)
	return &synthWAV{
		header:  header,
		pattern: encode(t, EncodingPCM, 16, testSignal(2, 1024)),
		size:    int64(len(header)) + dataLen,
	}
}

func (s *synthWAV) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.size-s.pos)]
	n := 0
	for n < len(p) {
		if s.pos < int64(len(s.header)) {
			k := copy(p[n:], s.header[s.pos:])
			n += k
			s.pos += int64(k)
			continue
		}
		off := (s.pos - int64(len(s.header))) % int64(len(s.pattern))
		k := copy(p[n:], s.pattern[off:])
		n += k
		s.pos += int64(k)
	}
	return n, nil
}

// TestWAVConstantMemory reads ten minutes of 16 kHz stereo and checks the
// total allocation is small and independent of the length.
func TestWAVConstantMemory(t *testing.T) {
	dst := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	for _, dur := range []time.Duration{10 * time.Second, 10 * time.Minute} {
		src := newSynthWAV(t, 16000, dur)
		var frames int64
		alloc := totalAlloc(func() {
			w, err := NewWAVReader(src, src.size)
			if err != nil {
				t.Fatal(err)
			}
			for {
				n, err := w.Read(dst)
				frames += int64(n)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
		if want := int64(dur/time.Second) * 16000; frames != want {
			t.Fatalf("%v: read %d frames, want %d", dur, frames, want)
		}
		t.Logf("%v of 16 kHz stereo: %d bytes allocated", dur, alloc)
		if alloc > 1<<20 {
			t.Errorf("%v: allocated %d bytes, want < 1 MiB", dur, alloc)
		}
	}
}

func TestOpenWAV(t *testing.T) {
	dir := t.TempDir()
	sig := testSignal(2, 100)
	good := filepath.Join(dir, "call.wav")
	if err := os.WriteFile(good, riff(chunk("fmt ", fmtBody(tagPCM, 2, 8000, 16)), chunk("LIST", []byte("INFOx")), chunk("data", encode(t, EncodingPCM, 16, sig))), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := OpenWAV(good)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, f, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(got[0]) != 100 || f.Frames() != 100 {
		t.Errorf("read %d frames, Frames() = %d, want 100", len(got[0]), f.Frames())
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}

	missing := filepath.Join(dir, "missing.wav")
	_, err = OpenWAV(missing)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist", err)
	}
	if err != nil && strings.Contains(err.Error(), dir) {
		t.Errorf("missing file: err %q names the path; the caller adds it", err)
	}

	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("just some notes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWAV(text); !errors.Is(err, ErrNotWAV) {
		t.Errorf("text file: err = %v, want ErrNotWAV", err)
	}
	if _, err := OpenWAV(dir); err == nil || strings.Contains(err.Error(), dir) {
		t.Errorf("directory: err = %v, want an error without the path", err)
	}
}

func BenchmarkWAVRead16Stereo(b *testing.B) {
	const rate, secs = 16000, 10
	payload := encode(b, EncodingPCM, 16, testSignal(2, rate*secs))
	file := riff(chunk("fmt ", fmtBody(tagPCM, 2, rate, 16)), chunk("data", payload))
	dst := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWAVReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := w.Read(dst)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}
