package server

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"testing"

	"talkratio/audio/flac"
	"talkratio/call"
)

// An upload's audio is stored as FLAC at the analysis rate (or at its own
// rate when that is lower), both sides where they were, the length kept.
func TestUploadStoredAsFLAC(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	for _, tc := range []struct {
		rate, stored int
	}{
		{48000, 16000}, {44100, 16000}, {16000, 16000}, {8000, 8000},
	} {
		const dur = 10.5
		p := filepath.Join(t.TempDir(), "c.wav")
		writeCallWAV(t, p, tc.rate, dur, testRep, testCust)
		body, ctype := form(t, nil, map[string]string{"audio": p})
		resp, b := post(t, base+"/api/calls", body, ctype)
		var sum call.Summary
		json.Unmarshal(b, &sum)
		if resp.StatusCode != 202 {
			t.Fatalf("%d Hz: %s %s", tc.rate, resp.Status, b)
		}
		waitAnalyzed(t, base, sum.ID)
		r, err := http.Get(base + "/api/calls/" + sum.ID + "/audio")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if ct := r.Header.Get("Content-Type"); ct != "audio/flac" {
			t.Errorf("%d Hz: Content-Type %q", tc.rate, ct)
		}
		fr, err := flac.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%d Hz: stored audio is not FLAC: %v", tc.rate, err)
		}
		f := fr.Format()
		wantFrames := int64(math.Ceil(float64(int(dur*float64(tc.rate))) * float64(tc.stored) / float64(tc.rate)))
		if f.SampleRate != tc.stored || f.Channels != 2 || fr.Frames() != wantFrames {
			t.Errorf("%d Hz: stored %d Hz, %d channels, %d frames; want %d Hz, 2, %d", tc.rate, f.SampleRate, f.Channels, fr.Frames(), tc.stored, wantFrames)
		}
		pcm := readAllFLAC(t, fr)
		// The rep's tone is at 1-4 s and 9-10 s, the customer's at 5-8 s:
		// each side's level in the middle of those stretches.
		level := func(ch int, from, to float64) float64 {
			x := pcm[ch][int(from*float64(tc.stored)):int(to*float64(tc.stored))]
			s := 0.0
			for _, v := range x {
				s += float64(v) * float64(v)
			}
			return math.Sqrt(s / float64(len(x)))
		}
		tone := 0.2 / math.Sqrt2
		for _, chk := range []struct {
			ch       int
			from, to float64
			want     float64
		}{
			{0, 1.5, 3.5, tone}, {0, 5.5, 7.5, 0}, {1, 5.5, 7.5, tone}, {1, 1.5, 3.5, 0}, {0, 9.2, 9.8, tone},
		} {
			if got := level(chk.ch, chk.from, chk.to); math.Abs(got-chk.want) > 0.01 {
				t.Errorf("%d Hz: channel %d at %.1f-%.1f s has level %.4f, want %.4f", tc.rate, chk.ch, chk.from, chk.to, got, chk.want)
			}
		}
	}
}

func readAllFLAC(t *testing.T, fr *flac.Reader) [][]float32 {
	t.Helper()
	out := make([][]float32, 2)
	buf := [][]float32{make([]float32, 4096), make([]float32, 4096)}
	for {
		n, err := fr.Read(buf)
		out[0] = append(out[0], buf[0][:n]...)
		out[1] = append(out[1], buf[1][:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
