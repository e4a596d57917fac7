package encoder

// BitWriter appends bits MSB first to Buf. Pending bits sit in the low end
// of acc and go out four bytes at a time, so a write of up to 32 bits never
// overflows the 64-bit accumulator.
type BitWriter struct {
	Buf []byte
	acc uint64
	n   uint // pending bits in acc, < 32 between calls
}

func (w *BitWriter) Reset() { w.Buf, w.acc, w.n = w.Buf[:0], 0, 0 }

// bits writes the low n (<= 32) bits of v.
func (w *BitWriter) Bits(v uint64, n uint) {
	w.acc = w.acc<<n | v&(1<<n-1)
	w.n += n
	if w.n >= 32 {
		w.n -= 32
		x := uint32(w.acc >> w.n)
		w.Buf = append(w.Buf, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
}

// signed writes v as an n-bit two's complement number.
func (w *BitWriter) Signed(v int64, n uint) { w.Bits(uint64(v), n) }

// zeros writes n zero bits, for unary codes of any length.
func (w *BitWriter) Zeros(n uint) {
	for n > 32 {
		w.Bits(0, 32)
		n -= 32
	}
	w.Bits(0, n)
}

// align pads with zero bits to a byte boundary and flushes everything.
func (w *BitWriter) Align() {
	if r := w.n % 8; r != 0 {
		w.Bits(0, 8-r)
	}
	for w.n >= 8 {
		w.n -= 8
		w.Buf = append(w.Buf, byte(w.acc>>w.n))
	}
}
