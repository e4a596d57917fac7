package flac

import (
	"fmt"

	"talkratio/audio"
)

// Frame decoding: the frame header, checked against STREAMINFO, and the
// frame's subframes and CRCs (RFC 9639 section 9).

// decodeFrame reads one frame into f.block and returns its block size.
func (f *Reader) decodeFrame() (int, error) {
	br := f.br
	br.crc8, br.crc16 = 0, 0
	h, err := br.bits(16)
	if err != nil {
		return 0, err
	}
	if h>>1 != 0xFFF8>>1 {
		return 0, fmt.Errorf("%w: no frame sync code (found 0x%04X)", audio.ErrMalformed, h)
	}
	varied := int(h & 1)
	if f.varied < 0 {
		f.varied = varied
	} else if varied != f.varied {
		return 0, fmt.Errorf("%w: blocking strategy changes mid-stream", audio.ErrMalformed)
	}
	b, err := br.bits(16)
	if err != nil {
		return 0, err
	}
	bsCode, rateCode, chCode, bpsCode, reserved := b>>12, b>>8&15, b>>4&15, b>>1&7, b&1
	if reserved != 0 {
		return 0, fmt.Errorf("%w: reserved header bit set", audio.ErrMalformed)
	}
	num, err := f.codedNumber()
	if err != nil {
		return 0, err
	}
	var n int
	switch {
	case bsCode == 0:
		return 0, fmt.Errorf("%w: reserved block size code", audio.ErrMalformed)
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
		return 0, fmt.Errorf("%w: forbidden sample rate code", audio.ErrMalformed)
	default:
		rate = flacRates[rateCode]
	}
	want := br.crc8
	crc, err := br.bits(8)
	if err != nil {
		return 0, err
	}
	if uint8(crc) != want {
		return 0, fmt.Errorf("%w: header CRC-8 mismatch", audio.ErrMalformed)
	}

	// Only now, with the header known to be intact, check it against the
	// stream.
	if n > f.maxBlock {
		return 0, fmt.Errorf("%w: block of %d samples, STREAMINFO allows %d", audio.ErrMalformed, n, f.maxBlock)
	}
	if rate != f.format.SampleRate {
		return 0, fmt.Errorf("%w: sample rate changes mid-stream (%d Hz, STREAMINFO says %d Hz)", audio.ErrUnsupported, rate, f.format.SampleRate)
	}
	channels := int(chCode) + 1
	switch {
	case chCode > 10:
		return 0, fmt.Errorf("%w: reserved channel assignment %d", audio.ErrMalformed, chCode)
	case chCode >= 8:
		channels = 2
	}
	if channels != f.format.Channels {
		return 0, fmt.Errorf("%w: %d channels, STREAMINFO says %d", audio.ErrUnsupported, channels, f.format.Channels)
	}
	bps := f.format.BitsPerSample
	if bpsCode != 0 {
		if flacDepths[bpsCode] == 0 {
			return 0, fmt.Errorf("%w: reserved bit depth code", audio.ErrMalformed)
		}
		if flacDepths[bpsCode] != bps {
			return 0, fmt.Errorf("%w: bit depth changes mid-stream (%d, STREAMINFO says %d)", audio.ErrUnsupported, flacDepths[bpsCode], bps)
		}
	}
	wantNum := f.frameNo
	if varied == 1 {
		wantNum = uint64(f.decoded)
	}
	if num != wantNum {
		return 0, fmt.Errorf("%w: frame numbered %d, expected %d (frames missing or out of order)", audio.ErrMalformed, num, wantNum)
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
		return 0, fmt.Errorf("%w: frame CRC-16 mismatch", audio.ErrMalformed)
	}
	return n, f.undoStereo(n, int(chCode), bps)
}

// codedNumber reads the frame or sample number in FLAC's extended UTF-8.
func (f *Reader) codedNumber() (uint64, error) {
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
		return 0, fmt.Errorf("%w: bad coded frame number", audio.ErrMalformed)
	}
	v := b0 & (0x3F >> extra)
	for range extra {
		c, err := f.br.bits(8)
		if err != nil {
			return 0, err
		}
		if c&0xC0 != 0x80 {
			return 0, fmt.Errorf("%w: bad coded frame number", audio.ErrMalformed)
		}
		v = v<<6 | c&0x3F
	}
	return v, nil
}
