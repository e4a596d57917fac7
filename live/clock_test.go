package live

import (
	"math"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/tally"
)

// simPacket is one 20 ms packet of a simulated track: its RTP sequence
// number and timestamp (48 kHz clock), and when it arrives.
type simPacket struct {
	track    int
	seq, ts  int64
	at       time.Duration
	samples  int // at 16 kHz; 320 for 20 ms
	noDecode bool
}

// stream makes count in-order packets for a track from packet first on,
// arriving in real time from start.
func stream(track, first, count int, start time.Duration) []simPacket {
	var out []simPacket
	for i := first; i < first+count; i++ {
		out = append(out, simPacket{track: track, seq: int64(i), ts: int64(i) * 960, at: start + time.Duration(i-first)*20*time.Millisecond, samples: 320})
	}
	return out
}

// simulate runs packets through a call's placement and analysis, in
// arrival order, as its goroutine does, then ends the call as finish does.
// Track i carries role i (two tracks: rep, customer).
func simulate(t *testing.T, pkts []simPacket) (res tally.Result, late, ahead float64) {
	t.Helper()
	m := &countMetrics{}
	reg := testRegistry(m)
	c, err := newCall(&reg.cfg, reg, call.Record{ID: "sim"})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1000, 0)
	// Both tracks' session connected at t0.
	tracks := []*trackClock{{clockRate: 48000, sendStart: t0}, {clockRate: 48000, sendStart: t0}}
	// Arrival order; stable, so that packets arriving together keep their
	// order.
	order := append([]simPacket(nil), pkts...)
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && order[j].at < order[j-1].at; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, p := range order {
		x := pcm{track: tracks[p.track], roles: []tally.Role{tally.Role(p.track)}, seq: p.seq, ts: p.ts, at: t0.Add(p.at)}
		if !p.noDecode {
			s := make([]float32, p.samples)
			for i := range s {
				s[i] = 0.01
			}
			x.samples = [][]float32{s}
		}
		c.place(x)
		c.analyze(c.commitTarget())
	}
	c.analyze(max(c.tl.written[0], c.tl.written[1]))
	c.an.Close()
	late = m.total(&m.late)
	ahead = m.total(&m.ahead)
	return c.an.Result(), late, ahead
}

func cat(ps ...[]simPacket) []simPacket {
	var out []simPacket
	for _, p := range ps {
		out = append(out, p...)
	}
	return out
}

// Placement by the media's own clock: what a sender delivers is analyzed
// wherever it arrives in time, gaps where nothing came are missing audio,
// and silence a sender declares is silence.
func TestPlacement(t *testing.T) {
	ms := time.Millisecond
	jittered := stream(0, 0, 150, 0)
	for i := range jittered {
		jittered[i].at += time.Duration((i*37)%4) * 20 * ms // up to 60 ms late: reordered
	}
	tests := []struct {
		name               string
		pkts               []simPacket
		duration, missing  float64 // s
		late, aheadAtLeast float64 // packets
	}{
		{name: "clean", pkts: cat(stream(0, 0, 100, 0), stream(1, 0, 100, 0)), duration: 2},
		{
			// Both tracks stall for a second, then send their backlog at
			// once: nothing is lost.
			name: "stall and burst",
			pkts: cat(stream(0, 0, 50, 0), stream(1, 0, 50, 0),
				burst(0, 50, 50, 2*time.Second), burst(1, 50, 50, 2*time.Second),
				stream(0, 100, 50, 2*time.Second), stream(1, 100, 50, 2*time.Second)),
			duration: 3,
		},
		{
			// The service starts reading the second track 2 s late (a busy
			// machine): its first packets wait in a buffer and come in a
			// burst. It is lined up by its timestamps, not by when its
			// backlog was read.
			name:     "second track read late",
			pkts:     cat(stream(0, 0, 200, 0), burst(1, 0, 103, 2050*time.Millisecond), stream(1, 103, 97, 2060*time.Millisecond)),
			duration: 4,
		},
		{
			// The same for the call's first track: 0.7 s of it waited.
			name:     "first track read late",
			pkts:     cat(burst(0, 0, 35, 700*time.Millisecond), stream(0, 35, 165, 700*time.Millisecond), stream(1, 0, 200, 0)),
			duration: 4,
		},
		{
			// A busy service stops reading both tracks for three seconds
			// (the sender went on); then one reader drains its whole
			// backlog before the other gets to run. Nothing is late: the
			// second backlog arrived with the first, not seconds after it.
			name: "both stall, one backlog read first",
			pkts: cat(stream(0, 0, 100, 0), stream(1, 0, 100, 0),
				burst(0, 100, 150, 5*time.Second), burst(1, 100, 150, 5*time.Second+5*ms),
				stream(0, 250, 50, 5*time.Second+20*ms), stream(1, 250, 50, 5*time.Second+20*ms)),
			duration: 6,
		},
		{
			// One side (a session of its own) stalls while the other goes
			// on: the other waits for it.
			name:     "one side stalls a second",
			pkts:     cat(stream(0, 0, 150, 0), stream(1, 0, 50, 0), burst(1, 50, 50, 2*time.Second), stream(1, 100, 50, 2*time.Second)),
			duration: 3,
		},
		{
			// A side that has sent without a break so far stalls three
			// seconds (a browser's encoder starved on a busy machine):
			// it is waited for, and nothing is lost.
			name:     "one side stalls three seconds",
			pkts:     cat(stream(0, 0, 300, 0), stream(1, 0, 50, 0), burst(1, 50, 150, 4*time.Second), stream(1, 200, 100, 4*time.Second)),
			duration: 6,
		},
		{
			// Stalled ten seconds, it is given up after maxStall (8 s):
			// the two seconds it was not waited for are missing, their
			// packets late (101: the other side's packet arriving with
			// the burst moved the analysis 20 ms further first).
			name:     "one side stalls ten seconds",
			pkts:     cat(stream(0, 0, 750, 0), stream(1, 0, 50, 0), burst(1, 50, 500, 11*time.Second), stream(1, 550, 200, 11*time.Second)),
			duration: 15, missing: 2.02, late: 101,
		},
		{
			// A side that has been quiet on the wire (DTX: 200 ms with no
			// packet, the next in sequence) may be silent when its
			// packets stop, so it is waited for maxSkew (2 s) only, as
			// a silence-suppressing phone would need.
			name: "a side quiet on the wire stalls three seconds",
			pkts: cat(stream(0, 0, 300, 0), stream(1, 0, 25, 0), renumber(stream(1, 35, 15, 700*time.Millisecond), 25),
				renumber(burst(1, 50, 150, 4*time.Second), 40), renumber(stream(1, 200, 100, 4*time.Second), 190)),
			duration: 6, missing: 1.02, late: 51,
		},
		{
			// The network drops a second of both tracks: the sequence
			// numbers jump with the timestamps.
			name:     "drop-out",
			pkts:     cat(stream(0, 0, 50, 0), stream(1, 0, 50, 0), stream(0, 100, 50, 2*time.Second), stream(1, 100, 50, 2*time.Second)),
			duration: 3, missing: 1,
		},
		{
			// DTX: the sender sends nothing for a second of silence, and
			// says so by the next packet's sequence number.
			name:     "DTX",
			pkts:     cat(stream(0, 0, 50, 0), stream(1, 0, 50, 0), dtx(stream(0, 100, 50, 2*time.Second)), dtx(stream(1, 100, 50, 2*time.Second))),
			duration: 3,
		},
		{
			name: "jitter reorders packets",
			pkts: cat(jittered, stream(1, 0, 150, 0)), duration: 3,
		},
		{
			// A clock stepping 4.9 s per 20 ms packet: the call is as long
			// as the sending.
			name: "clock far ahead of real time",
			pkts: fastClock(stream(0, 0, 150, 0)), duration: 3, aheadAtLeast: 148,
		},
		{
			// A recording replayed at 4x real time: the call runs ahead of
			// real time by maxLead at most (the last packet arrives at
			// 1.995 s; 4.98 s is the last whole packet before 4.995 s),
			// and what would go further is dropped.
			name: "sender faster than real time",
			pkts: fasterThanRealTime(stream(0, 0, 400, 0), 4), duration: 4.98, aheadAtLeast: 200,
		},
		{
			// A sender restarts with a clock 10 s behind: re-anchored,
			// nothing late.
			name:     "clock jumps back",
			pkts:     cat(stream(0, 0, 50, 0), shiftTS(stream(0, 50, 50, time.Second), -480000)),
			duration: 2, missing: 0,
		},
		{
			// Packets that do not decode still say how far the clock has
			// come: the audio they held is missing, nothing more.
			name:     "undecodable packets",
			pkts:     cat(stream(0, 0, 100, 0), undecodable(stream(1, 0, 100, 0), 40, 45)),
			duration: 2, missing: 0.1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, late, ahead := simulate(t, tc.pkts)
			// Tracks with one role only leave the other side missing.
			wantMissing := tc.missing
			if !hasTrack(tc.pkts, 1) {
				wantMissing = tc.duration
			}
			if math.Abs(res.DurationS-tc.duration) > 0.001 || math.Abs(res.MissingAudioS-wantMissing) > 0.001 || late != tc.late || ahead < tc.aheadAtLeast {
				t.Errorf("duration %v missing %v late %v ahead %v; want %v, %v, %v, at least %v",
					res.DurationS, res.MissingAudioS, late, ahead, tc.duration, wantMissing, tc.late, tc.aheadAtLeast)
			}
		})
	}
}

// burst is count packets from first on that all arrive at at: a stalled
// sender's backlog, timestamps continuous.
func burst(track, first, count int, at time.Duration) []simPacket {
	out := stream(track, first, count, at)
	for i := range out {
		out[i].at = at
	}
	return out
}

// renumber gives packets consecutive sequence numbers from first on.
func renumber(ps []simPacket, first int64) []simPacket {
	for i := range ps {
		ps[i].seq = first + int64(i)
	}
	return ps
}

// dtx renumbers packets to follow on from the packet before the gap.
func dtx(ps []simPacket) []simPacket {
	first := ps[0].seq
	for i := range ps {
		ps[i].seq -= first - 50
	}
	return ps
}

func fastClock(ps []simPacket) []simPacket {
	for i := range ps {
		ps[i].ts = int64(i) * int64(4.9*48000)
	}
	return ps
}

func fasterThanRealTime(ps []simPacket, speed int) []simPacket {
	for i := range ps {
		ps[i].at /= time.Duration(speed)
	}
	return ps
}

func shiftTS(ps []simPacket, d int64) []simPacket {
	for i := range ps {
		ps[i].ts += d
	}
	return ps
}

func undecodable(ps []simPacket, from, to int) []simPacket {
	for i := from; i < to; i++ {
		ps[i].noDecode = true
	}
	return ps
}

func hasTrack(ps []simPacket, track int) bool {
	for _, p := range ps {
		if p.track == track {
			return true
		}
	}
	return false
}

// A track that ends is not waited for: the analysis goes on with the other
// side's audio at once, where a stalled side would hold it up.
func TestEndedTrackNotWaitedFor(t *testing.T) {
	for _, ended := range []bool{false, true} {
		reg := testRegistry(nil)
		c, err := newCall(&reg.cfg, reg, call.Record{ID: "sim"})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Unix(1000, 0)
		tracks := []*trackClock{{clockRate: 48000, sendStart: t0}, {clockRate: 48000, sendStart: t0}}
		feed := func(p simPacket) {
			c.place(pcm{track: tracks[p.track], roles: []tally.Role{tally.Role(p.track)}, seq: p.seq, ts: p.ts, at: t0.Add(p.at), samples: [][]float32{make([]float32, p.samples)}})
			c.analyze(c.commitTarget())
		}
		for _, p := range cat(stream(0, 0, 50, 0), stream(1, 0, 50, 0)) {
			feed(p)
		}
		if ended {
			c.place(pcm{track: tracks[1], roles: []tally.Role{tally.Customer}, end: true})
		}
		for _, p := range stream(0, 50, 450, time.Second) { // the rep goes on to 10 s
			feed(p)
		}
		// Stalled, the customer holds the analysis maxStall behind the
		// rep's 10 s; ended, nothing does.
		want := 10 - maxStall.Seconds()
		if ended {
			want = 10
		}
		if got := float64(c.tl.base) / AnalysisRate; math.Abs(got-want) > 0.001 {
			t.Errorf("customer track ended %v: analyzed to %.2f s, want %.2f s", ended, got, want)
		}
	}
}
