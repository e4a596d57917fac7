package audio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// File is a WAVReader over an opened file; Close closes it.
type File struct {
	*WAVReader
	f *os.File
}

// OpenWAV opens and parses a WAV file. Errors name the problem but not the
// path (the os package's path is stripped too), so callers can add the path,
// or a user-facing upload name, exactly once.
func OpenWAV(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: open: %w", stripPath(err))
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			f.Close()
			return nil, errors.New("wav: open: is a directory")
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	w, err := NewWAVReader(pathlessFile{f}, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{WAVReader: w, f: f}, nil
}

// stripPath unwraps *fs.PathError, keeping errors.Is(err, fs.ErrNotExist) etc.
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// pathlessFile strips the path from read and seek errors, so errors
// surfacing later from Read follow the same rule as OpenWAV's.
type pathlessFile struct{ f *os.File }

func (p pathlessFile) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	if err != nil && err != io.EOF {
		err = stripPath(err)
	}
	return n, err
}

func (p pathlessFile) Seek(off int64, whence int) (int64, error) {
	n, err := p.f.Seek(off, whence)
	return n, stripPath(err)
}

// Close closes the underlying file.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("wav: close: %w", stripPath(err))
	}
	return nil
}
