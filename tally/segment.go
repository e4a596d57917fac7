package tally

import (
	"encoding/json"
	"fmt"
	"math"
)

// Role is who a channel belongs to.
type Role int

const (
	Rep Role = iota
	Customer
)

// Roles lists both roles in channel order.
var Roles = [2]Role{Rep, Customer}

func (r Role) String() string {
	switch r {
	case Rep:
		return "rep"
	case Customer:
		return "customer"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// other is the role on the other side of the call.
func (r Role) other() Role { return 1 - r }

// Segment is a half-open time range [Start, End) in seconds from the start
// of the call. It marshals to JSON as [start, end], the form the eval
// scorer and most tools read.
type Segment struct {
	Start, End float64
}

// Dur is the segment's length, 0 if it is empty or inverted.
func (s Segment) Dur() float64 { return max(0, s.End-s.Start) }

// jsonTimeDecimals: milliseconds are finer than any boundary the detector
// can place (10 ms frames) and keep the JSON short.
const jsonTimeDecimals = 1e3

func roundTime(t float64) float64 { return math.Round(t*jsonTimeDecimals) / jsonTimeDecimals }

// MarshalJSON writes [start, end] rounded to the millisecond.
func (s Segment) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]float64{roundTime(s.Start), roundTime(s.End)})
}

// UnmarshalJSON reads [start, end].
func (s *Segment) UnmarshalJSON(b []byte) error {
	var v [2]float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	s.Start, s.End = v[0], v[1]
	return nil
}

// total is the summed length of disjoint segments.
func total(segs []Segment) float64 {
	t := 0.0
	for _, s := range segs {
		t += s.Dur()
	}
	return t
}
