package audio

import (
	"errors"
	"fmt"
	"io"
)

// maxEmptyReads bounds how often a source may return 0, nil in a row before
// Merge gives up, so a misbehaving source cannot spin Read forever.
const maxEmptyReads = 100

// merged hands each source a view of its own channels in the caller's dst,
// so samples are decoded straight into place with no copy.
type merged struct {
	srcs   []Source
	first  []int         // first output channel of each source
	done   []bool        // source returned io.EOF
	got    []int         // frames each source produced in the current Read
	views  [][][]float32 // per-source reusable dst headers, so Read does not allocate
	format Format
	err    error // sticky
}

// Merge combines mono (or multi-channel) sources into one source whose
// channels are the inputs' channels in order. All must share a sample rate
// (else ErrSampleRateMismatch). Lengths may differ: a source that ends early
// is padded with zeros until the longest one ends, which keeps the channels
// time-aligned for per-speaker analysis.
//
// The merged Format has the summed channel count; BitsPerSample and Encoding
// are the inputs' when they all agree and zero otherwise.
func Merge(srcs ...Source) (Source, error) {
	if len(srcs) == 0 {
		return nil, errors.New("merge: no sources")
	}
	m := &merged{
		srcs:  srcs,
		first: make([]int, len(srcs)),
		done:  make([]bool, len(srcs)),
		got:   make([]int, 0, len(srcs)),
		views: make([][][]float32, len(srcs)),
	}
	f0 := Format{}
	for i, s := range srcs {
		if s == nil {
			return nil, fmt.Errorf("merge: source %d is nil", i)
		}
		f := s.Format()
		if f.Channels <= 0 {
			return nil, fmt.Errorf("merge: source %d has %d channels", i, f.Channels)
		}
		if i == 0 {
			f0 = f
			m.format = Format{SampleRate: f.SampleRate, BitsPerSample: f.BitsPerSample, Encoding: f.Encoding}
		} else {
			if f.SampleRate != f0.SampleRate {
				return nil, fmt.Errorf("merge: %w: source %d is %d Hz, source 0 is %d Hz",
					ErrSampleRateMismatch, i, f.SampleRate, f0.SampleRate)
			}
			if f.BitsPerSample != m.format.BitsPerSample {
				m.format.BitsPerSample = 0
			}
			if f.Encoding != m.format.Encoding {
				m.format.Encoding = 0
			}
		}
		m.first[i] = m.format.Channels
		m.views[i] = make([][]float32, f.Channels)
		m.format.Channels += f.Channels
	}
	return m, nil
}

func (m *merged) Format() Format { return m.format }

func (m *merged) Read(dst [][]float32) (int, error) {
	want, err := CheckDst(dst, m.format.Channels)
	if err != nil {
		return 0, fmt.Errorf("merge: %w", err)
	}
	if m.err != nil {
		return 0, m.err
	}
	if want == 0 {
		return 0, nil
	}

	// Each source fills as much of the request as it can (looping over
	// short reads) so the channels stay frame-aligned; the call returns the
	// longest fill and zero-pads the rest.
	gots := m.got[:0]
	n := 0
	for i, s := range m.srcs {
		g := 0
		if !m.done[i] {
			g, err = m.fill(i, s, dst, want)
			if err != nil {
				m.err = fmt.Errorf("merge: source %d: %w", i, err)
				return 0, m.err
			}
		}
		gots = append(gots, g)
		n = max(n, g)
	}
	if n == 0 {
		m.err = io.EOF
		return 0, m.err
	}
	for i, g := range gots {
		if g == n {
			continue
		}
		for c := range m.views[i] {
			clear(dst[m.first[i]+c][g:n])
		}
	}
	return n, nil
}

// fill reads source i into its channels of dst until want frames or EOF.
func (m *merged) fill(i int, s Source, dst [][]float32, want int) (int, error) {
	view := m.views[i]
	g, empty := 0, 0
	for g < want {
		for c := range view {
			view[c] = dst[m.first[i]+c][g:want]
		}
		k, err := s.Read(view)
		if k < 0 || k > want-g {
			return 0, fmt.Errorf("read returned %d frames for a request of %d", k, want-g)
		}
		g += k
		if err == io.EOF {
			m.done[i] = true
			break
		}
		if err != nil {
			return 0, err
		}
		if k == 0 {
			if empty++; empty >= maxEmptyReads {
				return 0, io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
	clear(view) // do not pin the caller's buffers between calls
	return g, nil
}
