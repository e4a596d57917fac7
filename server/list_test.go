package server

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"talkratio/call"
	"talkratio/inmem"
)

// The call list tells live calls apart from the library: state= filters
// by state, and every answer says how many of its total are live and
// which monologue threshold flags a call.
func TestListLiveAndState(t *testing.T) {
	st := inmem.NewStore()
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	for i, state := range []string{call.StateLive, call.StateLive, call.StateLive, call.StateEnded, call.StateFailed} {
		st.Put(context.Background(), &call.Record{ID: "c" + string(rune('a'+i)), State: state, StartedAt: at.Add(time.Duration(i) * time.Minute)})
	}
	_, ts := newTestServer(t, Config{Store: st, Rules: call.Rules{MonologueNudge: 45 * time.Second}})
	for _, tc := range []struct {
		query               string
		status, rows, total int
		live                int
	}{
		{"", 200, 5, 5, 3},
		{"?state=live", 200, 3, 3, 3},
		{"?state=ended", 200, 1, 1, 0},
		{"?state=live&limit=2", 200, 2, 3, 3},
		{"?state=bogus", 400, 0, 0, 0},
	} {
		resp, err := http.Get(ts.URL + "/api/calls" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Calls          []call.Summary `json:"calls"`
			Total, Live    int
			LongMonologueS float64 `json:"long_monologue_s"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.query, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		if len(body.Calls) != tc.rows || body.Total != tc.total || body.Live != tc.live || body.LongMonologueS != 45 {
			t.Errorf("%s: %d rows, total %d, live %d, long monologue %v s; want %d, %d, %d, 45", tc.query, len(body.Calls), body.Total, body.Live, body.LongMonologueS, tc.rows, tc.total, tc.live)
		}
	}
}
