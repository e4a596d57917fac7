package live

import "time"

// timeline lines the two channels of a live call up on one call clock
// before analysis. Every decoded packet is written at its position (from
// its RTP timestamp) into a per-channel ring of samples; the analysis then
// consumes both channels in lockstep. A packet that arrives out of order, or
// late in a burst after its sender stalled, still lands in its place as long
// as that part of the call has not been analyzed yet; later than that it is
// dropped and counted.
//
// Each channel also keeps what it knows about the call time ahead of the
// analysis: the stretches where audio was placed, or where the sender said
// by its packets that it sent nothing (DTX, silence suppression). The rest
// is not known: packets lost or still on their way, a side not heard from.
// When the analysis passes it, it is missing audio, not silence.
type timeline struct {
	ring    [2][]float32
	base    int64    // call position (samples) analyzed so far; ring holds [base, base+len)
	written [2]int64 // end of the furthest write per channel: how far its audio has reached
	seen    [2]bool  // a channel has had any write
	// quiet: a channel's sender has been quiet on the wire on purpose
	// (DTX, silence suppression), so its packets stopping may be silence.
	quiet [2]bool
	// gone: every track that carried a channel has ended; nothing more
	// is coming for it.
	gone  [2]bool
	known [2][]span
	// arrivals remembers, per channel, when the packets still waiting for
	// analysis arrived, to measure packet-to-snapshot latency.
	arrivals [2][]arrival
	// analyzed collects the arrival times of packets analyzed since the
	// last call to takeAnalyzed.
	analyzed []time.Time
}

// span is a half-open range of call positions [a, b).
type span struct{ a, b int64 }

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
	t.know(ch, pos, end)
	t.arrivals[ch] = append(t.arrivals[ch], arrival{end: end, at: at})
	return late
}

// silent records that channel ch's sender sent nothing for [a, b) on
// purpose: silence, not loss.
func (t *timeline) silent(ch int, a, b int64) { t.know(ch, max(a, t.base), b) }

// know adds [a, b) to channel ch's known stretches, merging neighbours.
// Packets mostly come in order, so this is mostly an append or an extension
// of the last stretch.
func (t *timeline) know(ch int, a, b int64) {
	if b <= a {
		return
	}
	k := t.known[ch]
	// In order: extend the last stretch, or start one after it.
	if len(k) == 0 || k[len(k)-1].b < a {
		t.known[ch] = append(k, span{a, b})
		return
	}
	if last := &k[len(k)-1]; last.a <= a {
		last.b = max(last.b, b)
		return
	}
	i := len(k)
	for i > 0 && k[i-1].a > a {
		i--
	}
	// k[:i] start at or before a; merge with the one before if they touch.
	if i > 0 && k[i-1].b >= a {
		i--
		a = k[i].a
		b = max(b, k[i].b)
	}
	j := i
	for j < len(k) && k[j].a <= b {
		b = max(b, k[j].b)
		j++
	}
	k = append(k[:i], append([]span{{a, b}}, k[j:]...)...)
	t.known[ch] = k
}

// settled is how far channel ch is settled: every position before it is
// known or given up on. A hole (no audio, no word of silence) is given up
// once the channel's audio has gone slack samples past it: a packet that
// far out of order is not coming. The end of the last known stretch is as
// far as it goes: nothing is known beyond.
func (t *timeline) settled(ch int, slack int64) int64 {
	pos := t.base
	for _, k := range t.known[ch] {
		if k.a > pos && t.written[ch] < k.a+slack {
			return pos
		}
		pos = max(pos, k.b)
	}
	return pos
}

// size is the ring's length per channel, in samples.
func (t *timeline) size() int64 { return int64(len(t.ring[0])) }

// grow makes the ring size samples long per channel, keeping what it holds
// (the call positions [base, base+old size)).
func (t *timeline) grow(size int64) {
	old := t.size()
	if size <= old {
		return
	}
	for c := range t.ring {
		r := make([]float32, size)
		i := t.base % old
		// The ring from base on, in call order: r[i:] then r[:i].
		for _, part := range []struct {
			pos int64
			s   []float32
		}{{t.base, t.ring[c][i:]}, {t.base + old - i, t.ring[c][:i]}} {
			j := part.pos % size
			k := copy(r[j:], part.s)
			copy(r, part.s[k:])
		}
		t.ring[c] = r
	}
}

// room reports how far past the ring's end a write up to end would reach:
// that much must be analyzed first to make space.
func (t *timeline) room(end int64) int64 {
	return max(0, end-(t.base+int64(len(t.ring[0]))))
}

// consume hands [base, upto) to f in contiguous chunks of both channels,
// cut where what is known changes: known[c] tells whether channel c's
// audio (or its silence) is known for the chunk; where not, the chunk holds
// silence for it. Then it clears those samples so that the ring reads as
// silence when it comes round again.
func (t *timeline) consume(upto int64, f func(rep, cust []float32, known [2]bool)) {
	n := int64(len(t.ring[0]))
	for t.base < upto {
		next := min(upto, t.base+n-t.base%n)
		var known [2]bool
		for c := range t.known {
			k := t.known[c]
			for len(k) > 0 && k[0].b <= t.base {
				k = k[1:]
			}
			switch {
			case len(k) > 0 && k[0].a <= t.base:
				known[c] = true
				next = min(next, k[0].b)
			case len(k) > 0:
				next = min(next, k[0].a)
			}
		}
		i := t.base % n
		k := next - t.base
		a, b := t.ring[0][i:i+k], t.ring[1][i:i+k]
		f(a, b, known)
		clear(a)
		clear(b)
		t.base = next
	}
	for c := range t.known {
		k := t.known[c]
		j := 0
		for j < len(k) && k[j].b <= t.base {
			j++
		}
		k = k[:copy(k, k[j:])]
		if len(k) > 0 {
			k[0].a = max(k[0].a, t.base)
		}
		t.known[c] = k
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
