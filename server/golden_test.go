package server

// Goldens of what the service shows the world: the HTTP API, the
// websocket's messages, and the record file the data directory keeps. They
// were recorded before the server was split into packages (issue 9), so
// that the split provably changes none of it. Rewrite them with
// go test ./server -run Golden -update, only for an intended change.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"talkratio/call"
	"talkratio/disk"
	"talkratio/whipclient"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares got with the golden file, or rewrites it.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s differs at line %d:\n got: %.400s\nwant: %.400s", path, i+1, g, w)
				break
			}
		}
	}
}

// transcript records HTTP exchanges with their status, the headers that
// carry meaning, and the body, with the call ids and times that differ
// from run to run masked.
type transcript struct {
	t    *testing.T
	base string
	buf  bytes.Buffer
	mask []string // old, new pairs
}

// goldenHeaders are the response headers a transcript keeps.
var goldenHeaders = []string{
	"Content-Type", "Content-Length", "Content-Range", "Accept-Ranges", "Content-Disposition", "Cache-Control",
	"Location", "Retry-After", "Allow", "Accept-Post", "Last-Modified", "WWW-Authenticate",
	"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy",
}

func (tr *transcript) masked(s string) string {
	return strings.NewReplacer(tr.mask...).Replace(s)
}

// do sends a request and records the exchange under title. bodyAs is
// "text" (the body as it is), "bytes" (its length and SHA-256) or
// "hex".
func (tr *transcript) do(title, method, path string, hdr map[string]string, body io.Reader, bodyAs string) (*http.Response, []byte) {
	tr.t.Helper()
	req, err := http.NewRequest(method, tr.base+path, body)
	if err != nil {
		tr.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tr.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Fprintf(&tr.buf, "=== %s\n%s %s\n", title, method, tr.masked(path))
	tr.status(resp, b, bodyAs)
	return resp, b
}

func (tr *transcript) status(resp *http.Response, b []byte, bodyAs string) {
	fmt.Fprintf(&tr.buf, "status: %d\n", resp.StatusCode)
	for _, h := range goldenHeaders {
		v := resp.Header.Get(h)
		if v == "" {
			continue
		}
		if h == "Last-Modified" {
			v = "<time>"
		}
		fmt.Fprintf(&tr.buf, "%s: %s\n", h, tr.masked(v))
	}
	switch bodyAs {
	case "bytes":
		sum := sha256.Sum256(b)
		fmt.Fprintf(&tr.buf, "body: %d bytes, sha256 %s\n", len(b), hex.EncodeToString(sum[:]))
	case "hex":
		fmt.Fprintf(&tr.buf, "body (hex): %s\n", hex.EncodeToString(b))
	default:
		fmt.Fprintf(&tr.buf, "body:\n%s\n", strings.TrimRight(tr.masked(string(b)), "\n"))
	}
	tr.buf.WriteString("\n")
}

// websocket records what a websocket on path sends until it closes.
func (tr *transcript) websocket(title, path string) {
	tr.t.Helper()
	u := "ws" + strings.TrimPrefix(tr.base, "http") + path
	fmt.Fprintf(&tr.buf, "=== %s\nWEBSOCKET %s\n", title, tr.masked(path))
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		if resp == nil {
			tr.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		tr.status(resp, b, "text")
		return
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				tr.t.Fatalf("websocket %s: %v", path, err)
			}
			fmt.Fprintf(&tr.buf, "close: %d %q\n\n", ce.Code, ce.Text)
			return
		}
		fmt.Fprintf(&tr.buf, "message:\n%s\n", tr.masked(string(msg)))
	}
}

// The HTTP API and the websocket, recorded for uploaded calls: upload,
// list (with filters and sorting), one call as JSON and as CSV, its audio
// with and without a Range, the reps, the websocket's final snapshot,
// deletion, and the errors of each endpoint.
func TestGoldenAPI(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	in := t.TempDir()
	stereo := filepath.Join(in, "stereo.wav")
	writeCallWAV(t, stereo, 8000, 12, testRep, testCust)
	rep, cust := filepath.Join(in, "rep.wav"), filepath.Join(in, "cust.wav")
	writeCallWAV(t, rep, 8000, 12, testCust) // Lee listens a lot
	writeCallWAV(t, cust, 8000, 11, testRep)
	corrupt := filepath.Join(in, "corrupt.wav")
	os.WriteFile(corrupt, []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00garbage"), 0o644)

	tr := &transcript{t: t, base: base}
	upload := func(title string, fields, files map[string]string) string {
		t.Helper()
		body, ctype := form(t, fields, files)
		resp, b := tr.do(title, "POST", "/api/calls", map[string]string{"Content-Type": ctype}, body, "text")
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %s %s", title, resp.Status, b)
		}
		var sum struct{ ID string }
		json.Unmarshal(b, &sum)
		return sum.ID
	}
	// The ids are random: upload, then rewrite the transcript so far.
	id1 := upload("upload a stereo WAV", map[string]string{"name": "stereo call", "rep": "Dana", "customer": "Acme", "started_at": "2026-11-26T10:00:00Z"}, map[string]string{"audio": stereo})
	tr.mask = append(tr.mask, id1, "<id1>")
	waitAnalyzed(t, base, id1)
	id2 := upload("upload two mono WAVs", map[string]string{"name": "pair", "rep": "Lee", "customer": "Initech", "started_at": "2026-11-25T09:30:00+01:00"}, map[string]string{"rep_audio": rep, "customer_audio": cust})
	tr.mask = append(tr.mask, id2, "<id2>")
	waitAnalyzed(t, base, id2)
	recorded := tr.masked(tr.buf.String())
	tr.buf.Reset()
	tr.buf.WriteString(recorded)

	tr.do("list", "GET", "/api/calls", nil, nil, "text")
	tr.do("list by rep, sorted by listen %", "GET", "/api/calls?rep=dana&sort=listen_pct&order=asc", nil, nil, "text")
	tr.do("list a day, one per page", "GET", "/api/calls?from=2026-11-25&to=2026-11-25&limit=1", nil, nil, "text")
	tr.do("list, second page", "GET", "/api/calls?limit=1&offset=1&sort=name", nil, nil, "text")
	tr.do("one call", "GET", "/api/calls/"+id1, nil, nil, "text")
	tr.do("the pair", "GET", "/api/calls/"+id2, nil, nil, "text")
	tr.do("one call as CSV", "GET", "/api/calls/"+id1+".csv", nil, nil, "text")
	tr.do("the pair as CSV", "GET", "/api/calls/"+id2+".csv", nil, nil, "text")
	tr.do("the live calls", "GET", "/api/calls?state=live", nil, nil, "text")
	tr.do("the audio", "GET", "/api/calls/"+id1+"/audio", nil, nil, "bytes")
	tr.do("the audio's header, by Range", "GET", "/api/calls/"+id1+"/audio", map[string]string{"Range": "bytes=0-43"}, nil, "hex")
	tr.do("the audio's end, by Range", "GET", "/api/calls/"+id1+"/audio", map[string]string{"Range": "bytes=-100"}, nil, "bytes")
	tr.do("a Range past the end", "GET", "/api/calls/"+id1+"/audio", map[string]string{"Range": "bytes=99999999-"}, nil, "text")
	tr.do("reps", "GET", "/api/reps", nil, nil, "text")
	tr.websocket("the websocket of an ended call", "/ws/calls/"+id1)

	tr.do("unknown call", "GET", "/api/calls/nope", nil, nil, "text")
	tr.do("unknown call as CSV", "GET", "/api/calls/nope.csv", nil, nil, "text")
	tr.do("unknown call's audio", "GET", "/api/calls/nope/audio", nil, nil, "text")
	tr.websocket("unknown call's websocket", "/ws/calls/nope")
	tr.do("bad sort", "GET", "/api/calls?sort=size", nil, nil, "text")
	tr.do("bad limit", "GET", "/api/calls?limit=0", nil, nil, "text")
	tr.do("bad date", "GET", "/api/calls?from=yesterday", nil, nil, "text")
	body, ctype := form(t, map[string]string{"name": "bad"}, map[string]string{"audio": corrupt})
	tr.do("upload a corrupt WAV", "POST", "/api/calls", map[string]string{"Content-Type": ctype}, body, "text")
	body, ctype = form(t, map[string]string{"rep_channel": "up"}, map[string]string{"audio": stereo})
	tr.do("upload with a bad rep_channel", "POST", "/api/calls", map[string]string{"Content-Type": ctype}, body, "text")
	tr.do("upload JSON", "POST", "/api/calls", map[string]string{"Content-Type": "application/json"}, strings.NewReader("{}"), "text")

	tr.do("delete", "DELETE", "/api/calls/"+id2, nil, nil, "text")
	tr.do("the deleted call", "GET", "/api/calls/"+id2, nil, nil, "text")
	tr.do("delete again", "DELETE", "/api/calls/"+id2, nil, nil, "text")
	tr.do("list after the delete", "GET", "/api/calls", nil, nil, "text")
	checkGolden(t, "api.txt", tr.buf.Bytes())
}

// jsonKeys lists the keys of a JSON document's objects, nested ones as
// a.b (not inside arrays), sorted.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var out []string
	keyPaths(v, "", &out)
	slices.Sort(out)
	return out
}

// A live call over WHIP, recorded as the shape of what it shows (its
// figures depend on timing): the keys of its list row, its record and its
// snapshots while live and once ended, and of the record file it leaves.
func TestGoldenLiveShape(t *testing.T) {
	dir := t.TempDir()
	_, base := newDiskServer(t, dir, Config{})
	repPkts := oggPackets(t, "testdata/rep.opus")[:400] // 8 s
	custPkts := oggPackets(t, "testdata/customer.opus")[:400]
	ctx := t.Context()
	pub, err := whipclient.Publish(ctx, whipclient.PublishOptions{
		Endpoint: base + "/whip?name=shape&rep=Dana&customer=Acme",
		Tracks:   []whipclient.TrackSpec{{StreamID: "rep", TrackID: "rep"}, {StreamID: "customer", TrackID: "customer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := pub.CallID()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/calls/" + id
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := make(chan []byte, 1000)
	go func() {
		defer close(msgs)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			msgs <- b
		}
	}()
	shape := map[string]any{}
	got := func(name string, b []byte) {
		shape[name] = jsonKeys(t, b)
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		sendPaced(t, pub, repPkts, custPkts)
	}()
	// While live: the list row and the record, once the call has figures.
	var liveRow, liveRec []byte
	for deadline := time.Now().Add(7 * time.Second); time.Now().Before(deadline) && liveRec == nil; time.Sleep(200 * time.Millisecond) {
		b := getBody(t, base+"/api/calls/"+id)
		if bytes.Contains(b, []byte(`"rep_talk_s"`)) {
			liveRec = b
			liveRow = getBody(t, base+"/api/calls")
		}
	}
	if liveRec == nil {
		t.Fatal("the live call never showed its figures")
	}
	var list struct{ Calls []json.RawMessage }
	json.Unmarshal(liveRow, &list)
	if len(list.Calls) != 1 {
		t.Fatalf("list while live: %s", liveRow)
	}
	got("list row, live", list.Calls[0])
	got("record, live", liveRec)
	shape["state, live"] = stateOf(t, liveRec)
	<-sent
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var first, last []byte
	for b := range msgs {
		if first == nil {
			first = b
		}
		last = b
	}
	got("snapshot, live", first)
	got("snapshot, final", last)
	shape["state, final snapshot"] = stateOfSnapshot(t, last)
	rec := getBody(t, base+"/api/calls/"+id)
	got("record, ended", rec)
	shape["state, ended"] = stateOf(t, rec)
	json.Unmarshal(getBody(t, base+"/api/calls"), &list)
	got("list row, ended", list.Calls[0])
	file, err := os.ReadFile(filepath.Join(dir, "calls", id, "call.json"))
	if err != nil {
		t.Fatal(err)
	}
	got("record file", file)
	b, _ := json.MarshalIndent(shape, "", "  ")
	checkGolden(t, "live-shape.json", append(b, '\n'))
}

func getBody(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

func stateOf(t *testing.T, b []byte) string {
	t.Helper()
	var r struct{ State, Source string }
	json.Unmarshal(b, &r)
	return r.Source + " " + r.State
}

func stateOfSnapshot(t *testing.T, b []byte) string {
	t.Helper()
	var s struct {
		Type string
		Call struct{ State string }
	}
	json.Unmarshal(b, &s)
	return s.Type + " " + s.Call.State
}

// The record file in the data directory, byte for byte: what a restart,
// another version, or an import reads.
func TestGoldenRecordFile(t *testing.T) {
	dir := t.TempDir()
	st, err := disk.Open(dir, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	rec := verdictCall("c7f3a1b2c3d4e5f6", true)
	rec.HasAudio, rec.Source = true, call.SourceUpload
	rec.SetChannels(1, 0)
	if err := st.Put(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "calls", rec.ID, "call.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "record-file.json", b)
}
