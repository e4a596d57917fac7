package tally

// Segments holds each role's speech segments, and the stretches of the call
// whose audio never arrived (live calls only; offline analysis has none, and
// then the key is left out).
type Segments struct {
	Rep      []Segment `json:"rep"`
	Customer []Segment `json:"customer"`
	Missing  []Segment `json:"missing,omitempty"`
}

// Result is the analysis of a whole call: every metric, plus the segments
// they were computed from.
type Result struct {
	Metrics
	Segments Segments `json:"segments"`
}
