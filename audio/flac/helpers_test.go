package flac

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"talkratio/audio"
)

// The helpers below are the WAV reader's (package audio's tests), so that
// both readers are held to the same Source contract and read modes.

var updateFuzzSeeds = flag.Bool("update-fuzz-seeds", false, "rewrite the committed seed files under testdata/fuzz/FuzzFLACReader")

// plainReader hides io.Seeker so the streaming (non-seeking) path is used.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

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

func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// readAll drains src in reads of step frames, checking the Source contract
// on every call.
func readAll(t testing.TB, src audio.Source, step int) ([][]float32, error) {
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
