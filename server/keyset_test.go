package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"talkratio/call"
)

// after=ID pages through the list in its order, each call once; an
// unknown id is a 400.
func TestListAfter(t *testing.T) {
	srv, ts := newTestServer(t, Config{})
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("k%d", i)
		// Two calls share each start: ties are broken by id.
		rec := &call.Record{ID: id, State: call.StateEnded, StartedAt: at.Add(time.Duration(i/2) * time.Hour)}
		if err := srv.store.Put(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
	}
	var got []string
	after := ""
	for range 10 {
		var page struct {
			Calls []call.Summary `json:"calls"`
			Next  string         `json:"next_after"`
			Total int            `json:"total"`
		}
		getJSON(t, ts.URL+"/api/calls?limit=3&after="+after, &page)
		for _, c := range page.Calls {
			got = append(got, c.ID)
		}
		if page.Total != 7 {
			t.Errorf("total %d", page.Total)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("walked %v, want %v", got, want)
	}
	resp, err := http.Get(ts.URL + "/api/calls?after=nosuch")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("after=nosuch: %d", resp.StatusCode)
	}
}
