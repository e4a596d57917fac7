package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// SourceFile is an opened audio file of any format this package reads.
type SourceFile interface {
	Source
	// Frames is the length the file declares, in samples per channel, or
	// -1 if it does not say.
	Frames() int64
	// Duration is Frames at the sample rate, or 0 if unknown.
	Duration() time.Duration
	Close() error
}

var (
	_ SourceFile = (*File)(nil)
	_ SourceFile = (*FLACFile)(nil)
)

// FLACFile is a FLACReader over an opened file; Close closes it.
type FLACFile struct {
	*FLACReader
	f *os.File
}

// OpenFLAC opens and parses a FLAC file. Like OpenWAV, its errors leave
// the path out for the caller to add.
func OpenFLAC(path string) (*FLACFile, error) {
	f, size, err := openRegular(path, "flac")
	if err != nil {
		return nil, err
	}
	r, err := NewFLACReader(pathlessFile{f}, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &FLACFile{FLACReader: r, f: f}, nil
}

// Close closes the underlying file.
func (f *FLACFile) Close() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("flac: close: %w", stripPath(err))
	}
	return nil
}

// Open opens a WAV or FLAC file, telling them apart by their first bytes
// rather than by the name, which uploads do not make trustworthy. Anything
// that is not FLAC goes to the WAV reader, whose errors already say what
// other kinds of file look like.
func Open(path string) (SourceFile, error) {
	f, size, err := openRegular(path, "audio")
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		f.Close()
		return nil, fmt.Errorf("audio: open: %w", stripPath(err))
	}
	// Put the sniffed bytes back: by seeking on a file, by replaying them
	// on a pipe.
	var r io.Reader = pathlessFile{f}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		r = io.MultiReader(bytes.NewReader(magic[:n]), pathlessFile{f})
	}
	if string(magic[:n]) == flacMagic {
		fr, err := NewFLACReader(r, size)
		if err != nil {
			f.Close()
			return nil, err
		}
		return &FLACFile{FLACReader: fr, f: f}, nil
	}
	wr, err := NewWAVReader(r, size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{WAVReader: wr, f: f}, nil
}

// openRegular opens path for reading and returns its size when it is a
// regular file (-1 otherwise), refusing directories. what prefixes errors.
func openRegular(path, what string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: open: %w", what, stripPath(err))
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			f.Close()
			return nil, 0, errors.New(what + ": open: is a directory")
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	return f, size, nil
}
