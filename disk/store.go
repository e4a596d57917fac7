// Package disk keeps the call library in a data directory, with no other
// service: records, audio and uploads, written crash-safe. It implements
// call.Store, call.AudioStore and call.Staging.
package disk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"talkratio/call"
	"talkratio/tally"
)

// Store keeps calls in a data directory:
//
//	DIR/calls/ID/call.json   the record: metadata and the full analysis
//	DIR/calls/ID/audio.wav   the call's audio (uploads; live calls with -record-audio)
//	DIR/calls/ID/upload-*    an upload's files until its analysis is done
//	DIR/tmp/                 files being received or written; emptied at start
//
// It is crash-safe: every file is written under tmp/ (or a temporary name),
// synced, and renamed into place, so a reader never sees a record or an
// audio file half written. A record that says "ended" only exists once its
// audio (if any) is complete. The list of calls is kept in memory and
// rebuilt from the records at start; a live call's record found there is
// one whose service stopped without ending it, and is marked interrupted.
type Store struct {
	dir string
	log *slog.Logger

	mu   sync.Mutex
	rows map[string]call.Summary
	// recMu makes a record's file and its row change together: a reader
	// that saw a record's new state in Get never finds the old one in
	// List, and two Puts of one record cannot leave file and row apart.
	recMu sync.RWMutex
}

var (
	_ call.Store      = (*Store)(nil)
	_ call.AudioStore = (*Store)(nil)
	_ call.Staging    = (*Store)(nil)
)

// File names.
const (
	recordFile = "call.json"
	audioFile  = "audio.wav"
)

// Open opens (creating if needed) a store in dir and loads its index.
// Leftovers of an interrupted write are removed; live calls of a service
// that stopped without ending them are marked interrupted.
func Open(dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Store{dir: dir, log: log, rows: map[string]call.Summary{}}
	if err := os.RemoveAll(s.tmpDir()); err != nil {
		return nil, fmt.Errorf("data dir: clean tmp: %w", err)
	}
	for _, d := range []string{s.callsDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
	}
	ents, err := os.ReadDir(s.callsDir())
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	for _, e := range ents {
		id := e.Name()
		if !e.IsDir() || !call.ValidID(id) {
			continue
		}
		rec, err := s.read(id)
		switch {
		case errors.Is(err, call.ErrNotFound):
			// A call directory without a record: its first write never
			// finished. Nothing in it was ever listed.
			log.Warn("removing incomplete call", "id", id)
			os.RemoveAll(s.callDir(id))
		case err != nil:
			// Listed, so that it can be seen and deleted; its record is
			// left as it is.
			log.Error("unreadable call record, left in place", "id", id, "err", err)
			s.rows[id] = call.Summary{ID: id, State: call.StateFailed, Error: call.ErrCorrupt.Error()}
		case rec.State == call.StateLive:
			s.interrupted(rec)
		default:
			s.rows[id] = rec.Summary()
		}
	}
	return s, nil
}

// interrupted keeps a live call whose service stopped without ending it,
// with the analysis of its last checkpoint, as interrupted: it is never
// listed as live again.
func (s *Store) interrupted(rec *call.Record) {
	rec.State = call.StateInterrupted
	if rec.Result != nil {
		if rec.Segments.Rep == nil {
			rec.Segments.Rep = []tally.Segment{}
		}
		if rec.Segments.Customer == nil {
			rec.Segments.Customer = []tally.Segment{}
		}
	}
	s.log.Warn("a live call was not ended by its service: kept as interrupted", "id", rec.ID, "duration_s", rec.DurationS)
	if err := s.Put(context.Background(), rec); err != nil {
		s.log.Error("mark call interrupted", "id", rec.ID, "err", err)
		s.rows[rec.ID] = rec.Summary()
	}
}

func (s *Store) callsDir() string         { return filepath.Join(s.dir, "calls") }
func (s *Store) tmpDir() string           { return filepath.Join(s.dir, "tmp") }
func (s *Store) callDir(id string) string { return filepath.Join(s.callsDir(), id) }

// checkID keeps ids from ever naming a path outside the store.
func checkID(id string) error {
	if !call.ValidID(id) {
		return call.ErrNotFound
	}
	return nil
}

// writeFileAtomic writes data to path via a synced temporary file in the
// same directory and a rename, then syncs the directory.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Put implements call.Store.
func (s *Store) Put(_ context.Context, r *call.Record) error {
	if err := checkID(r.ID); err != nil {
		return fmt.Errorf("store call %q: bad id", r.ID)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store call %s: %w", r.ID, err)
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if err := os.MkdirAll(s.callDir(r.ID), 0o750); err != nil {
		return fmt.Errorf("store call %s: %w", r.ID, err)
	}
	if err := writeFileAtomic(filepath.Join(s.callDir(r.ID), recordFile), b); err != nil {
		return fmt.Errorf("store call %s: %w", r.ID, err)
	}
	s.mu.Lock()
	s.rows[r.ID] = r.Summary()
	s.mu.Unlock()
	return nil
}

func (s *Store) read(id string) (*call.Record, error) {
	b, err := os.ReadFile(filepath.Join(s.callDir(id), recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, call.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call %s: %w", id, err)
	}
	var r call.Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read call %s: %w (%v)", id, call.ErrCorrupt, err)
	}
	r.ApplyListenRule()
	return &r, nil
}

// Get implements call.Store.
func (s *Store) Get(_ context.Context, id string) (*call.Record, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	s.recMu.RLock()
	defer s.recMu.RUnlock()
	return s.read(id)
}

// List implements call.Store.
func (s *Store) List(_ context.Context, q call.ListQuery) ([]call.Summary, int, error) {
	rows := s.matching(q)
	call.Sort(rows, q)
	return call.Page(rows, q), len(rows), nil
}

func (s *Store) matching(q call.ListQuery) []call.Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := make([]call.Summary, 0, len(s.rows))
	for _, r := range s.rows {
		if q.Matches(&r) {
			rows = append(rows, r)
		}
	}
	return rows
}

// RepStats implements call.Store.
func (s *Store) RepStats(_ context.Context, rep string) ([]call.RepStats, error) {
	return call.RepStatsOf(s.matching(call.ListQuery{Rep: rep})), nil
}

// Delete implements call.Store: the record goes with everything in its
// directory (audio, upload files). The directory is first renamed into
// tmp/, so that it vanishes at once even if removing its files is slow or
// interrupted.
func (s *Store) Delete(_ context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	s.recMu.Lock()
	s.mu.Lock()
	_, ok := s.rows[id]
	delete(s.rows, id)
	s.mu.Unlock()
	if !ok {
		s.recMu.Unlock()
		return call.ErrNotFound
	}
	trash := filepath.Join(s.tmpDir(), "deleted-"+id+"-"+call.NewID(4))
	err := os.Rename(s.callDir(id), trash)
	s.recMu.Unlock()
	if err != nil {
		return fmt.Errorf("delete call %s: %w", id, err)
	}
	if err := syncDir(s.callsDir()); err != nil {
		s.log.Warn("sync after delete", "err", err)
	}
	return os.RemoveAll(trash)
}
