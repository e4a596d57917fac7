package flac

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"talkratio/audio"
)

// ErrNotFLAC means the input does not start with the "fLaC" marker.
var ErrNotFLAC = errors.New("not a FLAC file")

// Limits on what a FLAC stream may declare, on top of the package's rate
// and channel limits. They keep the reader's memory small and fixed.
const (
	// flacMaxReadBlock is the streamable subset's largest block. libFLAC
	// only goes beyond it with --lax; refusing larger blocks caps the
	// decode buffers at 8 channels x 16384 samples x 4 bytes = 512 KiB.
	flacMaxReadBlock = 16384
	// flacMaxReadBits: 24-bit audio keeps every intermediate value,
	// the 25-bit side channel included, inside int32 samples. 32-bit FLAC
	// (rare, and pointless for speech) is refused.
	flacMaxReadBits = 24
	flacMinReadBits = 4 // RFC 9639's smallest
	// flacReadBufBytes sizes the reader's input buffer, as package audio's
	// WAV reader sizes its own.
	flacReadBufBytes = 32 << 10
)

// Reader streams a native FLAC file (RFC 9639) as a Source. Memory is
// fixed: an input buffer and one decoded block per channel, whatever the
// length of the stream. Every frame's CRCs are checked, every field is
// checked against STREAMINFO and the format's limits before it is used, and
// the MD5 of the decoded audio is checked at the end when STREAMINFO gives
// one, so damage shows as an error, never as wrong samples.
type Reader struct {
	br       *bitReader
	format   audio.Format
	maxBlock int
	frames   int64 // declared samples per channel; -1 if unknown
	md5want  [16]byte
	checkMD5 bool
	md5      hash.Hash
	md5buf   []byte
	size     int64 // stream length if known, else -1 (metadata checks)

	block   [][]int32 // the current frame's samples
	pos, n  int       // block[c][pos:n] not yet delivered
	decoded int64     // samples per channel in the frames decoded so far
	frameNo uint64
	varied  int // blocking strategy of the first frame: -1 unset, 0 fixed, 1 variable
	scale   float32
	err     error // sticky: io.EOF or the first failure
}

// NewReader reads the FLAC header (the marker and the metadata blocks)
// from r. size is the byte length of r if known, or -1; if r is an
// io.Seeker the length is measured when not given. It is only used to
// reject metadata that claims more bytes than the stream has.
//
// On return r is positioned at the first frame.
func NewReader(r io.Reader, size int64) (*Reader, error) {
	if r == nil {
		return nil, errors.New("flac: nil reader")
	}
	f := &Reader{size: -1, varied: -1}
	if size >= 0 {
		f.size = size
	} else if s, ok := r.(io.Seeker); ok {
		rem, ok, err := audio.SeekRemaining(s)
		if err != nil {
			return nil, fmt.Errorf("flac: %w", err)
		}
		if ok {
			f.size = rem
		}
	}
	f.br = newBitReader(r, flacReadBufBytes)
	if err := f.readHeader(); err != nil {
		return nil, fmt.Errorf("flac: %w", err)
	}
	return f, nil
}

// Format reports the stream's rate, channels and bit depth.
func (f *Reader) Format() audio.Format { return f.format }

// Frames is the number of samples per channel STREAMINFO declares, or -1
// if it says the length is unknown.
func (f *Reader) Frames() int64 { return f.frames }

// Duration is Frames at the sample rate, or 0 when Frames is unknown.
func (f *Reader) Duration() time.Duration {
	if f.frames < 0 || f.format.SampleRate <= 0 {
		return 0
	}
	rate := int64(f.format.SampleRate)
	secs, rest := f.frames/rate, f.frames%rate
	return time.Duration(secs)*time.Second + time.Duration(rest)*time.Second/time.Duration(rate)
}

// eofAs turns the bit reader's end-of-stream into a truncation error that
// says where, and wraps any other error.
func (f *Reader) eofAs(err error, what string) error {
	if err == errFLACEOF {
		return fmt.Errorf("%w: stream ends in %s", audio.ErrTruncated, what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

func (f *Reader) readHeader() error {
	var magic [4]byte
	if f.size == 0 {
		return fmt.Errorf("%w: empty file", audio.ErrTruncated)
	}
	if err := f.br.readFull(magic[:1]); err != nil {
		if err == errFLACEOF {
			return fmt.Errorf("%w: empty file", audio.ErrTruncated)
		}
		return f.eofAs(err, "the FLAC marker")
	}
	for i := 1; i < 4; i++ {
		if err := f.br.readFull(magic[i : i+1]); err != nil {
			if err == errFLACEOF && string(magic[:i]) == flacMagic[:i] {
				return fmt.Errorf("%w: FLAC marker is %d bytes, need 4", audio.ErrTruncated, i)
			}
			if err == errFLACEOF {
				return notFLAC(magic[:i])
			}
			return f.eofAs(err, "the FLAC marker")
		}
	}
	if string(magic[:]) != flacMagic {
		return notFLAC(magic[:])
	}

	first := true
	for {
		var h [flacMetaHeaderSize]byte
		if err := f.br.readFull(h[:]); err != nil {
			if err == errFLACEOF {
				if first {
					return fmt.Errorf("%w: no STREAMINFO", audio.ErrTruncated)
				}
				return fmt.Errorf("%w: metadata without frames", audio.ErrTruncated)
			}
			return f.eofAs(err, "a metadata block header")
		}
		last := h[0]&flacLastMetaBlock != 0
		typ := h[0] &^ flacLastMetaBlock
		length := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		if rem := f.remaining(); rem >= 0 && length > rem {
			return fmt.Errorf("%w: metadata block of type %d declares %d bytes, only %d remain", audio.ErrTruncated, typ, length, rem)
		}
		switch {
		case typ == 127:
			return fmt.Errorf("%w: metadata block type 127 is forbidden", audio.ErrMalformed)
		case first && typ != flacMetaStreamInfo:
			return fmt.Errorf("%w: first metadata block is type %d, not STREAMINFO", audio.ErrMalformed, typ)
		case !first && typ == flacMetaStreamInfo:
			return fmt.Errorf("%w: second STREAMINFO", audio.ErrMalformed)
		case typ == flacMetaStreamInfo:
			if length != flacStreamInfoSize {
				return fmt.Errorf("%w: STREAMINFO is %d bytes, must be %d", audio.ErrMalformed, length, flacStreamInfoSize)
			}
			var si [flacStreamInfoSize]byte
			if err := f.br.readFull(si[:]); err != nil {
				return f.eofAs(err, "STREAMINFO")
			}
			if err := f.parseStreamInfo(si[:]); err != nil {
				return fmt.Errorf("STREAMINFO: %w", err)
			}
		default:
			// SEEKTABLE, VORBIS_COMMENT, PADDING, PICTURE...: nothing a
			// sequential decode needs.
			if err := f.br.discard(length); err != nil {
				return f.eofAs(err, fmt.Sprintf("metadata block of type %d", typ))
			}
		}
		first = false
		if last {
			return nil
		}
	}
}

// remaining is the number of bytes left in the stream, or -1 if unknown.
func (f *Reader) remaining() int64 {
	if f.size < 0 {
		return -1
	}
	return max(f.size-f.br.off, 0)
}

func (f *Reader) parseStreamInfo(si []byte) error {
	maxBlock := int(binary.BigEndian.Uint16(si[2:]))
	v := binary.BigEndian.Uint64(si[10:])
	rate := int(v >> 44)
	channels := int(v>>41&7) + 1
	bps := int(v>>36&31) + 1
	total := int64(v & (1<<36 - 1))

	// The minimum block size (si[0:2]) is not checked: nothing depends on
	// it, and some encoders write the size of a lone short block there.
	if maxBlock == 0 {
		return fmt.Errorf("%w: maximum block size 0", audio.ErrMalformed)
	}
	if maxBlock > flacMaxReadBlock {
		return fmt.Errorf("%w: block size up to %d samples (max %d)", audio.ErrUnsupported, maxBlock, flacMaxReadBlock)
	}
	if rate < audio.MinSampleRate || rate > audio.MaxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz out of range (supported %d-%d Hz)", audio.ErrUnsupported, rate, audio.MinSampleRate, audio.MaxSampleRate)
	}
	if bps < flacMinReadBits {
		return fmt.Errorf("%w: %d bits per sample (min %d)", audio.ErrMalformed, bps, flacMinReadBits)
	}
	if bps > flacMaxReadBits {
		return fmt.Errorf("%w: %d bits per sample (max %d)", audio.ErrUnsupported, bps, flacMaxReadBits)
	}
	f.format = audio.Format{SampleRate: rate, Channels: channels, BitsPerSample: bps, Encoding: audio.EncodingFLAC}
	f.maxBlock = maxBlock
	f.frames = -1
	if total > 0 {
		f.frames = total
	}
	copy(f.md5want[:], si[18:34])
	if f.md5want != [16]byte{} {
		f.checkMD5 = true
		f.md5 = md5.New()
	}
	f.scale = 1 / float32(int64(1)<<(bps-1))
	return nil
}

// Read decodes up to len(dst[0]) samples per channel into dst. It returns
// 0, io.EOF at the end; damage or a stream cut short is reported as an
// error after the samples of every whole frame before it.
func (f *Reader) Read(dst [][]float32) (int, error) {
	want, err := audio.CheckDst(dst, f.format.Channels)
	if err != nil {
		return 0, fmt.Errorf("flac: %w", err)
	}
	if f.pos == f.n && f.err != nil {
		return 0, f.err
	}
	got := 0
	for got < want {
		if f.pos == f.n {
			if f.err != nil {
				break
			}
			if err := f.nextFrame(); err != nil {
				f.err = err
				break
			}
			continue
		}
		k := min(want-got, f.n-f.pos)
		for c, d := range dst {
			src := f.block[c][f.pos : f.pos+k]
			d = d[got : got+k]
			for i, v := range src {
				d[i] = float32(v) * f.scale
			}
		}
		f.pos += k
		got += k
	}
	if got == 0 && want > 0 {
		return 0, f.err
	}
	return got, nil
}

// nextFrame decodes the next frame into f.block. It returns io.EOF at a
// clean end of stream.
func (f *Reader) nextFrame() error {
	if f.frames >= 0 && f.decoded == f.frames {
		// Everything declared has been read; whatever follows (an ID3v1
		// tag, say) is not audio.
		return f.finish()
	}
	if eof, err := f.br.atEOF(); err != nil {
		return fmt.Errorf("flac: %w", err)
	} else if eof {
		if f.frames >= 0 {
			return fmt.Errorf("flac: %w: stream ends after %d of the %d samples STREAMINFO declares", audio.ErrTruncated, f.decoded, f.frames)
		}
		return f.finish()
	}
	at := f.br.off
	n, err := f.decodeFrame()
	if err != nil {
		if errors.Is(err, errFLACEOF) {
			return fmt.Errorf("flac: %w: frame %d (at byte %d) is cut off", audio.ErrTruncated, f.frameNo, at)
		}
		return fmt.Errorf("flac: frame %d (at byte %d): %w", f.frameNo, at, err)
	}
	if f.frames >= 0 && f.decoded+int64(n) > f.frames {
		return fmt.Errorf("flac: %w: frames hold more than the %d samples STREAMINFO declares", audio.ErrMalformed, f.frames)
	}
	f.decoded += int64(n)
	f.frameNo++
	f.pos, f.n = 0, n
	if f.checkMD5 {
		f.hashBlock(n)
	}
	return nil
}

// finish ends the stream, checking the MD5 when there is one.
func (f *Reader) finish() error {
	if f.checkMD5 {
		var got [16]byte
		f.md5.Sum(got[:0])
		if got != f.md5want {
			return fmt.Errorf("flac: %w: decoded audio does not match the MD5 in STREAMINFO", audio.ErrMalformed)
		}
	}
	return io.EOF
}

// hashBlock feeds the block to the MD5 as STREAMINFO defines it: samples
// interleaved, little-endian, sign-extended to whole bytes.
func (f *Reader) hashBlock(n int) {
	width := (f.format.BitsPerSample + 7) / 8
	need := n * f.format.Channels * width
	if cap(f.md5buf) < need {
		f.md5buf = make([]byte, need)
	}
	b := f.md5buf[:need]
	k := 0
	for i := range n {
		for c := range f.block {
			v := f.block[c][i]
			for j := range width {
				b[k] = byte(v >> (8 * j))
				k++
			}
		}
	}
	f.md5.Write(b)
}

// notFLAC names what the input looks like instead.
func notFLAC(p []byte) error {
	has := func(s string) bool { return bytes.HasPrefix(p, []byte(s)) }
	switch {
	case has("RIFF"), has("RF64"):
		return fmt.Errorf("%w: looks like WAV", ErrNotFLAC)
	case has("OggS"):
		return fmt.Errorf("%w: looks like Ogg (Ogg FLAC is not supported)", ErrNotFLAC)
	case has("ID3"):
		return fmt.Errorf("%w: starts with an ID3 tag (MP3, or a tagged FLAC, which is not supported)", ErrNotFLAC)
	}
	return fmt.Errorf("%w: starts with %q", ErrNotFLAC, p)
}
