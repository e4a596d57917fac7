package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/inmem"
	"talkratio/tally"
)

func send(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Comments on moments are kept with the call, in time order, and come
// back with it; bad ones are refused, live calls take none, and a comment
// goes away with DELETE.
func TestCallComments(t *testing.T) {
	st := inmem.NewStore()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	res := &tally.Result{}
	res.DurationS = 253
	st.Put(context.Background(), &call.Record{ID: "ended", State: call.StateEnded, StartedAt: at, DurationS: 253, Result: res})
	st.Put(context.Background(), &call.Record{ID: "live", State: call.StateLive, StartedAt: at, DurationS: 10})
	_, ts := newTestServer(t, Config{Store: st})
	base := ts.URL + "/api/calls/"
	for _, tc := range []struct {
		id, body string
		status   int
	}{
		{"ended", `{"at_s": 200.5, "text": "  Here he pitches for a minute: ask instead.  "}`, 201},
		{"ended", `{"at_s": 12, "text": "Good open question"}`, 201},
		{"ended", `{"at_s": 12, "text": "and a second note at 12 s"}`, 201},
		{"ended", `{"at_s": 300, "text": "past the end"}`, 400},
		{"ended", `{"at_s": -1, "text": "before the start"}`, 400},
		{"ended", `{"at_s": 5, "text": "   "}`, 400},
		{"ended", `{"text": "no moment"}`, 400},
		{"ended", `{"at_s": 5, "text": "` + strings.Repeat("x", call.MaxCommentBytes+1) + `"}`, 400},
		{"ended", `not json`, 400},
		{"live", `{"at_s": 5, "text": "not yet"}`, 409},
		{"nope", `{"at_s": 5, "text": "no call"}`, 404},
	} {
		resp, body := send(t, "POST", base+tc.id+"/comments", tc.body)
		if resp.StatusCode != tc.status {
			t.Errorf("POST %s %.60s: %d %s, want %d", tc.id, tc.body, resp.StatusCode, body, tc.status)
		}
	}
	c := getCall(t, ts.URL, "ended")
	list, _ := c["comments"].([]any)
	var got []string
	var first string
	for _, x := range list {
		m := x.(map[string]any)
		got = append(got, strings.Join([]string{jsonNum(m["at_s"]), m["text"].(string)}, " "))
		if first == "" {
			first = m["id"].(string)
		}
	}
	want := []string{"12 Good open question", "12 and a second note at 12 s", "200.5 Here he pitches for a minute: ask instead."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("comments %q, want %q", got, want)
	}
	if resp, _ := send(t, "DELETE", base+"ended/comments/"+first, ""); resp.StatusCode != 204 {
		t.Errorf("DELETE a comment: %d, want 204", resp.StatusCode)
	}
	if resp, _ := send(t, "DELETE", base+"ended/comments/"+first, ""); resp.StatusCode != 404 {
		t.Errorf("DELETE it again: %d, want 404", resp.StatusCode)
	}
	if n := len(getCall(t, ts.URL, "ended")["comments"].([]any)); n != 2 {
		t.Errorf("%d comments after the delete, want 2", n)
	}
}

func jsonNum(v any) string { b, _ := json.Marshal(v); return string(b) }
