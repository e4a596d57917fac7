package dsp

// Histogram weighs levels (dB) in bins of histBinDB from histMinDB to
// histMaxDB, every level a phone line carries, to give their quantiles
// without keeping the levels. A fixed array: adding a level allocates
// nothing.
const (
	histMinDB = -110.0
	histMaxDB = 0.0
	histBinDB = 0.5
	histBins  = int((histMaxDB - histMinDB) / histBinDB)
)

type Histogram struct {
	w     [histBins]float64
	total float64
	// Every bin outside [lo, hi] is zero: no level ever fell there.
	// Scaling and quantiles skip those bins, which changes nothing: a
	// zero scales to zero, and a running sum of zeros stays zero.
	lo, hi int
}

// NewHistogram returns an empty histogram.
func NewHistogram() Histogram { return Histogram{lo: histBins, hi: -1} }

// Add counts a level (dB), clamped to the histogram's range.
func (h *Histogram) Add(db float64) {
	i := int((db - histMinDB) / histBinDB)
	i = min(max(i, 0), histBins-1)
	h.w[i]++
	h.total++
	if i < h.lo {
		h.lo = i
	}
	if i > h.hi {
		h.hi = i
	}
}

// Scale multiplies every weight by f: how the histogram forgets.
func (h *Histogram) Scale(f float64) {
	for i := h.lo; i <= h.hi; i++ {
		h.w[i] *= f
	}
	h.total *= f
}

// Quantile returns the level below which a fraction q of the weight lies:
// the first bin where the running sum of the weights from the bottom
// reaches q of the total.
func (h *Histogram) Quantile(q float64) float64 {
	target := q * h.total
	if target <= 0 {
		return histMinDB + 0.5*histBinDB // the first bin's sum, 0, reaches it
	}
	acc := 0.0
	for i := h.lo; i <= h.hi; i++ {
		acc += h.w[i]
		if acc >= target {
			return histMinDB + (float64(i)+0.5)*histBinDB
		}
	}
	return histMaxDB
}

// Total is the sum of the weights.
func (h *Histogram) Total() float64 { return h.total }
