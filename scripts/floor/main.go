// Command floor is the read floor of offline analysis: the least any
// per-frame energy analysis of a WAV has to do. It reads a 16-bit PCM WAV
// in large reads, and computes the sum of squares of every 10 ms frame of
// every channel, on one core. scripts/speed.sh times `talkratio analyze`
// against it: what analyze takes beyond this is the cost of the detector.
//
//	go run ./scripts/floor FILE.wav
//
// It prints the frame count and each channel's mean level, so that the work
// cannot be optimised away and a run can be checked at a glance. Only the
// standard library is used, and only what a fast reader of one known format
// needs: the header is parsed just far enough to find the samples.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// readBytes per read: large enough that system calls vanish next to the
// arithmetic (a 1 MiB read from the page cache takes ~0.1 ms), small enough
// to stay in the L2 cache.
const readBytes = 1 << 20

// frameMS is the analysis hop, as in talkratio's default configuration.
const frameMS = 10

// maxChannels bounds the per-channel sums.
const maxChannels = 8

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE.wav (16-bit PCM)")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rate, channels, data, err := header(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	hop := rate * frameMS / 1000
	block := 2 * channels // bytes per sample frame
	buf := make([]byte, readBytes/block*block)
	var (
		sum    [maxChannels]int64   // the current frame's sum of squares
		total  [maxChannels]float64 // sum over frames of the frame's mean square
		inHop  int                  // sample frames in the current frame
		frames int64
		carry  int // bytes of a partial sample frame at buf[:carry]
	)
	for data > 0 {
		end := len(buf)
		if int64(end-carry) > data {
			end = carry + int(data)
		}
		n, err := io.ReadAtLeast(f, buf[carry:end], 1)
		data -= int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
		got := carry + n
		whole := got / block * block
		b := buf[:whole]
		for len(b) > 0 {
			// As many sample frames as fit in the current 10 ms frame.
			k := min(hop-inHop, len(b)/block)
			if channels == 2 {
				// One 64-bit load is two stereo sample frames.
				l, r := sum[0], sum[1]
				fb := b[:4*k]
				i := 0
				for ; i+8 <= len(fb); i += 8 {
					x := binary.LittleEndian.Uint64(fb[i:])
					s0, s1 := int64(int16(x)), int64(int16(x>>16))
					s2, s3 := int64(int16(x>>32)), int64(int16(x>>48))
					l += s0*s0 + s2*s2
					r += s1*s1 + s3*s3
				}
				if i < len(fb) {
					x := binary.LittleEndian.Uint32(fb[i:])
					s0, s1 := int64(int16(x)), int64(int16(x>>16))
					l += s0 * s0
					r += s1 * s1
				}
				sum[0], sum[1] = l, r
			} else {
				for i := 0; i < k*block; i += block {
					for c := range channels {
						s := int64(int16(binary.LittleEndian.Uint16(b[i+2*c:])))
						sum[c] += s * s
					}
				}
			}
			b = b[k*block:]
			inHop += k
			if inHop == hop {
				for c := range channels {
					total[c] += float64(sum[c]) / float64(hop)
					sum[c] = 0
				}
				inHop = 0
				frames++
			}
		}
		carry = copy(buf, buf[whole:got])
	}
	fmt.Printf("%d frames of %d ms", frames, frameMS)
	for c := range channels {
		fmt.Printf(", ch%d %.1f dBFS", c, 10*math.Log10(total[c]/float64(max(frames, 1))/(1<<30)))
	}
	fmt.Println()
	return nil
}

// header reads the RIFF header up to the data chunk and returns the sample
// rate, the channel count and the data chunk's length.
func header(r io.Reader) (rate, channels int, data int64, err error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return 0, 0, 0, fmt.Errorf("reading RIFF header: %w", err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return 0, 0, 0, errors.New("not a RIFF/WAVE file")
	}
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return 0, 0, 0, fmt.Errorf("no data chunk: %w", err)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		switch string(ch[0:4]) {
		case "fmt ":
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil || size < 16 {
				return 0, 0, 0, errors.New("short fmt chunk")
			}
			tag := binary.LittleEndian.Uint16(b[0:])
			channels = int(binary.LittleEndian.Uint16(b[2:]))
			rate = int(binary.LittleEndian.Uint32(b[4:]))
			bits := binary.LittleEndian.Uint16(b[14:])
			if tag == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the sub-format's tag
				tag = binary.LittleEndian.Uint16(b[24:])
			}
			if tag != 1 || bits != 16 || channels < 1 || channels > maxChannels || rate < 1000 {
				return 0, 0, 0, fmt.Errorf("want 16-bit PCM, 1-%d channels; have tag %d, %d bits, %d channels, %d Hz", maxChannels, tag, bits, channels, rate)
			}
		case "data":
			if channels == 0 {
				return 0, 0, 0, errors.New("data chunk before fmt chunk")
			}
			return rate, channels, size, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return 0, 0, 0, fmt.Errorf("skipping chunk: %w", err)
			}
		}
	}
}
