package audio

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Parsing of the RIFF/WAVE header, up to the first sample: every size it
// declares is checked against what the stream still holds before anything
// is read or skipped.

// Format tags from mmreg.h that this package decodes.
const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// tagNames names the unsupported tags people actually upload, so the error
// says "MPEG Layer III" instead of leaving the user to look up 0x0055.
var tagNames = map[uint16]string{
	0x0000: "unknown",
	0x0002: "Microsoft ADPCM",
	0x0010: "OKI ADPCM",
	0x0011: "IMA ADPCM",
	0x0022: "TrueSpeech",
	0x0031: "GSM 6.10",
	0x0040: "G.721 ADPCM",
	0x0042: "G.723.1",
	0x0045: "G.726 ADPCM",
	0x0050: "MPEG",
	0x0055: "MPEG Layer III",
	0x0064: "G.726 ADPCM",
	0x0065: "G.722 ADPCM",
	0x0092: "Dolby AC-3 SPDIF",
	0x0161: "Windows Media Audio",
	0x1610: "AAC",
	0x2000: "Dolby AC-3",
	0x674F: "Ogg Vorbis",
	0xF1AC: "FLAC",
}

func tagName(tag uint16) string {
	if n, ok := tagNames[tag]; ok {
		return n
	}
	return "unknown"
}

// guidSuffix is the fixed tail of every KSDATAFORMAT_SUBTYPE_* GUID whose
// first two bytes are a classic format tag (as stored, little-endian).
var guidSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// read fills p completely from the header area, counting consumed bytes.
func (w *WAVReader) read(p []byte) (int, error) {
	n, err := io.ReadFull(w.r, p)
	w.pos += int64(n)
	return n, err
}

// remaining is the number of bytes left in the stream, or -1 if unknown.
func (w *WAVReader) remaining() int64 {
	if w.size < 0 {
		return -1
	}
	return max(w.size-w.pos, 0)
}

// fits rejects a declared chunk size that the rest of the stream cannot hold.
// It is the guard that runs before anything is read or skipped.
func (w *WAVReader) fits(id string, n uint32) error {
	if rem := w.remaining(); rem >= 0 && int64(n) > rem {
		return fmt.Errorf("%w: %s chunk declares %d bytes, only %d remain", ErrTruncated, id, n, rem)
	}
	return nil
}

// skip discards n bytes, by seeking when possible. It is only called after
// fits, so a seek never runs past EOF.
func (w *WAVReader) skip(n int64) error {
	if n <= 0 {
		return nil
	}
	if w.seekOK {
		if _, err := w.r.(io.Seeker).Seek(n, io.SeekCurrent); err == nil {
			w.pos += n
			return nil
		}
		// Seek worked when measuring but not now; reading is always safe.
		w.seekOK = false
	}
	m, err := io.CopyN(io.Discard, w.r, n)
	w.pos += m
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skipPad consumes the RIFF pad byte after an odd-sized chunk. A missing pad
// at the very end of the stream is tolerated: nothing can follow it anyway.
func (w *WAVReader) skipPad(n uint32) error {
	if n%2 == 0 || w.remaining() == 0 {
		return nil
	}
	if err := w.skip(1); err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	return nil
}

func (w *WAVReader) parseHeader() error {
	if w.size == 0 {
		return fmt.Errorf("%w: empty file", ErrTruncated)
	}
	n, err := w.read(w.hdr[:riffHeaderSize])
	switch {
	case err == io.EOF:
		return fmt.Errorf("%w: empty file", ErrTruncated)
	case err == io.ErrUnexpectedEOF:
		if !couldBeRIFF(w.hdr[:n]) {
			return notWAV(w.hdr[:n])
		}
		return fmt.Errorf("%w: RIFF header is %d bytes, need %d", ErrTruncated, n, riffHeaderSize)
	case err != nil:
		return fmt.Errorf("reading RIFF header: %w", err)
	}
	if string(w.hdr[0:4]) != "RIFF" || string(w.hdr[8:12]) != "WAVE" {
		return notWAV(w.hdr[:riffHeaderSize])
	}
	// The RIFF size field (hdr[4:8]) is deliberately ignored: many writers
	// leave it zero, patch it wrongly, or exceed 4 GiB. Every chunk is checked
	// against the real remaining length instead.

	fmtSeen := false
	for {
		id, size, err := w.chunkHeader()
		if err == io.EOF {
			if !fmtSeen {
				return fmt.Errorf("%w: fmt chunk missing", ErrMalformed)
			}
			return fmt.Errorf("%w: no data chunk", ErrMalformed)
		}
		if err != nil {
			return err
		}
		switch id {
		case "fmt ":
			if fmtSeen {
				return fmt.Errorf("%w: duplicate fmt chunk", ErrMalformed)
			}
			if err := w.readFmt(size); err != nil {
				return err
			}
			fmtSeen = true
		case "data":
			if !fmtSeen {
				// Streaming means we cannot come back for samples once we
				// have looked further for the fmt chunk.
				return fmt.Errorf("%w: data chunk before fmt chunk", ErrUnsupported)
			}
			return w.startData(size)
		default:
			// LIST, fact, bext, JUNK, cue, ... carry nothing we need.
			if err := w.fits(fmt.Sprintf("%q", id), size); err != nil {
				return err
			}
			if err := w.skip(int64(size)); err == io.ErrUnexpectedEOF {
				return fmt.Errorf("%w: %q chunk declares %d bytes, stream ends first", ErrTruncated, id, size)
			} else if err != nil {
				return fmt.Errorf("skipping %q chunk: %w", id, err)
			}
			if err := w.skipPad(size); err != nil {
				return fmt.Errorf("skipping pad byte after %q chunk: %w", id, err)
			}
		}
	}
}

// chunkHeader reads the next chunk id and size. It returns io.EOF only at a
// clean chunk boundary.
func (w *WAVReader) chunkHeader() (string, uint32, error) {
	h := w.hdr[:chunkHeaderSize]
	n, err := w.read(h)
	switch {
	case err == io.EOF:
		return "", 0, io.EOF
	case err == io.ErrUnexpectedEOF:
		return "", 0, fmt.Errorf("%w: chunk header is %d bytes, need %d", ErrTruncated, n, chunkHeaderSize)
	case err != nil:
		return "", 0, fmt.Errorf("reading chunk header: %w", err)
	}
	return string(h[0:4]), binary.LittleEndian.Uint32(h[4:8]), nil
}

func (w *WAVReader) readFmt(size uint32) error {
	if size < minFmtSize {
		return fmt.Errorf("%w: fmt chunk too small (%d bytes, need %d)", ErrMalformed, size, minFmtSize)
	}
	if size > maxFmtSize {
		return fmt.Errorf("%w: fmt chunk too large (%d bytes, max %d)", ErrMalformed, size, maxFmtSize)
	}
	if err := w.fits("fmt", size); err != nil {
		return err
	}
	var b [maxFmtSize]byte
	if _, err := w.read(b[:size]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("%w: fmt chunk declares %d bytes, stream ends first", ErrTruncated, size)
		}
		return fmt.Errorf("reading fmt chunk: %w", err)
	}
	if err := w.parseFmt(b[:size]); err != nil {
		return fmt.Errorf("fmt chunk: %w", err)
	}
	if err := w.skipPad(size); err != nil {
		return fmt.Errorf("skipping pad byte after fmt chunk: %w", err)
	}
	return nil
}

func tagEncoding(tag uint16) Encoding {
	switch tag {
	case tagPCM:
		return EncodingPCM
	case tagFloat:
		return EncodingFloat
	case tagMuLaw:
		return EncodingMuLaw
	case tagALaw:
		return EncodingALaw
	}
	return 0
}

// parseFmt validates a fmt chunk body and picks the decoder. avgBytesPerSec
// (b[8:12]) is ignored: it is redundant and often wrong in the wild.
func (w *WAVReader) parseFmt(b []byte) error {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := le.Uint32(b[4:])
	blockAlign := int(le.Uint16(b[12:]))
	bits := int(le.Uint16(b[14:]))

	var enc Encoding
	if tag == tagExtensible {
		if len(b) < extensibleFmtSize {
			return fmt.Errorf("%w: %d bytes is too small for WAVE_FORMAT_EXTENSIBLE (need %d)", ErrMalformed, len(b), extensibleFmtSize)
		}
		if cb := le.Uint16(b[16:]); cb < extensibleFmtSize-18 {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE extension size %d, need %d", ErrMalformed, cb, extensibleFmtSize-18)
		}
		valid := int(le.Uint16(b[18:]))
		guid := b[24:40]
		if !bytes.Equal(guid[2:], guidSuffix[:]) {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE sub-format GUID % X", ErrUnsupported, guid)
		}
		sub := le.Uint16(guid[0:])
		if enc = tagEncoding(sub); enc == 0 {
			return fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE sub-format 0x%04X (%s)", ErrUnsupported, sub, tagName(sub))
		}
		// 0 means "not specified" in some writers; treat it as the container.
		if valid > bits {
			return fmt.Errorf("%w: %d valid bits in a %d-bit container", ErrMalformed, valid, bits)
		}
		// Only integer PCM may leave low bits unused (e.g. 20-in-24); since
		// samples are left-justified, scaling by the container stays right.
		if enc != EncodingPCM && valid != 0 && valid != bits {
			return fmt.Errorf("%w: %d valid bits for %d-bit %s", ErrMalformed, valid, bits, enc)
		}
	} else if enc = tagEncoding(tag); enc == 0 {
		return fmt.Errorf("%w: format tag 0x%04X (%s)", ErrUnsupported, tag, tagName(tag))
	}

	if channels == 0 {
		return fmt.Errorf("%w: bad channel count 0", ErrMalformed)
	}
	if channels > MaxChannels {
		return fmt.Errorf("%w: bad channel count %d (max %d)", ErrUnsupported, channels, MaxChannels)
	}
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz out of range (supported %d-%d Hz)", ErrUnsupported, rate, MinSampleRate, MaxSampleRate)
	}
	decode := decoderFor(enc, bits)
	if decode == nil {
		return fmt.Errorf("%w: %d bits per sample for %s (want %s)", ErrUnsupported, bits, enc, wantBits(enc))
	}
	if want := channels * bits / 8; blockAlign != want {
		return fmt.Errorf("%w: block align %d does not match %d channels of %d bits (want %d)", ErrMalformed, blockAlign, channels, bits, want)
	}

	w.format = Format{SampleRate: int(rate), Channels: channels, BitsPerSample: bits, Encoding: enc}
	w.blockAlign = blockAlign
	w.decode = decode
	return nil
}

func wantBits(enc Encoding) string {
	switch enc {
	case EncodingPCM:
		return "8, 16, 24 or 32"
	case EncodingFloat:
		return "32 or 64"
	}
	return "8"
}

func (w *WAVReader) startData(size uint32) error {
	w.dataSize = size
	if size == dataUntilEOF {
		w.frames, w.left = -1, -1
		return nil
	}
	if rem := w.remaining(); rem >= 0 && int64(size) > rem {
		return fmt.Errorf("%w: data chunk declares %d bytes, only %d remain", ErrTruncated, size, rem)
	}
	ba := int64(w.blockAlign)
	w.frames = int64(size) / ba
	// A trailing partial frame is never delivered, so never read it.
	w.left = w.frames * ba
	return nil
}

// couldBeRIFF reports whether a short prefix is consistent with "RIFF....WAVE",
// to tell a truncated WAV from some other tiny file.
func couldBeRIFF(p []byte) bool {
	const want = "RIFF????WAVE"
	for i, c := range p {
		if want[i] != '?' && want[i] != c {
			return false
		}
	}
	return true
}

// notWAV names what the input looks like instead, because "not a WAV" alone
// does not tell a user that they uploaded an M4A.
func notWAV(p []byte) error {
	has := func(off int, s string) bool {
		return len(p) >= off+len(s) && string(p[off:off+len(s)]) == s
	}
	switch {
	case has(0, "RIFX"):
		return fmt.Errorf("%w: big-endian RIFX WAV", ErrUnsupported)
	case has(0, "RF64"), has(0, "BW64"):
		return fmt.Errorf("%w: 64-bit %s WAV", ErrUnsupported, p[0:4])
	case has(0, "RIFF") && len(p) >= 12:
		return fmt.Errorf("%w: RIFF form %q", ErrNotWAV, p[8:12])
	case has(0, "ID3"), len(p) >= 2 && p[0] == 0xFF && p[1]&0xE0 == 0xE0:
		return fmt.Errorf("%w: looks like MP3", ErrNotWAV)
	case has(0, "OggS"):
		return fmt.Errorf("%w: looks like Ogg", ErrNotWAV)
	case has(0, "fLaC"):
		return fmt.Errorf("%w: looks like FLAC", ErrNotWAV)
	case has(0, "FORM"):
		return fmt.Errorf("%w: looks like AIFF", ErrNotWAV)
	case has(4, "ftyp"):
		return fmt.Errorf("%w: looks like MP4/M4A", ErrNotWAV)
	case has(0, "\x1a\x45\xdf\xa3"):
		return fmt.Errorf("%w: looks like WebM/Matroska", ErrNotWAV)
	}
	return fmt.Errorf("%w: starts with %q", ErrNotWAV, p)
}
