package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"talkratio/auth"
	"talkratio/call"
	"talkratio/disk"
	"talkratio/sqlite"
)

// fullAudio is an audio store whose writes fail with a path in the error
// while full is set.
type fullAudio struct {
	*disk.Store
	full atomic.Bool
}

func (f *fullAudio) CreateAudio(ctx context.Context, id string) (call.AudioWriter, error) {
	if f.full.Load() {
		return nil, (&enospc{}).err("open")
	}
	return f.Store.CreateAudio(ctx, id)
}

// Issue 10, points 4 and 13: a failed analysis is listed as failed with an
// error that names no file, keeps its upload, and can be retried (202,
// then analyzed) or deleted (its files go); a call that is not a failed
// upload cannot be retried (409).
func TestFailedUploadRetriedOrDeleted(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	fa := &fullAudio{Store: st}
	_, ts := newTestServer(t, Config{Store: st, Audio: fa, Staging: st})
	base := ts.URL
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 2, testRep, testCust)
	upload := func() string {
		body, ctype := form(t, nil, map[string]string{"audio": p})
		resp, b := post(t, base+"/api/calls", body, ctype)
		var sum call.Summary
		json.Unmarshal(b, &sum)
		if resp.StatusCode != 202 {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
		return sum.ID
	}
	fa.full.Store(true)
	a, b := upload(), upload()
	for _, id := range []string{a, b} {
		m := waitAnalyzed(t, base, id)
		if m["state"] != call.StateFailed || strings.Contains(m["error"].(string), "/abs") || !strings.Contains(m["error"].(string), "no space left") {
			t.Fatalf("failed upload: %v %v", m["state"], m["error"])
		}
	}
	var list struct{ Calls []call.Summary }
	getJSON(t, base+"/api/calls?state=failed", &list)
	if len(list.Calls) != 2 || list.Calls[0].Error == "" {
		t.Errorf("failed calls listed: %+v", list.Calls)
	}
	fa.full.Store(false)
	code, body := do(t, "POST", base+"/api/calls/"+a+"/retry", "", nil, nil)
	if code != 202 {
		t.Fatalf("retry: %d %s", code, body)
	}
	if m := waitAnalyzed(t, base, a); m["state"] != call.StateEnded || m["has_audio"] != true || m["error"] != nil {
		t.Errorf("after retry: %v %v %v", m["state"], m["has_audio"], m["error"])
	}
	if code, body := do(t, "POST", base+"/api/calls/"+a+"/retry", "", nil, nil); code != 409 || !strings.Contains(body, "only a failed upload") {
		t.Errorf("retry of an analyzed call: %d %s", code, body)
	}
	if code, _ := do(t, "POST", base+"/api/calls/nope/retry", "", nil, nil); code != 404 {
		t.Errorf("retry of no call: %d", code)
	}
	if code, _ := do(t, "DELETE", base+"/api/calls/"+b, "", nil, nil); code != 204 {
		t.Errorf("delete a failed call: %d", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "calls", b)); !os.IsNotExist(err) {
		t.Errorf("the deleted failed call's files are still there: %v", err)
	}
}

// Issue 10, point 5: a record that cannot be read is listed, answers with
// a message that says so (never a bare 500), and can be deleted; a viewer
// limited to one rep does not learn it exists. In SQLite and in the old
// data directory alike.
func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	good := &call.Record{ID: "good", Rep: "Dana", State: call.StateEnded, Source: call.SourceLive}
	bad := &call.Record{ID: "bad", Rep: "Dana", State: call.StateEnded, Source: call.SourceLive}

	dbPath := filepath.Join(t.TempDir(), "t.db")
	sq, err := sqlite.Open(ctx, dbPath, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer sq.Close()
	sq.Put(ctx, good)
	sq.Put(ctx, bad)
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE call_details SET body = x'1f8b0000' WHERE id = 'bad'`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	dd := t.TempDir()
	ds, _ := disk.Open(dd, quietLogger())
	ds.Put(ctx, good)
	ds.Put(ctx, bad)
	os.WriteFile(filepath.Join(dd, "calls", "bad", "call.json"), []byte(`{"id": "bad", "state": "ended", "dur`), 0o600)
	ds, err = disk.Open(dd, quietLogger()) // a restart reads it back
	if err != nil {
		t.Fatal(err)
	}

	a := testAuth(t)
	for name, st := range map[string]call.Store{"sqlite": sq, "data directory": ds} {
		_, ts := newTestServer(t, Config{Store: st, Auth: a})
		admin := mint(t, a, auth.Grants{Admin: true})
		dana := mint(t, a, auth.Grants{View: true, ViewRep: "Dana"})
		var list struct{ Calls []call.Summary }
		_, b := do(t, "GET", ts.URL+"/api/calls", admin, nil, nil)
		json.Unmarshal([]byte(b), &list)
		if len(list.Calls) != 2 {
			t.Errorf("%s: the damaged call is not listed: %s", name, b)
		}
		code, body := do(t, "GET", ts.URL+"/api/calls/bad", admin, nil, nil)
		if code != http.StatusInternalServerError || !strings.Contains(body, "damaged") {
			t.Errorf("%s: GET a damaged call: %d %s", name, code, body)
		}
		if code, _ := do(t, "GET", ts.URL+"/api/calls/bad", dana, nil, nil); code != 404 {
			t.Errorf("%s: a rep-limited viewer: %d", name, code)
		}
		if code, body := do(t, "DELETE", ts.URL+"/api/calls/bad", admin, nil, nil); code != 204 {
			t.Errorf("%s: DELETE a damaged call: %d %s", name, code, body)
		}
		if code, _ := do(t, "GET", ts.URL+"/api/calls/bad", admin, nil, nil); code != 404 {
			t.Errorf("%s: after DELETE: %d", name, code)
		}
		if code, _ := do(t, "GET", ts.URL+"/api/calls/good", admin, nil, nil); code != 200 {
			t.Errorf("%s: the good call: %d", name, code)
		}
	}
}

// refuseEnded refuses, n times, to store a record that says ended.
type refuseEnded struct {
	call.Store
	n atomic.Int32
}

func (r *refuseEnded) Put(ctx context.Context, rec *call.Record) error {
	if rec.State == call.StateEnded && r.n.Add(-1) >= 0 {
		return (&enospc{}).err("write")
	}
	return r.Store.Put(ctx, rec)
}

// Issue 10, point 2: an analysis whose result the store refuses is kept
// and retried until stored, and each refusal is counted.
func TestUploadAnalysisStoredOnceThereIsRoom(t *testing.T) {
	st, err := disk.Open(t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	rs := &refuseEnded{Store: st}
	rs.n.Store(2)
	srv, ts := newTestServer(t, Config{Store: rs, Audio: st, Staging: st})
	p := filepath.Join(t.TempDir(), "c.wav")
	writeCallWAV(t, p, 8000, 2, testRep, testCust)
	body, ctype := form(t, nil, map[string]string{"audio": p})
	resp, b := post(t, ts.URL+"/api/calls", body, ctype)
	var sum call.Summary
	json.Unmarshal(b, &sum)
	if resp.StatusCode != 202 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	if m := waitAnalyzed(t, ts.URL, sum.ID); m["state"] != call.StateEnded {
		t.Errorf("after two refusals: %v", m["state"])
	}
	if got := testutil.ToFloat64(srv.m.storeErrors); got != 2 {
		t.Errorf("talkratio_store_errors_total %v, want 2", got)
	}
}
