package flac

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Bit-level plumbing shared by the FLAC writer and reader (RFC 9639):
// MSB-first bit I/O and the two frame checksums.

// crc8Table is CRC-8 with polynomial x^8 + x^2 + x + 1, initial value 0,
// which guards each frame header.
var crc8Table = func() (t [256]uint8) {
	for i := range t {
		c := uint8(i)
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// crc16Table is CRC-16 with polynomial x^16 + x^15 + x^2 + 1, initial value
// 0, which guards each whole frame.
var crc16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x8005
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func crc8(crc uint8, p []byte) uint8 {
	for _, b := range p {
		crc = crc8Table[crc^b]
	}
	return crc
}

func crc16(crc uint16, p []byte) uint16 {
	for _, b := range p {
		crc = crc<<8 ^ crc16Table[byte(crc>>8)^b]
	}
	return crc
}

// bitReader reads MSB-first bits from a byte stream through its own
// fixed-size buffer. It loads a byte only when a read needs it, so at a
// byte boundary every byte loaded has been consumed; that is what lets it
// keep the frame CRC-16 (and the frame header CRC-8) over exactly the
// bytes read, updated as each byte comes in.
type bitReader struct {
	src  io.Reader
	buf  []byte
	r, w int // buf[r:w] is not yet loaded

	cache uint64 // the next n bits, left-aligned
	n     uint

	crc8  uint8
	crc16 uint16
	off   int64 // bytes loaded so far: where we are in the stream, for errors
	err   error // sticky source error; io.EOF when the stream ended
}

// errFLACEOF is returned by the bit reader when the stream ends; callers
// turn it into a clean end or a truncation depending on where it happens.
var errFLACEOF = errors.New("unexpected end of FLAC stream")

func newBitReader(src io.Reader, bufSize int) *bitReader {
	return &bitReader{src: src, buf: make([]byte, bufSize)}
}

// fill refills buf from the source. It returns errFLACEOF at the end and the
// source's error (wrapped) otherwise.
func (b *bitReader) fill() error {
	if b.err != nil {
		if b.err == io.EOF {
			return errFLACEOF
		}
		return b.err
	}
	for empty := 0; ; empty++ {
		m, err := b.src.Read(b.buf)
		if m < 0 || m > len(b.buf) {
			b.err = fmt.Errorf("reader returned %d bytes for a %d-byte buffer", m, len(b.buf))
			return b.err
		}
		b.r, b.w = 0, m
		if err != nil {
			if err == io.EOF {
				b.err = io.EOF
			} else {
				b.err = fmt.Errorf("reading: %w", err)
			}
		}
		if m > 0 {
			return nil
		}
		if b.err != nil {
			return b.fill()
		}
		if empty > 100 {
			b.err = io.ErrNoProgress
			return b.err
		}
	}
}

// loadByte moves one byte into the cache (n must be <= 56).
func (b *bitReader) loadByte() error {
	if b.r == b.w {
		if err := b.fill(); err != nil {
			return err
		}
	}
	c := b.buf[b.r]
	b.r++
	b.off++
	b.crc8 = crc8Table[b.crc8^c]
	b.crc16 = b.crc16<<8 ^ crc16Table[byte(b.crc16>>8)^c]
	b.cache |= uint64(c) << (56 - b.n)
	b.n += 8
	return nil
}

// bits reads n (<= 32) bits as an unsigned number.
func (b *bitReader) bits(n uint) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	for b.n < n {
		if err := b.loadByte(); err != nil {
			return 0, err
		}
	}
	v := b.cache >> (64 - n)
	b.cache <<= n
	b.n -= n
	return v, nil
}

// signed reads an n-bit (<= 32) two's complement number.
func (b *bitReader) signed(n uint) (int64, error) {
	v, err := b.bits(n)
	if err != nil || n == 0 {
		return 0, err
	}
	return int64(v<<(64-n)) >> (64 - n), nil
}

// unary counts zero bits up to the next one bit, giving up (with ok false)
// once the count passes limit so that a run of zeros in a hostile stream
// costs no more than reading it.
func (b *bitReader) unary(limit uint64) (q uint64, ok bool, err error) {
	for {
		if b.n == 0 {
			if err := b.loadByte(); err != nil {
				return 0, false, err
			}
		}
		// The cache's unused low bits are zero, so a one bit among the n
		// valid ones shows as fewer than n leading zeros.
		z := uint(bits.LeadingZeros64(b.cache))
		if z < b.n {
			b.cache <<= z + 1
			b.n -= z + 1
			q += uint64(z)
			return q, q <= limit, nil
		}
		q += uint64(b.n)
		b.cache, b.n = 0, 0
		if q > limit {
			return q, false, nil
		}
	}
}

// align drops the bits up to the next byte boundary.
func (b *bitReader) align() {
	r := b.n % 8
	b.cache <<= r
	b.n -= r
}

// readFull fills p from a byte-aligned position (metadata, between
// frames). It bypasses the CRCs, which only cover frames.
func (b *bitReader) readFull(p []byte) error {
	if b.n != 0 {
		return errors.New("flac: internal error: unaligned byte read")
	}
	for len(p) > 0 {
		if b.r == b.w {
			if err := b.fill(); err != nil {
				return err
			}
		}
		k := copy(p, b.buf[b.r:b.w])
		b.r += k
		b.off += int64(k)
		p = p[k:]
	}
	return nil
}

// discard skips n bytes from a byte-aligned position.
func (b *bitReader) discard(n int64) error {
	if b.n != 0 {
		return errors.New("flac: internal error: unaligned skip")
	}
	for n > 0 {
		if b.r == b.w {
			if err := b.fill(); err != nil {
				return err
			}
		}
		k := int(min(n, int64(b.w-b.r)))
		b.r += k
		b.off += int64(k)
		n -= int64(k)
	}
	return nil
}

// atEOF reports, at a byte boundary, whether the stream has no more bytes.
func (b *bitReader) atEOF() (bool, error) {
	if b.n != 0 || b.r < b.w {
		return false, nil
	}
	switch err := b.fill(); err {
	case nil:
		return false, nil
	case errFLACEOF:
		return true, nil
	default:
		return false, err
	}
}
