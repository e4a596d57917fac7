package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"testing"
)

// readAllPCM16 drains w with ReadPCM16 in reads of step frames (every
// other read through Read when mix is set), decoding the bytes as
// decodePCM16 does.
func readAllPCM16(t testing.TB, w *WAVReader, step int, mix bool) ([][]float32, error) {
	t.Helper()
	ch := w.PCM16Channels()
	if ch == 0 {
		t.Fatalf("PCM16Channels = 0 for %v", w.Format())
	}
	p := make([]byte, 2*ch*step)
	dst := make([][]float32, ch)
	for c := range dst {
		dst[c] = make([]float32, step)
	}
	out := make([][]float32, ch)
	for calls := 0; ; calls++ {
		var n int
		var err error
		if mix && calls%2 == 1 {
			n, err = w.Read(dst)
			for c := range out {
				out[c] = append(out[c], dst[c][:n]...)
			}
		} else {
			n, err = w.ReadPCM16(p)
			for i := range n {
				for c := range out {
					v := int16(binary.LittleEndian.Uint16(p[2*(i*ch+c):]))
					out[c] = append(out[c], float32(v)*scale16)
				}
			}
		}
		if n < 0 || n > step || (n > 0 && err != nil) {
			t.Fatalf("read returned %d, %v", n, err)
		}
		if err != nil {
			if n2, err2 := w.ReadPCM16(p); n2 != 0 || !errors.Is(err2, err) {
				t.Fatalf("ReadPCM16 after %v returned %d, %v", err, n2, err2)
			}
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		if n == 0 {
			t.Fatal("read returned 0, nil")
		}
		if calls > 1<<20 {
			t.Fatal("reads did not end")
		}
	}
}

// ReadPCM16 hands out the samples Read decodes, with the same end and the
// same errors, whatever the reader underneath does (short reads, partial
// frames, data until EOF, a truncated data chunk), alone or mixed with
// Read.
func TestWAVReadPCM16MatchesRead(t *testing.T) {
	pcm16 := func(ch int) []byte { return chunk("fmt ", fmtBody(tagPCM, ch, 8000, 16)) }
	files := map[string][]byte{
		"stereo":          riff(pcm16(2), chunk("data", encode(t, EncodingPCM, 16, testSignal(2, 100)))),
		"3ch, odd tail":   riff(pcm16(3), chunk("data", append(encode(t, EncodingPCM, 16, testSignal(3, 41)), 1, 2, 3))),
		"until EOF":       riff(pcm16(2), rawChunk("data", dataUntilEOF, append(encode(t, EncodingPCM, 16, testSignal(2, 57)), 7, 8, 9))),
		"truncated":       riff(pcm16(1), rawChunk("data", 200, encode(t, EncodingPCM, 16, testSignal(1, 50)))),
		"extensible":      riff(chunk("fmt ", fmtExtensible(tagPCM, 2, 16000, 16, 16)), chunk("data", encode(t, EncodingPCM, 16, testSignal(2, 30)))),
		"list after data": riff(pcm16(2), chunk("data", encode(t, EncodingPCM, 16, testSignal(2, 20))), chunk("LIST", []byte("INFOabcd"))),
	}
	for name, file := range files {
		for _, mode := range readModes {
			for _, mix := range []bool{false, true} {
				open := func() (*WAVReader, error) {
					r, size := mode.open(file)
					return NewWAVReader(r, size)
				}
				w1, err1 := open()
				w2, err2 := open()
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("%s, %s: opening differs", name, mode.name)
				}
				if err1 != nil {
					continue // rejected up front (a known length that cannot hold the data)
				}
				want, werr := readAll(t, w1, 13)
				got, gerr := readAllPCM16(t, w2, 7, mix)
				if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
					t.Errorf("%s, %s, mix %v: error %v, want %v", name, mode.name, mix, gerr, werr)
				}
				for c := range want {
					if !slices.Equal(got[c], want[c]) {
						t.Errorf("%s, %s, mix %v: channel %d: %d samples differ from Read's %d", name, mode.name, mix, c, len(got[c]), len(want[c]))
					}
				}
			}
		}
	}
}

// ReadPCM16 refuses data that is not 16-bit PCM.
func TestWAVReadPCM16OtherEncodings(t *testing.T) {
	file := riff(chunk("fmt ", fmtBody(tagMuLaw, 1, 8000, 8)), chunk("data", encode(t, EncodingMuLaw, 8, testSignal(1, 9))))
	w, err := NewWAVReader(bytes.NewReader(file), -1)
	if err != nil {
		t.Fatal(err)
	}
	if w.PCM16Channels() != 0 {
		t.Errorf("PCM16Channels = %d for mu-law", w.PCM16Channels())
	}
	if _, err := w.ReadPCM16(make([]byte, 64)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ReadPCM16 on mu-law: %v, want ErrUnsupported", err)
	}
}
