package ingesttest

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"talkratio/ingest"
	"talkratio/tally"
	"talkratio/vad"
)

// Timeline is a call's media placed on one clock at ingest.SampleRate, as
// the live call owner places it: per role the samples, and whether each
// sample's audio is known (arrived, or declared silent by a sequence gap
// without loss) or missing.
type Timeline struct {
	PCM   [2][]float32
	Known [2][]bool
}

// Place puts what was delivered to c on a timeline, following the
// contract of ingest.Media and ingest.Clock:
//   - each Clock ID is anchored where its least delayed media says its
//     origin was (arrival time less the media time), so clocks line up by
//     arrival and media on one clock by its timestamps;
//   - within a role and clock, a later TS with the next Seq is silence, a
//     jump in Seq leaves the stretch missing;
//   - Missing stretches, time before a role's first media and after its
//     last, and media that did not decode are missing.
func Place(c *Call) (*Timeline, error) {
	media, missed := c.Media(), c.Missed()
	if len(media) == 0 {
		return nil, fmt.Errorf("no media delivered")
	}
	// Each clock's origin in real time.
	origin := map[int]time.Time{}
	for _, d := range media {
		k := d.Media.Clock
		if k.Rate <= 0 {
			return nil, fmt.Errorf("media with clock rate %d", k.Rate)
		}
		o := d.Media.At.Add(-ticks(d.Media.TS, k.Rate))
		if cur, ok := origin[k.ID]; !ok || o.Before(cur) {
			origin[k.ID] = o
		}
	}
	var t0 time.Time
	for _, o := range origin {
		if t0.IsZero() || o.Before(t0) {
			t0 = o
		}
	}
	pos := func(k ingest.Clock, ts int64) int64 {
		o, ok := origin[k.ID]
		if !ok {
			o = t0
		}
		base := int64(math.Round(o.Sub(t0).Seconds() * ingest.SampleRate))
		return base + ts*ingest.SampleRate/int64(k.Rate)
	}
	var end int64
	for _, d := range media {
		end = max(end, pos(d.Media.Clock, d.Media.TS)+int64(len(d.Media.PCM)))
	}
	for _, m := range missed {
		end = max(end, pos(m.Clock, m.TS+m.N))
	}
	tl := &Timeline{}
	for r := range tl.PCM {
		tl.PCM[r] = make([]float32, end)
		tl.Known[r] = make([]bool, end)
	}
	// Per role and clock, in sequence order: place, and fill silences the
	// sequence numbers vouch for.
	type key struct {
		role  ingest.Role
		clock int
	}
	streams := map[key][]ingest.Media{}
	for _, d := range media {
		k := key{d.Role, d.Media.Clock.ID}
		streams[k] = append(streams[k], d.Media)
	}
	for k, ms := range streams {
		slices.SortStableFunc(ms, func(a, b ingest.Media) int { return cmp.Compare(a.Seq, b.Seq) })
		pcm, known := tl.PCM[k.role], tl.Known[k.role]
		for i, m := range ms {
			p := pos(m.Clock, m.TS)
			if p < 0 {
				return nil, fmt.Errorf("%s media placed before the call started", k.role)
			}
			if i > 0 {
				prev := ms[i-1]
				prevEnd := pos(prev.Clock, prev.TS) + int64(len(prev.PCM))
				if m.Seq == prev.Seq+1 && len(prev.PCM) > 0 {
					for j := max(prevEnd, 0); j < p; j++ {
						pcm[j], known[j] = 0, true
					}
				}
			}
			copy(pcm[p:], m.PCM)
			for j := p; j < p+int64(len(m.PCM)); j++ {
				known[j] = true
			}
		}
	}
	for _, m := range missed {
		for j := max(pos(m.Clock, m.TS), 0); j < min(pos(m.Clock, m.TS+m.N), end); j++ {
			tl.PCM[m.Role][j], tl.Known[m.Role][j] = 0, false
		}
	}
	return tl, nil
}

func ticks(ts int64, rate int) time.Duration {
	return time.Duration(ts) * time.Second / time.Duration(rate)
}

// MissingS is the seconds of the timeline where a role's audio is missing.
func (tl *Timeline) MissingS(r ingest.Role) float64 {
	n := 0
	for _, k := range tl.Known[r] {
		if !k {
			n++
		}
	}
	return float64(n) / ingest.SampleRate
}

// Analyze runs the live analysis over the timeline: where both sides are
// known the analyzer hears both; where one is missing it hears that side
// and is told the other is missing; where both are, the time is missing
// audio. It is what the live call owner does with placed media.
func (tl *Timeline) Analyze() (tally.Result, error) {
	a, err := vad.NewAnalyzer(vad.DefaultConfig(), tally.DefaultConfig(), ingest.SampleRate)
	if err != nil {
		return tally.Result{}, err
	}
	n := len(tl.PCM[0])
	for i := 0; i < n; {
		k := [2]bool{tl.Known[0][i], tl.Known[1][i]}
		j := i + 1
		for j < n && tl.Known[0][j] == k[0] && tl.Known[1][j] == k[1] {
			j++
		}
		rep, cust := tl.PCM[0][i:j], tl.PCM[1][i:j]
		switch {
		case !k[0] && !k[1]:
			err = a.WriteMissing(j - i)
		case !k[0] || !k[1]:
			if err = a.MarkMissing(j - i); err == nil {
				err = a.Write(rep, cust)
			}
		default:
			err = a.Write(rep, cust)
		}
		if err != nil {
			return tally.Result{}, fmt.Errorf("analyze placed media: %w", err)
		}
		i = j
	}
	a.Close()
	return a.Result(), nil
}

// AnalyzeDelivered places what c was delivered and analyzes it.
func AnalyzeDelivered(c *Call) (tally.Result, *Timeline, error) {
	tl, err := Place(c)
	if err != nil {
		return tally.Result{}, nil, err
	}
	res, err := tl.Analyze()
	return res, tl, err
}

// AnalyzeChannels is `talkratio analyze` on two channels at rate Hz.
func AnalyzeChannels(rep, cust []float32, rate int) (tally.Result, error) {
	n := max(len(rep), len(cust))
	r := &sliceReader{}
	r.ch[0] = append(slices.Clone(rep), make([]float32, n-len(rep))...)
	r.ch[1] = append(slices.Clone(cust), make([]float32, n-len(cust))...)
	return vad.Analyze(r, rate, vad.ChannelMap{Channels: 2, Rep: 0, Customer: 1}, vad.DefaultConfig(), tally.DefaultConfig())
}

// sliceReader serves two channels from memory as a vad.Reader.
type sliceReader struct {
	ch  [2][]float32
	pos int
}

func (r *sliceReader) Read(dst [][]float32) (int, error) {
	n := min(len(dst[0]), len(r.ch[0])-r.pos)
	if n <= 0 {
		return 0, io.EOF
	}
	for c := range dst {
		copy(dst[c], r.ch[c][r.pos:r.pos+n])
	}
	r.pos += n
	return n, nil
}

// ListenDelta is |got - want| of the listen % in percentage points; an
// error when either has no speech.
func ListenDelta(got, want tally.Result) (float64, error) {
	if got.ListenPct == nil || want.ListenPct == nil {
		return 0, fmt.Errorf("no speech found (got %v, want %v)", got.ListenPct, want.ListenPct)
	}
	return math.Abs(*got.ListenPct - *want.ListenPct), nil
}
