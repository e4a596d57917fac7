package flac

import (
	"fmt"

	"talkratio/audio"
)

// Subframe decoding: constant, verbatim, fixed and LPC subframes, their
// Rice-coded residuals, and the stereo decorrelation undone, with every
// restored sample checked against the bit depth.

// decodeSubframe decodes one channel of n samples of sbps bits (the
// frame's depth, plus one for a side channel) into x.
func (f *Reader) decodeSubframe(x []int32, sbps uint) error {
	br := f.br
	h, err := br.bits(8)
	if err != nil {
		return err
	}
	if h&0x80 != 0 {
		return fmt.Errorf("%w: subframe padding bit set", audio.ErrMalformed)
	}
	typ := int(h >> 1 & 0x3F)
	wasted := uint(0)
	if h&1 != 0 {
		k, ok, err := br.unary(uint64(sbps) - 2)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: wasted bits leave no sample bits", audio.ErrMalformed)
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
			return fmt.Errorf("%w: fixed predictor order %d for %d samples", audio.ErrMalformed, order, n)
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
			return fmt.Errorf("%w: LPC order %d for %d samples", audio.ErrMalformed, order, n)
		}
		if err := f.warmup(x[:order], bps); err != nil {
			return err
		}
		p, err := br.bits(4)
		if err != nil {
			return err
		}
		if p == 15 {
			return fmt.Errorf("%w: forbidden LPC precision code", audio.ErrMalformed)
		}
		prec := uint(p) + 1
		shift, err := br.signed(5)
		if err != nil {
			return err
		}
		if shift < 0 {
			return fmt.Errorf("%w: negative LPC shift", audio.ErrMalformed)
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
		return fmt.Errorf("%w: reserved subframe type %d", audio.ErrMalformed, typ)
	}
	if wasted > 0 {
		for i := range x {
			x[i] <<= wasted
		}
	}
	return nil
}

func (f *Reader) warmup(x []int32, bps uint) error {
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
func (f *Reader) residual(x []int32, order int) error {
	br := f.br
	method, err := br.bits(2)
	if err != nil {
		return err
	}
	if method > 1 {
		return fmt.Errorf("%w: reserved residual coding method %d", audio.ErrMalformed, method)
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
		return fmt.Errorf("%w: partition order %d for %d samples with predictor order %d", audio.ErrMalformed, po, n, order)
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
				return fmt.Errorf("%w: residual out of range", audio.ErrMalformed)
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

var errSampleRange = fmt.Errorf("%w: decoded sample outside the bit depth", audio.ErrMalformed)

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
func (f *Reader) undoStereo(n, chCode, bps int) error {
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
