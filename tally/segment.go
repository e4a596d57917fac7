package tally

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
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
	return s.AppendJSON(nil)
}

// AppendJSON appends the segment as MarshalJSON writes it, without
// reflection: snapshots carry hundreds of segments, ten times a second.
func (s Segment) AppendJSON(b []byte) ([]byte, error) {
	start, end := roundTime(s.Start), roundTime(s.End)
	if !finite(start) || !finite(end) {
		return b, fmt.Errorf("segment: [%v, %v] is not a pair of numbers", s.Start, s.End)
	}
	b = append(b, '[')
	b = AppendJSONFloat(b, start)
	b = append(b, ',')
	b = AppendJSONFloat(b, end)
	return append(b, ']'), nil
}

// millisExact bounds the thousandths appendMillis writes: below 1e12 s,
// neighbouring thousandths are further apart than neighbouring float64s,
// so the thousandth a time was rounded to is its shortest decimal, the
// one strconv would write.
const millisExact = 1e15

// appendMillis writes n thousandths as a decimal, trailing zeros dropped:
// what strconv.AppendFloat(b, float64(n)/1000, 'f', -1, 64) writes, at a
// fraction of its cost (times in snapshots are whole milliseconds).
func appendMillis(b []byte, n int64) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/1000, 10)
	frac := n % 1000
	if frac == 0 {
		return b
	}
	digits := [3]byte{byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
	end := 3
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// AppendJSONFloat appends a finite float64 as encoding/json writes one: the
// shortest decimal that reads back the same, in exponent form only below
// 1e-6 or from 1e21, with the exponent's leading zero dropped.
func AppendJSONFloat(b []byte, f float64) []byte {
	if n := math.Round(f * 1000); f != 0 && n/1000 == f && math.Abs(n) < millisExact {
		return appendMillis(b, int64(n))
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 is written 1e-7.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
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
