package server

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"talkratio/vad"
)

// Call states as the API shows them.
const (
	stateLive      = "live"      // a live call in progress
	stateAnalyzing = "analyzing" // an upload being analyzed
	stateEnded     = "ended"     // done: live call over, or upload analyzed
	stateFailed    = "failed"    // an upload that could not be analyzed
)

// Call sources.
const (
	sourceLive   = "live"
	sourceUpload = "upload"
)

// CallRecord is everything kept about one call.
type CallRecord struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Rep       string    `json:"rep"`
	Customer  string    `json:"customer"`
	Source    string    `json:"source"`
	State     string    `json:"state"`
	StartedAt time.Time `json:"started_at"`
	DurationS float64   `json:"duration_s"`
	// Progress is the share of an upload analyzed so far (0-1).
	Progress float64 `json:"progress,omitempty"`
	Error    string  `json:"error,omitempty"`
	HasAudio bool    `json:"has_audio"`
	// RepChannel is "right" for an upload whose rep is on the right.
	RepChannel string `json:"rep_channel,omitempty"`
	// Result is the full analysis: every metric and the segments, at the
	// top level of the JSON as `talkratio analyze` prints them.
	*vad.Result
	// Meter is the live meter sampled through the call, for replay.
	Meter *vad.Meter `json:"meter,omitempty"`
}

// CallSummary is a row of the call list.
type CallSummary struct {
	ID                   string    `json:"id"`
	Name                 string    `json:"name"`
	Rep                  string    `json:"rep"`
	Customer             string    `json:"customer"`
	Source               string    `json:"source"`
	State                string    `json:"state"`
	StartedAt            time.Time `json:"started_at"`
	DurationS            float64   `json:"duration_s"`
	Progress             float64   `json:"progress,omitempty"`
	ListenPct            *float64  `json:"listen_pct"`
	LongestRepMonologueS float64   `json:"longest_rep_monologue_s"`
	OnTarget             bool      `json:"on_target"`
	HasAudio             bool      `json:"has_audio"`
	Error                string    `json:"error,omitempty"`
}

// Summary is the record's row in the call list.
func (r *CallRecord) Summary() CallSummary {
	s := CallSummary{
		ID: r.ID, Name: r.Name, Rep: r.Rep, Customer: r.Customer, Source: r.Source, State: r.State,
		StartedAt: r.StartedAt, DurationS: r.DurationS, Progress: r.Progress, HasAudio: r.HasAudio, Error: r.Error,
	}
	if m := r.Result; m != nil {
		s.ListenPct = m.ListenPct
		s.LongestRepMonologueS = m.LongestRepMonologue.Dur
		s.OnTarget = m.OnTarget
	}
	return s
}

// ListQuery filters, sorts and pages the call list.
type ListQuery struct {
	Rep          string    // exact rep name, case-insensitive; "" for all
	From, To     time.Time // started in [From, To); zero for open ends
	Sort         string    // a sortKey column; "" for started_at
	Asc          bool      // ascending; the default is newest/largest first
	Offset, Size int
}

// sortKey returns the comparison for a sortable column, nil for others.
func sortKey(column string) func(a, b *CallSummary) int {
	switch column {
	case "", "started_at":
		return func(a, b *CallSummary) int { return a.StartedAt.Compare(b.StartedAt) }
	case "duration_s":
		return func(a, b *CallSummary) int { return cmpFloat(a.DurationS, b.DurationS) }
	case "listen_pct":
		return func(a, b *CallSummary) int { return cmpFloat(listenOr(a), listenOr(b)) }
	case "longest_rep_monologue_s":
		return func(a, b *CallSummary) int { return cmpFloat(a.LongestRepMonologueS, b.LongestRepMonologueS) }
	case "rep":
		return func(a, b *CallSummary) int { return strings.Compare(strings.ToLower(a.Rep), strings.ToLower(b.Rep)) }
	case "name":
		return func(a, b *CallSummary) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) }
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// listenOr sorts calls without a listen % (nobody spoke) below all others.
func listenOr(s *CallSummary) float64 {
	if s.ListenPct == nil {
		return -1
	}
	return *s.ListenPct
}

func (q ListQuery) match(r *CallRecord) bool {
	if q.Rep != "" && !strings.EqualFold(q.Rep, r.Rep) {
		return false
	}
	if !q.From.IsZero() && r.StartedAt.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !r.StartedAt.Before(q.To) {
		return false
	}
	return true
}

// ErrNotFound is returned for an unknown call id.
var ErrNotFound = errors.New("no such call")

// Store keeps calls. The embedded default is a data directory (DiskStore);
// a multi-node deployment can put a shared database behind the same
// methods.
type Store interface {
	// Put creates or replaces a record. A reader never sees a record
	// half written.
	Put(r *CallRecord) error
	// Get returns a record or ErrNotFound.
	Get(id string) (*CallRecord, error)
	// List returns the records matching q, newest first, one page of them,
	// and how many match in all.
	List(q ListQuery) ([]CallSummary, int, error)
	// Delete removes a record and its audio, or returns ErrNotFound.
	Delete(id string) error
}

// MemStore is a Store in memory, for tests and for running without a data
// directory.
type MemStore struct {
	mu    sync.Mutex
	calls map[string]*CallRecord
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{calls: map[string]*CallRecord{}} }

// Put implements Store.
func (s *MemStore) Put(r *CallRecord) error {
	c := *r
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[r.ID] = &c
	return nil
}

// Get implements Store.
func (s *MemStore) Get(id string) (*CallRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.calls[id]
	if !ok {
		return nil, ErrNotFound
	}
	c := *r
	return &c, nil
}

// List implements Store.
func (s *MemStore) List(q ListQuery) ([]CallSummary, int, error) {
	s.mu.Lock()
	var rows []CallSummary
	for _, r := range s.calls {
		if q.match(r) {
			rows = append(rows, r.Summary())
		}
	}
	s.mu.Unlock()
	sortRows(rows, q)
	return page(rows, q), len(rows), nil
}

// Delete implements Store.
func (s *MemStore) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[id]; !ok {
		return ErrNotFound
	}
	delete(s.calls, id)
	return nil
}

// sortRows orders rows as the query asks (newest first by default), ties
// by start time and then id, so that pages are stable.
func sortRows(rows []CallSummary, q ListQuery) {
	key := sortKey(q.Sort)
	if key == nil {
		key = sortKey("started_at")
	}
	slices.SortFunc(rows, func(a, b CallSummary) int {
		c := key(&a, &b)
		if c == 0 {
			c = a.StartedAt.Compare(b.StartedAt)
		}
		if !q.Asc {
			c = -c
		}
		if c == 0 {
			c = strings.Compare(a.ID, b.ID)
		}
		return c
	})
}

func page(rows []CallSummary, q ListQuery) []CallSummary {
	lo := min(max(q.Offset, 0), len(rows))
	hi := len(rows)
	if q.Size > 0 {
		hi = min(lo+q.Size, len(rows))
	}
	return rows[lo:hi]
}
