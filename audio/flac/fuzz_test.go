package flac

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"talkratio/audio"
)

// flacFuzzSeeds are small streams of each kind the writer makes, plus
// damaged ones; the fuzzer mutates from these. Their seek tables are
// reserved for one point, so each seed is a few hundred bytes.
func flacFuzzSeeds(t testing.TB) map[string][]byte {
	rng := rand.New(rand.NewPCG(31, 32))
	enc := func(name string, ch, rate, n int) []byte {
		return encodeFLAC(t, flacSignals[name](rng, ch, n), rate, 1000, 0)
	}
	speech := enc("speech", 2, 16000, 600)
	noMeta := bytes.Clone(speech)
	si := noMeta[8 : 8+34]
	binary.BigEndian.PutUint64(si[10:], binary.BigEndian.Uint64(si[10:])&^(1<<36-1))
	clear(si[18:34])
	return map[string][]byte{
		"stereo-speech":    speech,
		"mono-silence-8k":  enc("silence", 1, 8000, 10),
		"noise-48k":        enc("noise", 2, 48000, 100),
		"8bit-11025":       enc("8bit", 1, 11025, 300),
		"extremes":         enc("extremes", 2, 16000, 70),
		"mono-as-stereo":   enc("mono-as-stereo", 2, 8000, 200),
		"two-frames":       enc("speech", 1, 8000, flacBlockSize+40),
		"no-length-no-md5": noMeta,
		"cut":              speech[:len(speech)-30],
		"not-flac":         []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
		"empty":            {},
	}
}

// flacCommittedSeeds are also kept in testdata, so the corpus survives
// changes to the writer.
var flacCommittedSeeds = []string{"stereo-speech", "8bit-11025", "two-frames", "no-length-no-md5", "cut"}

func TestWriteFLACFuzzSeeds(t *testing.T) {
	if !*updateFuzzSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite testdata/fuzz/FuzzFLACReader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzFLACReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := flacFuzzSeeds(t)
	for _, name := range flacCommittedSeeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seeds[name])
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzFLACReader: whatever the bytes, the reader never panics, keeps its
// memory bounded, returns samples in [-1, 1] that agree with the declared
// length, and fails only with the package's sentinel errors.
func FuzzFLACReader(f *testing.F) {
	for _, s := range flacFuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		modes := []struct {
			name string
			r    io.Reader
			size int64
		}{
			{"seeker", bytes.NewReader(data), -1},
			{"stream", plainReader{bytes.NewReader(data)}, -1},
			{"half", iotest.HalfReader(bytes.NewReader(data)), int64(len(data))},
		}
		for _, m := range modes {
			checkFLACFuzzInput(t, m.name, m.r, m.size, len(data))
		}
	})
}

// flacFuzzMaxSamples bounds the samples per channel one fuzz input is
// read for.
const flacFuzzMaxSamples = 1 << 20

func checkFLACFuzzInput(t *testing.T, mode string, r io.Reader, size int64, inputLen int) {
	f, err := NewReader(r, size)
	if err != nil {
		if f != nil {
			t.Fatalf("%s: reader returned with error %v", mode, err)
		}
		if !strings.HasPrefix(err.Error(), "flac: ") {
			t.Fatalf("%s: error %q lacks the flac: prefix", mode, err)
		}
		if !errors.Is(err, ErrNotFLAC) && !errors.Is(err, audio.ErrTruncated) && !errors.Is(err, audio.ErrMalformed) && !errors.Is(err, audio.ErrUnsupported) {
			t.Fatalf("%s: header error %v wraps no sentinel", mode, err)
		}
		return
	}
	fm := f.Format()
	if fm.Channels < 1 || fm.Channels > 8 || fm.SampleRate < audio.MinSampleRate || fm.SampleRate > audio.MaxSampleRate ||
		fm.BitsPerSample < flacMinReadBits || fm.BitsPerSample > flacMaxReadBits {
		t.Fatalf("%s: accepted format %+v", mode, fm)
	}
	// An odd step, so reads end inside frames; not tiny, because a few
	// bytes of constant subframes legitimately decode to 16384 samples.
	const step = 509
	dst := make([][]float32, fm.Channels)
	for c := range dst {
		dst[c] = make([]float32, step)
	}
	// A frame is at least 7 bytes (header, one subframe byte, CRC-16) and
	// at most flacMaxReadBlock samples: a bound on what any input decodes to.
	maxTotal := int64(inputLen) * flacMaxReadBlock
	var total int64
	for {
		n, err := f.Read(dst)
		if n < 0 || n > step || (n > 0 && err != nil) {
			t.Fatalf("%s: Read returned %d, %v", mode, n, err)
		}
		for c := range dst {
			for _, v := range dst[c][:n] {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("%s: sample %v outside [-1, 1]", mode, v)
				}
			}
		}
		total += int64(n)
		if total > maxTotal {
			t.Fatalf("%s: %d samples from %d bytes", mode, total, inputLen)
		}
		if total > flacFuzzMaxSamples {
			// Constant subframes decode 16384 samples per channel from a
			// few bytes: legitimate, but a few such inputs would stall the
			// fuzzer, which learns nothing new from the rest of the run.
			return
		}
		if err == io.EOF {
			if f.Frames() >= 0 && total != f.Frames() {
				t.Fatalf("%s: clean end after %d samples, STREAMINFO declares %d", mode, total, f.Frames())
			}
			break
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "flac: ") {
				t.Fatalf("%s: error %q lacks the flac: prefix", mode, err)
			}
			if !errors.Is(err, audio.ErrTruncated) && !errors.Is(err, audio.ErrMalformed) && !errors.Is(err, audio.ErrUnsupported) {
				t.Fatalf("%s: read error %v wraps no sentinel", mode, err)
			}
			break
		}
		if n == 0 {
			t.Fatalf("%s: Read made no progress", mode)
		}
	}
	if f.Frames() >= 0 && total > f.Frames() {
		t.Fatalf("%s: read %d samples, STREAMINFO declares %d", mode, total, f.Frames())
	}
	// Input-dependent allocations are the blocks and the MD5 buffer, both
	// bounded by the largest block accepted.
	if len(f.block) > 0 && cap(f.block[0]) > flacMaxReadBlock {
		t.Fatalf("%s: block buffer of %d samples", mode, cap(f.block[0]))
	}
	if cap(f.md5buf) > flacMaxReadBlock*8*3 {
		t.Fatalf("%s: MD5 buffer of %d bytes", mode, cap(f.md5buf))
	}
}

// FuzzFLACRoundTrip: any 16-bit audio the writer is given, the reader
// gives back bit for bit. The first two bytes pick the channel count, the
// rate and the write size; the rest are little-endian samples.
func FuzzFLACRoundTrip(f *testing.F) {
	rng := rand.New(rand.NewPCG(33, 34))
	for _, name := range []string{"speech", "noise", "extremes", "8bit"} {
		p := flacSignals[name](rng, 2, 700)
		f.Add(append([]byte{1, 50}, p.interleaved()...))
	}
	f.Add([]byte{0, 0, 1, 2, 3})
	rates := []int{8000, 11025, 16000, 22050, 44100, 48000, 12345}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		ch := int(data[0]%2) + 1
		rate := rates[int(data[0]/2)%len(rates)]
		chunk := int(data[1]) + 1
		raw := data[2:]
		n := len(raw) / (2 * ch)
		p := newPCM(ch, n)
		for i := range n {
			for c := range ch {
				p[c][i] = int16(binary.LittleEndian.Uint16(raw[(i*ch+c)*2:]))
			}
		}
		file := encodeFLAC(t, p, rate, chunk, 0)
		got, _, err := decodeFLAC(t, bytes.NewReader(file), int64(len(file)), 333)
		if err != nil {
			t.Fatalf("%d ch, %d Hz, %d samples: %v", ch, rate, n, err)
		}
		if ok, why := equalPCM(got, p); !ok {
			t.Fatalf("%d ch, %d Hz, %d samples: %s", ch, rate, n, why)
		}
	})
}
