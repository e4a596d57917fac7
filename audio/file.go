package audio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// SourceFile is an opened audio file: a WAV (File) here, a FLAC in package
// audio/flac.
type SourceFile interface {
	Source
	// Frames is the length the file declares, in samples per channel, or
	// -1 if it does not say.
	Frames() int64
	// Duration is Frames at the sample rate, or 0 if unknown.
	Duration() time.Duration
	Close() error
}

var _ SourceFile = (*File)(nil)

// File is a WAVReader over an opened file; Close closes it.
type File struct {
	*WAVReader
	f *Opened
}

// OpenWAV opens and parses a WAV file. Errors name the problem but not the
// path (the os package's path is stripped too), so callers can add the path,
// or a user-facing upload name, exactly once.
func OpenWAV(path string) (*File, error) {
	f, err := OpenRegular(path, "wav")
	if err != nil {
		return nil, err
	}
	w, err := NewWAVReader(f, f.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{WAVReader: w, f: f}, nil
}

// NewFile makes a File of a WAVReader over f, for openers that have read
// the first bytes themselves (audio/flac's OpenAny). Close closes f.
func NewFile(w *WAVReader, f *Opened) *File { return &File{WAVReader: w, f: f} }

// Close closes the underlying file.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("wav: close: %w", err)
	}
	return nil
}

// Opened is a file opened for a decoder, by OpenRegular. Its read, seek and
// close errors carry no path, so that errors surfacing later from a
// decoder's Read follow the same rule as the open's.
type Opened struct {
	f    *os.File
	size int64
}

// OpenRegular opens path for reading, refusing directories. Its errors,
// prefixed with what ("wav", "flac"), leave the path out for the caller to
// add.
func OpenRegular(path, what string) (*Opened, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: open: %w", what, stripPath(err))
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			f.Close()
			return nil, errors.New(what + ": open: is a directory")
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	return &Opened{f: f, size: size}, nil
}

// Size is the file's length when it is a regular file, -1 otherwise (a
// pipe), as the readers' size argument wants it.
func (o *Opened) Size() int64 { return o.size }

func (o *Opened) Read(b []byte) (int, error) {
	n, err := o.f.Read(b)
	if err != nil && err != io.EOF {
		err = stripPath(err)
	}
	return n, err
}

func (o *Opened) Seek(off int64, whence int) (int64, error) {
	n, err := o.f.Seek(off, whence)
	return n, stripPath(err)
}

// Close closes the file.
func (o *Opened) Close() error { return stripPath(o.f.Close()) }

// stripPath unwraps *fs.PathError, keeping errors.Is(err, fs.ErrNotExist) etc.
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
