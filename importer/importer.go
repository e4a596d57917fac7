// Package importer imports a data directory written by an earlier
// talkratio (one directory per call: call.json, audio.wav, upload-*.wav)
// into a call library: records into a call.Store, files into the audio
// and staging built on a call.BlobStore. The old directory is only read.
//
// An import is idempotent and resumable: a call already in the store
// with its audio is skipped, a record is stored only after its files,
// so an import stopped anywhere and run again finishes the job. After
// the import every call is read back and compared: its record (every id
// and metric, as JSON) and every byte of its audio.
package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"talkratio/blobfiles"
	"talkratio/call"
)

// Config is one import.
type Config struct {
	From  string         // the old data directory
	Store call.Store     // where records go
	Blobs call.BlobStore // where audio and upload files go
	Log   *slog.Logger
	// Batch is how many records are stored per transaction (if the store
	// takes batches); default 500.
	Batch int
	// Every is how often progress is logged; default 2 s.
	Every time.Duration
	// NoVerify skips reading everything back.
	NoVerify bool
}

// Report says what an import did.
type Report struct {
	Found, Imported, Skipped, Failed, Verified int
	Files                                      int // audio and upload files copied
}

func (r Report) String() string {
	return fmt.Sprintf("%d calls found: %d imported, %d already there, %d failed; %d files copied; %d verified",
		r.Found, r.Imported, r.Skipped, r.Failed, r.Files, r.Verified)
}

// oldCall is a call directory of the old format.
type oldCall struct {
	id, dir string
}

// Run imports cfg.From. It returns an error if any call could not be
// imported or did not read back the same: nothing is lost silently.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if cfg.Every <= 0 {
		cfg.Every = 2 * time.Second
	}
	var rep Report
	calls, err := list(cfg.From)
	if err != nil {
		return rep, err
	}
	rep.Found = len(calls)
	cfg.Log.Info("importing", "from", cfg.From, "calls", len(calls))
	last := time.Now()
	failed := map[string]bool{}
	var batch []*call.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := putAll(ctx, cfg.Store, batch); err != nil {
			return err
		}
		rep.Imported += len(batch)
		batch = batch[:0]
		return nil
	}
	for i, c := range calls {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rec, skip, n, err := prepare(ctx, cfg, c)
		rep.Files += n
		switch {
		case err != nil:
			rep.Failed++
			failed[c.id] = true
			cfg.Log.Error("call not imported", "id", c.id, "err", err)
		case skip:
			rep.Skipped++
		default:
			batch = append(batch, rec)
			if len(batch) >= cfg.Batch {
				if err := flush(); err != nil {
					return rep, err
				}
			}
		}
		if time.Since(last) >= cfg.Every {
			last = time.Now()
			cfg.Log.Info("import progress", "done", i+1, "of", len(calls), "imported", rep.Imported+len(batch), "skipped", rep.Skipped, "failed", rep.Failed)
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	if !cfg.NoVerify {
		for i, c := range calls {
			if failed[c.id] {
				continue
			}
			if err := verify(ctx, cfg, c); err != nil {
				rep.Failed++
				cfg.Log.Error("call does not read back the same", "id", c.id, "err", err)
				continue
			}
			rep.Verified++
			if time.Since(last) >= cfg.Every {
				last = time.Now()
				cfg.Log.Info("verify progress", "done", i+1, "of", len(calls))
			}
		}
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%d calls failed (see above); run the import again once fixed", rep.Failed)
	}
	return rep, nil
}

// list finds the call directories, sorted by id.
func list(from string) ([]oldCall, error) {
	ents, err := os.ReadDir(filepath.Join(from, "calls"))
	if err != nil {
		return nil, fmt.Errorf("old data dir: %w", err)
	}
	var out []oldCall
	for _, e := range ents {
		if e.IsDir() && call.ValidID(e.Name()) {
			out = append(out, oldCall{id: e.Name(), dir: filepath.Join(from, "calls", e.Name())})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// read reads an old record as the old store did, and as it is to be
// kept: a live call there was never ended (its service stopped).
func read(c oldCall) (*call.Record, error) {
	b, err := os.ReadFile(filepath.Join(c.dir, "call.json"))
	if err != nil {
		return nil, err
	}
	var r call.Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("call.json: %w", err)
	}
	if r.ID != c.id {
		return nil, fmt.Errorf("call.json names id %q", r.ID)
	}
	r.ApplyListenRule()
	if r.State == call.StateLive {
		r.Interrupt()
	}
	return &r, nil
}

// files maps an old call's files to their keys in the blob store.
func files(c oldCall) (map[string]string, error) {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range ents {
		n := e.Name()
		switch {
		case n == "call.json" || strings.HasPrefix(n, ".tmp-"):
		case n == "audio.wav":
			// Served as it is; new audio for the call replaces it.
			out[n] = blobfiles.LegacyAudioKey(c.id)
		case strings.HasPrefix(n, "upload-") && strings.HasSuffix(n, ".wav"):
			out[n] = blobfiles.KeptKey(c.id, strings.TrimSuffix(strings.TrimPrefix(n, "upload-"), ".wav"))
		default:
			return nil, fmt.Errorf("file %s: this talkratio does not know it", n)
		}
	}
	return out, nil
}

// prepare copies a call's files that are not in the blob store yet and
// returns its record to store, or skip if it is stored already.
func prepare(ctx context.Context, cfg Config, c oldCall) (rec *call.Record, skip bool, copied int, err error) {
	rec, err = read(c)
	if err != nil {
		return nil, false, 0, err
	}
	fs, err := files(c)
	if err != nil {
		return nil, false, 0, err
	}
	have := true
	for name, key := range fs {
		ok, err := present(ctx, cfg.Blobs, key, filepath.Join(c.dir, name))
		if err != nil {
			return nil, false, copied, err
		}
		if ok {
			continue
		}
		have = false
		if err := copyFile(ctx, cfg.Blobs, key, filepath.Join(c.dir, name)); err != nil {
			return nil, false, copied, err
		}
		copied++
	}
	if have {
		if _, err := cfg.Store.Get(ctx, c.id); err == nil {
			return rec, true, copied, nil
		} else if !errors.Is(err, call.ErrNotFound) {
			return nil, false, copied, err
		}
	}
	return rec, false, copied, nil
}

// present reports whether key holds a blob the size of the file at p (a
// copy cut short is never committed, so the size tells).
func present(ctx context.Context, b call.BlobStore, key, p string) (bool, error) {
	st, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	r, err := b.Open(ctx, key)
	if errors.Is(err, call.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer r.Close()
	return r.Size() == st.Size(), nil
}

func copyFile(ctx context.Context, b call.BlobStore, key, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := b.Create(ctx, key)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		return fmt.Errorf("copy %s: %w", filepath.Base(p), err)
	}
	return w.Commit()
}

func putAll(ctx context.Context, s call.Store, recs []*call.Record) error {
	if bp, ok := s.(call.BatchPutter); ok {
		return bp.PutBatch(ctx, recs)
	}
	for _, r := range recs {
		if err := s.Put(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// verify reads a call back and compares it with the old directory's.
func verify(ctx context.Context, cfg Config, c oldCall) error {
	want, err := read(c)
	if err != nil {
		return err
	}
	got, err := cfg.Store.Get(ctx, c.id)
	if err != nil {
		return err
	}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		return errors.New("the record differs")
	}
	fs, err := files(c)
	if err != nil {
		return err
	}
	for name, key := range fs {
		if err := sameBytes(ctx, cfg.Blobs, key, filepath.Join(c.dir, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func sameBytes(ctx context.Context, b call.BlobStore, key, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := b.Open(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	x, y := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		n, err1 := io.ReadFull(f, x)
		m, err2 := io.ReadFull(r, y)
		if n != m || !bytes.Equal(x[:n], y[:m]) {
			return errors.New("the stored bytes differ")
		}
		if err1 == io.EOF || err1 == io.ErrUnexpectedEOF {
			if err2 == io.EOF || err2 == io.ErrUnexpectedEOF {
				return nil
			}
			return errors.New("the stored bytes differ")
		}
		if err1 != nil {
			return err1
		}
		if err2 != nil {
			return err2
		}
	}
}
