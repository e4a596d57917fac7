package vad

import (
	"errors"
	"fmt"
	"io"

	"talkratio/tally"
)

// Reader yields blocks of deinterleaved samples, one slice per channel, as
// audio.Source does. Read fills dst[c][:n] for every channel and returns
// io.EOF (with n == 0) at the end.
type Reader interface {
	Read(dst [][]float32) (n int, err error)
}

// ChannelMap says which input channel carries which role.
type ChannelMap struct {
	Channels int // channels in the input
	Rep      int // index of the rep's channel
	Customer int // index of the customer's channel
}

// Validate checks that the map picks two distinct existing channels.
func (m ChannelMap) Validate() error {
	switch {
	case m.Channels < 2:
		return fmt.Errorf("need two channels (rep and customer), input has %d", m.Channels)
	case m.Rep < 0 || m.Rep >= m.Channels:
		return fmt.Errorf("rep channel %d not in input's %d channels", m.Rep, m.Channels)
	case m.Customer < 0 || m.Customer >= m.Channels:
		return fmt.Errorf("customer channel %d not in input's %d channels", m.Customer, m.Channels)
	case m.Rep == m.Customer:
		return errors.New("rep and customer are the same channel")
	}
	return nil
}

// PCM16Reader is a Reader that can also hand out its samples as they are
// stored, when that is interleaved little-endian 16-bit PCM (nearly every
// call recording). Analyze then reads the bytes and decodes them inside the
// band filter's own loop, which spares a pass over every sample and a copy
// of it. audio.WAVReader is one.
type PCM16Reader interface {
	Reader
	// PCM16Channels is the number of interleaved channels ReadPCM16
	// hands out, or 0 when the samples are not 16-bit PCM.
	PCM16Channels() int
	// ReadPCM16 reads whole sample frames (one 16-bit sample per channel
	// each) into p and returns how many; at the end it returns 0 and
	// io.EOF, as Read does.
	ReadPCM16(p []byte) (frames int, err error)
}

// analyzeBlockFrames: the tally folds settled call time into its totals
// every analyzeBlockFrames samples of the call, the block size Analyze
// once wrote in. The totals are sums of many stretches, and a sum split at
// another point can round differently in its last bit: keeping the points
// keeps the figures what they were, bit for bit.
const analyzeBlockFrames = 1 << 16

// pipeBlockBytes: the reading side hands the analysis blocks of about this
// many bytes of samples: large enough that a hand-over (microseconds) is
// nothing next to filtering the block (a millisecond or more), small
// enough to stay in a core's cache between the read and the filter.
const pipeBlockBytes = 256 << 10

// pipeDepth blocks of band energies may wait between the two sides, so
// that neither waits for the other's hiccups; memory stays a few MB.
const pipeDepth = 4

// Analyze reads a whole call from r (sampleRate Hz, channels per m) and
// returns its result. Memory stays constant whatever the call's length,
// apart from the segments themselves.
//
// The work runs as a pipeline on two cores: one goroutine reads, decodes
// and band-filters block after block (both channels at once, see
// bandFilter), while the caller's goroutine runs the per-frame decisions
// on the block before. Every frame is measured and decided exactly as
// Analyzer.Write would, in the same order, so the result does not depend
// on timing.
func Analyze(r Reader, sampleRate int, m ChannelMap, cfg Config, tcfg tally.Config) (tally.Result, error) {
	if err := m.Validate(); err != nil {
		return tally.Result{}, err
	}
	a, err := NewAnalyzer(cfg, tcfg, sampleRate)
	if err != nil {
		return tally.Result{}, err
	}
	return a.analyzeFrom(r, m)
}

// energyBlock is a block of frames measured by the reading side: each
// channel's band energy per frame, and how many sample frames were read
// (at the end, the samples of a last partial frame too).
type energyBlock struct {
	e       [2][]float64
	samples int
	err     error // io.EOF after the last block, or why reading stopped
}

// analyzeFrom is Analyze on a new analyzer.
func (a *Analyzer) analyzeFrom(r Reader, m ChannelMap) (tally.Result, error) {
	frames := max(1, pipeBlockBytes/(a.hop*2*m.Channels)) // per block
	free := make(chan energyBlock, pipeDepth+2)
	full := make(chan energyBlock, pipeDepth)
	stop := make(chan struct{})
	defer close(stop)
	for range pipeDepth + 2 {
		free <- energyBlock{e: [2][]float64{make([]float64, frames), make([]float64, frames)}}
	}
	if pr, ok := r.(PCM16Reader); ok && pr.PCM16Channels() == m.Channels {
		go a.measurePCM16(pr, m, frames, free, full, stop)
	} else {
		go a.measureFloat(r, m, frames, free, full, stop)
	}
	settleAt := int64(analyzeBlockFrames)
	for b := range full {
		for i := range b.e[0] {
			a.frame([2]float64{b.e[0][i], b.e[1][i]})
			if a.frames == settleAt/int64(a.hop) {
				a.settle()
				settleAt += analyzeBlockFrames
			}
		}
		a.samples += int64(b.samples)
		if b.err == io.EOF {
			break
		}
		if b.err != nil {
			return tally.Result{}, b.err
		}
		free <- b
	}
	a.settle()
	a.Close()
	return a.Result(), nil
}

// measurePCM16 is the reading side for 16-bit PCM: it band-filters blocks
// of whole frames straight from the bytes as stored, which a goroutine of
// its own reads ahead. At 8 kHz the filter alone takes as long as all the
// decisions, so it is left with nothing else to do; reading (a copy out of
// the page cache) then runs beside it and the decisions.
func (a *Analyzer) measurePCM16(r PCM16Reader, m ChannelMap, frames int, free <-chan energyBlock, full chan<- energyBlock, stop <-chan struct{}) {
	defer close(full)
	stride := 2 * m.Channels
	off := [2]int{2 * m.Rep, 2 * m.Customer}
	type rawBlock struct {
		b   []byte
		n   int // sample frames
		err error
	}
	rawFree := make(chan []byte, pipeDepth)
	rawFull := make(chan rawBlock, pipeDepth)
	for range pipeDepth {
		rawFree <- make([]byte, frames*a.hop*stride)
	}
	go func() {
		defer close(rawFull)
		for {
			var b []byte
			select {
			case b = <-rawFree:
			case <-stop:
				return
			}
			n, err := readFullPCM16(r, b, stride)
			select {
			case rawFull <- rawBlock{b, n, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for rb := range rawFull {
		var b energyBlock
		select {
		case b = <-free:
		case <-stop:
			return
		}
		k := rb.n / a.hop
		b.e[0], b.e[1] = b.e[0][:k], b.e[1][:k]
		a.filt.FramesPCM16(rb.b[:k*a.hop*stride], stride, off, b.e)
		rawFree <- rb.b // never blocks: it holds every buffer
		b.samples, b.err = rb.n, rb.err
		select {
		case full <- b:
		case <-stop:
			return
		}
		if rb.err != nil {
			return
		}
	}
}

// measureFloat is the reading side for any other Reader: it reads blocks
// of float samples and band-filters them.
func (a *Analyzer) measureFloat(r Reader, m ChannelMap, frames int, free <-chan energyBlock, full chan<- energyBlock, stop <-chan struct{}) {
	defer close(full)
	buf := make([][]float32, m.Channels)
	for c := range buf {
		buf[c] = make([]float32, frames*a.hop)
	}
	for {
		var b energyBlock
		select {
		case b = <-free:
		case <-stop:
			return
		}
		n, err := readFull(r, buf)
		k := n / a.hop
		b.e[0], b.e[1] = b.e[0][:k], b.e[1][:k]
		a.filt.FramesF32([2][]float32{buf[m.Rep][:k*a.hop], buf[m.Customer][:k*a.hop]}, b.e)
		b.samples, b.err = n, err
		select {
		case full <- b:
		case <-stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// readFull fills buf from r as far as it can: readers hand out a few
// thousand frames per call, fewer than a block. Only the last block may
// end in a partial frame.
func readFull(r Reader, buf [][]float32) (int, error) {
	n := 0
	part := make([][]float32, len(buf))
	for n < len(buf[0]) {
		for c := range buf {
			part[c] = buf[c][n:]
		}
		k, err := r.Read(part)
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, errors.New("reader returned no samples and no error")
		}
	}
	return n, nil
}

// readFullPCM16 is readFull for PCM16Reader: it fills buf with whole
// sample frames of stride bytes and returns how many.
func readFullPCM16(r PCM16Reader, buf []byte, stride int) (int, error) {
	n, want := 0, len(buf)/stride
	for n < want {
		k, err := r.ReadPCM16(buf[n*stride:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, errors.New("reader returned no samples and no error")
		}
	}
	return n, nil
}

// Result returns the final metrics and segments; call it after Close.
func (a *Analyzer) Result() tally.Result {
	segs := tally.Segments{Rep: a.Segments(tally.Rep), Customer: a.Segments(tally.Customer), Missing: a.tally.Missing()}
	if segs.Rep == nil {
		segs.Rep = []tally.Segment{}
	}
	if segs.Customer == nil {
		segs.Customer = []tally.Segment{}
	}
	return tally.Result{Metrics: a.Report(), Segments: segs}
}
