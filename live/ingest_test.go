package live

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"talkratio/ingest"
	"talkratio/ingest/ingesttest"
)

// A call an adapter feeds is analyzed as ingesttest (the adapters'
// contract) places the same media: the fixture call, its two roles on one
// clock with arrival times 20 ms apart, and for one case a pause both
// roles declare missing (as AudioHook does) whose frames' sequence numbers
// go on without a gap: the pause must come out as missing audio, not
// silence.
func TestIngestCall(t *testing.T) {
	rep, cust, err := ingesttest.Fixture()
	if err != nil {
		t.Fatal(err)
	}
	const frame = 160 // 20 ms at 8 kHz
	for _, tc := range []struct {
		name         string
		pauseFrom    int // frames; pauseTo == pauseFrom: no pause
		pauseTo      int
		wantMissingS float64
	}{
		{name: "whole call", wantMissingS: 0},
		{name: "paused 4 s", pauseFrom: 500, pauseTo: 700, wantMissingS: 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			m := &countMetrics{}
			reg := testRegistry(m)
			c, err := reg.Ingest().StartCall(ctx, ingest.CallMeta{Source: ingest.SourceAudioHook, ExternalID: "conv-1", Rep: "Dana"})
			if err != nil {
				t.Fatal(err)
			}
			ref := ingesttest.NewParent()
			rc, _ := ref.StartCall(ctx, ingest.CallMeta{})
			k := ingest.Clock{ID: 0, Rate: 8000}
			t0 := time.Now()
			seq := int64(0)
			for i := 0; (i+1)*frame <= len(rep); i++ {
				at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
				if i >= tc.pauseFrom && i < tc.pauseTo {
					if i == tc.pauseFrom {
						n := int64(tc.pauseTo-tc.pauseFrom) * frame
						for _, r := range []ingest.Role{ingest.Rep, ingest.Customer} {
							c.Missing(r, k, int64(i*frame), n, at)
							rc.Missing(r, k, int64(i*frame), n, at)
						}
					}
					continue
				}
				for r, src := range [][]float32{rep, cust} {
					for _, dst := range []ingest.Call{c, rc} {
						pcm := make([]float32, 2*frame)
						for j, v := range src[i*frame : (i+1)*frame] {
							pcm[2*j], pcm[2*j+1] = v, v
						}
						if !dst.Deliver(ingest.Role(r), ingest.Media{Clock: k, TS: int64(i * frame), Seq: seq, At: at, PCM: pcm}) {
							t.Fatalf("frame %d refused", i)
						}
					}
				}
				seq++
			}
			// Media delivered before End is part of the call, however
			// much of it still waits in the call's queue.
			lc := c.(*ingestCall).c
			c.End(ingest.EndClosed)
			<-c.Done()
			id := lc.ID()
			rec, err := reg.cfg.Store.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := ingesttest.AnalyzeDelivered(rc.(*ingesttest.Call))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Source != ingest.SourceAudioHook || rec.Rep != "Dana" || rec.Name != "audiohook conv-1" || rec.Result == nil {
				t.Fatalf("stored record: %+v", rec)
			}
			d, err := ingesttest.ListenDelta(*rec.Result, want)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("listen %.2f%% vs placed %.2f%% (delta %.2f pp); missing %.2f s vs %.2f s; duration %.2f s vs %.2f s",
				*rec.ListenPct, *want.ListenPct, d, rec.MissingAudioS, want.MissingAudioS, rec.DurationS, want.DurationS)
			if d > 1 {
				t.Errorf("listen %% delta %.2f pp", d)
			}
			if math.Abs(rec.MissingAudioS-tc.wantMissingS) > 0.1 {
				t.Errorf("missing audio %.2f s, want %.2f s", rec.MissingAudioS, tc.wantMissingS)
			}
			if m.ended != 1 {
				t.Errorf("calls ended: %d", m.ended)
			}
		})
	}
}

// Past the registry's cap, StartCall's error wraps ingest.ErrBusy, which
// the adapters answer with their protocol's "try later".
func TestIngestBusy(t *testing.T) {
	reg := testRegistry(nil)
	reg.cfg.MaxCalls = 1
	if _, err := reg.Ingest().StartCall(context.Background(), ingest.CallMeta{Source: ingest.SourceTwilio}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Ingest().StartCall(context.Background(), ingest.CallMeta{Source: ingest.SourceTwilio}); !errors.Is(err, ingest.ErrBusy) {
		t.Fatalf("past the cap: %v", err)
	}
}
