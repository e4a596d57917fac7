package flac

import (
	"bytes"
	"fmt"
	"io"

	"talkratio/audio"
)

var _ audio.SourceFile = (*File)(nil)

// File is a Reader over an opened file; Close closes it.
type File struct {
	*Reader
	f *audio.Opened
}

// Open opens and parses a FLAC file. Like audio.OpenWAV, its errors leave
// the path out for the caller to add.
func Open(path string) (*File, error) {
	f, err := audio.OpenRegular(path, "flac")
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, f.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{Reader: r, f: f}, nil
}

// Close closes the underlying file.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("flac: close: %w", err)
	}
	return nil
}

// OpenAny opens a FLAC or a WAV file, telling them apart by their first
// bytes rather than by the name, which uploads do not make trustworthy.
// Anything that is not FLAC goes to the WAV reader, whose errors already
// say what other kinds of file look like. It lives here rather than in
// package audio because it needs both readers, and audio knows no FLAC.
func OpenAny(path string) (audio.SourceFile, error) {
	f, err := audio.OpenRegular(path, "audio")
	if err != nil {
		return nil, err
	}
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		f.Close()
		return nil, fmt.Errorf("audio: open: %w", err)
	}
	// Put the sniffed bytes back: by seeking on a file, by replaying them
	// on a pipe.
	var r io.Reader = f
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		r = io.MultiReader(bytes.NewReader(magic[:n]), f)
	}
	if string(magic[:n]) == flacMagic {
		fr, err := NewReader(r, f.Size())
		if err != nil {
			f.Close()
			return nil, err
		}
		return &File{Reader: fr, f: f}, nil
	}
	wr, err := audio.NewWAVReader(r, f.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	return audio.NewFile(wr, f), nil
}
