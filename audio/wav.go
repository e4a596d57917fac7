package audio

import (
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	riffHeaderSize  = 12 // "RIFF", size, "WAVE"
	chunkHeaderSize = 8  // id, size

	// minFmtSize is the classic WAVEFORMAT + wBitsPerSample, the smallest
	// fmt chunk that says everything needed to decode.
	minFmtSize = 16
	// extensibleFmtSize adds cbSize, valid bits, channel mask and the
	// sub-format GUID.
	extensibleFmtSize = 40
	// maxFmtSize caps the fmt chunk before it is read. Real ones are 16, 18
	// or 40 bytes; 1 KiB leaves room for vendor extensions while keeping a
	// hostile header from choosing our allocation.
	maxFmtSize = 1024

	// dataUntilEOF is the data size that streaming writers (which cannot
	// seek back to patch the header) use to mean "read to the end".
	dataUntilEOF = 0xFFFFFFFF

	// readBufBytes sizes the one reusable read buffer. It is large enough
	// that syscalls and the per-block overhead vanish next to decoding
	// (8192 frames of 16-bit stereo), small enough that memory is constant
	// and trivial whatever the file length or channel count.
	readBufBytes = 32 << 10
)

// WAVReader streams one RIFF/WAVE file. Memory is constant whatever the file
// length: one read buffer of about readBufBytes, allocated on the first Read.
type WAVReader struct {
	r          io.Reader
	format     Format
	blockAlign int
	frames     int64 // declared frames; -1 for dataUntilEOF
	dataSize   uint32
	decode     decodeFunc

	// Header parsing state. size is the stream length when known (from the
	// caller or by seeking), -1 otherwise; pos counts bytes consumed.
	size   int64
	pos    int64
	seekOK bool // skip chunks by seeking (only when size is known, so a seek cannot pass EOF)
	hdr    [riffHeaderSize]byte

	// Streaming state.
	left  int64  // data bytes not yet pulled from r; -1 means until EOF
	buf   []byte // reusable, a whole number of frames long
	carry int    // bytes of a partial frame kept at buf[:carry] between reads
	err   error  // sticky: io.EOF or the first failure, reported once frames run out
}

// NewWAVReader parses the header. size is the total byte length of r if known
// (e.g. from Stat), or -1 if unknown. If r is an io.Seeker the length is
// measured when not given, and unknown chunks are skipped by seeking.
//
// On return r is positioned at the first sample. Chunks after the data chunk
// (LIST, id3, ...) are never read.
func NewWAVReader(r io.Reader, size int64) (*WAVReader, error) {
	if r == nil {
		return nil, errors.New("wav: nil reader")
	}
	w := &WAVReader{r: r, size: -1}
	if size >= 0 {
		w.size = size
	}
	if s, ok := r.(io.Seeker); ok {
		rem, ok, err := SeekRemaining(s)
		if err != nil {
			return nil, fmt.Errorf("wav: %w", err)
		}
		if ok {
			w.seekOK = true
			if w.size < 0 {
				w.size = rem
			}
		}
	}
	if err := w.parseHeader(); err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	return w, nil
}

// SeekRemaining measures the bytes from the current position to the end and
// restores the position. ok is false for seekers that cannot seek (a pipe
// behind *os.File), which are then read like any stream.
func SeekRemaining(s io.Seeker) (rem int64, ok bool, err error) {
	cur, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, false, nil
	}
	end, err := s.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, false, nil
	}
	if _, err := s.Seek(cur, io.SeekStart); err != nil {
		return 0, false, fmt.Errorf("restoring position after measuring length: %w", err)
	}
	return max(end-cur, 0), true, nil
}

// Format reports how the samples are stored.
func (w *WAVReader) Format() Format { return w.format }

// Frames is the number of sample frames the data chunk declares, or -1 if
// its size is the "until EOF" marker. A trailing partial frame is not
// counted.
func (w *WAVReader) Frames() int64 { return w.frames }

// Duration is Frames at the sample rate, or 0 when Frames is unknown.
func (w *WAVReader) Duration() time.Duration {
	if w.frames < 0 || w.format.SampleRate <= 0 {
		return 0
	}
	rate := int64(w.format.SampleRate)
	// Split to keep frames*1e9 from overflowing for long files.
	secs, rest := w.frames/rate, w.frames%rate
	return time.Duration(secs)*time.Second + time.Duration(rest)*time.Second/time.Duration(rate)
}

// Read decodes up to len(dst[0]) frames into dst. It returns 0, io.EOF at
// the end of the data; a data chunk that ends early is reported as an
// ErrTruncated error after the frames that were present.
func (w *WAVReader) Read(dst [][]float32) (int, error) {
	want, err := CheckDst(dst, w.format.Channels)
	if err != nil {
		return 0, fmt.Errorf("wav: %w", err)
	}
	if w.err != nil {
		return 0, w.err
	}
	if want == 0 {
		return 0, nil
	}
	ba := w.blockAlign
	w.allocBuf()

	// Bytes to have in buf after this read: whole frames only, bounded by
	// the caller, the buffer and what the data chunk still holds. The
	// comparison is in int64 so a 4 GiB chunk cannot overflow a 32-bit int.
	end := min(want, len(w.buf)/ba) * ba
	if w.left >= 0 {
		avail := int64(w.carry) + w.left
		end = int(min(int64(end), avail/int64(ba)*int64(ba)))
	}
	if end == 0 {
		w.err = io.EOF
		return 0, w.err
	}

	m, rerr := io.ReadAtLeast(w.r, w.buf[w.carry:end], ba-w.carry)
	if w.left >= 0 {
		w.left -= int64(m)
	}
	got := w.carry + m
	n := got / ba
	if n > 0 {
		w.decode(dst, w.buf, n, ba)
	}
	w.carry = copy(w.buf, w.buf[n*ba:got])

	if rerr != nil {
		w.fail(rerr)
		if n == 0 {
			return 0, w.err
		}
	}
	return n, nil
}

// allocBuf makes the read buffer on first use.
func (w *WAVReader) allocBuf() {
	if w.buf != nil {
		return
	}
	ba := w.blockAlign
	n := int64(max(readBufBytes/ba, 1) * ba)
	if w.left >= 0 {
		// A short file needs no more than its data; left is whole frames.
		n = max(min(n, w.left), int64(ba))
	}
	w.buf = make([]byte, n)
}

// fail records why the data ended, from the error of the read that hit it.
func (w *WAVReader) fail(rerr error) {
	switch {
	case rerr != io.EOF && rerr != io.ErrUnexpectedEOF:
		w.err = fmt.Errorf("wav: reading data: %w", rerr)
	case w.left > 0:
		w.err = fmt.Errorf("wav: %w: data chunk declares %d bytes, stream ended %d bytes short",
			ErrTruncated, w.dataSize, w.left)
	default:
		// Until-EOF data: a trailing partial frame is dropped.
		w.err = io.EOF
	}
}

// PCM16Channels is the channel count when the data is 16-bit PCM, which
// ReadPCM16 then hands out as stored; 0 for any other encoding.
func (w *WAVReader) PCM16Channels() int {
	if w.format.Encoding != EncodingPCM || w.format.BitsPerSample != 16 {
		return 0
	}
	return w.format.Channels
}

// ReadPCM16 reads up to len(p)/(2*channels) whole frames of 16-bit PCM into
// p as they are stored (interleaved, little-endian), without decoding, and
// returns how many. It reads straight into p: analysis that decodes in its
// own loop (vad.PCM16Reader) spares a pass and a copy. The end of the data
// and errors are reported as by Read, which it may be mixed with. It fails
// on data that is not 16-bit PCM (see PCM16Channels).
func (w *WAVReader) ReadPCM16(p []byte) (int, error) {
	if w.PCM16Channels() == 0 {
		return 0, fmt.Errorf("wav: %w: ReadPCM16 on %s data", ErrUnsupported, w.format)
	}
	if w.err != nil {
		return 0, w.err
	}
	ba := w.blockAlign
	end := len(p) / ba * ba
	if w.left >= 0 {
		avail := int64(w.carry) + w.left
		end = int(min(int64(end), avail/int64(ba)*int64(ba)))
	}
	if len(p) < ba {
		return 0, nil
	}
	if end == 0 {
		w.err = io.EOF
		return 0, w.err
	}
	// A partial frame left by Read or by a short read comes first.
	c := copy(p, w.buf[:w.carry])
	m, rerr := io.ReadAtLeast(w.r, p[c:end], ba-c)
	if w.left >= 0 {
		w.left -= int64(m)
	}
	got := c + m
	n := got / ba
	w.carry = 0
	if rest := got - n*ba; rest > 0 {
		w.allocBuf()
		w.carry = copy(w.buf, p[n*ba:got])
	}
	if rerr != nil {
		w.fail(rerr)
		if n == 0 {
			return 0, w.err
		}
	}
	return n, nil
}
