package server

import (
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
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
	if vr := principalOf(r).ViewRep(); vr != "" {
		if q.Rep != "" && !strings.EqualFold(q.Rep, vr) {
			writeJSON(w, map[string]any{"calls": []CallSummary{}, "total": 0, "offset": q.Offset, "limit": q.Size, "target_listen_pct": 100 * s.cfg.TargetListen})
			return
		}
		q.Rep = vr
	}
	var live []CallSummary
	for _, c := range s.liveCalls() {
		rec := c.summaryRecord()
		if q.match(&rec) {
			live = append(live, rec.Summary())
		}
	}
	sortRows(live, ListQuery{})
	// Page over live calls first, then the store.
	rows := page(live, q)
	need := q.Size - len(rows)
	storeQ := q
	storeQ.Offset, storeQ.Size = max(0, q.Offset-len(live)), need
	stored, total, err := s.store.List(storeQ)
	if err != nil {
		writeError(w, err)
		return
	}
	if need > 0 {
		rows = append(rows, stored...)
	}
	s.withProgress(rows)
	if rows == nil {
		rows = []CallSummary{}
	}
	writeJSON(w, map[string]any{
		"calls": rows, "total": total + len(live), "offset": q.Offset, "limit": q.Size,
		"target_listen_pct": 100 * s.cfg.TargetListen, "max_upload_bytes": s.cfg.MaxUpload,
	})
}

func parseListQuery(r *http.Request) (ListQuery, error) {
	v := r.URL.Query()
	q := ListQuery{Rep: v.Get("rep"), Size: defaultPageSize, Sort: v.Get("sort")}
	if sortKey(q.Sort) == nil {
		return q, errorf(http.StatusBadRequest, "sort=%q: want started_at, duration_s, listen_pct, longest_rep_monologue_s, rep or name", q.Sort)
	}
	switch o := v.Get("order"); o {
	case "", "desc":
	case "asc":
		q.Asc = true
	default:
		return q, errorf(http.StatusBadRequest, "order=%q: want asc or desc", o)
	}
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
	c.mu.Lock()
	rec := c.rec // metadata; the final analysis is added by run at the end
	c.mu.Unlock()
	rec.Result, rec.Meter = nil, nil
	if l := c.live.Load(); l != nil {
		rec.DurationS = l.NowS
		res := vad.Result{Metrics: l.Metrics}
		rec.Result = &res
	}
	return rec
}

// visibleCall returns a call's record (live or stored) if the caller may
// see it; a call of another rep is as unknown as one that does not exist.
func (s *Server) visibleCall(r *http.Request, id string) (*CallRecord, error) {
	var rec *CallRecord
	if c := s.liveCall(id); c != nil {
		lr := c.summaryRecord()
		rec = &lr
	} else {
		var err error
		if rec, err = s.store.Get(id); err != nil {
			return nil, err
		}
	}
	if !principalOf(r).CanSee(rec.Rep) {
		return nil, ErrNotFound
	}
	return rec, nil
}

// callJSON is a call as GET /api/calls/{id} shows it: the record with
// every analysis field at the top level, like `talkratio analyze`, and
// the verdict.
type callJSON struct {
	*CallRecord
	Verdict    string     `json:"verdict,omitempty"`
	Thresholds thresholds `json:"thresholds"`
}

// thresholds are the rules behind the markers a replay draws.
type thresholds struct {
	LongMonologueS float64 `json:"long_monologue_s"`
	LongSilenceS   float64 `json:"long_silence_s"`
	RecentWindowS  float64 `json:"recent_window_s"`
}

// handleGetCall answers GET /api/calls/{id} (JSON) and
// GET /api/calls/{id}.csv (one row, the columns of `analyze --format csv`).
func (s *Server) handleGetCall(w http.ResponseWriter, r *http.Request) {
	id, asCSV := strings.CutSuffix(r.PathValue("id"), ".csv")
	rec, err := s.visibleCall(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	rows := []CallSummary{rec.Summary()}
	s.withProgress(rows)
	rec.Progress = rows[0].Progress
	if asCSV {
		writeCallCSV(w, rec)
		return
	}
	tc := s.tallyConfig()
	out := callJSON{CallRecord: rec, Thresholds: thresholds{tc.LongMonologueSec, tc.LongSilenceSec, tc.RecentWindowSec}}
	if rec.Result != nil {
		out.Verdict = rec.Metrics.Verdict()
	}
	writeJSON(w, out)
}

// csvCallHeader is the call columns, then every metric.
func csvCallHeader() []string {
	return append([]string{"id", "name", "rep", "customer", "source", "state", "started_at"}, vad.CSVHeader()...)
}

func writeCallCSV(w http.ResponseWriter, rec *CallRecord) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "call-"+rec.ID+".csv"))
	cw := csv.NewWriter(w)
	cw.Write(csvCallHeader())
	row := []string{rec.ID, rec.Name, rec.Rep, rec.Customer, rec.Source, rec.State, rec.StartedAt.Format(time.RFC3339)}
	if rec.Result != nil {
		row = append(row, rec.Metrics.CSVRow()...)
	}
	cw.Write(row)
	cw.Flush()
}

// handleDeleteCall answers DELETE /api/calls/{id}: the record and its
// audio go. A live call must end first.
func (s *Server) handleDeleteCall(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.liveCall(id) != nil {
		writeError(w, errorf(http.StatusConflict, "call %s is live: end it (WHIP DELETE) before deleting it", id))
		return
	}
	if rec, err := s.store.Get(id); err == nil && rec.State == stateAnalyzing {
		writeError(w, errorf(http.StatusConflict, "call %s is being analyzed; delete it when it is done", id))
		return
	}
	if err := s.store.Delete(id); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleCallAudio answers GET /api/calls/{id}/audio: the call's audio as
// WAV (16-bit PCM, rep left, customer right), with Range support so that
// players can seek.
func (s *Server) handleCallAudio(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.visibleCall(r, id); err != nil {
		writeError(w, err)
		return
	}
	as, ok := s.store.(AudioStore)
	if !ok {
		writeError(w, errorf(http.StatusNotFound, "this service keeps no audio"))
		return
	}
	f, err := as.OpenAudio(id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = errorf(http.StatusNotFound, "call %s has no audio", id)
		}
		writeError(w, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "call-"+id+".wav", st.ModTime(), f)
}

// repStats is one row of GET /api/reps.
type repStats struct {
	Rep                   string    `json:"rep"`
	Calls                 int       `json:"calls"`
	MeanListenPct         *float64  `json:"mean_listen_pct"`
	MeanLongestMonologueS float64   `json:"mean_longest_monologue_s"`
	OnTargetShare         float64   `json:"on_target_share"`
	LastCallAt            time.Time `json:"last_call_at"`
}

// handleReps answers GET /api/reps: per rep, the averages over their
// analyzed calls, for the team view.
func (s *Server) handleReps(w http.ResponseWriter, r *http.Request) {
	rows, _, err := s.store.List(ListQuery{Rep: principalOf(r).ViewRep()})
	if err != nil {
		writeError(w, err)
		return
	}
	type acc struct {
		repStats
		listenSum float64
		listenN   int
		mono      float64
		onTarget  int
	}
	by := map[string]*acc{}
	var order []string
	for _, c := range rows {
		if c.State != stateEnded {
			continue
		}
		key := strings.TrimSpace(c.Rep)
		if key == "" {
			key = "(no rep)"
		}
		a := by[key]
		if a == nil {
			a = &acc{repStats: repStats{Rep: key}}
			by[key] = a
			order = append(order, key)
		}
		a.Calls++
		a.mono += c.LongestRepMonologueS
		if c.ListenPct != nil {
			a.listenSum += *c.ListenPct
			a.listenN++
		}
		if c.OnTarget {
			a.onTarget++
		}
		if c.StartedAt.After(a.LastCallAt) {
			a.LastCallAt = c.StartedAt
		}
	}
	sort.Strings(order)
	out := make([]repStats, 0, len(order))
	for _, k := range order {
		a := by[k]
		if a.listenN > 0 {
			// The mean of the calls' figures, rounded as they are, so
			// that the page shows and judges it as it does a call's.
			m := vad.RoundListen(a.listenSum / float64(a.listenN))
			a.MeanListenPct = &m
		}
		a.MeanLongestMonologueS = math.Round(1000*a.mono/float64(a.Calls)) / 1000
		a.OnTargetShare = math.Round(1000*float64(a.onTarget)/float64(a.Calls)) / 1000
		out = append(out, a.repStats)
	}
	writeJSON(w, map[string]any{"reps": out, "target_listen_pct": 100 * s.cfg.TargetListen})
}
