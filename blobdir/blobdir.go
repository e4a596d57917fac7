// Package blobdir keeps blobs as files in a local directory: the default
// blob store, with no other service. Each blob is written to a temporary
// file, synced, and renamed into place, so a reader never sees half of one.
package blobdir

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"talkratio/call"
)

// Store is a call.BlobStore in a directory.
type Store struct {
	dir string
}

var _ call.BlobStore = (*Store)(nil)

// tmpDir is where blobs are written before their rename, under the
// store's directory (so the rename stays on one file system).
const tmpDir = ".tmp"

// Open opens (creating if needed) a store in dir. A blob that was being
// written when the process stopped (a crash, a power cut) is not thrown
// away: it is kept, as far as it got, under PartialPrefix+key, for the
// layer above to recover (a live call's recording) or drop (an upload
// being received). Only what cannot be told apart is removed.
func Open(dir string) (*Store, error) {
	s := &Store{dir: dir}
	tmp := filepath.Join(dir, tmpDir)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("blob dir: %w", err)
	}
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return nil, fmt.Errorf("blob dir: %w", stripPath(err))
	}
	for _, e := range ents {
		old := filepath.Join(tmp, e.Name())
		key, ok := keyOfTemp(e.Name())
		dst, err := s.path(PartialPrefix + key)
		if ok && err == nil && os.MkdirAll(filepath.Dir(dst), 0o750) == nil && os.Rename(old, dst) == nil {
			continue
		}
		if err := os.RemoveAll(old); err != nil {
			return nil, fmt.Errorf("blob dir: %w", stripPath(err))
		}
	}
	return s, nil
}

// PartialPrefix is where a blob whose writing was cut short is kept.
const PartialPrefix = call.PartialBlobPrefix

// A temporary file is named after the key it is for, so that what a crash
// left can be told apart: "blob-" + escaped key + "~" + random.
func tempPattern(key string) string { return "blob-" + url.PathEscape(key) + "~*" }

func keyOfTemp(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "blob-")
	i := strings.LastIndexByte(rest, '~')
	if !ok || i <= 0 {
		return "", false
	}
	key, err := url.PathUnescape(rest[:i])
	return key, err == nil && !strings.HasPrefix(key, PartialPrefix)
}

// path maps a key to its file, refusing keys that would leave the
// directory or name its temporary files.
func (s *Store) path(key string) (string, error) {
	clean := path.Clean(key)
	if key == "" || clean != key || path.IsAbs(key) || strings.HasPrefix(key, "../") || key == ".." ||
		strings.HasPrefix(key, tmpDir) || strings.ContainsRune(key, '\\') {
		return "", fmt.Errorf("blob key %q: %w", key, call.ErrNotFound)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Create implements call.BlobStore.
func (s *Store) Create(_ context.Context, key string) (call.AudioWriter, error) {
	dst, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Join(s.dir, tmpDir), tempPattern(key))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", key, err)
	}
	return &writer{File: f, dst: dst}, nil
}

// Open implements call.BlobStore.
func (s *Store) Open(_ context.Context, key string) (call.Blob, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	return OpenFile(p)
}

// Move implements call.BlobStore.
func (s *Store) Move(_ context.Context, from, to string) error {
	src, err := s.path(from)
	if err != nil {
		return err
	}
	dst, err := s.path(to)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("move blob %s: %w", from, err)
	}
	if err := os.Rename(src, dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return call.ErrNotFound
		}
		return fmt.Errorf("move blob %s: %w", from, stripPath(err))
	}
	return syncDir(filepath.Dir(dst))
}

// Delete implements call.BlobStore.
func (s *Store) Delete(_ context.Context, key string) error {
	p, err := s.path(key)
	if err != nil {
		return nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob %s: %w", key, stripPath(err))
	}
	return nil
}

// Usage implements call.BlobUsage: the blobs under prefix and their bytes,
// by a walk of their directory (blobs being written are not counted).
func (s *Store) Usage(ctx context.Context, prefix string) (int, int64, error) {
	keys, err := s.List(ctx, prefix)
	if err != nil {
		return 0, 0, err
	}
	var total int64
	n := 0
	for _, k := range keys {
		p, err := s.path(k)
		if err != nil {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			continue // deleted since the listing
		}
		n++
		total += st.Size()
	}
	return n, total, nil
}

// List implements call.BlobStore.
func (s *Store) List(_ context.Context, prefix string) ([]string, error) {
	// Walk only the deepest directory the prefix names.
	root := path.Dir(prefix + "x")
	start := filepath.Join(s.dir, filepath.FromSlash(root))
	var out []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(s.dir, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if key == tmpDir {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list blobs %s: %w", prefix, stripPath(err))
	}
	sort.Strings(out)
	return out, nil
}

// writer is a blob being written: a temporary file until Commit.
type writer struct {
	*os.File
	dst  string
	done bool
}

func (w *writer) Commit() error {
	if w.done {
		return errors.New("blob already committed or aborted")
	}
	w.done = true
	err := w.Sync()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(w.dst), 0o750)
	}
	if err == nil {
		err = os.Rename(w.Name(), w.dst)
	}
	if err != nil {
		os.Remove(w.Name())
		return fmt.Errorf("commit blob: %w", stripPath(err))
	}
	return syncDir(filepath.Dir(w.dst))
}

func (w *writer) Abort() {
	if !w.done {
		w.done = true
		w.Close()
		os.Remove(w.Name())
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return stripPath(err)
	}
	defer d.Close()
	return stripPath(d.Sync())
}

// file is a blob opened for reading. Its errors carry no path: what is
// read here may end up in a message to a client.
type file struct {
	f    *os.File
	size int64
	mod  time.Time
}

// OpenFile opens a local file as a call.Blob (ErrNotFound if missing).
func OpenFile(p string) (call.Blob, error) {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, call.ErrNotFound
	}
	if err != nil {
		return nil, stripPath(err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, stripPath(err)
	}
	if st.IsDir() {
		f.Close()
		return nil, call.ErrNotFound
	}
	return &file{f: f, size: st.Size(), mod: st.ModTime()}, nil
}

func (b *file) Read(p []byte) (int, error) {
	n, err := b.f.Read(p)
	if err != nil && err != io.EOF {
		err = stripPath(err)
	}
	return n, err
}

func (b *file) Seek(off int64, whence int) (int64, error) {
	n, err := b.f.Seek(off, whence)
	return n, stripPath(err)
}

func (b *file) Close() error       { return b.f.Close() }
func (b *file) Size() int64        { return b.size }
func (b *file) ModTime() time.Time { return b.mod }

// stripPath unwraps *fs.PathError, keeping errors.Is(err, fs.ErrNotExist).
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
