package disk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"talkratio/call"
)

// CreateAudio implements call.AudioStore: the audio is written to tmp/ and
// only moved next to the record on Commit.
func (s *Store) CreateAudio(_ context.Context, id string) (call.AudioWriter, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.tmpDir(), "audio-"+id+"-*.wav")
	if err != nil {
		return nil, fmt.Errorf("audio for %s: %w", id, err)
	}
	return &audioWriter{File: f, dst: filepath.Join(s.callDir(id), audioFile), dir: s.callDir(id)}, nil
}

// OpenAudio implements call.AudioStore.
func (s *Store) OpenAudio(_ context.Context, id string) (call.Blob, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	return openBlob(filepath.Join(s.callDir(id), audioFile))
}

// DeleteAudio implements call.AudioStore.
func (s *Store) DeleteAudio(_ context.Context, id string) error {
	if err := checkID(id); err != nil {
		return nil
	}
	err := os.Remove(filepath.Join(s.callDir(id), audioFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// audioWriter is a call's audio being written.
type audioWriter struct {
	*os.File
	dst, dir string
	done     bool
}

func (a *audioWriter) Commit() error {
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

func (a *audioWriter) Abort() {
	if !a.done {
		a.done = true
		a.abort()
	}
}

func (a *audioWriter) abort() {
	a.Close()
	os.Remove(a.Name())
}

// blob is a file opened for reading. Its read and seek errors carry no
// path: what is read here may end up in a message to a client.
type blob struct {
	f    *os.File
	size int64
	mod  time.Time
}

func openBlob(path string) (*blob, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, call.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &blob{f: f, size: st.Size(), mod: st.ModTime()}, nil
}

func (b *blob) Read(p []byte) (int, error) {
	n, err := b.f.Read(p)
	if err != nil && err != io.EOF {
		err = stripPath(err)
	}
	return n, err
}

func (b *blob) Seek(off int64, whence int) (int64, error) {
	n, err := b.f.Seek(off, whence)
	return n, stripPath(err)
}

func (b *blob) Close() error       { return b.f.Close() }
func (b *blob) Size() int64        { return b.size }
func (b *blob) ModTime() time.Time { return b.mod }

// stripPath unwraps *fs.PathError, keeping errors.Is(err, fs.ErrNotExist).
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Stage implements call.Staging: the file is received into tmp/.
func (s *Store) Stage(_ context.Context, r io.Reader) (call.Staged, error) {
	f, err := os.CreateTemp(s.tmpDir(), "upload-*.wav")
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &staged{path: f.Name(), name: filepath.Base(f.Name()), s: s}, nil
}

// Kept implements call.Staging.
func (s *Store) Kept(_ context.Context, id string) (map[string]call.Staged, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(s.callDir(id), "upload-*"))
	if err != nil {
		return nil, err
	}
	out := map[string]call.Staged{}
	for _, p := range paths {
		part := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "upload-"), ".wav")
		out[part] = &staged{path: p, name: filepath.Base(p), s: s}
	}
	return out, nil
}

// staged is an uploaded file: in tmp/ until kept, then in its call's
// directory as upload-PART.wav.
type staged struct {
	path, name string
	s          *Store
}

func (f *staged) Name() string { return f.name }

func (f *staged) Open(context.Context) (call.Blob, error) { return openBlob(f.path) }

func (f *staged) Keep(_ context.Context, id, part string) error {
	if err := checkID(id); err != nil {
		return err
	}
	dir := f.s.callDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	dst := filepath.Join(dir, "upload-"+part+".wav")
	if err := os.Rename(f.path, dst); err != nil {
		return err
	}
	f.path = dst
	return syncDir(dir)
}

// Discard removes the file and, if it was kept with a call whose record
// was never written, the call's directory it leaves empty: a refused
// upload leaves nothing behind.
func (f *staged) Discard(context.Context) error {
	err := os.Remove(f.path)
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	if dir := filepath.Dir(f.path); dir != f.s.tmpDir() {
		_ = os.Remove(dir) // fails, as it should, while the directory holds anything
	}
	return stripPath(err)
}
