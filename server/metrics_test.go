package server

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"talkratio/call"
	"talkratio/disk"
)

// series returns, per metric family of the server's registry, the label
// sets it has (each as "name=value,..."), and the families' help.
func series(t *testing.T, srv *Server) (map[string][]string, map[string]*dto.MetricFamily) {
	t.Helper()
	fams, err := srv.m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out, byName := map[string][]string{}, map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
		for _, m := range f.GetMetric() {
			var ls string
			for i, l := range m.GetLabel() {
				if i > 0 {
					ls += ","
				}
				ls += l.GetName() + "=" + l.GetValue()
			}
			out[f.GetName()] = append(out[f.GetName()], ls)
		}
	}
	return out, byName
}

// Every labelled series with a known set of values exists from the start,
// at 0, so that panels and alerts see 0 rather than no data; every metric
// has help.
func TestMetricsInitialised(t *testing.T) {
	srv, _ := newTestServer(t, Config{})
	got, fams := series(t, srv)
	roles := []string{"role=customer", "role=rep"}
	want := map[string][]string{
		"talkratio_calls_ended_total":            {"reason=closed", "reason=error", "reason=failed", "reason=hangup", "reason=shutdown"},
		"talkratio_decode_errors_total":          {"codec=g722", "codec=opus", "codec=pcma", "codec=pcmu"},
		"talkratio_uploads_finished_total":       {"result=ended", "result=failed"},
		"talkratio_retention_deleted_total":      {"what=audio", "what=call"},
		"talkratio_websocket_dropped_total":      {"reason=error", "reason=limit", "reason=slow"},
		"talkratio_rtp_packets_received_total":   roles,
		"talkratio_rtp_packets_lost_total":       roles,
		"talkratio_rtp_packets_late_total":       roles,
		"talkratio_rtp_packets_ahead_total":      roles,
		"talkratio_audio_analyzed_seconds_total": roles,
		"talkratio_audio_missing_seconds_total":  roles,
		"talkratio_speech_seconds_total":         roles,
	}
	for name, labels := range want {
		have := slices.Clone(got[name])
		slices.Sort(have)
		if !slices.Equal(have, labels) {
			t.Errorf("%s: series %v, want %v", name, have, labels)
		}
	}
	for name, f := range fams {
		if len(name) > 10 && name[:10] == "talkratio_" {
			if f.GetHelp() == "" {
				t.Errorf("%s has no help", name)
			}
			// A labelled family with no series would show "No data".
			if len(got[name]) == 0 {
				t.Errorf("%s has no series at start", name)
			}
		}
	}
}

// failingAudio is a store whose audio cannot be written: every upload's
// analysis fails.
type failingAudio struct{ *disk.Store }

func (failingAudio) CreateAudio(context.Context, string) (call.AudioWriter, error) {
	return nil, errors.New("disk full")
}

// Uploads analyzed and uploads that failed are counted, and each
// analysis's time is observed.
func TestUploadMetrics(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	okSrv, okTS := newTestServer(t, Config{Store: st, Audio: st, Staging: st})
	st2, err := disk.Open(t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	badSrv, badTS := newTestServer(t, Config{Store: st2, Audio: failingAudio{st2}, Staging: st2})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 4, testRep, testCust)
	for _, tc := range []struct {
		srv       *Server
		base      string
		uploads   int
		state     string
		wantEnded float64
		wantFail  float64
	}{
		{okSrv, okTS.URL, 2, call.StateEnded, 2, 0},
		{badSrv, badTS.URL, 1, call.StateFailed, 0, 1},
	} {
		for range tc.uploads {
			body, ctype := form(t, nil, map[string]string{"audio": p})
			resp, b := post(t, tc.base+"/api/calls", body, ctype)
			var sum call.Summary
			json.Unmarshal(b, &sum)
			if resp.StatusCode != 202 {
				t.Fatalf("%s %s", resp.Status, b)
			}
			if m := waitAnalyzed(t, tc.base, sum.ID); m["state"] != tc.state {
				t.Fatalf("upload %s, want %s", m["state"], tc.state)
			}
		}
		// The record is stored before the analysis is counted: wait for
		// the count rather than assume it.
		tc.srv.uploads.Wait(context.Background())
		_, fams := series(t, tc.srv)
		results := map[string]float64{}
		for _, m := range fams["talkratio_uploads_finished_total"].GetMetric() {
			results[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
		if results["ended"] != tc.wantEnded || results["failed"] != tc.wantFail {
			t.Errorf("finished %v, want ended %v and failed %v", results, tc.wantEnded, tc.wantFail)
		}
		h := fams["talkratio_upload_analysis_seconds"].GetMetric()[0].GetHistogram()
		if h.GetSampleCount() != uint64(tc.uploads) || !(h.GetSampleSum() > 0) {
			t.Errorf("analysis time: %d observations, sum %v; want %d", h.GetSampleCount(), h.GetSampleSum(), tc.uploads)
		}
	}
}
