// Package inmem implements the call domain in memory: a Store for tests and
// for a service without a data directory, and the Bus that carries
// snapshots from live calls to the viewers of this process.
package inmem

import (
	"context"
	"fmt"
	"sync"

	"talkratio/call"
)

// Store is a call.Store in memory. It keeps records, not files: with it
// the service takes no uploads and keeps no audio.
type Store struct {
	mu    sync.Mutex
	calls map[string]*call.Record
}

var _ call.Store = (*Store)(nil)

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{calls: map[string]*call.Record{}} }

// Put implements call.Store.
func (s *Store) Put(_ context.Context, r *call.Record) error {
	if !call.ValidID(r.ID) {
		return fmt.Errorf("store call %q: bad id", r.ID)
	}
	c := *r
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[r.ID] = &c
	return nil
}

// Get implements call.Store.
func (s *Store) Get(_ context.Context, id string) (*call.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.calls[id]
	if !ok {
		return nil, call.ErrNotFound
	}
	c := *r
	return &c, nil
}

// List implements call.Store.
func (s *Store) List(_ context.Context, q call.ListQuery) ([]call.Summary, int, error) {
	rows := s.rows(q)
	call.Sort(rows, q)
	return call.Page(rows, q), len(rows), nil
}

func (s *Store) rows(q call.ListQuery) []call.Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []call.Summary
	for _, r := range s.calls {
		if sum := r.Summary(); q.Matches(&sum) {
			rows = append(rows, sum)
		}
	}
	return rows
}

// Delete implements call.Store.
func (s *Store) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[id]; !ok {
		return call.ErrNotFound
	}
	delete(s.calls, id)
	return nil
}

// RepStats implements call.Store.
func (s *Store) RepStats(_ context.Context, rep string) ([]call.RepStats, error) {
	return call.RepStatsOf(s.rows(call.ListQuery{Rep: rep})), nil
}
