package flac

import (
	"bufio"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"time"

	"talkratio/audio"
	"talkratio/audio/flac/internal/encoder"
)

// What the writer writes, within the format.
const (
	// flacBlockSize is the samples per channel in every frame but the last.
	// Speech changes faster than music, so a block shorter than libFLAC's
	// 4096 predicts better: on the 40 eval calls at 16 kHz, 2048 gave the
	// smallest files of 1152-4608 (0.6% under 4096). It is one of the sizes
	// the frame header codes in 4 bits, and well inside the streamable
	// subset's 4608 for rates up to 48 kHz.
	flacBlockSize = 2048
	// flacBitsPerSample is what the writer stores: what phone and meeting
	// audio carries and what the WAV writer stores too.
	flacBitsPerSample = 16

	// flacSeekInterval is the target spacing of seek points. A browser
	// seeking to t fetches from the point at or before t and decodes
	// forward, so the spacing bounds the audio read (and thrown away) per
	// seek: 2 s of 16 kHz stereo speech is about 50 KB.
	flacSeekInterval = 2 * time.Second
	// DefaultExpected is the recording length the seek table is sized
	// for when the caller does not know better. The table must be reserved
	// before the first frame; 30 minutes at one point per 2 s is 16 KB,
	// about 1% of a one-minute call. Longer recordings still get a table
	// over their whole length, with points twice, four times... as far
	// apart.
	DefaultExpected = 30 * time.Minute
	// flacMaxSeekPoints bounds the reserved table (and the memory holding
	// it) whatever a caller expects: 8192 points is 147 KB, 4.5 hours at
	// one point per 2 s.
	flacMaxSeekPoints = 8192
)

// Writer encodes 16-bit PCM as FLAC, lossless, about half the size of
// the same audio in WAV for speech. It streams with constant memory (one
// block of samples and one frame's bytes), and Close fills in what is only
// known at the end: the total length, the MD5 of the audio, the frame size
// bounds and a seek table, so w must be seekable.
//
// Samples are scaled by 32768 and rounded, the inverse of the readers'
// 1/32768, so audio that came from 16-bit PCM is stored bit for bit.
//
// The stream stays valid while it is being written: until Close, its
// STREAMINFO says "length unknown" and the space reserved for the seek table
// is a PADDING block, so a recording cut off by a crash still decodes up to
// its last whole frame.
type Writer struct {
	w        io.WriteSeeker
	bw       *bufio.Writer
	start    int64 // offset of "fLaC" in w
	rate     int
	channels int

	block  [][]int32 // this block's samples per channel
	fill   int       // samples in block
	frame  uint64    // frames written
	total  uint64    // samples per channel written
	audio  int64     // bytes of frames written
	minFrm int
	maxFrm int

	md5    hash.Hash
	md5buf []byte

	enc    []*encoder.Channel // one per channel; stereo adds mid and side
	side   []int32
	mid    []int32
	window []float64
	fb     encoder.BitWriter // the frame being built

	seek seekTable

	closed bool
	err    error // sticky: the first write error
}

// NewWriter starts a FLAC stream at w's current position, with a seek
// table sized for DefaultExpected. rate must be within audio.MinSampleRate
// and audio.MaxSampleRate, channels 1 to 8 (FLAC's limit).
func NewWriter(w io.WriteSeeker, rate, channels int) (*Writer, error) {
	return NewWriterExpecting(w, rate, channels, DefaultExpected)
}

// NewWriterExpecting is NewWriter with the seek table sized for a
// recording of about the given length (an upload knows it; a live call can
// give its expected maximum). Longer recordings work, with coarser seeking.
func NewWriterExpecting(w io.WriteSeeker, rate, channels int, expected time.Duration) (*Writer, error) {
	if w == nil {
		return nil, errors.New("flac writer: nil writer")
	}
	if channels < 1 || channels > 8 {
		return nil, fmt.Errorf("flac writer: %d channels (FLAC holds 1 to 8)", channels)
	}
	if rate < audio.MinSampleRate || rate > audio.MaxSampleRate {
		return nil, fmt.Errorf("flac writer: sample rate %d Hz out of range (supported %d-%d Hz)", rate, audio.MinSampleRate, audio.MaxSampleRate)
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("flac writer: %w", err)
	}
	fw := &Writer{
		w:        w,
		bw:       bufio.NewWriterSize(w, 64<<10),
		start:    start,
		rate:     rate,
		channels: channels,
		block:    make([][]int32, channels),
		md5:      md5.New(),
		md5buf:   make([]byte, flacBlockSize*channels*2),
		window:   encoder.TukeyWindow(flacBlockSize),
		minFrm:   math.MaxInt,
	}
	for c := range fw.block {
		fw.block[c] = make([]int32, flacBlockSize)
		fw.enc = append(fw.enc, encoder.NewChannel(flacBlockSize))
	}
	if channels == 2 {
		fw.enc = append(fw.enc, encoder.NewChannel(flacBlockSize), encoder.NewChannel(flacBlockSize))
		fw.side = make([]int32, flacBlockSize)
		fw.mid = make([]int32, flacBlockSize)
	}

	// Seek points on frame boundaries about flacSeekInterval apart.
	frameDur := float64(flacBlockSize) / float64(rate)
	every := max(uint64(math.Round(flacSeekInterval.Seconds()/frameDur)), 1)
	points := int(min(max(expected.Seconds()/(float64(every)*frameDur), 1), flacMaxSeekPoints))
	fw.seek = seekTable{capacity: points, every: every, points: make([]flacSeekPoint, 0, points)}

	if err := fw.writeMetadata(); err != nil {
		return nil, err
	}
	if err := fw.bw.Flush(); err != nil {
		return nil, fmt.Errorf("flac writer: %w", err)
	}
	return fw, nil
}

// writeMetadata writes "fLaC", STREAMINFO and the seek table region as they
// stand: at the start with unknowns, at Close with the final values.
func (fw *Writer) writeMetadata() error {
	var b [flacMetaHeaderSize + flacStreamInfoSize]byte
	copy(b[:], flacMagic)
	if _, err := fw.bw.Write(b[:4]); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	b[0] = flacMetaStreamInfo
	b[1], b[2], b[3] = 0, 0, flacStreamInfoSize
	si := b[flacMetaHeaderSize:]
	binary.BigEndian.PutUint16(si[0:], flacBlockSize)
	binary.BigEndian.PutUint16(si[2:], flacBlockSize)
	minFrm, maxFrm := 0, 0 // unknown until Close
	if fw.closed && fw.frame > 0 {
		minFrm, maxFrm = fw.minFrm, fw.maxFrm
	}
	put24(si[4:], uint32(minFrm))
	put24(si[7:], uint32(maxFrm))
	// 20 bits rate, 3 bits channels-1, 5 bits bps-1, 36 bits total samples.
	v := uint64(fw.rate)<<44 | uint64(fw.channels-1)<<41 | uint64(flacBitsPerSample-1)<<36
	if fw.closed {
		v |= fw.total
	}
	binary.BigEndian.PutUint64(si[10:], v)
	if fw.closed {
		// An empty stream's MD5 stays zero ("unknown"): there is nothing to check.
		if fw.total > 0 {
			copy(si[18:], fw.md5.Sum(nil))
		}
	}
	if _, err := fw.bw.Write(b[:]); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}

	// The seek table region: SEEKTABLE with the points so far (none at the
	// start), then PADDING for the rest, so that the frames start at the
	// same offset whatever the table holds.
	used := len(fw.seek.points)
	if !fw.closed {
		used = 0
	}
	padLen := fw.seek.reserved() - flacMetaHeaderSize
	if used > 0 {
		tl := used * flacSeekPointSize
		hdr := [4]byte{flacMetaSeekTable}
		put24(hdr[1:], uint32(tl))
		if _, err := fw.bw.Write(hdr[:]); err != nil {
			return fmt.Errorf("flac writer: %w", err)
		}
		var p [flacSeekPointSize]byte
		for _, sp := range fw.seek.points {
			binary.BigEndian.PutUint64(p[0:], sp.sample)
			binary.BigEndian.PutUint64(p[8:], sp.offset)
			binary.BigEndian.PutUint16(p[16:], sp.samples)
			if _, err := fw.bw.Write(p[:]); err != nil {
				return fmt.Errorf("flac writer: %w", err)
			}
		}
		padLen -= flacMetaHeaderSize + tl
	}
	hdr := [4]byte{flacLastMetaBlock | flacMetaPadding}
	put24(hdr[1:], uint32(padLen))
	if _, err := fw.bw.Write(hdr[:]); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	var zero [256]byte
	for padLen > 0 {
		n := min(padLen, len(zero))
		if _, err := fw.bw.Write(zero[:n]); err != nil {
			return fmt.Errorf("flac writer: %w", err)
		}
		padLen -= n
	}
	return nil
}

func put24(b []byte, v uint32) { b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v) }

// Write appends samples: src[c] holds channel c, all the same length,
// values in [-1, 1] (clipped beyond; NaN is taken as 0).
func (fw *Writer) Write(src [][]float32) error {
	if fw.closed {
		return errors.New("flac writer: write after close")
	}
	if fw.err != nil {
		return fw.err
	}
	if len(src) != fw.channels {
		return fmt.Errorf("flac writer: %d channels given, %d expected", len(src), fw.channels)
	}
	n := len(src[0])
	for _, ch := range src {
		if len(ch) != n {
			return errors.New("flac writer: channels differ in length")
		}
	}
	if fw.total+uint64(fw.fill)+uint64(n) > flacMaxTotalSamples {
		return errors.New("flac writer: stream would exceed FLAC's 2^36 samples")
	}
	for i := 0; i < n; {
		k := min(n-i, flacBlockSize-fw.fill)
		for c, ch := range src {
			dst := fw.block[c][fw.fill : fw.fill+k]
			for j, v := range ch[i : i+k] {
				dst[j] = quantize16(v)
			}
		}
		fw.fill += k
		i += k
		if fw.fill == flacBlockSize {
			if err := fw.flushBlock(); err != nil {
				return err
			}
		}
	}
	return nil
}

// quantize16 maps [-1, 1] to 16-bit integers with the same scale as the
// readers (x 32768), clipping and mapping NaN to 0.
func quantize16(v float32) int32 {
	f := math.Round(float64(v) * 32768)
	switch {
	case f >= 32767:
		return 32767
	case f <= -32768:
		return -32768
	case f != f:
		return 0
	}
	return int32(f)
}

// flushBlock encodes the buffered block as one frame and writes it.
func (fw *Writer) flushBlock() error {
	n := fw.fill
	if n == 0 {
		return nil
	}
	fw.fill = 0

	// MD5 of the interleaved little-endian samples, as STREAMINFO defines it.
	mb := fw.md5buf[:n*fw.channels*2]
	for c, ch := range fw.block {
		for i, v := range ch[:n] {
			binary.LittleEndian.PutUint16(mb[(i*fw.channels+c)*2:], uint16(v))
		}
	}
	fw.md5.Write(mb)

	if fw.frame%fw.seek.every == 0 {
		fw.seek.add(flacSeekPoint{sample: fw.total, offset: uint64(fw.audio), samples: uint16(n)})
	}
	frame := fw.encodeFrame(n)
	if _, err := fw.bw.Write(frame); err != nil {
		fw.err = fmt.Errorf("flac writer: %w", err)
		return fw.err
	}
	fw.frame++
	fw.total += uint64(n)
	fw.audio += int64(len(frame))
	fw.minFrm = min(fw.minFrm, len(frame))
	fw.maxFrm = max(fw.maxFrm, len(frame))
	return nil
}

// Flush hands the frames encoded so far to the underlying writer: a
// recording flushed at each checkpoint keeps, after a crash, all but the
// audio since (its last block, still being filled, is not a frame yet).
func (fw *Writer) Flush() error {
	if err := fw.bw.Flush(); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	return nil
}

// Close encodes the last partial block, then seeks back to fill in
// STREAMINFO and the seek table, and leaves w at the end of the stream. It
// does not close w.
func (fw *Writer) Close() error {
	if fw.closed {
		return fw.err
	}
	if fw.err == nil {
		fw.err = fw.finish()
	}
	fw.closed = true
	return fw.err
}

func (fw *Writer) finish() error {
	if err := fw.flushBlock(); err != nil {
		return err
	}
	if err := fw.bw.Flush(); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	end, err := fw.w.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	if _, err := fw.w.Seek(fw.start, io.SeekStart); err != nil {
		return fmt.Errorf("flac writer: seek to header: %w", err)
	}
	fw.bw.Reset(fw.w)
	fw.closed = true // writeMetadata writes the final values
	if err := fw.writeMetadata(); err != nil {
		return err
	}
	if err := fw.bw.Flush(); err != nil {
		return fmt.Errorf("flac writer: %w", err)
	}
	if _, err := fw.w.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("flac writer: seek to end: %w", err)
	}
	return nil
}
