package vad

import (
	"math"
	"math/rand/v2"
	"testing"

	"talkratio/vad/internal/dsp"
)

// refLeak is the leak model's learning as it was before it was made
// faster: plain rings, a logarithm per frame, every delay tried every
// frame, the steadiest delay searched afterwards. The leak model must
// match it bit for bit.
type refLeak struct {
	ratioDB, spreadDB []float64
	updates           []int
	best              int
}

type refHistory struct {
	p, db []float64
	pos   int
}

func (h *refHistory) push(v float64) {
	h.p[h.pos], h.db[h.pos] = v, dsp.PowerToDB(v)
	h.pos = (h.pos + 1) % len(h.p)
}

func (h *refHistory) index(k int) int {
	i := h.pos - 1 - k
	if i < 0 {
		i += len(h.p)
	}
	return i
}

func (m *refLeak) learn(own, ownDB float64, other *refHistory, strong float64) {
	ownDB = max(ownDB, leakFloorDB)
	for k := range m.ratioDB {
		i := other.index(k)
		o := other.p[i]
		if o < strong || o <= own {
			continue
		}
		r := max(ownDB-other.db[i], leakFloorDB)
		step := leakStepDB
		if m.updates[k] < leakFastSteps {
			step = leakFastStepDB
			if m.updates[k] == 0 {
				m.ratioDB[k] = r
			}
		}
		m.updates[k]++
		dev := r - m.ratioDB[k]
		if dev > 0 {
			m.ratioDB[k] += step
		} else {
			m.ratioDB[k] = max(m.ratioDB[k]-step, leakFloorDB)
			dev = -dev
		}
		m.spreadDB[k] += leakSpreadWeight * (dev - m.spreadDB[k])
	}
	for k, s := range m.spreadDB {
		if s < m.spreadDB[m.best] {
			m.best = k
		}
	}
}

// predict is the reference prediction: the steadiest delay's ratio, when
// trusted, applied to the other side's loudest frame around that delay.
func (m *refLeak) predict(other *refHistory) float64 {
	k := m.best
	if m.ratioDB[k] > leakMaxDB || m.spreadDB[k] > leakMaxSpreadDB ||
		m.ratioDB[k] < leakFaintDB && m.spreadDB[k] > leakFaintMaxSpreadDB {
		return 0
	}
	ago := func(k int) float64 { return other.p[other.index(k)] }
	p := ago(k)
	if k > 0 {
		p = max(p, ago(k-1))
	}
	if k+1 < len(m.ratioDB) {
		p = max(p, ago(k+1))
	}
	return p * dsp.DBToPower(m.ratioDB[k])
}

// The leak model learns and predicts exactly what the reference does, frame by
// frame: on talk, silence, ties, a true leak, and NaN (which only NaN
// input could bring).
func TestLeakMatchesReference(t *testing.T) {
	const n = 13
	r := rand.New(rand.NewPCG(7, 7))
	trusted := 0
	for trial := range 40 {
		m := newLeakModel(n - 1)
		h := [2]history{newHistory(n), newHistory(n)}
		ref := refLeak{ratioDB: append([]float64(nil), m.ratioDB...), spreadDB: append([]float64(nil), m.spreadDB...), updates: make([]int, n)}
		rh := [2]refHistory{{p: make([]float64, n), db: make([]float64, n)}, {p: make([]float64, n), db: make([]float64, n)}}
		talk := [2]bool{}
		for f := range 3000 {
			var v [2]float64
			for c := range v {
				if r.IntN(40) == 0 {
					talk[c] = !talk[c]
				}
				switch {
				case talk[c]:
					v[c] = math.Pow(10, -2-2*r.Float64())
				case r.IntN(4) == 0:
					v[c] = 0 // under the floor
				default:
					v[c] = math.Pow(10, -7-r.Float64())
				}
				if c == 1 && trial%2 == 0 {
					v[1] += 0.05 * h[0].ago(3) // a leak of side 0 into side 1, 3 frames late
				}
				if trial == 5 && f == 1000 && c == 0 {
					v[c] = math.NaN()
				}
				if trial == 6 && f%50 == 0 {
					v[c] = 1e-3 // the same power on both sides: ties
				}
			}
			for c := range v {
				h[c].push(v[c])
				rh[c].push(v[c])
			}
			strong := math.Pow(10, -5+2*r.Float64())
			m.learn(&h[1], &h[0], strong)
			ref.learn(rh[1].p[rh[1].index(0)], rh[1].db[rh[1].index(0)], &rh[0], strong)
			for k := range n {
				if math.Float64bits(m.ratioDB[k]) != math.Float64bits(ref.ratioDB[k]) || math.Float64bits(m.spreadDB[k]) != math.Float64bits(ref.spreadDB[k]) ||
					m.updates[k] != ref.updates[k] {
					t.Fatalf("trial %d frame %d delay %d: ratio %v spread %v updates %d, reference %v %v %d",
						trial, f, k, m.ratioDB[k], m.spreadDB[k], m.updates[k], ref.ratioDB[k], ref.spreadDB[k], ref.updates[k])
				}
			}
			if m.best != ref.best {
				t.Fatalf("trial %d frame %d: best delay %d, reference %d", trial, f, m.best, ref.best)
			}
			if got, want := m.predict(&h[0]), ref.predict(&rh[0]); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("trial %d frame %d: predicted %v, reference %v", trial, f, got, want)
			} else if got > 0 {
				trusted++
			}
		}
	}
	if trusted == 0 {
		t.Error("no frame had a trusted leak to predict: the test does not test prediction")
	}
}
