package audio

import (
	"errors"
	"fmt"
	"io"
)

// Ogg framing limits (RFC 3533).
const (
	oggHeaderSize = 27
	// maxOggPacket: an Opus packet is at most 1275 bytes per frame and
	// 120 ms; 64 KiB bounds what one packet may claim across pages.
	maxOggPacket = 64 << 10
)

// ReadOggPackets splits an Ogg stream (an .opus file as opusenc writes it)
// into its packets, lacing resolved, and skips the first skip packets (2 for
// Ogg Opus: OpusHead and OpusTags). It is what the tests and the load tool
// replay over RTP: one Opus packet per RTP packet.
func ReadOggPackets(r io.Reader, skip int) ([][]byte, error) {
	var out [][]byte
	var cur []byte
	hdr := make([]byte, oggHeaderSize)
	seg := make([]byte, 255)
	for page := 0; ; page++ {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if err == io.EOF && page > 0 {
				break
			}
			return nil, fmt.Errorf("ogg page %d: %w", page, err)
		}
		if string(hdr[:4]) != "OggS" {
			return nil, fmt.Errorf("ogg page %d: not an Ogg stream (no OggS capture pattern)", page)
		}
		n := int(hdr[26])
		lacing := seg[:n]
		if _, err := io.ReadFull(r, lacing); err != nil {
			return nil, fmt.Errorf("ogg page %d lacing: %w", page, err)
		}
		for _, l := range lacing {
			p := make([]byte, l)
			if _, err := io.ReadFull(r, p); err != nil {
				return nil, fmt.Errorf("ogg page %d: %w", page, err)
			}
			cur = append(cur, p...)
			if len(cur) > maxOggPacket {
				return nil, errors.New("ogg: packet larger than 64 KiB")
			}
			if l < 255 {
				out = append(out, cur)
				cur = nil
			}
		}
	}
	if len(out) <= skip {
		return nil, fmt.Errorf("ogg: %d packets, none after the %d headers", len(out), skip)
	}
	return out[skip:], nil
}
