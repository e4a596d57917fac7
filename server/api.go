package server

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"talkratio/call"
	"talkratio/reply"
)

// List paging: a page holds 50 rows unless asked otherwise, 500 at most.
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// handleListCalls answers GET /api/calls: live calls first, then the
// others, newest first, as the store lists them. Filters: rep=NAME,
// state=, from=, to= (RFC 3339 or YYYY-MM-DD), sort=, order=, limit=,
// offset=, after=ID.
func (s *Server) handleListCalls(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r)
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	target := 100 * s.rules.TargetListen
	if vr := principalOf(r).ViewRep(); vr != "" {
		if q.Rep != "" && !strings.EqualFold(q.Rep, vr) {
			reply.JSON(w, map[string]any{"calls": []call.Summary{}, "total": 0, "live": 0, "offset": q.Offset, "limit": q.Size, "target_listen_pct": target, "long_monologue_s": s.rules.Tally().LongMonologueSec})
			return
		}
		q.Rep = vr
	}
	if id := r.URL.Query().Get("after"); id != "" {
		// Keyset paging: the page after this call in the list's order,
		// which a database finds through its index however deep it is.
		rec, err := s.visibleCall(r, id)
		if err != nil {
			reply.WriteError(w, reply.Errorf(http.StatusBadRequest, "after=%q: no such call", id))
			return
		}
		sum := rec.Summary()
		q.After = &sum
	}
	rows, total, err := s.store.List(r.Context(), q)
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	if rows == nil {
		rows = []call.Summary{}
	}
	// How many of the total are live, so that a page can tell the
	// library's size apart from the calls in progress.
	live := 0
	if q.State == "" || q.State == call.StateLive {
		lq := q
		lq.State, lq.Offset, lq.Size = call.StateLive, 0, 1
		if _, live, err = s.store.List(r.Context(), lq); err != nil {
			reply.WriteError(w, err)
			return
		}
	}
	next := ""
	if len(rows) == q.Size {
		next = rows[len(rows)-1].ID
	}
	reply.JSON(w, map[string]any{
		"calls": rows, "total": total, "live": live, "offset": q.Offset, "limit": q.Size, "next_after": next,
		"target_listen_pct": target, "long_monologue_s": s.rules.Tally().LongMonologueSec,
		"max_upload_bytes": s.uploads.MaxUpload(),
	})
}

func parseListQuery(r *http.Request) (call.ListQuery, error) {
	v := r.URL.Query()
	q := call.ListQuery{Rep: v.Get("rep"), State: v.Get("state"), Size: defaultPageSize, Sort: v.Get("sort")}
	switch q.State {
	case "", call.StateLive, call.StateAnalyzing, call.StateEnded, call.StateFailed, call.StateInterrupted:
	default:
		return q, reply.Errorf(http.StatusBadRequest, "state=%q: want %s", q.State, orList([]string{call.StateLive, call.StateAnalyzing, call.StateEnded, call.StateFailed, call.StateInterrupted}))
	}
	if !call.ValidSort(q.Sort) {
		return q, reply.Errorf(http.StatusBadRequest, "sort=%q: want %s", q.Sort, orList(call.SortColumns()))
	}
	switch o := v.Get("order"); o {
	case "", "desc":
	case "asc":
		q.Asc = true
	default:
		return q, reply.Errorf(http.StatusBadRequest, "order=%q: want asc or desc", o)
	}
	var err error
	if q.From, err = parseTime(v.Get("from"), false); err != nil {
		return q, reply.Errorf(http.StatusBadRequest, "from=%q: %v", v.Get("from"), err)
	}
	if q.To, err = parseTime(v.Get("to"), true); err != nil {
		return q, reply.Errorf(http.StatusBadRequest, "to=%q: %v", v.Get("to"), err)
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &q.Size, maxPageSize}, {"offset", &q.Offset, 1 << 30}} {
		if s := v.Get(p.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > p.max || (p.name == "limit" && n == 0) {
				return q, reply.Errorf(http.StatusBadRequest, "%s=%q: want a whole number from %d to %d", p.name, s, map[bool]int{true: 1, false: 0}[p.name == "limit"], p.max)
			}
			*p.dst = n
		}
	}
	return q, nil
}

// orList is "a, b or c".
func orList(s []string) string {
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
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
		return time.Time{}, reply.Errorf(http.StatusBadRequest, "want RFC 3339 (2026-11-26T10:00:00Z) or a date (2026-11-26)")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// visibleCall returns a call's record if the caller may see it; a call of
// another rep is as unknown as one that does not exist.
func (s *Server) visibleCall(r *http.Request, id string) (*call.Record, error) {
	rec, err := s.store.Get(r.Context(), id)
	if errors.Is(err, call.ErrCorrupt) && principalOf(r).ViewRep() != "" {
		// Whose call it is cannot be read: only who sees every rep's
		// calls hears that it exists.
		return nil, call.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if !principalOf(r).CanSee(rec.Rep) {
		return nil, call.ErrNotFound
	}
	return rec, nil
}

// callJSON is a call as GET /api/calls/{id} shows it: the record with
// every analysis field at the top level, like `talkratio analyze`, and
// the verdict.
type callJSON struct {
	*call.Record
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
		reply.WriteError(w, err)
		return
	}
	if asCSV {
		writeCallCSV(w, rec)
		return
	}
	tc := s.rules.Tally()
	out := callJSON{Record: rec, Thresholds: thresholds{tc.LongMonologueSec, tc.LongSilenceSec, tc.RecentWindowSec}}
	if rec.Result != nil {
		out.Verdict = rec.Metrics.Verdict()
	}
	reply.JSON(w, out)
}

// writeCallCSV writes a call as one CSV row, under the columns of
// `talkratio analyze --format csv`.
func writeCallCSV(w http.ResponseWriter, rec *call.Record) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "call-"+rec.ID+".csv"))
	cw := csv.NewWriter(w)
	cw.Write(call.CSVHeader())
	cw.Write(rec.CSVRow())
	cw.Flush()
}

// handleDeleteCall answers DELETE /api/calls/{id}: the record and its
// audio go. A live call must end first, an upload be analyzed.
func (s *Server) handleDeleteCall(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if rec, err := s.store.Get(ctx, id); err == nil {
		switch rec.State {
		case call.StateLive:
			reply.WriteError(w, reply.Errorf(http.StatusConflict, "call %s is live: end it (WHIP DELETE) before deleting it", id))
			return
		case call.StateAnalyzing:
			reply.WriteError(w, reply.Errorf(http.StatusConflict, "call %s is being analyzed; delete it when it is done", id))
			return
		}
	}
	if err := s.store.Delete(ctx, id); err != nil {
		reply.WriteError(w, err)
		return
	}
	if s.audio != nil {
		if err := s.audio.DeleteAudio(ctx, id); err != nil {
			s.log.Error("delete audio", "call", id, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxRanges caps the ranges of one audio request: players ask for one;
// thousands of tiny ones would cost more than the whole file.
const maxRanges = 4

// handleCallAudio answers GET /api/calls/{id}/audio: the call's audio as
// stored (FLAC, or WAV from before FLAC; rep left, customer right), with
// Range support so that players can seek.
func (s *Server) handleCallAudio(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.visibleCall(r, id); err != nil {
		reply.WriteError(w, err)
		return
	}
	if s.audio == nil {
		reply.WriteError(w, reply.Errorf(http.StatusNotFound, "this service keeps no audio"))
		return
	}
	b, err := s.audio.OpenAudio(r.Context(), id)
	if err != nil {
		if errors.Is(err, call.ErrNotFound) {
			err = reply.Errorf(http.StatusNotFound, "call %s has no audio", id)
		}
		reply.WriteError(w, err)
		return
	}
	defer b.Close()
	if n := strings.Count(r.Header.Get("Range"), ",") + 1; r.Header.Get("Range") != "" && n > maxRanges {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", b.Size()))
		reply.WriteError(w, reply.Errorf(http.StatusRequestedRangeNotSatisfiable, "%d ranges in one request; at most %d", n, maxRanges))
		return
	}
	ctype, ext, err := audioType(b)
	if err != nil {
		reply.WriteError(w, fmt.Errorf("call %s audio: %w", id, err))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "call-"+id+ext, b.ModTime(), b)
}

// audioType tells stored audio's type by its first bytes, and leaves b at
// its start.
func audioType(b io.ReadSeeker) (ctype, ext string, err error) {
	var magic [4]byte
	n, err := io.ReadFull(b, magic[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", "", err
	}
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		return "", "", err
	}
	if string(magic[:n]) == "fLaC" {
		return "audio/flac", ".flac", nil
	}
	return "audio/wav", ".wav", nil
}

// handleReps answers GET /api/reps: per rep, the averages over their
// analyzed calls, for the team view, as the store computes them.
func (s *Server) handleReps(w http.ResponseWriter, r *http.Request) {
	reps, err := s.store.RepStats(r.Context(), principalOf(r).ViewRep())
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	if reps == nil {
		reps = []call.RepStats{}
	}
	reply.JSON(w, map[string]any{"reps": reps, "target_listen_pct": 100 * s.rules.TargetListen, "long_monologue_s": s.rules.Tally().LongMonologueSec})
}

// handleRetry answers POST /api/calls/{id}/retry: a failed upload is
// analyzed again from its kept files (202, as an upload).
func (s *Server) handleRetry(w http.ResponseWriter, r *http.Request) {
	sum, err := s.uploads.Retry(r.Context(), r.PathValue("id"))
	if err != nil {
		reply.WriteError(w, err)
		return
	}
	w.Header().Set("Location", "/api/calls/"+sum.ID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	reply.Body(w, sum)
}
