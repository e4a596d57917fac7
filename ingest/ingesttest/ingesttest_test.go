package ingesttest

import (
	"context"
	"math"
	"testing"
	"time"

	"talkratio/audio"
	"talkratio/ingest"
)

func TestG711RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name   string
		encode func([]byte, []float32) []byte
		decode func([]float32, []byte)
	}{
		{"mulaw", EncodeMuLaw, audio.DecodeMuLaw},
		{"alaw", EncodeALaw, audio.DecodeALaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Every code decodes and encodes back to itself.
			for code := range 256 {
				var v [1]float32
				tc.decode(v[:], []byte{byte(code)})
				got := tc.encode(nil, v[:])[0]
				var back [1]float32
				tc.decode(back[:], []byte{got})
				if back[0] != v[0] {
					t.Fatalf("code %#x decodes to %v, re-encodes to %#x = %v", code, v[0], got, back[0])
				}
			}
			// A sine survives with telephone quality.
			src := make([]float32, 8000)
			for i := range src {
				src[i] = 0.5 * float32(math.Sin(2*math.Pi*440*float64(i)/8000))
			}
			dec := make([]float32, len(src))
			tc.decode(dec, tc.encode(nil, src))
			var sig, noise float64
			for i := range src {
				sig += float64(src[i]) * float64(src[i])
				d := float64(src[i] - dec[i])
				noise += d * d
			}
			if snr := 10 * math.Log10(sig/noise); snr < 30 {
				t.Errorf("SNR %.1f dB", snr)
			}
		})
	}
}

// publish delivers the fixture as 20 ms packets of decoded mu-law, one
// Clock per role with its own origin, arriving at real-time spacing.
func publish(t *testing.T, c ingest.Call, lose func(role ingest.Role, i int) bool, dtx func(role ingest.Role, i int) bool) {
	t.Helper()
	rep, cust, err := Fixture()
	if err != nil {
		t.Fatal(err)
	}
	const ptime = 160 // samples at 8 kHz
	start := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for r, ch := range [][]float32{rep, cust} {
		role := ingest.Role(r)
		seq := int64(0)
		for i := 0; i*ptime < len(ch); i++ {
			chunk := ch[i*ptime : min(len(ch), (i+1)*ptime)]
			if dtx != nil && dtx(role, i) {
				continue // not sent, and the next packet takes this one's seq
			}
			seq++
			if lose != nil && lose(role, i) {
				continue
			}
			dec := make([]float32, len(chunk))
			audio.DecodeMuLaw(dec, EncodeMuLaw(nil, chunk))
			pcm := make([]float32, 0, 2*len(dec))
			for _, v := range dec {
				pcm = append(pcm, v, v)
			}
			// The customer's stream started 7 ms after the rep's, on a
			// clock of its own; arrivals jitter by up to 2 ms.
			at := start.Add(time.Duration(r)*7*time.Millisecond + time.Duration(i)*20*time.Millisecond + time.Duration(i%3)*time.Millisecond)
			c.Deliver(role, ingest.Media{Clock: ingest.Clock{ID: r, Rate: 8000}, TS: int64(i * ptime), Seq: seq, At: at, PCM: pcm})
		}
	}
	c.End(ingest.EndClosed)
}

func TestPlaceAndAnalyze(t *testing.T) {
	rep, cust, err := Fixture()
	if err != nil {
		t.Fatal(err)
	}
	want, err := AnalyzeChannels(rep, cust, FixtureRate)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("analyze on the fixture: listen %.1f%%, rep %.2f s, customer %.2f s, %.2f s", *want.ListenPct, want.RepTalkS, want.CustomerTalkS, want.DurationS)
	for _, tc := range []struct {
		name        string
		lose, dtx   func(ingest.Role, int) bool
		missingMin  float64 // seconds of missing audio expected, at least
		missingMax  float64
		maxDeltaPct float64
	}{
		{name: "clean", maxDeltaPct: 1, missingMax: 0.05},
		{name: "loss", lose: func(r ingest.Role, i int) bool { return i%50 == 7 }, missingMin: 0.5, missingMax: 1.5, maxDeltaPct: 1},
		// Packets never sent during the customer's first second (DTX):
		// silence, not missing.
		{name: "dtx", dtx: func(r ingest.Role, i int) bool { return r == ingest.Customer && i > 5 && i < 50 && i%2 == 0 }, missingMax: 0.05, maxDeltaPct: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParent()
			c, err := p.StartCall(context.Background(), ingest.CallMeta{Source: "test"})
			if err != nil {
				t.Fatal(err)
			}
			publish(t, c, tc.lose, tc.dtx)
			got, tl, err := AnalyzeDelivered(p.Calls()[0])
			if err != nil {
				t.Fatal(err)
			}
			d, err := ListenDelta(got, want)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("listen %.1f%% (delta %.2f pp), missing %.2f s", *got.ListenPct, d, got.MissingAudioS)
			if d > tc.maxDeltaPct {
				t.Errorf("listen %% differs by %.2f pp", d)
			}
			if got.MissingAudioS < tc.missingMin || got.MissingAudioS > tc.missingMax {
				t.Errorf("missing audio %.2f s, want %.2f-%.2f (timeline: rep %.2f, customer %.2f)", got.MissingAudioS, tc.missingMin, tc.missingMax, tl.MissingS(0), tl.MissingS(1))
			}
		})
	}
}

func TestPlaceMissingDeclared(t *testing.T) {
	p := NewParent()
	c, _ := p.StartCall(context.Background(), ingest.CallMeta{})
	k := ingest.Clock{ID: 0, Rate: 8000}
	at := time.Now()
	for i := range 10 {
		for _, r := range []ingest.Role{ingest.Rep, ingest.Customer} {
			c.Deliver(r, ingest.Media{Clock: k, TS: int64(i * 160), Seq: int64(i), At: at.Add(time.Duration(i) * 20 * time.Millisecond), PCM: make([]float32, 320)})
		}
	}
	c.Missing(ingest.Rep, k, 1600, 8000, at)
	c.Missing(ingest.Customer, k, 1600, 8000, at)
	for i := 60; i < 70; i++ {
		for _, r := range []ingest.Role{ingest.Rep, ingest.Customer} {
			c.Deliver(r, ingest.Media{Clock: k, TS: int64(i * 160), Seq: int64(i - 50), At: at.Add(time.Duration(i) * 20 * time.Millisecond), PCM: make([]float32, 320)})
		}
	}
	tl, err := Place(p.Calls()[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.MissingS(ingest.Rep); math.Abs(got-1) > 1e-9 {
		t.Errorf("rep missing %v s, want 1", got)
	}
	res, err := tl.Analyze()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.MissingAudioS-1) > 0.02 {
		t.Errorf("analysis missing %v s, want 1", res.MissingAudioS)
	}
}
