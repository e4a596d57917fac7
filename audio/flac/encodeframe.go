package flac

import "talkratio/audio/flac/internal/encoder"

// Frame encoding: the frame header (RFC 9639 section 9.1) and the stereo
// decorrelation, around the subframes package encoder plans.

// encodeFrame encodes the first n samples of the block into one frame and
// returns its bytes (valid until the next call).
func (fw *Writer) encodeFrame(n int) []byte {
	window := fw.window
	if n != flacBlockSize {
		window = encoder.TukeyWindow(n) // only the last block; once per stream
	}
	var plans [8]*encoder.Plan
	assign := fw.channels - 1
	if fw.channels == 2 {
		l, r := fw.block[0][:n], fw.block[1][:n]
		side, mid := fw.side[:n], fw.mid[:n]
		for i := range l {
			side[i] = l[i] - r[i]
			mid[i] = (l[i] + r[i]) >> 1
		}
		cl := fw.enc[0].Analyze(l, flacBitsPerSample, window)
		cr := fw.enc[1].Analyze(r, flacBitsPerSample, window)
		cs := fw.enc[2].Analyze(side, flacBitsPerSample+1, window)
		cm := fw.enc[3].Analyze(mid, flacBitsPerSample, window)
		L, R, S, M := fw.enc[0].Plan(), fw.enc[1].Plan(), fw.enc[2].Plan(), fw.enc[3].Plan()
		plans[0], plans[1], assign = L, R, chanIndependent+1
		best := cl + cr
		if c := cl + cs; c < best {
			plans[0], plans[1], assign, best = L, S, chanLeftSide, c
		}
		if c := cs + cr; c < best {
			plans[0], plans[1], assign, best = S, R, chanSideRight, c
		}
		if c := cm + cs; c < best {
			plans[0], plans[1], assign = M, S, chanMidSide
		}
	} else {
		for c := range fw.channels {
			fw.enc[c].Analyze(fw.block[c][:n], flacBitsPerSample, window)
			plans[c] = fw.enc[c].Plan()
		}
	}

	w := &fw.fb
	w.Reset()
	w.Bits(0xFFF8, 16) // sync code, reserved bit, fixed block size
	bsCode, bsExtra := blockSizeCode(n)
	rateCode, rateExtra, rateBits := sampleRateCode(fw.rate)
	w.Bits(uint64(bsCode), 4)
	w.Bits(uint64(rateCode), 4)
	w.Bits(uint64(assign), 4)
	w.Bits(0b100, 3) // 16 bits per sample
	w.Bits(0, 1)
	w.Align()
	w.Buf = appendCodedNumber(w.Buf, fw.frame)
	switch bsCode {
	case 0b0110:
		w.Bits(uint64(bsExtra), 8)
	case 0b0111:
		w.Bits(uint64(bsExtra), 16)
	}
	if rateBits > 0 {
		w.Bits(uint64(rateExtra), rateBits)
	}
	w.Align()
	w.Buf = append(w.Buf, crc8(0, w.Buf))
	for _, p := range plans[:fw.channels] {
		p.Write(w)
	}
	w.Align()
	crc := crc16(0, w.Buf)
	w.Buf = append(w.Buf, byte(crc>>8), byte(crc))
	return w.Buf
}

// blockSizeCode returns the header's 4-bit block size code and, for sizes
// without one, the value stored after the coded number (size-1).
func blockSizeCode(n int) (code, extra int) {
	switch n {
	case 192:
		return 0b0001, 0
	case 576, 1152, 2304, 4608:
		return 0b0010 + log2(n/576), 0
	case 256, 512, 1024, 2048, 4096, 8192, 16384, 32768:
		return 0b1000 + log2(n/256), 0
	}
	if n <= 256 {
		return 0b0110, n - 1
	}
	return 0b0111, n - 1
}

func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// sampleRateCode returns the header's 4-bit rate code and, for rates
// without one, the value and width stored at the end of the header (so
// every frame is decodable on its own, as the streamable subset wants).
func sampleRateCode(rate int) (code, extra int, width uint) {
	switch rate {
	case 8000:
		return 0b0100, 0, 0
	case 16000:
		return 0b0101, 0, 0
	case 22050:
		return 0b0110, 0, 0
	case 24000:
		return 0b0111, 0, 0
	case 32000:
		return 0b1000, 0, 0
	case 44100:
		return 0b1001, 0, 0
	case 48000:
		return 0b1010, 0, 0
	}
	if rate%1000 == 0 && rate/1000 < 256 {
		return 0b1100, rate / 1000, 8
	}
	if rate < 1<<16 {
		return 0b1101, rate, 16
	}
	return 0b1110, rate / 10, 16
}

// appendCodedNumber appends v in FLAC's extended UTF-8 coding (RFC 9639
// section 9.1.5).
func appendCodedNumber(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	// Continuation bytes carry 6 bits each; the lead byte has 7-n bits for
	// an n-byte sequence.
	n := 2
	for v >= 1<<(5*n+1) && n < 7 {
		n++
	}
	lead := byte(0xFF << (8 - n))
	if n == 7 {
		lead = 0xFE
	}
	b = append(b, lead|byte(v>>(6*(n-1))))
	for i := n - 2; i >= 0; i-- {
		b = append(b, 0x80|byte(v>>(6*i))&0x3F)
	}
	return b
}
