package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/server"
)

// A call's CSV from the API has the columns `analyze --format csv`
// prints, in its order, and the same figures for the same file: one
// sheet takes both (issue 11, point 2). Its JSON has every analyze field
// (point 7).
func TestAPICSVMatchesAnalyze(t *testing.T) {
	const fixture = "testdata/call-bleed-mulaw.wav"
	code, out, errOut := runCapture("analyze", "--format", "csv", fixture)
	if code != exitOK {
		t.Fatalf("analyze: exit %d, %s", code, errOut)
	}
	cli, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(cli) != 2 {
		t.Fatalf("analyze's CSV: %d rows, %v", len(cli), err)
	}

	is := newImportService(t, server.Config{UploadRate: 1000})
	code, out, errOut = runCapture("import", "-url", is.url, "-state", filepath.Join(t.TempDir(), "state.tsv"), fixture)
	if code != exitOK {
		t.Fatalf("import: exit %d, %s", code, errOut)
	}
	_, id, _ := strings.Cut(strings.TrimSpace(out), "\t")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		rec, err := is.store.Get(context.Background(), id)
		if err == nil && rec.State != call.StateAnalyzing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s still analyzing (%v)", id, err)
		}
	}
	checkAPIJSONHasAnalyze(t, is.url+"/api/calls/"+id, fixture)
	resp, err := http.Get(is.url + "/api/calls/" + id + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	api, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(api) != 2 {
		t.Fatalf("the API's CSV: %d rows, %v", len(api), err)
	}
	if !slices.Equal(api[0], cli[0]) {
		t.Fatalf("columns differ:\n  API     %v\n  analyze %v", api[0], cli[0])
	}
	// The library's own columns are empty for a file analyzed by the CLI;
	// the file's are the upload's file name rather than its path.
	library := map[string]bool{"id": true, "name": true, "rep": true, "customer": true, "source": true, "state": true, "started_at": true}
	for i, h := range cli[0] {
		switch {
		case library[h]:
			if cli[1][i] != "" {
				t.Errorf("analyze fills the library column %s: %q", h, cli[1][i])
			}
		case h == "file":
			if api[1][i] != filepath.Base(fixture) {
				t.Errorf("API file %q, want %q", api[1][i], filepath.Base(fixture))
			}
		case api[1][i] != cli[1][i]:
			t.Errorf("%s: API %q, analyze %q", h, api[1][i], cli[1][i])
		}
	}
}

// checkAPIJSONHasAnalyze: the API's record of an uploaded file has every
// field `analyze --format json` prints for it, with the same value (the
// file's name aside, which is the upload's name rather than a path): README
// promises every analyze field (issue 11, point 7).
func checkAPIJSONHasAnalyze(t *testing.T, url, fixture string) {
	t.Helper()
	code, out, errOut := runCapture("analyze", "--format", "json", fixture)
	if code != exitOK {
		t.Fatalf("analyze: exit %d, %s", code, errOut)
	}
	var cli, api map[string]any
	if err := json.Unmarshal([]byte(out), &cli); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&api)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if api["file"] != filepath.Base(fixture) {
		t.Errorf("API file %v, want %q", api["file"], filepath.Base(fixture))
	}
	for k, v := range cli {
		got, ok := api[k]
		switch {
		case !ok:
			t.Errorf("the API's record lacks analyze's %q", k)
		case k == "file":
		case got == nil && v != nil:
			t.Errorf("the API's %q is null, analyze says %v", k, v)
		case !reflect.DeepEqual(got, v):
			t.Errorf("%s: API %v, analyze %v", k, got, v)
		}
	}
}
