package audio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// memSource serves fixed samples in reads of at most chunk frames, to check
// that Merge realigns sources that return short reads.
type memSource struct {
	format  Format
	samples [][]float32
	pos     int
	chunk   int
	failAt  int // return failErr once pos reaches failAt (if > 0)
	failErr error
}

func newMemSource(rate, chunk int, samples ...[]float32) *memSource {
	return &memSource{
		format:  Format{SampleRate: rate, Channels: len(samples), BitsPerSample: 16, Encoding: EncodingPCM},
		samples: samples,
		chunk:   chunk,
	}
}

func (m *memSource) Format() Format { return m.format }

func (m *memSource) Read(dst [][]float32) (int, error) {
	if m.failAt > 0 && m.pos >= m.failAt {
		return 0, m.failErr
	}
	if m.pos == len(m.samples[0]) {
		return 0, io.EOF
	}
	n := min(len(dst[0]), m.chunk, len(m.samples[0])-m.pos)
	for c := range dst {
		copy(dst[c][:n], m.samples[c][m.pos:])
	}
	m.pos += n
	return n, nil
}

func ramp(n int, base float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = base + float32(i)/1000
	}
	return s
}

func TestMergeDifferentLengths(t *testing.T) {
	rep := ramp(100, 0.1)
	cust := ramp(37, -0.5)
	for _, step := range []int{1, 16, 1000} {
		src, err := Merge(newMemSource(8000, 7, rep), newMemSource(8000, 5, cust))
		if err != nil {
			t.Fatal(err)
		}
		if f := src.Format(); f.Channels != 2 || f.SampleRate != 8000 || f.BitsPerSample != 16 || f.Encoding != EncodingPCM {
			t.Fatalf("Format = %+v", f)
		}
		// Pre-fill dst with garbage to prove padding is written, not assumed.
		got, err := readAllDirty(t, src, step)
		if err != nil {
			t.Fatal(err)
		}
		if len(got[0]) != 100 || len(got[1]) != 100 {
			t.Fatalf("step %d: got %d/%d frames, want 100", step, len(got[0]), len(got[1]))
		}
		for i := range 100 {
			if got[0][i] != rep[i] {
				t.Fatalf("step %d: rep[%d] = %v, want %v", step, i, got[0][i], rep[i])
			}
			want := float32(0)
			if i < len(cust) {
				want = cust[i]
			}
			if got[1][i] != want {
				t.Fatalf("step %d: customer[%d] = %v, want %v", step, i, got[1][i], want)
			}
		}
	}
}

// readAllDirty is readAll with dst poisoned before every call.
func readAllDirty(t *testing.T, src Source, step int) ([][]float32, error) {
	t.Helper()
	dirty := &poisonSource{Source: src}
	return readAll(t, dirty, step)
}

type poisonSource struct{ Source }

func (p *poisonSource) Read(dst [][]float32) (int, error) {
	for _, d := range dst {
		for i := range d {
			d[i] = 42
		}
	}
	return p.Source.Read(dst)
}

func TestMergeWAVs(t *testing.T) {
	stereo := riff(chunk("fmt ", fmtBody(tagPCM, 2, 16000, 16)), chunk("data", encode(t, EncodingPCM, 16, testSignal(2, 50))))
	mono := riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 16000, 8)), chunk("data", encode(t, EncodingMuLaw, 8, testSignal(1, 80))))
	a, err := NewWAVReader(bytes.NewReader(stereo), -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewWAVReader(bytes.NewReader(mono), -1)
	if err != nil {
		t.Fatal(err)
	}
	src, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if f := src.Format(); f != (Format{SampleRate: 16000, Channels: 3}) {
		t.Errorf("Format = %+v, want 3 channels at 16 kHz with mixed bits/encoding zeroed", f)
	}
	got, err := readAll(t, src, 32)
	if err != nil {
		t.Fatal(err)
	}
	for c := range got {
		if len(got[c]) != 80 {
			t.Fatalf("channel %d: %d frames, want 80", c, len(got[c]))
		}
	}
	for i := 50; i < 80; i++ {
		if got[0][i] != 0 || got[1][i] != 0 {
			t.Fatalf("frame %d of the shorter stereo source not zero-padded", i)
		}
	}
}

func TestMergeErrors(t *testing.T) {
	if _, err := Merge(newMemSource(8000, 10, ramp(5, 0)), newMemSource(16000, 10, ramp(5, 0))); !errors.Is(err, ErrSampleRateMismatch) ||
		!strings.Contains(err.Error(), "source 1 is 16000 Hz, source 0 is 8000 Hz") {
		t.Errorf("mismatched rates: err = %v", err)
	}
	if _, err := Merge(); err == nil {
		t.Error("no sources: no error")
	}
	if _, err := Merge(newMemSource(8000, 10, ramp(5, 0)), nil); err == nil {
		t.Error("nil source: no error")
	}
	if _, err := Merge(&memSource{format: Format{SampleRate: 8000}}); err == nil {
		t.Error("zero channels: no error")
	}

	boom := errors.New("boom")
	bad := newMemSource(8000, 4, ramp(100, 0))
	bad.failAt, bad.failErr = 8, boom
	src, err := Merge(newMemSource(8000, 4, ramp(100, 0)), bad)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, src, 8); !errors.Is(err, boom) || !strings.Contains(err.Error(), "source 1") {
		t.Errorf("failing source: err = %v, want boom from source 1", err)
	}

	stuck := newMemSource(8000, 0, ramp(100, 0)) // chunk 0: always 0, nil
	src, err = Merge(stuck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read([][]float32{make([]float32, 8)}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stuck source: err = %v, want io.ErrNoProgress", err)
	}
	if _, err := src.Read([][]float32{make([]float32, 8), make([]float32, 8)}); err == nil {
		t.Error("wrong dst channel count: no error")
	}
}
