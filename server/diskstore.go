package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"talkratio/vad"
)

// DiskStore keeps calls in a data directory, with no other service:
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
// rebuilt from the records at start.
type DiskStore struct {
	dir string
	log *slog.Logger

	mu   sync.Mutex
	rows map[string]CallSummary
}

// Store file names.
const (
	recordFile = "call.json"
	audioFile  = "audio.wav"
)

// OpenDiskStore opens (creating if needed) a store in dir and loads its
// index. Leftovers of an interrupted write are removed.
func OpenDiskStore(dir string, log *slog.Logger) (*DiskStore, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &DiskStore{dir: dir, log: log, rows: map[string]CallSummary{}}
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
		if !e.IsDir() || !callIDPattern.MatchString(id) {
			continue
		}
		rec, err := s.read(id)
		switch {
		case errors.Is(err, ErrNotFound):
			// A call directory without a record: its first write never
			// finished. Nothing in it was ever listed.
			log.Warn("removing incomplete call", "id", id)
			os.RemoveAll(s.callDir(id))
		case err != nil:
			log.Error("unreadable call record, left in place", "id", id, "err", err)
		default:
			s.rows[id] = rec.Summary()
		}
	}
	return s, nil
}

func (s *DiskStore) callsDir() string         { return filepath.Join(s.dir, "calls") }
func (s *DiskStore) tmpDir() string           { return filepath.Join(s.dir, "tmp") }
func (s *DiskStore) callDir(id string) string { return filepath.Join(s.callsDir(), id) }

// StagingDir is where uploads are received before they are accepted.
func (s *DiskStore) StagingDir() string { return s.tmpDir() }

// checkID keeps ids from ever naming a path outside the store.
func checkID(id string) error {
	if !callIDPattern.MatchString(id) {
		return ErrNotFound
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

// Put implements Store.
func (s *DiskStore) Put(r *CallRecord) error {
	if err := checkID(r.ID); err != nil {
		return fmt.Errorf("store call %q: bad id", r.ID)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("store call %s: %w", r.ID, err)
	}
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

func (s *DiskStore) read(id string) (*CallRecord, error) {
	b, err := os.ReadFile(filepath.Join(s.callDir(id), recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read call %s: %w", id, err)
	}
	var r CallRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read call %s: %w", id, err)
	}
	r.applyListenRule()
	return &r, nil
}

// applyListenRule judges a record stored before the one verdict rule as it
// judges a new one: those kept the listen % to a hundredth (0 when nobody
// spoke) and judged the unrounded figure.
func (r *CallRecord) applyListenRule() {
	m := r.Result
	if m == nil {
		return
	}
	if m.RepTalkS+m.CustomerTalkS == 0 {
		m.ListenPct = nil
	} else if m.ListenPct != nil {
		v := vad.RoundListen(*m.ListenPct)
		m.ListenPct = &v
	}
	m.OnTarget = vad.OnTarget(m.ListenPct, m.TargetListen)
}

// Get implements Store.
func (s *DiskStore) Get(id string) (*CallRecord, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return s.read(id)
}

// List implements Store.
func (s *DiskStore) List(q ListQuery) ([]CallSummary, int, error) {
	s.mu.Lock()
	rows := make([]CallSummary, 0, len(s.rows))
	for _, r := range s.rows {
		if q.matchSummary(&r) {
			rows = append(rows, r)
		}
	}
	s.mu.Unlock()
	sortRows(rows, q)
	return page(rows, q), len(rows), nil
}

// Delete implements Store. The call's directory is first renamed into
// tmp/, so that it vanishes at once even if removing its files is slow or
// interrupted.
func (s *DiskStore) Delete(id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	s.mu.Lock()
	_, ok := s.rows[id]
	delete(s.rows, id)
	s.mu.Unlock()
	if !ok {
		return ErrNotFound
	}
	trash := filepath.Join(s.tmpDir(), "deleted-"+id+"-"+newID(4))
	if err := os.Rename(s.callDir(id), trash); err != nil {
		return fmt.Errorf("delete call %s: %w", id, err)
	}
	if err := syncDir(s.callsDir()); err != nil {
		s.log.Warn("sync after delete", "err", err)
	}
	return os.RemoveAll(trash)
}

// NewAudio implements AudioStore: the audio is written to tmp/ and only
// moved next to the record on Commit.
func (s *DiskStore) NewAudio(id string) (AudioFile, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmpDir(), "audio-"+id+"-*.wav")
	if err != nil {
		return nil, fmt.Errorf("audio for %s: %w", id, err)
	}
	return &diskAudio{File: f, dst: filepath.Join(s.callDir(id), audioFile), dir: s.callDir(id)}, nil
}

// OpenAudio implements AudioStore.
func (s *DiskStore) OpenAudio(id string) (*os.File, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.callDir(id), audioFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Adopt moves a staged file (from StagingDir) into a call's directory under
// name, for files an analysis needs after a restart.
func (s *DiskStore) Adopt(id, staged, name string) (string, error) {
	if err := checkID(id); err != nil {
		return "", err
	}
	if err := os.MkdirAll(s.callDir(id), 0o750); err != nil {
		return "", err
	}
	dst := filepath.Join(s.callDir(id), name)
	if err := os.Rename(staged, dst); err != nil {
		return "", err
	}
	return dst, syncDir(s.callDir(id))
}

// Uploads lists the upload files kept for a call (see Adopt).
func (s *DiskStore) Uploads(id string) ([]string, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	m, err := filepath.Glob(filepath.Join(s.callDir(id), "upload-*"))
	return m, err
}

// diskAudio is an audio file being written.
type diskAudio struct {
	*os.File
	dst, dir string
	done     bool
}

func (a *diskAudio) Commit() error {
	if a.done {
		return errors.New("audio already committed or aborted")
	}
	a.done = true
	if err := a.Sync(); err != nil {
		a.abort()
		return err
	}
	if err := a.Close(); err != nil {
		os.Remove(a.Name())
		return err
	}
	if err := os.MkdirAll(a.dir, 0o750); err != nil {
		os.Remove(a.Name())
		return err
	}
	if err := os.Rename(a.Name(), a.dst); err != nil {
		os.Remove(a.Name())
		return err
	}
	return syncDir(a.dir)
}

func (a *diskAudio) Abort() {
	if !a.done {
		a.done = true
		a.abort()
	}
}

func (a *diskAudio) abort() {
	a.Close()
	os.Remove(a.Name())
}

// AudioFile is a call's audio being written: a seekable file (the WAV
// header is patched at the end) that becomes the call's audio on Commit,
// or disappears on Abort.
type AudioFile interface {
	io.WriteSeeker
	Commit() error
	Abort()
}

// AudioStore is a Store that also keeps audio.
type AudioStore interface {
	Store
	NewAudio(id string) (AudioFile, error)
	OpenAudio(id string) (*os.File, error)
}

// matchSummary is match for list rows.
func (q ListQuery) matchSummary(r *CallSummary) bool {
	return q.match(&CallRecord{Rep: r.Rep, StartedAt: r.StartedAt})
}
