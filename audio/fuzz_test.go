package audio

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the committed seed files under testdata/fuzz/FuzzWAVReader")

// fuzzSeeds are small valid files of each format plus the broken shapes the
// reader must reject cheaply; the fuzzer mutates from these.
func fuzzSeeds(t testing.TB) map[string][]byte {
	pcm16 := chunk("fmt ", fmtBody(tagPCM, 2, 16000, 16))
	return map[string][]byte{
		"pcm16-stereo": riff(pcm16, chunk("data", encode(t, EncodingPCM, 16, testSignal(2, 6)))),
		"pcm8-mono-odd-list": riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 8)),
			chunk("data", encode(t, EncodingPCM, 8, testSignal(1, 7))), chunk("LIST", []byte("INFO"))),
		"pcm24-3ch":   riff(chunk("fmt ", fmtBody(tagPCM, 3, 48000, 24)), chunk("data", encode(t, EncodingPCM, 24, testSignal(3, 4)))),
		"pcm32-mono":  riff(chunk("fmt ", fmtBody(tagPCM, 1, 8000, 32)), chunk("data", encode(t, EncodingPCM, 32, testSignal(1, 4)))),
		"float32":     riff(chunk("fmt ", fmtBody(tagFloat, 1, 16000, 32)), chunk("fact", []byte{4, 0, 0, 0}), chunk("data", encode(t, EncodingFloat, 32, testSignal(1, 4)))),
		"float64":     riff(chunk("fmt ", fmtBody(tagFloat, 2, 8000, 64)), chunk("data", encode(t, EncodingFloat, 64, testSignal(2, 3)))),
		"mulaw":       riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 8)), chunk("data", encode(t, EncodingMuLaw, 8, testSignal(1, 9)))),
		"alaw-stereo": riff(chunk("fmt ", fmtBody(tagALaw, 2, 8000, 8)), chunk("data", encode(t, EncodingALaw, 8, testSignal(2, 5)))),
		"ext-pcm24":   riff(chunk("fmt ", fmtExtensible(tagPCM, 2, 48000, 24, 20)), chunk("data", encode(t, EncodingPCM, 24, testSignal(2, 3)))),
		"ext-mulaw":   riff(chunk("fmt ", fmtExtensible(tagMuLaw, 1, 8000, 8, 8)), chunk("data", encode(t, EncodingMuLaw, 8, testSignal(1, 5)))),
		"until-eof":   riff(pcm16, rawChunk("data", dataUntilEOF, append(encode(t, EncodingPCM, 16, testSignal(2, 3)), 1, 2, 3))),
		"huge-list":   append([]byte("RIFF\x10\x00\x00\x00WAVELIST\xf0\xff\xff\xff"), "INFO"...),
		"huge-data":   riff(pcm16, rawChunk("data", 0xFFFFFFF0, make([]byte, 8))),
		"short-data":  riff(pcm16, rawChunk("data", 400, make([]byte, 10))),
		"fmt-small":   riff(chunk("fmt ", make([]byte, 14)), chunk("data", nil)),
		"mpeg":        riff(chunk("fmt ", fmtBody(0x0055, 1, 8000, 0)), chunk("data", make([]byte, 4))),
		"id3":         []byte("ID3\x04\x00\x00\x00\x00\x00\x23TSSE"),
		"text":        []byte("hello\n"),
		"empty":       {},
	}
}

// committedSeeds are the seeds also written to testdata so that the corpus
// survives even if fuzzSeeds changes; keep the set small.
var committedSeeds = []string{"pcm16-stereo", "ext-pcm24", "mulaw", "until-eof", "huge-list", "short-data"}

func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateFuzzSeeds {
		t.Skip("run with -update-fuzz-seeds to rewrite testdata/fuzz/FuzzWAVReader")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzWAVReader")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := fuzzSeeds(t)
	for _, name := range committedSeeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", seeds[name])
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzWAVReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
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
			checkFuzzInput(t, m.name, m.r, m.size, len(data))
		}
		checkFuzzPCM16(t, data)
	})
}

// checkFuzzPCM16: on 16-bit PCM, ReadPCM16 (mixed with Read) hands out what
// Read decodes, with the same end.
func checkFuzzPCM16(t *testing.T, data []byte) {
	w1, err := NewWAVReader(iotest.HalfReader(bytes.NewReader(data)), -1)
	if err != nil || w1.PCM16Channels() == 0 {
		return
	}
	w2, err := NewWAVReader(iotest.HalfReader(bytes.NewReader(data)), -1)
	if err != nil {
		t.Fatalf("second open failed: %v", err)
	}
	want, werr := readAll(t, w1, 5)
	got, gerr := readAllPCM16(t, w2, 3, true)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("ReadPCM16 ended with %v, Read with %v", gerr, werr)
	}
	for c := range want {
		if len(got[c]) != len(want[c]) {
			t.Fatalf("channel %d: ReadPCM16 gave %d samples, Read %d", c, len(got[c]), len(want[c]))
		}
		for i := range want[c] {
			if got[c][i] != want[c][i] {
				t.Fatalf("channel %d sample %d: %v, Read %v", c, i, got[c][i], want[c][i])
			}
		}
	}
}

func checkFuzzInput(t *testing.T, mode string, r io.Reader, size int64, inputLen int) {
	w, err := NewWAVReader(r, size)
	if err != nil {
		if w != nil {
			t.Fatalf("%s: reader returned with error %v", mode, err)
		}
		if !strings.HasPrefix(err.Error(), "wav: ") {
			t.Fatalf("%s: error %q lacks the wav: prefix", mode, err)
		}
		return
	}
	f := w.Format()
	if f.Channels < 1 || f.Channels > MaxChannels || f.SampleRate < MinSampleRate || f.SampleRate > MaxSampleRate {
		t.Fatalf("%s: accepted format %+v", mode, f)
	}
	// Without a length the header cannot be checked up front; with one, a
	// declared size must fit.
	known := size >= 0 || mode == "seeker"
	if known && w.Frames() > int64(inputLen) {
		t.Fatalf("%s: %d frames declared in %d bytes", mode, w.Frames(), inputLen)
	}
	const step = 7 // odd, so frame boundaries and buffer ends rarely line up
	dst := make([][]float32, f.Channels)
	for c := range dst {
		dst[c] = make([]float32, step)
	}
	var total int64
	for {
		n, err := w.Read(dst)
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
		if total > int64(inputLen) {
			t.Fatalf("%s: %d frames from %d bytes", mode, total, inputLen)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s: unexpected read error %v", mode, err)
			}
			break
		}
		if n == 0 {
			t.Fatalf("%s: Read made no progress", mode)
		}
	}
	// The only allocation that depends on the input is the read buffer.
	if cap(w.buf) > readBufBytes {
		t.Fatalf("%s: read buffer of %d bytes", mode, cap(w.buf))
	}
	if w.Frames() >= 0 && total > w.Frames() {
		t.Fatalf("%s: read %d frames, header declares %d", mode, total, w.Frames())
	}
	// With the length known, a data chunk that fits is read in full.
	if known && w.Frames() >= 0 && total != w.Frames() {
		t.Fatalf("%s: read %d frames, header declares %d", mode, total, w.Frames())
	}
}
