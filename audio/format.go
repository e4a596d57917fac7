package audio

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with %w so callers can tell "wrong kind of file"
// (try another decoder or tell the user) from "right kind, but damaged".
var (
	// ErrNotWAV means the input is not a RIFF/WAVE file at all.
	ErrNotWAV = errors.New("not a RIFF/WAVE file")
	// ErrUnsupported means a well-formed WAV uses a format this package does
	// not decode, or parameters outside the supported ranges.
	ErrUnsupported = errors.New("unsupported")
	// ErrTruncated means the input ends before what its headers declare, or
	// declares sizes the input cannot hold.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed means the headers contradict themselves.
	ErrMalformed = errors.New("malformed")
	// ErrSampleRateMismatch is returned by Merge when inputs disagree on rate;
	// resampling is deliberately not done here.
	ErrSampleRateMismatch = errors.New("sample rate mismatch")
)

// Encoding of the samples in a WAV data chunk.
type Encoding int

const (
	EncodingPCM   Encoding = iota + 1 // signed integer (8-bit is unsigned per WAV rules)
	EncodingFloat                     // IEEE 754 little-endian
	EncodingMuLaw                     // ITU-T G.711 mu-law
	EncodingALaw                      // ITU-T G.711 A-law
	EncodingFLAC                      // FLAC: lossless-compressed signed integer PCM
)

func (e Encoding) String() string {
	switch e {
	case EncodingPCM:
		return "PCM"
	case EncodingFloat:
		return "float"
	case EncodingMuLaw:
		return "mu-law"
	case EncodingALaw:
		return "A-law"
	case EncodingFLAC:
		return "FLAC"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Format describes the samples as they are stored on the wire. Read always
// yields float32 regardless; Format is for logging and sanity checks.
type Format struct {
	SampleRate    int
	Channels      int
	BitsPerSample int // container size per sample, e.g. 24 for 20-in-24 PCM
	Encoding      Encoding
}

func (f Format) String() string {
	return fmt.Sprintf("%d Hz, %d ch, %d-bit %s", f.SampleRate, f.Channels, f.BitsPerSample, f.Encoding)
}

// Limits on what a WAV may declare. They keep allocations bounded and reject
// files no phone or meeting recorder produces.
const (
	// MinSampleRate is narrowband telephony; anything lower cannot carry speech.
	MinSampleRate = 8000
	// MaxSampleRate covers studio recorders; higher rates add nothing for
	// speech analysis and are more likely a corrupt header.
	MaxSampleRate = 48000
	// MaxChannels is far above any call recording but keeps a frame (and so
	// the read buffer) small; 32 is also the number of bits in the
	// extensible channel mask.
	MaxChannels = 32
)

// Source is a stream of deinterleaved float32 samples in [-1, 1].
type Source interface {
	Format() Format
	// Read fills dst[c][:n] for every channel c (len(dst) == Format().Channels,
	// all dst[c] the same length) and returns n. At the end it returns 0,
	// io.EOF. It never returns n > 0 together with a non-nil error.
	Read(dst [][]float32) (n int, err error)
}

// CheckDst validates the caller's buffers once per Read so that the decode
// loops can index without re-checking shapes, and returns the samples per
// channel asked for. Every Source here and in audio/flac starts its Read
// with it, so all agree on what a bad dst is.
func CheckDst(dst [][]float32, channels int) (int, error) {
	if channels <= 0 {
		return 0, errors.New("read: source has no channels (not constructed by this package?)")
	}
	if len(dst) != channels {
		return 0, fmt.Errorf("read: dst has %d channels, source has %d", len(dst), channels)
	}
	n := len(dst[0])
	for c := 1; c < len(dst); c++ {
		if len(dst[c]) != n {
			return 0, fmt.Errorf("read: dst channel %d has length %d, channel 0 has %d", c, len(dst[c]), n)
		}
	}
	return n, nil
}
