package vad

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"talkratio/tally"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCall is a generated two-channel call whose analysis is pinned.
type goldenCall struct {
	name string
	rate int
	secs float64
	// build fills the two channels.
	build func(rep, cust *signal)
}

// turns puts voices on a channel in the given windows (seconds).
func (s *signal) turns(f0, db float64, seed uint64, windows ...[2]float64) *signal {
	for i, w := range windows {
		s.voice(w[0], w[1], f0, db, seed+uint64(i))
	}
	return s
}

// goldenCalls cover what the detector's models learn from: a clean
// conversation with overlaps, backchannels and a long silence; noise with a
// hum; bleed with double talk; babble under one speaker; a recording's
// room, digital silence and a quiet voice at 5 dB SNR. Each is long enough
// for the warm-up (3 s), the background model (2 s of background, 30 s
// memory) and the quiet blocks (20 s window) to be past their start.
func goldenCalls() []goldenCall {
	conversation := func(rep, cust *signal) {
		rep.noise(-62, 1).turns(120, -24, 10, [2]float64{1, 6}, [2]float64{9.5, 14}, [2]float64{24, 31}, [2]float64{33.2, 34}, [2]float64{41, 50})
		cust.noise(-60, 2).turns(210, -27, 20, [2]float64{5.6, 9}, [2]float64{14.3, 16}, [2]float64{20, 23.8}, [2]float64{27, 27.6}, [2]float64{31.1, 38}, [2]float64{45, 52})
	}
	humNoise := func(rep, cust *signal) {
		rep.noise(-45, 3).tone(0, 60, 50, -30).turns(140, -30, 30, [2]float64{4, 9}, [2]float64{17, 22}, [2]float64{35, 44})
		cust.noise(-48, 4).turns(190, -33, 40, [2]float64{0.5, 4}, [2]float64{9.5, 16}, [2]float64{23, 34}, [2]float64{46, 55})
	}
	bleed := func(rep, cust *signal) {
		rep.noise(-65, 5).turns(120, -24, 50, [2]float64{2, 5}, [2]float64{8, 11}, [2]float64{14, 17}, [2]float64{26, 29}, [2]float64{29.5, 34}, [2]float64{40, 47})
		cust.noise(-65, 6).leak(rep, 0.040, -18).turns(220, -26, 60, [2]float64{20, 24}, [2]float64{30, 33}, [2]float64{48, 55})
	}
	babble := func(rep, cust *signal) {
		rep.noise(-70, 7)
		for i, f0 := range []float64{105, 170, 240} {
			rep.voice(0, rep.secs(), f0, -47, uint64(70+i))
		}
		rep.turns(130, -26, 80, [2]float64{5, 9}, [2]float64{15, 19}, [2]float64{27, 31}, [2]float64{42, 50})
		cust.noise(-70, 8).turns(210, -28, 90, [2]float64{10, 14}, [2]float64{21, 26}, [2]float64{33, 38}, [2]float64{51, 56})
	}
	room := func(rep, cust *signal) {
		// Digital silence for the first 2 s, then the line's noise.
		rep.noiseAt(2, rep.secs(), -66, 9).noiseAt(13.3, 16.1, -42, 10).voice(13.5, 15.5, 130, -20, 100).
			voice(25, 28, 130, -20, 101).voice(28.6, 31, 210, -34, 102)
		cust.noiseAt(2, cust.secs(), -50, 11).turns(200, -45, 110, [2]float64{4, 8}, [2]float64{17, 23}, [2]float64{35, 44})
	}
	var calls []goldenCall
	for _, rate := range []int{8000, 16000, 48000} {
		calls = append(calls,
			goldenCall{"conversation", rate, 60, conversation},
			goldenCall{"bleed", rate, 60, bleed},
			goldenCall{"babble", rate, 60, babble})
		if rate != 48000 { // the slowest signals to make; two rates are enough
			calls = append(calls,
				goldenCall{"hum-noise", rate, 60, humNoise},
				goldenCall{"room", rate, 45, room})
		}
	}
	return calls
}

func (s *signal) secs() float64 { return float64(len(s.x)) / float64(s.rate) }

// quantize rounds samples to 16-bit PCM, as a WAV file holds them, so that
// every reading path (float samples or the stored bytes) sees the same
// values.
func quantize(x []float32) {
	for i, v := range x {
		k := math.Round(float64(v) * (1 << 15))
		x[i] = float32(min(max(k, -(1<<15)), 1<<15-1) / (1 << 15))
	}
}

// golden is what a golden file holds: the result, and a digest of every
// frame's decision and of the models' state along the way.
type golden struct {
	Frames int64  `json:"frames"`
	Trace  string `json:"trace_fnv64"`
	// Levels digests each frame's index and levels alone: the decisions.
	// A change to how energies are computed may move Trace in the last
	// bits of the measures; Levels (and Result) must not move.
	Levels string       `json:"levels_fnv64"`
	Result tally.Result `json:"result"`
}

// traceDigest hooks digests onto a's trace: h of each frame's index,
// levels, measures and smoothed levels, and each channel's background,
// smoothed floor, texture and peak, bit for bit; levels of each frame's
// index and levels only.
func traceDigest(a *Analyzer) (h, levels hash.Hash64, frames *int64) {
	h, levels = fnv.New64a(), fnv.New64a()
	frames = new(int64)
	var b [8]byte
	put := func(v float64) {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		h.Write(b[:])
	}
	a.trace = func(t int64, lv [2]level, m [2]frameMeasure, smDB [2]float64) {
		*frames++
		put(float64(t))
		binary.LittleEndian.PutUint64(b[:], uint64(t))
		levels.Write(b[:])
		levels.Write([]byte{byte(lv[0]), byte(lv[1])})
		for c := range lv {
			ch := &a.ch[c]
			bg := &ch.background
			h.Write([]byte{byte(lv[c])})
			for _, v := range []float64{m[c].p, m[c].fl, m[c].own, smDB[c], bg.bgDB, bg.smoothDB, bg.spreadDB, bg.loudDB, ch.sf, ch.textureDB, ch.peakSmooth, ch.minSmooth} {
				put(v)
			}
		}
	}
	return h, levels, frames
}

// goldenSource serves a generated call through Analyze's Reader.
func goldenSource(rep, cust *signal) Reader {
	return &sliceSource{ch: [2][]float32{rep.x, cust.x}}
}

// pcm16Source serves a call as the bytes of a 16-bit PCM file with the
// customer on channel 0 and the rep on channel 2 of three, in reads of at
// most step frames, as a PCM16Reader.
type pcm16Source struct {
	b    []byte
	pos  int // bytes
	step int // frames
}

const pcm16SourceChannels = 3

func newPCM16Source(rep, cust []float32, step int) *pcm16Source {
	b := make([]byte, 2*pcm16SourceChannels*len(rep))
	for i := range rep {
		f := b[2*pcm16SourceChannels*i:]
		binary.LittleEndian.PutUint16(f[0:], uint16(int16(cust[i]*(1<<15))))
		binary.LittleEndian.PutUint16(f[2:], 0x8000)
		binary.LittleEndian.PutUint16(f[4:], uint16(int16(rep[i]*(1<<15))))
	}
	return &pcm16Source{b: b, step: step}
}

func (s *pcm16Source) PCM16Channels() int { return pcm16SourceChannels }

func (s *pcm16Source) ReadPCM16(p []byte) (int, error) {
	const ba = 2 * pcm16SourceChannels
	n := min(len(p)/ba, (len(s.b)-s.pos)/ba, s.step)
	if n == 0 {
		return 0, io.EOF
	}
	copy(p, s.b[s.pos:s.pos+n*ba])
	s.pos += n * ba
	return n, nil
}

func (s *pcm16Source) Read([][]float32) (int, error) {
	return 0, errors.New("pcm16Source: Read is not for Analyze")
}

// The analysis of generated calls at 8, 16 and 48 kHz is pinned: result
// and per-frame decisions, bit for bit. Speed work must leave them as they
// are; run with -update only for a change meant to alter the detector.
func TestGolden(t *testing.T) {
	for _, gc := range goldenCalls() {
		name := fmt.Sprintf("%s-%dk", gc.name, gc.rate/1000)
		t.Run(name, func(t *testing.T) {
			rep, cust := newSignal(gc.rate, gc.secs), newSignal(gc.rate, gc.secs)
			gc.build(rep, cust)
			quantize(rep.x)
			quantize(cust.x)
			a, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), gc.rate)
			if err != nil {
				t.Fatal(err)
			}
			h, levels, frames := traceDigest(a)
			res, err := a.analyzeFrom(goldenSource(rep, cust), ChannelMap{Channels: 2, Rep: 0, Customer: 1})
			if err != nil {
				t.Fatal(err)
			}
			got := golden{Frames: *frames, Trace: fmt.Sprintf("%016x", h.Sum64()), Levels: fmt.Sprintf("%016x", levels.Sum64()), Result: res}
			out, err := json.MarshalIndent(got, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, '\n')
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("analysis differs from %s (run with -update only if the detector is meant to change)\n got: %.800s", path, out)
			}
			// Read as the bytes of a 16-bit PCM file (decoded in the
			// band filter's loop), the analysis is the same.
			p, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), gc.rate)
			if err != nil {
				t.Fatal(err)
			}
			hp, _, _ := traceDigest(p)
			pres, err := p.analyzeFrom(newPCM16Source(rep.x, cust.x, 4321), ChannelMap{Channels: pcm16SourceChannels, Rep: 2, Customer: 0})
			if err != nil {
				t.Fatal(err)
			}
			if hp.Sum64() != h.Sum64() {
				t.Errorf("read as 16-bit PCM bytes, the per-frame trace differs")
			}
			if !bytes.Equal(mustJSON(t, pres), mustJSON(t, res)) {
				t.Errorf("read as 16-bit PCM bytes, the result differs:\n%s", mustJSON(t, pres))
			}
			// Written in small odd blocks, as the live path writes, the
			// result is the same.
			b, err := NewAnalyzer(DefaultConfig(), tally.DefaultConfig(), gc.rate)
			if err != nil {
				t.Fatal(err)
			}
			hb, _, _ := traceDigest(b)
			for i := 0; i < len(rep.x); i += 333 {
				j := min(i+333, len(rep.x))
				if err := b.Write(rep.x[i:j], cust.x[i:j]); err != nil {
					t.Fatal(err)
				}
			}
			b.Close()
			if hb.Sum64() != h.Sum64() {
				t.Errorf("written in blocks of 333 samples, the per-frame trace differs")
			}
			if wb, _ := json.Marshal(b.Result()); !bytes.Equal(wb, mustJSON(t, res)) {
				t.Errorf("written in blocks of 333 samples, the result differs:\n%s", wb)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
