package flac

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"talkratio/audio"
)

// memFile is an in-memory io.WriteSeeker, what the FLAC writer needs.
type memFile struct {
	b   []byte
	pos int
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.pos + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += len(p)
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += int64(m.pos)
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("memFile: negative position")
	}
	m.pos = int(off)
	return off, nil
}

// pcm16 is test audio as the writer stores it: 16-bit samples per channel.
type pcm16 [][]int16

func (p pcm16) floats() [][]float32 {
	out := make([][]float32, len(p))
	for c, ch := range p {
		out[c] = make([]float32, len(ch))
		for i, v := range ch {
			out[c][i] = float32(v) / 32768
		}
	}
	return out
}

// interleaved is the PCM as signed 16-bit little-endian interleaved bytes,
// what external decoders write and what the STREAMINFO MD5 covers.
func (p pcm16) interleaved() []byte {
	if len(p) == 0 {
		return nil
	}
	b := make([]byte, 0, len(p)*len(p[0])*2)
	for i := range p[0] {
		for c := range p {
			b = binary.LittleEndian.AppendUint16(b, uint16(p[c][i]))
		}
	}
	return b
}

// Test signals. Each is deterministic and built to reach a different part
// of the encoder.
type signal func(r *rand.Rand, channels, n int) pcm16

func newPCM(channels, n int) pcm16 {
	p := make(pcm16, channels)
	for c := range p {
		p[c] = make([]int16, n)
	}
	return p
}

var flacSignals = map[string]signal{
	// Digital silence: constant subframes.
	"silence": func(_ *rand.Rand, ch, n int) pcm16 { return newPCM(ch, n) },
	// Full-scale white noise including both extremes: verbatim subframes
	// and the widest side channel.
	"noise": func(r *rand.Rand, ch, n int) pcm16 {
		p := newPCM(ch, n)
		for c := range p {
			for i := range p[c] {
				p[c][i] = int16(r.Uint32())
			}
			if n > 2 {
				p[c][0], p[c][1] = -32768, 32767
			}
		}
		return p
	},
	// Square wave between the extremes, the two channels in opposite
	// phase: side samples of +-65535, the most a 17-bit side holds.
	"extremes": func(_ *rand.Rand, ch, n int) pcm16 {
		p := newPCM(ch, n)
		for c := range p {
			for i := range p[c] {
				v := int16(32767)
				if (i/7+c)%2 == 1 {
					v = -32768
				}
				p[c][i] = v
			}
		}
		return p
	},
	// Speech-like: resonant filtered noise in bursts with pauses, the
	// customer's channel carrying an echo of the rep's (LPC, stereo
	// decorrelation, escaped partitions in the pauses).
	"speech": func(r *rand.Rand, ch, n int) pcm16 {
		p := newPCM(ch, n)
		var y1, y2 float64
		for i := range n {
			talking := (i/3000)%3 != 2
			e := r.NormFloat64() * 30
			if talking {
				e = r.NormFloat64() * 3000
			}
			y := 1.6*y1 - 0.8*y2 + e
			y2, y1 = y1, y
			v := math.Round(0.5*y + 2000*math.Sin(float64(i)*0.05))
			p[0][i] = int16(min(max(v, -32768), 32767))
		}
		for c := 1; c < ch; c++ {
			for i := range n {
				v := float64(p[0][i])*0.4 + r.NormFloat64()*200
				p[c][i] = int16(min(max(math.Round(v), -32768), 32767))
			}
		}
		return p
	},
	// 8-bit audio in 16-bit samples (low byte zero) with a DC offset:
	// wasted bits.
	"8bit": func(r *rand.Rand, ch, n int) pcm16 {
		p := newPCM(ch, n)
		for c := range p {
			for i := range p[c] {
				p[c][i] = int16((int(40*math.Sin(float64(i)/(5+float64(c)))) + r.IntN(5) + 60) << 8)
			}
		}
		return p
	},
	// Identical channels: side is all zeros.
	"mono-as-stereo": func(r *rand.Rand, ch, n int) pcm16 {
		p := newPCM(ch, n)
		for i := range n {
			v := int16(r.IntN(2001) - 1000)
			for c := range p {
				p[c][i] = v
			}
		}
		return p
	},
}

// encodeFLAC writes p as FLAC in chunks of the given size (so that writes
// straddle block boundaries) and returns the file.
func encodeFLAC(t testing.TB, p pcm16, rate int, chunk int, expected time.Duration) []byte {
	t.Helper()
	var m memFile
	w, err := NewWriterExpecting(&m, rate, len(p), expected)
	if err != nil {
		t.Fatal(err)
	}
	f := p.floats()
	n := len(f[0])
	for i := 0; i < n; i += chunk {
		j := min(i+chunk, n)
		part := make([][]float32, len(f))
		for c := range f {
			part[c] = f[c][i:j]
		}
		if err := w.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return m.b
}

// decodeFLAC reads a whole stream with our reader and returns the samples
// as 16-bit integers.
func decodeFLAC(t testing.TB, r io.Reader, size int64, step int) (pcm16, *Reader, error) {
	t.Helper()
	f, err := NewReader(r, size)
	if err != nil {
		return nil, nil, err
	}
	got, err := readAll(t, f, step)
	out := make(pcm16, len(got))
	for c := range got {
		out[c] = make([]int16, len(got[c]))
		for i, v := range got[c] {
			s := v * 32768
			if s != float32(int16(s)) {
				t.Fatalf("decoded sample %v is not a 16-bit value", v)
			}
			out[c][i] = int16(s)
		}
	}
	return out, f, err
}

func equalPCM(a, b pcm16) (bool, string) {
	if len(a) != len(b) {
		return false, fmt.Sprintf("%d channels, want %d", len(a), len(b))
	}
	for c := range a {
		if len(a[c]) != len(b[c]) {
			return false, fmt.Sprintf("channel %d: %d samples, want %d", c, len(a[c]), len(b[c]))
		}
		for i := range a[c] {
			if a[c][i] != b[c][i] {
				return false, fmt.Sprintf("channel %d sample %d: %d, want %d", c, i, a[c][i], b[c][i])
			}
		}
	}
	return true, ""
}

// flacLengths straddle the block size and the 16-sample minimum block.
var flacLengths = []int{0, 1, 15, 16, 17, flacBlockSize - 1, flacBlockSize, flacBlockSize + 1, 3*flacBlockSize + 5, 20000}

// TestFLACRoundTrip: what the writer writes, the reader gives back bit for
// bit, at telephone to studio rates, mono and stereo, for every signal
// shape and for lengths around the block boundaries.
func TestFLACRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rate := range []int{8000, 16000, 48000, 11025, 44100} {
		for _, ch := range []int{1, 2} {
			for name, sig := range flacSignals {
				for _, n := range flacLengths {
					if rate != 16000 && n != 20000 && n != flacBlockSize+1 {
						continue // every length at one rate is enough
					}
					p := sig(rng, ch, n)
					file := encodeFLAC(t, p, rate, 1000, time.Minute)
					got, f, err := decodeFLAC(t, bytes.NewReader(file), -1, 777)
					id := fmt.Sprintf("%d Hz %d ch %s n=%d", rate, ch, name, n)
					if err != nil {
						t.Fatalf("%s: %v", id, err)
					}
					if ok, why := equalPCM(got, p); !ok {
						t.Fatalf("%s: %s", id, why)
					}
					want := audio.Format{SampleRate: rate, Channels: ch, BitsPerSample: 16, Encoding: audio.EncodingFLAC}
					if f.Format() != want {
						t.Fatalf("%s: format %v, want %v", id, f.Format(), want)
					}
					if wantFrames := int64(n); n == 0 {
						if f.Frames() != -1 {
							t.Fatalf("%s: Frames() = %d, want -1 (an empty stream's length reads as unknown)", id, f.Frames())
						}
					} else if f.Frames() != wantFrames {
						t.Fatalf("%s: Frames() = %d, want %d", id, f.Frames(), wantFrames)
					}
				}
			}
		}
	}
}

// TestFLACReadModes decodes one file through every kind of reader the WAV
// tests use: seekable, sized, streaming, one byte at a time, short reads
// and data with io.EOF.
func TestFLACReadModes(t *testing.T) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(3, 4)), 2, 3*flacBlockSize+5)
	file := encodeFLAC(t, p, 16000, 4096, time.Minute)
	for _, m := range readModes {
		r, size := m.open(file)
		got, _, err := decodeFLAC(t, r, size, 1000)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if ok, why := equalPCM(got, p); !ok {
			t.Fatalf("%s: %s", m.name, why)
		}
	}
}

// recorder keeps every byte read through it, so that a test can look at
// the bytes of each frame the reader decoded.
type recorder struct {
	r   io.Reader
	buf []byte
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// flacFrame is one frame as found by walkFrames.
type flacFrame struct {
	start, end int64 // byte range in the file
	assign     int   // channel assignment code
}

// walkFrames decodes file frame by frame and returns where each frame
// starts and ends and how its channels were coded.
func walkFrames(t *testing.T, file []byte) (firstFrame int64, frames []flacFrame) {
	t.Helper()
	rec := &recorder{r: bytes.NewReader(file)}
	f, err := NewReader(rec, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	firstFrame = f.br.off
	for {
		start := f.br.off
		if eof, err := f.br.atEOF(); err != nil {
			t.Fatal(err)
		} else if eof {
			return firstFrame, frames
		}
		n, err := f.decodeFrame()
		if err != nil {
			t.Fatalf("frame at %d: %v", start, err)
		}
		f.decoded += int64(n)
		f.frameNo++
		frames = append(frames, flacFrame{start: start, end: f.br.off, assign: int(file[start+3] >> 4)})
	}
}

// TestFLACStereoModes checks that each stereo decorrelation is chosen where
// it pays (and decodes: the round trip covers that).
func TestFLACStereoModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 4 * flacBlockSize
	seen := map[int]bool{}
	for name, sig := range flacSignals {
		p := sig(rng, 2, n)
		_, frames := walkFrames(t, encodeFLAC(t, p, 16000, n, time.Minute))
		for _, fr := range frames {
			seen[fr.assign] = true
		}
		t.Logf("%s: channel assignment of the first frame %d", name, frames[0].assign)
	}
	// Left/right with the right channel a scaled copy plus a little noise
	// favours right/side; a strong common component mid/side.
	p := newPCM(2, n)
	for i := range n {
		common := 8000 * math.Sin(float64(i)/9)
		p[0][i] = int16(common + rng.NormFloat64()*2000)
		p[1][i] = int16(common + rng.NormFloat64()*50)
	}
	_, frames := walkFrames(t, encodeFLAC(t, p, 16000, n, time.Minute))
	for _, fr := range frames {
		seen[fr.assign] = true
	}
	for i := range n {
		common := 8000 * math.Sin(float64(i)/9)
		p[0][i] = int16(common + rng.NormFloat64()*300)
		p[1][i] = int16(common + rng.NormFloat64()*300)
	}
	_, frames = walkFrames(t, encodeFLAC(t, p, 16000, n, time.Minute))
	for _, fr := range frames {
		seen[fr.assign] = true
	}
	for _, mode := range []int{chanIndependent + 1, chanLeftSide, chanSideRight, chanMidSide} {
		if !seen[mode] {
			t.Errorf("channel assignment %d never chosen (seen %v)", mode, seen)
		}
	}
}

// parsedFLAC is the metadata of a file the writer made, read directly from
// the bytes rather than through the reader under test.
type parsedFLAC struct {
	minBlock, maxBlock int
	minFrame, maxFrame int
	rate, channels     int
	bps                int
	total              int64
	md5                [16]byte
	points             []flacSeekPoint
	blocks             []int // metadata block types in order
	firstFrame         int64
}

func parseFLACMeta(t *testing.T, b []byte) parsedFLAC {
	t.Helper()
	if string(b[:4]) != "fLaC" {
		t.Fatalf("starts with %q", b[:4])
	}
	var p parsedFLAC
	off := 4
	for {
		if off+4 > len(b) {
			t.Fatalf("metadata runs past the end")
		}
		last := b[off]&0x80 != 0
		typ := int(b[off] & 0x7F)
		length := int(b[off+1])<<16 | int(b[off+2])<<8 | int(b[off+3])
		body := b[off+4 : off+4+length]
		p.blocks = append(p.blocks, typ)
		switch typ {
		case 0:
			p.minBlock = int(binary.BigEndian.Uint16(body[0:]))
			p.maxBlock = int(binary.BigEndian.Uint16(body[2:]))
			p.minFrame = int(body[4])<<16 | int(body[5])<<8 | int(body[6])
			p.maxFrame = int(body[7])<<16 | int(body[8])<<8 | int(body[9])
			v := binary.BigEndian.Uint64(body[10:])
			p.rate, p.channels, p.bps = int(v>>44), int(v>>41&7)+1, int(v>>36&31)+1
			p.total = int64(v & (1<<36 - 1))
			copy(p.md5[:], body[18:])
		case 3:
			if length%18 != 0 {
				t.Fatalf("SEEKTABLE of %d bytes", length)
			}
			for i := 0; i < length; i += 18 {
				p.points = append(p.points, flacSeekPoint{
					sample:  binary.BigEndian.Uint64(body[i:]),
					offset:  binary.BigEndian.Uint64(body[i+8:]),
					samples: binary.BigEndian.Uint16(body[i+16:]),
				})
			}
		case 1:
			for _, c := range body {
				if c != 0 {
					t.Fatalf("PADDING holds non-zero bytes")
				}
			}
		}
		off += 4 + length
		if last {
			p.firstFrame = int64(off)
			return p
		}
	}
}

// TestFLACStreamInfo checks what Close fills in: total samples, MD5 of the
// PCM, frame size bounds, and that the frames did not move.
func TestFLACStreamInfo(t *testing.T) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(7, 8)), 2, 50000)
	file := encodeFLAC(t, p, 16000, 3000, time.Minute)
	m := parseFLACMeta(t, file)
	if m.rate != 16000 || m.channels != 2 || m.bps != 16 || m.minBlock != flacBlockSize || m.maxBlock != flacBlockSize {
		t.Errorf("STREAMINFO %+v", m)
	}
	if m.total != 50000 {
		t.Errorf("total samples %d, want 50000", m.total)
	}
	if m.md5 != md5.Sum(p.interleaved()) {
		t.Errorf("MD5 %x, want %x", m.md5, md5.Sum(p.interleaved()))
	}
	first, frames := walkFrames(t, file)
	if first != m.firstFrame {
		t.Errorf("reader starts frames at %d, metadata ends at %d", first, m.firstFrame)
	}
	lo, hi := math.MaxInt, 0
	for _, fr := range frames {
		lo, hi = min(lo, int(fr.end-fr.start)), max(hi, int(fr.end-fr.start))
	}
	if m.minFrame != lo || m.maxFrame != hi {
		t.Errorf("frame sizes %d-%d in STREAMINFO, actual %d-%d", m.minFrame, m.maxFrame, lo, hi)
	}
	if frames[len(frames)-1].end != int64(len(file)) {
		t.Errorf("last frame ends at %d, file is %d bytes", frames[len(frames)-1].end, len(file))
	}
	if want := []int{0, 3, 1}; fmt.Sprint(m.blocks) != fmt.Sprint(want) {
		t.Errorf("metadata blocks %v, want %v (STREAMINFO, SEEKTABLE, PADDING)", m.blocks, want)
	}
}

// TestFLACSeekTable checks every seek point: ascending, about
// flacSeekInterval apart, covering the whole stream, and each one's
// sample number, byte offset and frame length naming a real frame.
func TestFLACSeekTable(t *testing.T) {
	for _, tc := range []struct {
		rate     int
		secs     int
		expected time.Duration
	}{
		{16000, 20, DefaultExpected},
		{8000, 30, DefaultExpected},
		{48000, 6, DefaultExpected},
		{16000, 20, 5 * time.Second}, // table too small: thinned to fit
		{16000, 1, DefaultExpected},
	} {
		name := fmt.Sprintf("%d Hz %d s expecting %v", tc.rate, tc.secs, tc.expected)
		p := flacSignals["speech"](rand.New(rand.NewPCG(9, 10)), 2, tc.rate*tc.secs+123)
		file := encodeFLAC(t, p, tc.rate, 4000, tc.expected)
		m := parseFLACMeta(t, file)
		first, frames := walkFrames(t, file)
		byOffset := map[uint64]int{}
		for i, fr := range frames {
			byOffset[uint64(fr.start-first)] = i
		}
		if len(m.points) == 0 {
			t.Fatalf("%s: no seek points", name)
		}
		frameDur := float64(flacBlockSize) / float64(tc.rate)
		every := max(math.Round(flacSeekInterval.Seconds()/frameDur), 1)
		capacity := int(min(max(tc.expected.Seconds()/(every*frameDur), 1), flacMaxSeekPoints))
		if len(m.points) > capacity {
			t.Errorf("%s: %d points in a table reserved for %d", name, len(m.points), capacity)
		}
		var gap uint64
		for i, sp := range m.points {
			fi, ok := byOffset[sp.offset]
			if !ok {
				t.Fatalf("%s: point %d (sample %d) offset %d is not a frame start", name, i, sp.sample, sp.offset)
			}
			if want := uint64(fi) * flacBlockSize; sp.sample != want {
				t.Errorf("%s: point %d says sample %d, its frame %d starts at %d", name, i, sp.sample, fi, want)
			}
			if want := min(flacBlockSize, int64(m.total)-int64(sp.sample)); int64(sp.samples) != want {
				t.Errorf("%s: point %d says %d samples, its frame has %d", name, i, sp.samples, want)
			}
			if i == 0 {
				if sp.sample != 0 {
					t.Errorf("%s: first point at sample %d", name, sp.sample)
				}
				continue
			}
			d := sp.sample - m.points[i-1].sample
			if i == 1 {
				gap = d
			} else if d != gap {
				t.Errorf("%s: points %d apart, then %d", name, gap, d)
			}
		}
		// Points are flacSeekInterval apart (to within half a frame) when
		// the table was reserved for the whole stream; a table reserved for
		// less is thinned by halves, to power-of-two multiples of that, and
		// stays at least half full.
		if len(m.points) > 1 {
			ratio := float64(gap) / every / flacBlockSize
			fits := float64(tc.secs) <= tc.expected.Seconds()
			if fits && ratio != 1 || !fits && (ratio != math.Exp2(math.Round(math.Log2(ratio))) || len(m.points) < capacity/2) {
				t.Errorf("%s: %d points %d samples apart (%.0f x the base spacing)", name, len(m.points), gap, ratio)
			}
			if last := m.points[len(m.points)-1].sample; m.total-int64(last) > int64(gap) {
				t.Errorf("%s: last point at sample %d of %d, spacing %d", name, last, m.total, gap)
			}
		}
		t.Logf("%s: %d points %.2f s apart, table reserved for %d", name, len(m.points), float64(gap)/float64(tc.rate), capacity)
	}
}

// TestFLACUnclosed: a recording cut off before Close (a crash) is still a
// valid stream up to its last whole frame.
func TestFLACUnclosed(t *testing.T) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(11, 12)), 2, 16000*30)
	var m memFile
	w, err := NewWriter(&m, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(p.floats()); err != nil {
		t.Fatal(err)
	}
	// No Close: whatever reached the file must decode to a prefix.
	got, f, err := decodeFLAC(t, bytes.NewReader(m.b), -1, 4096)
	if err != nil && !errors.Is(err, audio.ErrTruncated) {
		t.Fatalf("unclosed stream: %v", err)
	}
	if f.Frames() != -1 {
		t.Errorf("unclosed stream declares %d frames", f.Frames())
	}
	n := len(got[0])
	if n < 16000*20 {
		t.Errorf("only %d samples readable of the %d written", n, 16000*30)
	}
	prefix := pcm16{p[0][:n], p[1][:n]}
	if ok, why := equalPCM(got, prefix); !ok {
		t.Fatal(why)
	}
}

func TestFLACWriterErrors(t *testing.T) {
	var m memFile
	for _, tc := range []struct{ rate, ch int }{{16000, 0}, {16000, 9}, {7999, 1}, {48001, 2}} {
		if _, err := NewWriter(&m, tc.rate, tc.ch); err == nil {
			t.Errorf("rate %d, %d channels: no error", tc.rate, tc.ch)
		}
	}
	if _, err := NewWriter(nil, 16000, 1); err == nil {
		t.Error("nil writer: no error")
	}
	w, err := NewWriter(&m, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([][]float32{make([]float32, 3)}); err == nil {
		t.Error("one channel into a stereo writer: no error")
	}
	if err := w.Write([][]float32{make([]float32, 3), make([]float32, 4)}); err == nil {
		t.Error("channels of different lengths: no error")
	}
	// Out-of-range and NaN input is clipped, not an error.
	in := [][]float32{{2, -2, float32(math.NaN()), 1, -1}, {0.5, float32(math.Inf(1)), float32(math.Inf(-1)), 0, 0}}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(in); err == nil {
		t.Error("write after close: no error")
	}
	got, _, err := decodeFLAC(t, bytes.NewReader(m.b), -1, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := pcm16{{32767, -32768, 0, 32767, -32768}, {16384, 32767, -32768, 0, 0}}
	if ok, why := equalPCM(got, want); !ok {
		t.Error(why)
	}
}

// failAfter accepts n bytes, then fails every write.
type failAfter struct {
	memFile
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(f.b)+len(p) > f.n {
		return 0, errors.New("disk full")
	}
	return f.memFile.Write(p)
}

func TestFLACWriterWriteError(t *testing.T) {
	f := &failAfter{n: 100 << 10}
	w, err := NewWriter(f, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	p := flacSignals["noise"](rand.New(rand.NewPCG(1, 1)), 2, 16000*10)
	err = w.Write(p.floats())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write: %v, want the disk-full error", err)
	}
	if err2 := w.Write(p.floats()); err2 == nil {
		t.Error("Write after a failure: no error")
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failure: no error")
	}
}

// TestFLACBadInput feeds damaged and hostile streams; each must fail with
// the right sentinel (and never panic), after any good frames before the
// damage.
func TestFLACBadInput(t *testing.T) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(13, 14)), 2, 5*flacBlockSize)
	good := encodeFLAC(t, p, 16000, 5000, 10*time.Second)
	m := parseFLACMeta(t, good)
	first, frames := walkFrames(t, good)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	setStreamInfo := func(b []byte, f func(si []byte)) []byte { f(b[8 : 8+34]); return b }

	for _, tc := range []struct {
		name string
		data []byte
		want error
		// samples decoded before the error, when the error comes from Read
		before int
	}{
		{"empty", nil, audio.ErrTruncated, -1},
		{"wav", []byte("RIFF\x24\x00\x00\x00WAVEfmt "), ErrNotFLAC, -1},
		{"ogg", []byte("OggS\x00\x02"), ErrNotFLAC, -1},
		{"short marker", []byte("fLa"), audio.ErrTruncated, -1},
		{"marker only", []byte("fLaC"), audio.ErrTruncated, -1},
		{"no streaminfo", append([]byte("fLaC\x81\x00\x00\x04"), 0, 0, 0, 0), audio.ErrMalformed, -1},
		{"streaminfo too short", mod(func(b []byte) []byte { b[7] = 33; return b }), audio.ErrMalformed, -1},
		{"metadata past the end", []byte("fLaC\x00\x00\x00\x22\x00"), audio.ErrTruncated, -1},
		{"rate 0", mod(func(b []byte) []byte {
			return setStreamInfo(b, func(si []byte) { si[10], si[11], si[12] = 0, 0, si[12]&0x0F })
		}), audio.ErrUnsupported, -1},
		{"32-bit", mod(func(b []byte) []byte {
			return setStreamInfo(b, func(si []byte) { si[12] |= 1; si[13] |= 0xF0 })
		}), audio.ErrUnsupported, -1},
		{"huge blocks", mod(func(b []byte) []byte {
			return setStreamInfo(b, func(si []byte) { si[2], si[3] = 0xFF, 0xFF })
		}), audio.ErrUnsupported, -1},
		{"forbidden block type", mod(func(b []byte) []byte { b[4+4+34] = 0x7F; return b }), audio.ErrMalformed, -1},
		{"cut in the metadata", good[:first-3], audio.ErrTruncated, -1},
		{"cut in frame 3", good[:frames[3].start+10], audio.ErrTruncated, 3 * flacBlockSize},
		{"bad CRC in frame 2", mod(func(b []byte) []byte { b[frames[2].end-1] ^= 1; return b }), audio.ErrMalformed, 2 * flacBlockSize},
		{"damaged data in frame 1", mod(func(b []byte) []byte { b[frames[1].start+40] ^= 0x10; return b }), audio.ErrMalformed, flacBlockSize},
		{"bad header CRC in frame 4", mod(func(b []byte) []byte { b[frames[4].start+2] ^= 0x01; return b }), audio.ErrMalformed, 4 * flacBlockSize},
		{"frame missing", append(bytes.Clone(good[:frames[1].start]), good[frames[2].start:]...), audio.ErrMalformed, flacBlockSize},
		{"garbage after the frames, no length", mod(func(b []byte) []byte {
			setStreamInfo(b, func(si []byte) { si[13] &= 0xF0; si[14], si[15], si[16], si[17] = 0, 0, 0, 0 })
			return append(b, "TAGjunk"...)
		}), audio.ErrMalformed, len(p[0])},
		{"length longer than the frames", mod(func(b []byte) []byte {
			return setStreamInfo(b, func(si []byte) { binary.BigEndian.PutUint32(si[14:], uint32(m.total+1)) })
		}), audio.ErrTruncated, len(p[0])},
		{"length shorter than the frames", mod(func(b []byte) []byte {
			return setStreamInfo(b, func(si []byte) { binary.BigEndian.PutUint32(si[14:], uint32(m.total-1)) })
		}), audio.ErrMalformed, 4 * flacBlockSize},
		{"MD5 mismatch", mod(func(b []byte) []byte { return setStreamInfo(b, func(si []byte) { si[20] ^= 1 }) }), audio.ErrMalformed, len(p[0])},
	} {
		for _, mode := range readModes {
			r, size := mode.open(tc.data)
			got, _, err := decodeFLAC(t, r, size, 999)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s (%s): err = %v, want %v", tc.name, mode.name, err, tc.want)
				continue
			}
			if !strings.HasPrefix(err.Error(), "flac: ") {
				t.Errorf("%s (%s): error %q lacks the flac: prefix", tc.name, mode.name, err)
			}
			if tc.before < 0 {
				if got != nil {
					t.Errorf("%s (%s): NewReader should have failed", tc.name, mode.name)
				}
				continue
			}
			if got == nil {
				t.Errorf("%s (%s): NewReader failed: %v", tc.name, mode.name, err)
				continue
			}
			if len(got[0]) != tc.before {
				t.Errorf("%s (%s): %d samples before the error, want %d", tc.name, mode.name, len(got[0]), tc.before)
			}
			pre := pcm16{p[0][:len(got[0])], p[1][:len(got[0])]}
			if ok, why := equalPCM(got, pre); !ok {
				t.Errorf("%s (%s): samples before the error differ: %s", tc.name, mode.name, why)
			}
		}
	}
}

func TestFLACReadBadDst(t *testing.T) {
	file := encodeFLAC(t, flacSignals["speech"](rand.New(rand.NewPCG(1, 3)), 2, 100), 16000, 100, time.Minute)
	f, err := NewReader(bytes.NewReader(file), -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, dst := range [][][]float32{nil, {make([]float32, 4)}, {make([]float32, 4), make([]float32, 3)}} {
		if _, err := f.Read(dst); err == nil {
			t.Errorf("Read(%d channels) gave no error", len(dst))
		}
	}
	if n, err := f.Read([][]float32{{}, {}}); n != 0 || err != nil {
		t.Errorf("empty Read: %d, %v", n, err)
	}
}

// TestFLACConstantMemory: the reader's allocations do not grow with the
// length of the stream.
func TestFLACConstantMemory(t *testing.T) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(15, 16)), 2, 16000*5)
	one := encodeFLAC(t, p, 16000, 16000, time.Minute)
	// Two minutes: the same frames, renumbered, behind one header.
	m := parseFLACMeta(t, one)
	_, frames := walkFrames(t, one)
	var long bytes.Buffer
	long.Write(one[:m.firstFrame])
	total := 0
	for rep := range 24 {
		for i, fr := range frames[:len(frames)-1] {
			long.Write(renumberFrame(one[fr.start:fr.end], uint64(rep*(len(frames)-1)+i)))
			total += flacBlockSize
		}
	}
	b := long.Bytes()
	si := b[8 : 8+34]
	v := binary.BigEndian.Uint64(si[10:])&^(1<<36-1) | uint64(total)
	binary.BigEndian.PutUint64(si[10:], v)
	clear(si[18:34]) // MD5 unknown
	dst := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	for _, data := range [][]byte{b[:len(one)], b} {
		var n int64
		alloc := totalAlloc(func() {
			f, err := NewReader(bytes.NewReader(data), -1)
			if err != nil {
				t.Fatal(err)
			}
			for {
				k, err := f.Read(dst)
				n += int64(k)
				if err == io.EOF || errors.Is(err, audio.ErrTruncated) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
		t.Logf("%d samples: %d bytes allocated", n, alloc)
		if alloc > 256<<10 {
			t.Errorf("%d samples: %d bytes allocated, want < 256 KiB", n, alloc)
		}
	}
}

// renumberFrame rewrites the number of a full frame from our writer at a
// common rate (a header of sync, codes, coded number and CRC-8, with no
// uncommon block size or rate) and both CRCs.
func renumberFrame(fr []byte, num uint64) []byte {
	codedLen := bits.LeadingZeros8(^fr[4]) // the lead byte's leading ones
	if codedLen == 0 {
		codedLen = 1
	}
	out := append([]byte{}, fr[:4]...)
	out = appendCodedNumber(out, num)
	out = append(out, crc8(0, out))
	out = append(out, fr[4+codedLen+1:len(fr)-2]...)
	crc := crc16(0, out)
	return append(out, byte(crc>>8), byte(crc))
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	p := flacSignals["speech"](rand.New(rand.NewPCG(17, 18)), 2, 5000)
	flacPath := filepath.Join(dir, "call.flac")
	if err := os.WriteFile(flacPath, encodeFLAC(t, p, 16000, 5000, time.Minute), 0o600); err != nil {
		t.Fatal(err)
	}
	wavPath := filepath.Join(dir, "call.bin") // the name does not matter
	var m memFile
	ww, err := audio.NewWAVWriter(&m, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ww.Write(p.floats()); err != nil {
		t.Fatal(err)
	}
	if err := ww.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wavPath, m.b, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		enc  audio.Encoding
		rate int
	}{{flacPath, audio.EncodingFLAC, 16000}, {wavPath, audio.EncodingPCM, 8000}} {
		f, err := OpenAny(tc.path)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if fm := f.Format(); fm.Encoding != tc.enc || fm.SampleRate != tc.rate || f.Frames() != 5000 {
			t.Errorf("%s: %v, %d frames", tc.path, fm, f.Frames())
		}
		if d := f.Duration(); d != time.Duration(5000)*time.Second/time.Duration(tc.rate) {
			t.Errorf("%s: duration %v", tc.path, d)
		}
		got, err := readAll(t, f, 1000)
		if err != nil || len(got[0]) != 5000 {
			t.Errorf("%s: read %d samples, %v", tc.path, len(got[0]), err)
		}
		if err := f.Close(); err != nil {
			t.Errorf("%s: Close: %v", tc.path, err)
		}
	}
	if f, err := Open(flacPath); err != nil {
		t.Errorf("OpenFLAC: %v", err)
	} else {
		f.Close()
	}
	if _, err := Open(wavPath); !errors.Is(err, ErrNotFLAC) {
		t.Errorf("OpenFLAC on a WAV: %v, want ErrNotFLAC", err)
	}

	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAny(text); !errors.Is(err, audio.ErrNotWAV) {
		t.Errorf("text file: %v, want audio.ErrNotWAV", err)
	}
	missing := filepath.Join(dir, "missing.flac")
	if _, err := OpenAny(missing); !errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), dir) {
		t.Errorf("missing file: %v, want fs.ErrNotExist without the path", err)
	}
	if _, err := OpenAny(dir); err == nil || strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v, want an error without the path", err)
	}
}

// needTool finds an external program for a cross-check test: skipped when
// absent, except under CI=true, where .ci/run installs it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not found; install it (apt-get install -y %s)", name, pkg)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// externalCases are the files the external decoders check.
func externalCases(t *testing.T) map[string]struct {
	p    pcm16
	rate int
} {
	rng := rand.New(rand.NewPCG(19, 20))
	cases := map[string]struct {
		p    pcm16
		rate int
	}{}
	for name, sig := range flacSignals {
		for _, c := range []struct{ ch, rate, n int }{
			{1, 16000, 3*flacBlockSize + 17},
			{1, 11025, 3*flacBlockSize + 17},
			{2, 8000, 3*flacBlockSize + 17},
			{2, 16000, 1}, // a lone one-sample frame
			{2, 48000, 3*flacBlockSize + 17},
		} {
			cases[fmt.Sprintf("%s-%dch-%d-%d", name, c.ch, c.rate, c.n)] = struct {
				p    pcm16
				rate int
			}{sig(rng, c.ch, c.n), c.rate}
		}
	}
	return cases
}

// TestFLACWithFlacTool: the reference decoder (libFLAC's flac) accepts
// every file, MD5 included, and decodes the same samples.
func TestFLACWithFlacTool(t *testing.T) {
	flac := needTool(t, "flac", "flac")
	dir := t.TempDir()
	for name, c := range externalCases(t) {
		path := filepath.Join(dir, name+".flac")
		if err := os.WriteFile(path, encodeFLAC(t, c.p, c.rate, 1500, time.Minute), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(flac, "--test", "--silent", "--warnings-as-errors", path).CombinedOutput()
		if err != nil {
			t.Errorf("%s: flac --test: %v\n%s", name, err, out)
			continue
		}
		raw, err := exec.Command(flac, "--decode", "--silent", "--stdout", "--force-raw-format", "--endian=little", "--sign=signed", path).Output()
		if err != nil {
			t.Errorf("%s: flac --decode: %v", name, err)
			continue
		}
		if !bytes.Equal(raw, c.p.interleaved()) {
			t.Errorf("%s: flac decodes %d bytes that differ from the %d written", name, len(raw), len(c.p.interleaved()))
		}
	}
}

// TestFLACWithFFmpeg: FFmpeg, whose decoder Chromium uses, decodes the
// same samples.
func TestFLACWithFFmpeg(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	for name, c := range externalCases(t) {
		path := filepath.Join(dir, name+".flac")
		if err := os.WriteFile(path, encodeFLAC(t, c.p, c.rate, 1500, time.Minute), 0o600); err != nil {
			t.Fatal(err)
		}
		raw, err := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-xerror", "-i", path, "-f", "s16le", "-").Output()
		if err != nil {
			t.Errorf("%s: ffmpeg: %v", name, err)
			continue
		}
		if !bytes.Equal(raw, c.p.interleaved()) {
			t.Errorf("%s: ffmpeg decodes %d bytes that differ from the %d written", name, len(raw), len(c.p.interleaved()))
		}
	}
}

// TestFLACReadsFlacTool: the reader decodes files the reference encoder
// made, at its default and highest settings.
func TestFLACReadsFlacTool(t *testing.T) {
	flac := needTool(t, "flac", "flac")
	dir := t.TempDir()
	p := flacSignals["speech"](rand.New(rand.NewPCG(21, 22)), 2, 30000)
	raw := filepath.Join(dir, "in.raw")
	if err := os.WriteFile(raw, p.interleaved(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"-0", "-5", "-8"} {
		out := filepath.Join(dir, "out"+level+".flac")
		cmd := exec.Command(flac, level, "--silent", "--force", "--force-raw-format", "--endian=little", "--sign=signed",
			"--channels=2", "--bps=16", "--sample-rate=16000", "-o", out, raw)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("flac %s: %v\n%s", level, err, b)
		}
		file, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := decodeFLAC(t, bytes.NewReader(file), -1, 1234)
		if err != nil {
			t.Fatalf("%s: %v", level, err)
		}
		if ok, why := equalPCM(got, p); !ok {
			t.Errorf("%s: %s", level, why)
		}
	}
}

// flacAnalysisRate is the rate talkratio analyses (and will store) at.
const flacAnalysisRate = 16000

// TestFLACSpeechSize measures the writer on real speech: the eval corpora's
// calls (TALKRATIO_EVAL_CACHE, default /tmp/talkratio-eval/corpus: the s7
// set and the real-4242 calls, 40 calls in all, as scripts/eval-accuracy.sh
// builds them), at 16 kHz (resampled with sox, no dither) and at each
// file's own rate. It logs MB per call-minute and fails if the 16 kHz total
// is over 2 MB per minute. It takes half a minute, so it only runs when
// asked:
//
//	TALKRATIO_FLAC_SIZE=1 go test ./audio -run FLACSpeechSize -v
func TestFLACSpeechSize(t *testing.T) {
	if os.Getenv("TALKRATIO_FLAC_SIZE") != "1" {
		t.Skip("set TALKRATIO_FLAC_SIZE=1 to measure on the eval corpora")
	}
	cache := os.Getenv("TALKRATIO_EVAL_CACHE")
	if cache == "" {
		cache = "/tmp/talkratio-eval/corpus"
	}
	var files []string
	for _, g := range []string{"s7/*.wav", "real-4242/real-calls/*.wav"} {
		m, _ := filepath.Glob(filepath.Join(cache, g))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no eval corpora under %s (scripts/eval-accuracy.sh --real builds them)", cache)
	}
	sox := needTool(t, "sox", "sox")
	dir := t.TempDir()
	type total struct {
		bytes, wavBytes int64
		mins            float64
		worst           float64
		worstName       string
	}
	var at16, atSource total
	var encTime time.Duration
	var encMins float64
	add := func(tt *total, name string, size, wav int64, mins float64) {
		tt.bytes += size
		tt.wavBytes += wav
		tt.mins += mins
		if r := float64(size) / 1e6 / mins; r > tt.worst {
			tt.worst, tt.worstName = r, name
		}
	}
	encodeFile := func(path string) (size, wav int64, mins float64, rate int) {
		in, err := audio.OpenWAV(path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		fm := in.Format()
		all, err := readAll(t, in, 8192)
		if err != nil {
			t.Fatal(err)
		}
		var m memFile
		start := time.Now()
		w, err := NewWriterExpecting(&m, fm.SampleRate, fm.Channels, in.Duration())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(all); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		encTime += time.Since(start)
		n := len(all[0])
		mins = float64(n) / float64(fm.SampleRate) / 60
		encMins += mins
		return int64(len(m.b)), int64(44 + n*fm.Channels*2), mins, fm.SampleRate
	}
	for _, path := range files {
		name := filepath.Base(filepath.Dir(filepath.Dir(path))) + "/" + filepath.Base(path)
		size, wav, mins, rate := encodeFile(path)
		add(&atSource, name, size, wav, mins)

		r16 := filepath.Join(dir, "16k.wav")
		if out, err := exec.Command(sox, "-D", "-V1", path, "-b", "16", "-r", fmt.Sprint(flacAnalysisRate), r16).CombinedOutput(); err != nil {
			t.Fatalf("sox %s: %v\n%s", path, err, out)
		}
		size16, wav16, mins16, _ := encodeFile(r16)
		add(&at16, name, size16, wav16, mins16)
		t.Logf("%-28s %5.1f min  %5d Hz: %.2f MB/min   16 kHz: %.2f MB/min (WAV %.2f)", name, mins, rate,
			float64(size)/1e6/mins, float64(size16)/1e6/mins16, float64(wav16)/1e6/mins16)
	}
	for _, tt := range []struct {
		name string
		t    total
	}{{"at 16 kHz", at16}, {"at the source rate", atSource}} {
		t.Logf("%d calls, %.1f min %s: %.3f MB per call-minute (%.1f%% of WAV), worst %.2f (%s)",
			len(files), tt.t.mins, tt.name, float64(tt.t.bytes)/1e6/tt.t.mins, 100*float64(tt.t.bytes)/float64(tt.t.wavBytes), tt.t.worst, tt.t.worstName)
	}
	t.Logf("encoding: %.0fx real time", encMins*60/encTime.Seconds())
	if r := float64(at16.bytes) / 1e6 / at16.mins; r > 2 {
		t.Errorf("%.3f MB per call-minute at 16 kHz, want <= 2", r)
	}
}

func benchmarkSpeech(b *testing.B) (pcm16, []byte) {
	p := flacSignals["speech"](rand.New(rand.NewPCG(23, 24)), 2, 16000*10)
	return p, encodeFLAC(b, p, 16000, 16000, time.Minute)
}

// BenchmarkFLACEncode16Stereo: 10 s of 16 kHz stereo speech-like audio;
// MB/s is of 16-bit PCM in.
func BenchmarkFLACEncode16Stereo(b *testing.B) {
	p, _ := benchmarkSpeech(b)
	in := p.floats()
	b.SetBytes(int64(len(p[0]) * 4))
	b.ReportAllocs()
	for b.Loop() {
		var m memFile
		w, err := NewWriter(&m, 16000, 2)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(in[0]); i += 1600 {
			if err := w.Write([][]float32{in[0][i : i+1600], in[1][i : i+1600]}); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/10, "s/audio-s")
}

// BenchmarkFLACDecode16Stereo: the same audio decoded; MB/s is of 16-bit
// PCM out.
func BenchmarkFLACDecode16Stereo(b *testing.B) {
	p, file := benchmarkSpeech(b)
	dst := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	b.SetBytes(int64(len(p[0]) * 4))
	b.ReportAllocs()
	for b.Loop() {
		f, err := NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := f.Read(dst)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)/10, "s/audio-s")
}
