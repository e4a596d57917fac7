package icelite

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// seqs is n sequence numbers from first, wrapping as RTP's do.
func seqs(first uint16, n int, skip ...uint16) []uint16 {
	var out []uint16
	for i := range n {
		if s := first + uint16(i); !slices.Contains(skip, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestRxStats(t *testing.T) {
	type round struct {
		seqs       []uint16 // in arrival order
		lost, last uint32
		fraction   uint8
		jittery    bool // some packet was late: jitter > 0, else 0
		// sinceSR: since the last sender report came (0: none came),
		// which the report's delay says in 1/65536 s.
		sinceSR time.Duration
		delay   uint32
	}
	reordered := append(seqs(0, 6), 7, 6)
	for _, tc := range []struct {
		name   string
		late   []uint16 // these sequence numbers arrive 30 ms late
		rounds []round
	}{
		{"in order", nil, []round{{seqs: seqs(0, 100), last: 99}}},
		{"ten lost, none, five", nil, []round{
			{seqs: seqs(0, 100, 5, 15, 25, 35, 45, 55, 65, 75, 85, 95), lost: 10, fraction: 10 * 256 / 100, last: 99},
			{seqs: seqs(100, 50), lost: 10, last: 149},
			// The fraction is of this interval's packets, not the call's.
			{seqs: seqs(150, 50, 155, 165, 175, 185, 195), lost: 15, fraction: 5 * 256 / 50, last: 199}}},
		{"sequence wrap", nil, []round{{seqs: seqs(65530, 12), last: 1<<16 | 5}}},
		{"reordered", []uint16{6}, []round{{seqs: append(reordered, seqs(8, 13)...), last: 20, jittery: true}}},
		{"one late", []uint16{50}, []round{{seqs: seqs(0, 100), last: 99, jittery: true}}},
		{"sender reports", nil, []round{
			{seqs: seqs(0, 10), last: 9, sinceSR: 500 * time.Millisecond, delay: 32768},
			{seqs: seqs(10, 10), last: 19, sinceSR: 2 * time.Second, delay: 2 << 16}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rxStats{}
			first := tc.rounds[0].seqs[0]
			var now time.Time
			for i, rd := range tc.rounds {
				for _, seq := range rd.seqs {
					// Paced at 20 ms of 960 samples each, as Opus is sent.
					n := time.Duration(seq - first)
					now = time.Unix(0, 0).Add(n * 20 * time.Millisecond)
					if slices.Contains(tc.late, seq) {
						now = now.Add(30 * time.Millisecond)
					}
					r.update(seq, uint32(n)*960, 48000, now)
				}
				if rd.sinceSR != 0 {
					r.lastSR, r.lastSRAt = 0x12345678+uint32(i), now.Add(-rd.sinceSR)
				}
				rep := r.report(7, now)
				if rep.LastSenderReport != r.lastSR || rep.Delay != rd.delay {
					t.Errorf("report %d: LSR %#x delay %d, want %#x %d", i, rep.LastSenderReport, rep.Delay, r.lastSR, rd.delay)
				}
				if rep.SSRC != 7 || rep.TotalLost != rd.lost || rep.FractionLost != rd.fraction || rep.LastSequenceNumber != rd.last {
					t.Errorf("report %d: %+v, want lost %d fraction %d last %d", i, rep, rd.lost, rd.fraction, rd.last)
				}
				if (rep.Jitter > 0) != rd.jittery {
					t.Errorf("report %d: jitter %d, want > 0: %v", i, rep.Jitter, rd.jittery)
				}
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	der := []byte("the DER bytes of some certificate")
	sum := sha256.Sum256(der)
	want := strings.ToUpper(strings.ReplaceAll(fmt.Sprintf("% x", sum), " ", ":"))
	for _, alg := range []string{"sha-256", "SHA-256"} {
		if got, err := certFingerprint(alg, der); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", alg, got, err, want)
		}
	}
	if got, err := certFingerprint("md5", der); err == nil {
		t.Errorf("md5: got %q, want an error", got)
	}

	// Browsers write the fingerprint in either case.
	f, err := ParseFingerprint("sha-256 " + strings.ToLower(want))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		raw  [][]byte
		ok   bool
	}{
		{"the offered certificate", [][]byte{der}, true},
		{"another certificate", [][]byte{[]byte("someone else's")}, false},
		{"no certificate", nil, false},
	} {
		if err := f.verify(tc.raw, nil); (err == nil) != tc.ok {
			t.Errorf("%s: got %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
