package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// maxWAVData is the most a RIFF data chunk can declare (its size field is
// 32 bits); the writer refuses to go past it rather than write a file that
// lies about its length.
const maxWAVData = math.MaxUint32 - 36

// WAVWriter writes 16-bit PCM WAV, the format every browser plays. It
// streams: samples go out as they come, and Close patches the sizes into the
// header, so w must be seekable.
type WAVWriter struct {
	w        io.WriteSeeker
	bw       *bufio.Writer
	channels int
	rate     int
	data     int64 // bytes of samples written
	buf      []byte
	closed   bool
}

// NewWAVWriter starts a WAV with the given rate and channel count on w.
func NewWAVWriter(w io.WriteSeeker, rate, channels int) (*WAVWriter, error) {
	if channels < 1 || channels > MaxChannels {
		return nil, fmt.Errorf("wav writer: %d channels", channels)
	}
	if rate < 1 {
		return nil, fmt.Errorf("wav writer: sample rate %d", rate)
	}
	ww := &WAVWriter{w: w, bw: bufio.NewWriterSize(w, 64<<10), channels: channels, rate: rate}
	if err := ww.header(0); err != nil {
		return nil, err
	}
	return ww, nil
}

// header writes the 44-byte header for a data chunk of n bytes.
func (ww *WAVWriter) header(n uint32) error {
	var h [44]byte
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+n)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(ww.channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(ww.rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(ww.rate*ww.channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(ww.channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], n)
	if _, err := ww.bw.Write(h[:]); err != nil {
		return fmt.Errorf("wav writer: header: %w", err)
	}
	return nil
}

// Write appends samples: src[c] holds channel c, all the same length,
// values in [-1, 1] (clipped beyond).
func (ww *WAVWriter) Write(src [][]float32) error {
	if ww.closed {
		return errors.New("wav writer: write after close")
	}
	if len(src) != ww.channels {
		return fmt.Errorf("wav writer: %d channels given, %d expected", len(src), ww.channels)
	}
	n := len(src[0])
	bytes := n * ww.channels * 2
	if ww.data+int64(bytes) > maxWAVData {
		return errors.New("wav writer: file would exceed the 4 GiB WAV limit")
	}
	if cap(ww.buf) < bytes {
		ww.buf = make([]byte, bytes)
	}
	b := ww.buf[:bytes]
	for c, ch := range src {
		if len(ch) != n {
			return errors.New("wav writer: channels differ in length")
		}
		for i, v := range ch {
			s := int32(math.Round(float64(v) * 32767))
			s = min(max(s, -32768), 32767)
			binary.LittleEndian.PutUint16(b[(i*ww.channels+c)*2:], uint16(int16(s)))
		}
	}
	if _, err := ww.bw.Write(b); err != nil {
		return fmt.Errorf("wav writer: %w", err)
	}
	ww.data += int64(bytes)
	return nil
}

// Close flushes and writes the final sizes into the header. It does not
// close the underlying writer.
func (ww *WAVWriter) Close() error {
	if ww.closed {
		return nil
	}
	ww.closed = true
	if err := ww.bw.Flush(); err != nil {
		return fmt.Errorf("wav writer: %w", err)
	}
	if _, err := ww.w.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wav writer: seek to header: %w", err)
	}
	ww.bw.Reset(ww.w)
	if err := ww.header(uint32(ww.data)); err != nil {
		return err
	}
	if err := ww.bw.Flush(); err != nil {
		return fmt.Errorf("wav writer: %w", err)
	}
	_, err := ww.w.Seek(0, io.SeekEnd)
	return err
}
