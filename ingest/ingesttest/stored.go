package ingesttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"talkratio/ingest"
)

// Stored is a call as the service's API shows it once stored: what the
// end-to-end tests of the adapters wired into the service hold to analyze.
type Stored struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Rep       string   `json:"rep"`
	Customer  string   `json:"customer"`
	Source    string   `json:"source"`
	State     string   `json:"state"`
	DurationS float64  `json:"duration_s"`
	ListenPct *float64 `json:"listen_pct"`
	MissingS  float64  `json:"missing_audio_s"`
}

// WaitStored polls the service at base (http://host:port, no tokens)
// until n calls of source are ended, for up to d, and returns their
// records (GET /api/calls/ID).
func WaitStored(t testing.TB, base, source string, n int, d time.Duration) []Stored {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var list struct{ Calls []Stored }
		if err := getJSON(base+"/api/calls?limit=500", &list); err != nil {
			t.Fatal(err)
		}
		var ended []Stored
		for _, c := range list.Calls {
			if c.Source == source && c.State == "ended" {
				var full Stored
				if err := getJSON(base+"/api/calls/"+c.ID, &full); err != nil {
					t.Fatal(err)
				}
				ended = append(ended, full)
			}
		}
		if len(ended) >= n {
			return ended
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d %s calls stored within %v: %+v", len(ended), n, source, d, list.Calls)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitLive polls the service at base until a call of source is live, for
// up to d, and returns its list row.
func WaitLive(t testing.TB, base, source string, d time.Duration) Stored {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var list struct{ Calls []Stored }
		if err := getJSON(base+"/api/calls?limit=500", &list); err != nil {
			t.Fatal(err)
		}
		for _, c := range list.Calls {
			if c.Source == source && c.State == "live" {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no live %s call within %v: %+v", source, d, list.Calls)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(url string, v any) error {
	res, err := http.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

// Expected is analyze's view of the fixture call with the stretches
// [from, to) (seconds) of both roles missing, as a paused stream leaves
// them: the reference for a call published with a pause.
func Expected(rep, cust []float32, rate int, gaps ...[2]float64) (*Timeline, error) {
	if rate <= 0 || ingest.SampleRate%rate != 0 {
		return nil, fmt.Errorf("rate %d does not divide %d", rate, ingest.SampleRate)
	}
	up := ingest.SampleRate / rate
	n := max(len(rep), len(cust)) * up
	tl := &Timeline{}
	for r, src := range [][]float32{rep, cust} {
		tl.PCM[r] = make([]float32, n)
		tl.Known[r] = make([]bool, n)
		for i, v := range src {
			for j := range up {
				tl.PCM[r][i*up+j] = v
			}
		}
		for i := range tl.Known[r] {
			tl.Known[r][i] = true
		}
		for _, g := range gaps {
			for i := max(0, int(g[0]*ingest.SampleRate)); i < min(n, int(g[1]*ingest.SampleRate)); i++ {
				tl.PCM[r][i], tl.Known[r][i] = 0, false
			}
		}
	}
	return tl, nil
}
