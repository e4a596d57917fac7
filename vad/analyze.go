package vad

import (
	"errors"
	"fmt"
	"io"
)

// Reader yields blocks of deinterleaved samples, one slice per channel, as
// audio.Source does. Read fills dst[c][:n] for every channel and returns
// io.EOF (with n == 0) at the end.
type Reader interface {
	Read(dst [][]float32) (n int, err error)
}

// Segments holds each role's speech segments, and the stretches of the call
// whose audio never arrived (live calls only; offline analysis has none, and
// then the key is left out).
type Segments struct {
	Rep      []Segment `json:"rep"`
	Customer []Segment `json:"customer"`
	Missing  []Segment `json:"missing,omitempty"`
}

// Result is the analysis of a whole call: every metric, plus the segments
// they were computed from.
type Result struct {
	Metrics
	Segments Segments `json:"segments"`
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

// analyzeBlockFrames is how many sample frames are read per block: big
// enough that handing a block's two channels to two cores pays (a few
// tenths of a millisecond of filtering each at 16 kHz, against a
// goroutine handoff of microseconds), small enough (a few MB at most)
// that memory stays flat whatever the length.
const analyzeBlockFrames = 1 << 16

// Analyze reads a whole call from r (sampleRate Hz, channels per m) and
// returns its result. Memory stays constant whatever the call's length,
// apart from the segments themselves. Reading (and decoding) runs on a
// goroutine of its own, ahead of the analysis, so a long file keeps both
// cores busy.
func Analyze(r Reader, sampleRate int, m ChannelMap, cfg Config, tcfg TallyConfig) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	a, err := NewAnalyzer(cfg, tcfg, sampleRate)
	if err != nil {
		return Result{}, err
	}
	return a.analyzeFrom(r, m)
}

// analyzeFrom is Analyze on a new analyzer.
func (a *Analyzer) analyzeFrom(r Reader, m ChannelMap) (Result, error) {
	type block struct {
		buf [][]float32
		n   int
		err error
	}
	// Three buffers: one being read, one being analyzed, one spare.
	free := make(chan [][]float32, 3)
	full := make(chan block, 3)
	stop := make(chan struct{})
	defer close(stop)
	for range 3 {
		buf := make([][]float32, m.Channels)
		for c := range buf {
			buf[c] = make([]float32, analyzeBlockFrames)
		}
		free <- buf
	}
	go func() {
		defer close(full)
		for {
			var buf [][]float32
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			n, err := readFull(r, buf)
			select {
			case full <- block{buf, n, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for b := range full {
		if b.n > 0 {
			if err := a.Write(b.buf[m.Rep][:b.n], b.buf[m.Customer][:b.n]); err != nil {
				return Result{}, err
			}
		}
		if b.err == io.EOF {
			break
		}
		if b.err != nil {
			return Result{}, b.err
		}
		free <- b.buf
	}
	a.Close()
	return a.Result(), nil
}

// readFull fills buf from r as far as it can: readers hand out a few
// thousand frames per call, and a block that small would cost the two
// channels' filters more to hand between cores than they save.
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

// Result returns the final metrics and segments; call it after Close.
func (a *Analyzer) Result() Result {
	segs := Segments{Rep: a.Segments(Rep), Customer: a.Segments(Customer), Missing: a.tally.Missing()}
	if segs.Rep == nil {
		segs.Rep = []Segment{}
	}
	if segs.Customer == nil {
		segs.Customer = []Segment{}
	}
	return Result{Metrics: a.Report(), Segments: segs}
}
