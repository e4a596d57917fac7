package live

import (
	"slices"
	"testing"
	"time"
)

func ones(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// consumed returns what consume hands out up to upto, per channel.
func consumed(t *timeline, upto int64) (rep, cust []float32) {
	t.consume(upto, func(a, b []float32, _ [2]bool) {
		rep = append(rep, a...)
		cust = append(cust, b...)
	})
	return
}

func TestTimelinePlacement(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		puts     func(tl *timeline) int // returns late samples
		upto     int64
		rep      []float32
		cust     []float32
		wantLate int
	}{
		{
			name: "in order",
			puts: func(tl *timeline) int {
				return tl.put(0, 0, ones(4, 1), now) + tl.put(0, 4, ones(4, 2), now) + tl.put(1, 0, ones(8, 3), now)
			},
			upto: 8, rep: []float32{1, 1, 1, 1, 2, 2, 2, 2}, cust: ones(8, 3),
		},
		{
			name: "reordered packet lands in its place",
			puts: func(tl *timeline) int {
				return tl.put(0, 4, ones(4, 2), now) + tl.put(0, 0, ones(4, 1), now)
			},
			upto: 8, rep: []float32{1, 1, 1, 1, 2, 2, 2, 2}, cust: make([]float32, 8),
		},
		{
			name: "lost packet reads as silence",
			puts: func(tl *timeline) int {
				return tl.put(0, 0, ones(2, 1), now) + tl.put(0, 6, ones(2, 1), now)
			},
			upto: 8, rep: []float32{1, 1, 0, 0, 0, 0, 1, 1}, cust: make([]float32, 8),
		},
		{
			name: "wraps round the ring",
			puts: func(tl *timeline) int {
				tl.consume(12, func(a, b []float32, _ [2]bool) {})
				return tl.put(0, 12, ones(8, 5), now)
			},
			upto: 20, rep: ones(8, 5), cust: make([]float32, 8),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTimeline(16)
			if late := tc.puts(tl); late != tc.wantLate {
				t.Errorf("late %d, want %d", late, tc.wantLate)
			}
			rep, cust := consumed(tl, tc.upto)
			if !slices.Equal(rep, tc.rep) || !slices.Equal(cust, tc.cust) {
				t.Errorf("got rep %v cust %v\nwant rep %v cust %v", rep, cust, tc.rep, tc.cust)
			}
		})
	}
}

func TestTimelineLateAndCleared(t *testing.T) {
	tl := newTimeline(8)
	tl.put(0, 0, ones(8, 1), time.Now())
	consumed(tl, 6)
	// Two samples of this packet are already analyzed: dropped.
	if late := tl.put(1, 4, ones(4, 2), time.Now()); late != 2 {
		t.Errorf("late %d, want 2", late)
	}
	// The analyzed part of the ring was cleared: going round again reads
	// silence where nothing new was written.
	rep, cust := consumed(tl, 14)
	if want := []float32{1, 1, 0, 0, 0, 0, 0, 0}; !slices.Equal(rep, want) {
		t.Errorf("rep %v, want %v", rep, want)
	}
	if want := []float32{2, 2, 0, 0, 0, 0, 0, 0}; !slices.Equal(cust, want) {
		t.Errorf("cust %v, want %v", cust, want)
	}
	if r := tl.room(14 + 8 + 3); r != 3 {
		t.Errorf("room %d, want 3", r)
	}
}

// chunk is one piece consume handed out: its span and what was known.
type chunk struct {
	from, to int64
	known    [2]bool
}

// What each channel knows splits the consumed audio: audio placed and
// declared silence are known, the rest (lost packets, a side not heard
// from) is not.
func TestTimelineKnown(t *testing.T) {
	now := time.Now()
	tl := newTimeline(100)
	tl.put(0, 0, ones(4, 1), now)
	tl.put(0, 8, ones(4, 1), now) // 4-8 lost, but
	tl.silent(0, 4, 6)            // 4-6 was DTX silence
	tl.put(1, 2, ones(10, 1), now)
	var got []chunk
	pos := int64(0)
	tl.consume(14, func(a, b []float32, known [2]bool) {
		got = append(got, chunk{pos, pos + int64(len(a)), known})
		pos += int64(len(a))
	})
	want := []chunk{
		{0, 2, [2]bool{true, false}},
		{2, 6, [2]bool{true, true}},
		{6, 8, [2]bool{false, true}},
		{8, 12, [2]bool{true, true}},
		{12, 14, [2]bool{false, false}},
	}
	if !slices.Equal(got, want) {
		t.Errorf("chunks %v\nwant   %v", got, want)
	}
	if len(tl.known[0]) != 0 || len(tl.known[1]) != 0 {
		t.Errorf("consumed stretches kept: %v", tl.known)
	}
}

// Stretches arriving out of order merge into one.
func TestTimelineKnownMerges(t *testing.T) {
	tl := newTimeline(100)
	for _, at := range []int64{8, 0, 20, 4, 12, 16} {
		tl.put(0, at, ones(4, 1), time.Now())
	}
	if want := []span{{0, 24}}; !slices.Equal(tl.known[0], want) {
		t.Errorf("known %v, want %v", tl.known[0], want)
	}
}

// A hole is waited for until the channel's audio has gone the slack past
// it; the end of what is known is as far as a channel is settled.
func TestTimelineSettled(t *testing.T) {
	tl := newTimeline(100)
	tl.put(0, 0, ones(4, 1), time.Now())
	if got := tl.settled(0, 5); got != 4 {
		t.Errorf("settled %d, want 4 (the end of the audio)", got)
	}
	tl.put(0, 8, ones(4, 1), time.Now())
	if got := tl.settled(0, 5); got != 4 {
		t.Errorf("settled %d, want 4 (the hole 4-8 may still fill)", got)
	}
	tl.put(0, 12, ones(1, 1), time.Now())
	if got := tl.settled(0, 5); got != 13 {
		t.Errorf("settled %d, want 13 (the audio went 5 past the hole)", got)
	}
	if got := tl.settled(1, 5); got != 0 {
		t.Errorf("settled %d on a channel with nothing, want 0", got)
	}
}

// Latency bookkeeping: a packet counts once, when the analysis passes its
// end.
func TestTimelineArrivals(t *testing.T) {
	tl := newTimeline(100)
	t0 := time.Unix(100, 0)
	tl.put(0, 0, ones(10, 1), t0)
	tl.put(0, 10, ones(10, 1), t0.Add(time.Second))
	consumed(tl, 15)
	if got := tl.takeAnalyzed(); len(got) != 1 || !got[0].Equal(t0) {
		t.Errorf("analyzed %v, want the first packet only", got)
	}
	consumed(tl, 20)
	if got := tl.takeAnalyzed(); len(got) != 1 || !got[0].Equal(t0.Add(time.Second)) {
		t.Errorf("analyzed %v, want the second packet", got)
	}
}

func TestSeqTrackerCountsLoss(t *testing.T) {
	tests := []struct {
		name string
		seqs []uint16
		lost int
	}{
		{"in order", []uint16{1, 2, 3, 4}, 0},
		{"reordered is not lost", []uint16{1, 3, 2, 4}, 0},
		{"gap counted once the window passes", append([]uint16{1, 2, 4}, seqRange(5, 80)...), 1},
		{"wrap-round", []uint16{65534, 65535, 0, 1}, 0},
		{"big jump, counted as the window passes", append([]uint16{1, 200}, seqRange(201, 264)...), 198},
	}
	for _, tc := range tests {
		var q seqTracker
		lost := 0
		for _, s := range tc.seqs {
			lost += q.update(s)
		}
		if lost != tc.lost {
			t.Errorf("%s: lost %d, want %d", tc.name, lost, tc.lost)
		}
	}
}

func seqRange(a, b uint16) []uint16 {
	var s []uint16
	for i := a; i < b; i++ {
		s = append(s, i)
	}
	return s
}

func TestTSUnwrap(t *testing.T) {
	var u tsUnwrapper
	got := []int64{u.unwrap(4294967000), u.unwrap(200), u.unwrap(100)}
	want := []int64{4294967000, 4294967496, 4294967396}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// Growing the ring keeps what it holds, wherever the ring had wrapped.
func TestTimelineGrow(t *testing.T) {
	for _, base := range []int64{0, 3, 8, 13} {
		tl := newTimeline(8)
		tl.consume(base, func(_, _ []float32, _ [2]bool) {})
		for i := range int64(8) {
			tl.put(0, base+i, []float32{float32(base + i)}, time.Now())
		}
		tl.grow(20)
		if tl.size() != 20 {
			t.Fatalf("size %d after grow(20)", tl.size())
		}
		// Room for 12 more samples past the old end, and they land.
		if r := tl.room(base + 20); r != 0 {
			t.Errorf("base %d: room %d after growing, want 0", base, r)
		}
		tl.put(0, base+8, []float32{-1}, time.Now())
		rep, _ := consumed(tl, base+9)
		for i := range int64(8) {
			if rep[i] != float32(base+i) {
				t.Errorf("base %d: sample %d is %v after growing, want %v", base, base+i, rep[i], base+i)
			}
		}
		if rep[8] != -1 {
			t.Errorf("base %d: sample written after growing is %v, want -1", base, rep[8])
		}
	}
}
