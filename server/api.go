package server

import (
	"net/http"
	"strconv"
	"time"

	"talkratio/vad"
)

// List paging: a page holds 50 rows unless asked otherwise, 500 at most.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// handleListCalls answers GET /api/calls: live calls first, then the
// stored ones, newest first. Filters: rep=NAME, from=, to= (RFC 3339 or
// YYYY-MM-DD), limit=, offset=.
func (s *Server) handleListCalls(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var live []CallSummary
	for _, c := range s.liveCalls() {
		rec := c.summaryRecord()
		if q.match(&rec) {
			live = append(live, rec.Summary())
		}
	}
	sortSummaries(live)
	// Page over live calls first, then the store.
	rows := page(live, q)
	need := q.Size - len(rows)
	storeOff := max(0, q.Offset-len(live))
	stored, total, err := s.store.List(ListQuery{Rep: q.Rep, From: q.From, To: q.To, Offset: storeOff, Size: need})
	if err != nil {
		writeError(w, err)
		return
	}
	if need > 0 {
		rows = append(rows, stored...)
	}
	if rows == nil {
		rows = []CallSummary{}
	}
	writeJSON(w, map[string]any{
		"calls": rows, "total": total + len(live), "offset": q.Offset, "limit": q.Size,
		"target_listen_pct": 100 * s.cfg.TargetListen,
	})
}

func parseListQuery(r *http.Request) (ListQuery, error) {
	v := r.URL.Query()
	q := ListQuery{Rep: v.Get("rep"), Size: defaultPageSize}
	var err error
	if q.From, err = parseTime(v.Get("from"), false); err != nil {
		return q, errorf(http.StatusBadRequest, "from=%q: %v", v.Get("from"), err)
	}
	if q.To, err = parseTime(v.Get("to"), true); err != nil {
		return q, errorf(http.StatusBadRequest, "to=%q: %v", v.Get("to"), err)
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &q.Size, maxPageSize}, {"offset", &q.Offset, 1 << 30}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > p.max || (p.name == "limit" && n == 0) {
				return q, errorf(http.StatusBadRequest, "%s=%q: want a whole number from %d to %d", p.name, s, map[bool]int{true: 1, false: 0}[p.name == "limit"], p.max)
			}
			*p.dst = n
		}
	}
	return q, nil
}

// parseTime takes RFC 3339 or a plain date; a plain date as an upper bound
// includes that whole day.
func parseTime(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, errorf(http.StatusBadRequest, "want RFC 3339 (2026-11-26T10:00:00Z) or a date (2026-11-26)")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// summaryRecord is a live call's record as it stands now.
func (c *Call) summaryRecord() CallRecord {
	rec := c.rec // metadata only: Result is set by run at the end
	rec.Result = nil
	if l := c.live.Load(); l != nil {
		rec.DurationS = l.NowS
		res := vad.Result{Metrics: l.Metrics}
		rec.Result = &res
	}
	return rec
}

// handleGetCall answers GET /api/calls/{id}: the call's record, whose
// "result" is the same JSON as `talkratio analyze`.
func (s *Server) handleGetCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if c := s.liveCall(id); c != nil {
		writeJSON(w, c.summaryRecord())
		return
	}
	rec, err := s.store.Get(id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, rec)
}
