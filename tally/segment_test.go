package tally

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// AppendJSONFloat writes what encoding/json writes for any finite float64,
// through its shortcut for whole milliseconds and without it.
func TestAppendJSONFloat(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONFloat(nil, f); string(got) != string(want) {
			t.Fatalf("%v (%b): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.001, -0.001, 0.1, 0.3, 1.5, 12.345, 999999999999.999, 1e12, 1e15, 1e21, 1.5e-7, 5e-324, math.MaxFloat64, -math.MaxFloat64} {
		check(f)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		ms := rng.Int64N(1e13) - 5e12
		check(float64(ms) / 1000)
		check(math.Round(rng.NormFloat64()*1e6) / 1e3)
		if f := math.Float64frombits(rng.Uint64()); finite(f) {
			check(f)
		}
	}
}
