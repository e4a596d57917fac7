package server

import "time"

// timeline lines the two channels of a live call up on one call clock
// before analysis. Every decoded packet is written at its position (from
// its RTP timestamp) into a per-channel ring of samples; the analysis then
// consumes both channels in lockstep. Positions nobody wrote (lost packets,
// DTX gaps, a side that has not joined yet) read as silence. A packet that
// arrives out of order still lands in its place as long as that part of the
// call has not been analyzed yet; later than that it is dropped and counted.
type timeline struct {
	ring    [2][]float32
	base    int64    // call position (samples) analyzed so far; ring holds [base, base+len)
	written [2]int64 // end of the furthest write per channel
	seen    [2]bool  // a channel has had any write
	// arrivals remembers, per channel, when the packets still waiting for
	// analysis arrived, to measure packet-to-snapshot latency.
	arrivals [2][]arrival
	// analyzed collects the arrival times of packets analyzed since the
	// last call to takeAnalyzed.
	analyzed []time.Time
}

type arrival struct {
	end int64 // call position just after the packet
	at  time.Time
}

func newTimeline(ringSamples int) *timeline {
	t := &timeline{}
	for c := range t.ring {
		t.ring[c] = make([]float32, ringSamples)
	}
	return t
}

// put writes samples of channel ch at call position pos. It reports how
// many samples fell before the analyzed part (too late) and were dropped.
// The caller must first make room (see room) for writes beyond the ring.
func (t *timeline) put(ch int, pos int64, s []float32, at time.Time) (late int) {
	if pos < t.base {
		late = int(min(t.base-pos, int64(len(s))))
		s = s[late:]
		pos = t.base
	}
	n := int64(len(t.ring[ch]))
	if end := t.base + n; pos+int64(len(s)) > end {
		s = s[:max(0, end-pos)]
	}
	if len(s) == 0 {
		return late
	}
	r := t.ring[ch]
	i := int(pos % n)
	k := copy(r[i:], s)
	copy(r, s[k:])
	end := pos + int64(len(s))
	t.written[ch] = max(t.written[ch], end)
	t.seen[ch] = true
	t.arrivals[ch] = append(t.arrivals[ch], arrival{end: end, at: at})
	return late
}

// room reports how far past the ring's end a write up to end would reach:
// that much must be analyzed first to make space.
func (t *timeline) room(end int64) int64 {
	return max(0, end-(t.base+int64(len(t.ring[0]))))
}

// target is how far analysis may go now. Normally both channels must have
// been written that far. A channel more than lag samples behind the other
// is taken to be silent (DTX, a stalled or absent side), so one quiet side
// never holds the meter up by more than lag.
func (t *timeline) target(lag int64) int64 {
	hi, lo := max(t.written[0], t.written[1]), min(t.written[0], t.written[1])
	return max(t.base, lo, hi-lag)
}

// consume hands [base, upto) to f in contiguous chunks of both channels,
// then clears those samples so that the ring reads as silence when it
// comes round again.
func (t *timeline) consume(upto int64, f func(rep, cust []float32)) {
	n := int64(len(t.ring[0]))
	for t.base < upto {
		i := t.base % n
		k := min(upto-t.base, n-i)
		a, b := t.ring[0][i:i+k], t.ring[1][i:i+k]
		f(a, b)
		clear(a)
		clear(b)
		t.base += k
	}
	for c := range t.arrivals {
		q := t.arrivals[c]
		j := 0
		for j < len(q) && q[j].end <= t.base {
			t.analyzed = append(t.analyzed, q[j].at)
			j++
		}
		t.arrivals[c] = append(q[:0], q[j:]...)
	}
}

// takeAnalyzed returns the arrival times of the packets analyzed since the
// last call, and forgets them.
func (t *timeline) takeAnalyzed() []time.Time {
	a := t.analyzed
	t.analyzed = t.analyzed[:0]
	return a
}
