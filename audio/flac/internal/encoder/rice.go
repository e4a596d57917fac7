package encoder

import (
	"math"
	"math/bits"
)

// Residual coding: the Rice partitioning and parameters, and writing a
// planned subframe.

// rice chooses the partition order and per-partition Rice parameters (or
// escapes) for t.res in a block of n samples, fills them into t, and
// returns the residual's size in bits.
func (e *Channel) rice(t *Plan, n int) int {
	order := t.order
	// The deepest partitioning the block allows: partitions must divide
	// the block, and the first must hold the warm-up samples.
	maxP := uint(0)
	for p := uint(1); p <= flacMaxPartitionOrder; p++ {
		if n%(1<<p) != 0 || n>>p < order || n>>p < 1 {
			break
		}
		maxP = p
	}
	// Zigzag sums and bit-ORs per partition at the deepest order; shallower
	// orders are built by merging neighbours.
	parts := 1 << maxP
	size := n >> maxP
	sums, ors := e.sums[:parts], e.ors[:parts]
	i := 0
	for p := range parts {
		end := (p + 1) * size
		var s uint64
		var o uint32
		for ; i+order < end; i++ {
			u := zigzag(t.res[i])
			s += uint64(u)
			o |= u
		}
		sums[p], ors[p] = s, o
	}

	bestCost := math.MaxInt
	var bestP uint
	var bestParams, bestWidths [1 << flacMaxPartitionOrder]uint8
	var bestRice5 bool
	for p := int(maxP); p >= 0; p-- {
		np := 1 << p
		psize := n >> p
		cost := 2 + 4 // method and order
		var params, widths [1 << flacMaxPartitionOrder]uint8
		rice5 := false
		for j := range np {
			cnt := psize
			if j == 0 {
				cnt -= order
			}
			k, c := riceParam(sums[j], cnt)
			// An escaped partition stores raw two's complement numbers:
			// cheaper for all-zero runs and for noise the parameter fits
			// badly.
			w := bits.Len32(ors[j])
			if ec := 5 + cnt*w; w <= 31 && ec < c {
				k, c = flacEscape, ec
				widths[j] = uint8(w)
			} else if k > flacMaxRice4 {
				rice5 = true
			}
			params[j] = uint8(k)
			cost += c
		}
		if rice5 {
			cost += np * 5
		} else {
			cost += np * 4
		}
		if cost < bestCost {
			bestCost, bestP, bestParams, bestWidths, bestRice5 = cost, uint(p), params, widths, rice5
		}
		if p > 0 {
			for j := range np / 2 {
				sums[j] = sums[2*j] + sums[2*j+1]
				ors[j] = ors[2*j] | ors[2*j+1]
			}
		}
	}
	t.partOrder, t.params, t.widths, t.rice5 = bestP, bestParams, bestWidths, bestRice5
	return bestCost
}

// zigzag folds a residual into the unsigned number Rice codes store.
func zigzag(r int32) uint32 { return uint32(r<<1) ^ uint32(r>>31) }

// riceParam returns the best Rice parameter for cnt folded residuals
// summing to sum, and its estimated cost in bits (the unary parts are
// estimated as sum>>k, exact up to rounding per sample).
func riceParam(sum uint64, cnt int) (int, int) {
	if cnt == 0 {
		return 0, 0
	}
	k0 := 0
	if mean := sum / uint64(cnt); mean > 0 {
		k0 = bits.Len64(mean) - 1
	}
	bestK, bestC := 0, math.MaxInt
	for k := max(k0-1, 0); k <= min(k0+1, flacMaxRice5); k++ {
		c := cnt*(k+1) + int(min(sum>>uint(k), math.MaxInt32))
		if c < bestC {
			bestK, bestC = k, c
		}
	}
	return bestK, bestC
}

// write appends the planned subframe to w.
func (p *Plan) Write(w *BitWriter) {
	var typ uint64
	switch p.kind {
	case sfConstant:
		typ = 0
	case sfVerbatim:
		typ = 1
	case sfFixed:
		typ = 8 + uint64(p.order)
	case sfLPC:
		typ = 32 + uint64(p.order) - 1
	}
	w.Bits(typ, 7) // a zero bit, then 6 type bits
	if p.wasted > 0 {
		w.Bits(1, 1)
		w.Zeros(p.wasted - 1)
		w.Bits(1, 1)
	} else {
		w.Bits(0, 1)
	}
	switch p.kind {
	case sfConstant:
		w.Signed(int64(p.x[0]), p.bps)
		return
	case sfVerbatim:
		for _, v := range p.x {
			w.Signed(int64(v), p.bps)
		}
		return
	}
	for _, v := range p.x[:p.order] {
		w.Signed(int64(v), p.bps)
	}
	if p.kind == sfLPC {
		w.Bits(uint64(p.precision)-1, 4)
		w.Signed(int64(p.shift), 5)
		for _, c := range p.coefs[:p.order] {
			w.Signed(int64(c), p.precision)
		}
	}
	p.writeResidual(w)
}

func (p *Plan) writeResidual(w *BitWriter) {
	paramBits, escape := uint(4), uint64(15)
	if p.rice5 {
		w.Bits(1, 2)
		paramBits, escape = 5, 31
	} else {
		w.Bits(0, 2)
	}
	w.Bits(uint64(p.partOrder), 4)
	n := len(p.x)
	size := n >> p.partOrder
	i := 0
	for j := range 1 << p.partOrder {
		end := (j+1)*size - p.order
		part := p.res[i:end]
		i = end
		k := p.params[j]
		if k == flacEscape {
			w.Bits(escape, paramBits)
			width := uint(p.widths[j])
			w.Bits(uint64(width), 5)
			if width > 0 {
				for _, r := range part {
					w.Signed(int64(r), width)
				}
			}
			continue
		}
		w.Bits(uint64(k), paramBits)
		kk := uint(k)
		mask := uint32(1)<<kk - 1
		for _, r := range part {
			u := zigzag(r)
			q := uint(u >> kk)
			if q+1+kk <= 32 {
				// q zeros, the stop bit and the low bits in one write.
				w.Bits(uint64(1)<<kk|uint64(u&mask), q+1+kk)
				continue
			}
			w.Zeros(q)
			w.Bits(1, 1)
			w.Bits(uint64(u&mask), kk)
		}
	}
}
