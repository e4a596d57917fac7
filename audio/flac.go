package audio

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
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
	// flacReadBufBytes sizes the reader's input buffer, as readBufBytes
	// does the WAV reader's.
	flacReadBufBytes = 32 << 10
)

// FLACReader streams a native FLAC file (RFC 9639) as a Source. Memory is
// fixed: an input buffer and one decoded block per channel, whatever the
// length of the stream. Every frame's CRCs are checked, every field is
// checked against STREAMINFO and the format's limits before it is used, and
// the MD5 of the decoded audio is checked at the end when STREAMINFO gives
// one, so damage shows as an error, never as wrong samples.
type FLACReader struct {
	br       *bitReader
	format   Format
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

// NewFLACReader reads the FLAC header (the marker and the metadata blocks)
// from r. size is the byte length of r if known, or -1; if r is an
// io.Seeker the length is measured when not given. It is only used to
// reject metadata that claims more bytes than the stream has.
//
// On return r is positioned at the first frame.
func NewFLACReader(r io.Reader, size int64) (*FLACReader, error) {
	if r == nil {
		return nil, errors.New("flac: nil reader")
	}
	f := &FLACReader{size: -1, varied: -1}
	if size >= 0 {
		f.size = size
	} else if s, ok := r.(io.Seeker); ok {
		rem, ok, err := seekRemaining(s)
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
func (f *FLACReader) Format() Format { return f.format }

// Frames is the number of samples per channel STREAMINFO declares, or -1
// if it says the length is unknown.
func (f *FLACReader) Frames() int64 { return f.frames }

// Duration is Frames at the sample rate, or 0 when Frames is unknown.
func (f *FLACReader) Duration() time.Duration {
	if f.frames < 0 || f.format.SampleRate <= 0 {
		return 0
	}
	rate := int64(f.format.SampleRate)
	secs, rest := f.frames/rate, f.frames%rate
	return time.Duration(secs)*time.Second + time.Duration(rest)*time.Second/time.Duration(rate)
}

// eofAs turns the bit reader's end-of-stream into a truncation error that
// says where, and wraps any other error.
func (f *FLACReader) eofAs(err error, what string) error {
	if err == errFLACEOF {
		return fmt.Errorf("%w: stream ends in %s", ErrTruncated, what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

func (f *FLACReader) readHeader() error {
	var magic [4]byte
	if f.size == 0 {
		return fmt.Errorf("%w: empty file", ErrTruncated)
	}
	if err := f.br.readFull(magic[:1]); err != nil {
		if err == errFLACEOF {
			return fmt.Errorf("%w: empty file", ErrTruncated)
		}
		return f.eofAs(err, "the FLAC marker")
	}
	for i := 1; i < 4; i++ {
		if err := f.br.readFull(magic[i : i+1]); err != nil {
			if err == errFLACEOF && string(magic[:i]) == flacMagic[:i] {
				return fmt.Errorf("%w: FLAC marker is %d bytes, need 4", ErrTruncated, i)
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
					return fmt.Errorf("%w: no STREAMINFO", ErrTruncated)
				}
				return fmt.Errorf("%w: metadata without frames", ErrTruncated)
			}
			return f.eofAs(err, "a metadata block header")
		}
		last := h[0]&flacLastMetaBlock != 0
		typ := h[0] &^ flacLastMetaBlock
		length := int64(h[1])<<16 | int64(h[2])<<8 | int64(h[3])
		if rem := f.remaining(); rem >= 0 && length > rem {
			return fmt.Errorf("%w: metadata block of type %d declares %d bytes, only %d remain", ErrTruncated, typ, length, rem)
		}
		switch {
		case typ == 127:
			return fmt.Errorf("%w: metadata block type 127 is forbidden", ErrMalformed)
		case first && typ != flacMetaStreamInfo:
			return fmt.Errorf("%w: first metadata block is type %d, not STREAMINFO", ErrMalformed, typ)
		case !first && typ == flacMetaStreamInfo:
			return fmt.Errorf("%w: second STREAMINFO", ErrMalformed)
		case typ == flacMetaStreamInfo:
			if length != flacStreamInfoSize {
				return fmt.Errorf("%w: STREAMINFO is %d bytes, must be %d", ErrMalformed, length, flacStreamInfoSize)
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
func (f *FLACReader) remaining() int64 {
	if f.size < 0 {
		return -1
	}
	return max(f.size-f.br.off, 0)
}

func (f *FLACReader) parseStreamInfo(si []byte) error {
	maxBlock := int(binary.BigEndian.Uint16(si[2:]))
	v := binary.BigEndian.Uint64(si[10:])
	rate := int(v >> 44)
	channels := int(v>>41&7) + 1
	bps := int(v>>36&31) + 1
	total := int64(v & (1<<36 - 1))

	// The minimum block size (si[0:2]) is not checked: nothing depends on
	// it, and some encoders write the size of a lone short block there.
	if maxBlock == 0 {
		return fmt.Errorf("%w: maximum block size 0", ErrMalformed)
	}
	if maxBlock > flacMaxReadBlock {
		return fmt.Errorf("%w: block size up to %d samples (max %d)", ErrUnsupported, maxBlock, flacMaxReadBlock)
	}
	if rate < MinSampleRate || rate > MaxSampleRate {
		return fmt.Errorf("%w: sample rate %d Hz out of range (supported %d-%d Hz)", ErrUnsupported, rate, MinSampleRate, MaxSampleRate)
	}
	if bps < flacMinReadBits {
		return fmt.Errorf("%w: %d bits per sample (min %d)", ErrMalformed, bps, flacMinReadBits)
	}
	if bps > flacMaxReadBits {
		return fmt.Errorf("%w: %d bits per sample (max %d)", ErrUnsupported, bps, flacMaxReadBits)
	}
	f.format = Format{SampleRate: rate, Channels: channels, BitsPerSample: bps, Encoding: EncodingFLAC}
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
func (f *FLACReader) Read(dst [][]float32) (int, error) {
	want, err := checkDst(dst, f.format.Channels)
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
func (f *FLACReader) nextFrame() error {
	if f.frames >= 0 && f.decoded == f.frames {
		// Everything declared has been read; whatever follows (an ID3v1
		// tag, say) is not audio.
		return f.finish()
	}
	if eof, err := f.br.atEOF(); err != nil {
		return fmt.Errorf("flac: %w", err)
	} else if eof {
		if f.frames >= 0 {
			return fmt.Errorf("flac: %w: stream ends after %d of the %d samples STREAMINFO declares", ErrTruncated, f.decoded, f.frames)
		}
		return f.finish()
	}
	at := f.br.off
	n, err := f.decodeFrame()
	if err != nil {
		if errors.Is(err, errFLACEOF) {
			return fmt.Errorf("flac: %w: frame %d (at byte %d) is cut off", ErrTruncated, f.frameNo, at)
		}
		return fmt.Errorf("flac: frame %d (at byte %d): %w", f.frameNo, at, err)
	}
	if f.frames >= 0 && f.decoded+int64(n) > f.frames {
		return fmt.Errorf("flac: %w: frames hold more than the %d samples STREAMINFO declares", ErrMalformed, f.frames)
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
func (f *FLACReader) finish() error {
	if f.checkMD5 {
		var got [16]byte
		f.md5.Sum(got[:0])
		if got != f.md5want {
			return fmt.Errorf("flac: %w: decoded audio does not match the MD5 in STREAMINFO", ErrMalformed)
		}
	}
	return io.EOF
}

// hashBlock feeds the block to the MD5 as STREAMINFO defines it: samples
// interleaved, little-endian, sign-extended to whole bytes.
func (f *FLACReader) hashBlock(n int) {
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

// Frame header tables (RFC 9639 section 9.1).
var flacRates = [16]int{0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000}
var flacDepths = [8]int{0, 8, 12, 0, 16, 20, 24, 32}

// decodeFrame reads one frame into f.block and returns its block size.
func (f *FLACReader) decodeFrame() (int, error) {
	br := f.br
	br.crc8, br.crc16 = 0, 0
	h, err := br.bits(16)
	if err != nil {
		return 0, err
	}
	if h>>1 != 0xFFF8>>1 {
		return 0, fmt.Errorf("%w: no frame sync code (found 0x%04X)", ErrMalformed, h)
	}
	varied := int(h & 1)
	if f.varied < 0 {
		f.varied = varied
	} else if varied != f.varied {
		return 0, fmt.Errorf("%w: blocking strategy changes mid-stream", ErrMalformed)
	}
	b, err := br.bits(16)
	if err != nil {
		return 0, err
	}
	bsCode, rateCode, chCode, bpsCode, reserved := b>>12, b>>8&15, b>>4&15, b>>1&7, b&1
	if reserved != 0 {
		return 0, fmt.Errorf("%w: reserved header bit set", ErrMalformed)
	}
	num, err := f.codedNumber()
	if err != nil {
		return 0, err
	}
	var n int
	switch {
	case bsCode == 0:
		return 0, fmt.Errorf("%w: reserved block size code", ErrMalformed)
	case bsCode == 1:
		n = 192
	case bsCode <= 5:
		n = 576 << (bsCode - 2)
	case bsCode == 6:
		v, err := br.bits(8)
		if err != nil {
			return 0, err
		}
		n = int(v) + 1
	case bsCode == 7:
		v, err := br.bits(16)
		if err != nil {
			return 0, err
		}
		n = int(v) + 1
	default:
		n = 256 << (bsCode - 8)
	}
	rate := f.format.SampleRate
	switch rateCode {
	case 0:
	case 12, 13, 14:
		width, mul := uint(16), 1
		switch rateCode {
		case 12:
			width, mul = 8, 1000
		case 14:
			mul = 10
		}
		v, err := br.bits(width)
		if err != nil {
			return 0, err
		}
		rate = int(v) * mul
	case 15:
		return 0, fmt.Errorf("%w: forbidden sample rate code", ErrMalformed)
	default:
		rate = flacRates[rateCode]
	}
	want := br.crc8
	crc, err := br.bits(8)
	if err != nil {
		return 0, err
	}
	if uint8(crc) != want {
		return 0, fmt.Errorf("%w: header CRC-8 mismatch", ErrMalformed)
	}

	// Only now, with the header known to be intact, check it against the
	// stream.
	if n > f.maxBlock {
		return 0, fmt.Errorf("%w: block of %d samples, STREAMINFO allows %d", ErrMalformed, n, f.maxBlock)
	}
	if rate != f.format.SampleRate {
		return 0, fmt.Errorf("%w: sample rate changes mid-stream (%d Hz, STREAMINFO says %d Hz)", ErrUnsupported, rate, f.format.SampleRate)
	}
	channels := int(chCode) + 1
	switch {
	case chCode > 10:
		return 0, fmt.Errorf("%w: reserved channel assignment %d", ErrMalformed, chCode)
	case chCode >= 8:
		channels = 2
	}
	if channels != f.format.Channels {
		return 0, fmt.Errorf("%w: %d channels, STREAMINFO says %d", ErrUnsupported, channels, f.format.Channels)
	}
	bps := f.format.BitsPerSample
	if bpsCode != 0 {
		if flacDepths[bpsCode] == 0 {
			return 0, fmt.Errorf("%w: reserved bit depth code", ErrMalformed)
		}
		if flacDepths[bpsCode] != bps {
			return 0, fmt.Errorf("%w: bit depth changes mid-stream (%d, STREAMINFO says %d)", ErrUnsupported, flacDepths[bpsCode], bps)
		}
	}
	wantNum := f.frameNo
	if varied == 1 {
		wantNum = uint64(f.decoded)
	}
	if num != wantNum {
		return 0, fmt.Errorf("%w: frame numbered %d, expected %d (frames missing or out of order)", ErrMalformed, num, wantNum)
	}

	if len(f.block) == 0 {
		f.block = make([][]int32, channels)
	}
	if cap(f.block[0]) < n {
		for c := range f.block {
			f.block[c] = make([]int32, n)
		}
	}
	for c := range f.block {
		sbps := uint(bps)
		if (chCode == chanLeftSide || chCode == chanMidSide) && c == 1 || chCode == chanSideRight && c == 0 {
			sbps++ // a side channel needs one more bit
		}
		if err := f.decodeSubframe(f.block[c][:n], sbps); err != nil {
			return 0, fmt.Errorf("channel %d: %w", c, err)
		}
	}
	br.align()
	want16 := br.crc16
	crc, err = br.bits(16)
	if err != nil {
		return 0, err
	}
	if uint16(crc) != want16 {
		return 0, fmt.Errorf("%w: frame CRC-16 mismatch", ErrMalformed)
	}
	return n, f.undoStereo(n, int(chCode), bps)
}

// codedNumber reads the frame or sample number in FLAC's extended UTF-8.
func (f *FLACReader) codedNumber() (uint64, error) {
	b0, err := f.br.bits(8)
	if err != nil {
		return 0, err
	}
	if b0 < 0x80 {
		return b0, nil
	}
	var extra int
	switch {
	case b0&0xE0 == 0xC0:
		extra = 1
	case b0&0xF0 == 0xE0:
		extra = 2
	case b0&0xF8 == 0xF0:
		extra = 3
	case b0&0xFC == 0xF8:
		extra = 4
	case b0&0xFE == 0xFC:
		extra = 5
	case b0 == 0xFE:
		extra = 6
	default:
		return 0, fmt.Errorf("%w: bad coded frame number", ErrMalformed)
	}
	v := b0 & (0x3F >> extra)
	for range extra {
		c, err := f.br.bits(8)
		if err != nil {
			return 0, err
		}
		if c&0xC0 != 0x80 {
			return 0, fmt.Errorf("%w: bad coded frame number", ErrMalformed)
		}
		v = v<<6 | c&0x3F
	}
	return v, nil
}

// decodeSubframe decodes one channel of n samples of sbps bits (the
// frame's depth, plus one for a side channel) into x.
func (f *FLACReader) decodeSubframe(x []int32, sbps uint) error {
	br := f.br
	h, err := br.bits(8)
	if err != nil {
		return err
	}
	if h&0x80 != 0 {
		return fmt.Errorf("%w: subframe padding bit set", ErrMalformed)
	}
	typ := int(h >> 1 & 0x3F)
	wasted := uint(0)
	if h&1 != 0 {
		k, ok, err := br.unary(uint64(sbps) - 2)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: wasted bits leave no sample bits", ErrMalformed)
		}
		wasted = uint(k) + 1
	}
	bps := sbps - wasted
	n := len(x)
	switch {
	case typ == 0:
		v, err := br.signed(bps)
		if err != nil {
			return err
		}
		for i := range x {
			x[i] = int32(v)
		}
	case typ == 1:
		for i := range x {
			v, err := br.signed(bps)
			if err != nil {
				return err
			}
			x[i] = int32(v)
		}
	case typ >= 8 && typ <= 12:
		order := typ - 8
		if order > n {
			return fmt.Errorf("%w: fixed predictor order %d for %d samples", ErrMalformed, order, n)
		}
		if err := f.warmup(x[:order], bps); err != nil {
			return err
		}
		if err := f.residual(x, order); err != nil {
			return err
		}
		if err := restoreFixed(x, order, bps); err != nil {
			return err
		}
	case typ >= 32:
		order := typ - 31
		if order > n {
			return fmt.Errorf("%w: LPC order %d for %d samples", ErrMalformed, order, n)
		}
		if err := f.warmup(x[:order], bps); err != nil {
			return err
		}
		p, err := br.bits(4)
		if err != nil {
			return err
		}
		if p == 15 {
			return fmt.Errorf("%w: forbidden LPC precision code", ErrMalformed)
		}
		prec := uint(p) + 1
		shift, err := br.signed(5)
		if err != nil {
			return err
		}
		if shift < 0 {
			return fmt.Errorf("%w: negative LPC shift", ErrMalformed)
		}
		var coefs [32]int32
		for i := range order {
			c, err := br.signed(prec)
			if err != nil {
				return err
			}
			coefs[i] = int32(c)
		}
		if err := f.residual(x, order); err != nil {
			return err
		}
		if err := restoreLPC(x, coefs[:order], uint(shift), bps); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: reserved subframe type %d", ErrMalformed, typ)
	}
	if wasted > 0 {
		for i := range x {
			x[i] <<= wasted
		}
	}
	return nil
}

func (f *FLACReader) warmup(x []int32, bps uint) error {
	for i := range x {
		v, err := f.br.signed(bps)
		if err != nil {
			return err
		}
		x[i] = int32(v)
	}
	return nil
}

// residual reads the coded residual of x[order:] into x[order:].
func (f *FLACReader) residual(x []int32, order int) error {
	br := f.br
	method, err := br.bits(2)
	if err != nil {
		return err
	}
	if method > 1 {
		return fmt.Errorf("%w: reserved residual coding method %d", ErrMalformed, method)
	}
	paramBits, escape := uint(4), uint64(15)
	if method == 1 {
		paramBits, escape = 5, 31
	}
	po, err := br.bits(4)
	if err != nil {
		return err
	}
	n := len(x)
	parts := 1 << po
	size := n >> po
	if n%parts != 0 || size < order {
		return fmt.Errorf("%w: partition order %d for %d samples with predictor order %d", ErrMalformed, po, n, order)
	}
	i := order
	for j := range parts {
		end := (j + 1) * size
		k, err := br.bits(paramBits)
		if err != nil {
			return err
		}
		if k == escape {
			w, err := br.bits(5)
			if err != nil {
				return err
			}
			for ; i < end; i++ {
				v, err := br.signed(uint(w))
				if err != nil {
					return err
				}
				x[i] = int32(v)
			}
			continue
		}
		// A folded residual must fit 32 bits (RFC 9639 section 9.2.7.3),
		// which bounds the unary part and so the zeros a hostile stream
		// can make us count.
		limit := uint64(1<<32-1) >> k
		for ; i < end; i++ {
			q, ok, err := br.unary(limit)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: residual out of range", ErrMalformed)
			}
			lo, err := br.bits(uint(k))
			if err != nil {
				return err
			}
			u := q<<k | lo
			x[i] = int32(u>>1) ^ -int32(u&1)
		}
	}
	return nil
}

// inRange reports whether v fits a bps-bit two's complement number. Every
// restored sample is checked, which keeps the next predictions bounded
// (and the int64 sums far from overflow) whatever the stream says.
func inRange(v int64, bps uint) bool {
	lim := int64(1) << (bps - 1)
	return v >= -lim && v < lim
}

var errSampleRange = fmt.Errorf("%w: decoded sample outside the bit depth", ErrMalformed)

func restoreFixed(x []int32, order int, bps uint) error {
	for i := range x[:order] {
		if !inRange(int64(x[i]), bps) {
			return errSampleRange
		}
	}
	for i := order; i < len(x); i++ {
		var p int64
		switch order {
		case 1:
			p = int64(x[i-1])
		case 2:
			p = 2*int64(x[i-1]) - int64(x[i-2])
		case 3:
			p = 3*int64(x[i-1]) - 3*int64(x[i-2]) + int64(x[i-3])
		case 4:
			p = 4*int64(x[i-1]) - 6*int64(x[i-2]) + 4*int64(x[i-3]) - int64(x[i-4])
		}
		v := int64(x[i]) + p
		if !inRange(v, bps) {
			return errSampleRange
		}
		x[i] = int32(v)
	}
	return nil
}

func restoreLPC(x []int32, coefs []int32, shift, bps uint) error {
	order := len(coefs)
	for i := range x[:order] {
		if !inRange(int64(x[i]), bps) {
			return errSampleRange
		}
	}
	for i := order; i < len(x); i++ {
		var s int64
		h := x[i-order : i]
		for j, c := range coefs {
			s += int64(c) * int64(h[order-1-j])
		}
		v := int64(x[i]) + s>>shift
		if !inRange(v, bps) {
			return errSampleRange
		}
		x[i] = int32(v)
	}
	return nil
}

// undoStereo turns side/mid subframes back into left and right and checks
// the result against the bit depth.
func (f *FLACReader) undoStereo(n, chCode, bps int) error {
	if chCode >= chanLeftSide {
		a, b := f.block[0][:n], f.block[1][:n]
		for i := range a {
			switch chCode {
			case chanLeftSide: // a = left, b = side
				b[i] = a[i] - b[i]
			case chanSideRight: // a = side, b = right
				a[i] = a[i] + b[i]
			case chanMidSide: // a = mid, b = side
				m := int64(a[i])<<1 | int64(b[i])&1
				s := int64(b[i])
				a[i], b[i] = int32((m+s)>>1), int32((m-s)>>1)
			}
		}
	}
	for c := range f.block {
		for _, v := range f.block[c][:n] {
			if !inRange(int64(v), uint(bps)) {
				return errSampleRange
			}
		}
	}
	return nil
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
