package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"talkratio/blobdir"
	"talkratio/blobfiles"
	"talkratio/call"
	"talkratio/inmem"
)

// The disk-usage metrics: calls stored, the bytes and files of their
// audio and of uploads waiting, and the space left.
func TestUsageMetrics(t *testing.T) {
	bs, err := blobdir.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	files := blobfiles.New(bs)
	srv, ts := newTestServer(t, Config{Store: inmem.NewStore(), Audio: files, Staging: files, Blobs: bs,
		FreeSpace: func() (int64, error) { return 123456789, nil }})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 4, testRep, testCust)
	body, ctype := form(t, nil, map[string]string{"audio": p})
	resp, b := post(t, ts.URL+"/api/calls", body, ctype)
	var sum call.Summary
	json.Unmarshal(b, &sum)
	if resp.StatusCode != 202 {
		t.Fatalf("%s %s", resp.Status, b)
	}
	waitAnalyzed(t, ts.URL, sum.ID)
	srv.uploads.Wait(context.Background())
	r, err := http.Get(ts.URL + "/api/calls/" + sum.ID + "/audio")
	if err != nil {
		t.Fatal(err)
	}
	audio, _ := io.ReadAll(r.Body)
	r.Body.Close()

	_, fams := series(t, srv)
	value := func(name, what string) float64 {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Fatalf("no %s", name)
		}
		for _, m := range f.GetMetric() {
			if what == "" || len(m.GetLabel()) > 0 && m.GetLabel()[0].GetValue() == what {
				return m.GetGauge().GetValue()
			}
		}
		t.Fatalf("no %s{what=%q}", name, what)
		return 0
	}
	for _, c := range []struct {
		name, what string
		want       float64
	}{
		{"talkratio_calls_stored", "", 1},
		{"talkratio_stored_bytes", "audio", float64(len(audio))},
		{"talkratio_stored_files", "audio", 1},
		{"talkratio_stored_bytes", "uploads", 0},
		{"talkratio_stored_files", "uploads", 0},
		{"talkratio_storage_free_bytes", "", 123456789},
	} {
		if got := value(c.name, c.what); got != c.want {
			t.Errorf("%s{what=%q} = %v, want %v", c.name, c.what, got, c.want)
		}
	}
}
