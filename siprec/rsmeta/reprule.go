package rsmeta

import (
	"fmt"
	"strconv"
	"strings"
)

// RepRule decides which participant of a recorded call is the rep, by
// address of record. It is a comma-separated list of patterns; a
// participant matching any is the rep:
//   - a glob over the AOR, where * matches anything: sip:*@sales.example.com,
//     *@sales.example.com (any scheme), tel:+1555*;
//   - an extension range, LOW-HIGH: the AOR's user part (digits, a
//     leading + ignored) is a number within it: 1000-1999;
//   - anything else matches the AOR, or its user part, exactly.
//
// Matching ignores case, angle brackets and URI parameters.
type RepRule struct {
	patterns []repPattern
	text     string
}

type repPattern struct {
	glob     string // lower case; "" for a range
	lo, hi   uint64
	isRange  bool
	noScheme bool // the pattern has no scheme: match the AOR without its own
}

// maxRangeDigits: extensions and E.164 numbers have at most 15 digits.
const maxRangeDigits = 15

// ParseRepRule parses a rule; the empty string is no rule.
func ParseRepRule(s string) (RepRule, error) {
	r := RepRule{text: s}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if lo, hi, ok := strings.Cut(f, "-"); ok && isDigits(lo) && isDigits(hi) {
			if len(lo) > maxRangeDigits || len(hi) > maxRangeDigits {
				return RepRule{}, fmt.Errorf("rep rule %q: numbers longer than %d digits", f, maxRangeDigits)
			}
			l, _ := strconv.ParseUint(lo, 10, 64)
			h, _ := strconv.ParseUint(hi, 10, 64)
			if l > h {
				return RepRule{}, fmt.Errorf("rep rule %q: range runs backwards", f)
			}
			r.patterns = append(r.patterns, repPattern{isRange: true, lo: l, hi: h})
			continue
		}
		g := strings.ToLower(f)
		r.patterns = append(r.patterns, repPattern{glob: g, noScheme: !strings.Contains(g, ":")})
	}
	return r, nil
}

// String is the rule as given.
func (r RepRule) String() string { return r.text }

// Empty reports whether the rule has no pattern.
func (r RepRule) Empty() bool { return len(r.patterns) == 0 }

// Match reports whether aor matches the rule.
func (r RepRule) Match(aor string) bool {
	full, user := normalizeAOR(aor)
	if full == "" {
		return false
	}
	bare := full
	if _, rest, ok := strings.Cut(full, ":"); ok {
		bare = rest
	}
	for _, p := range r.patterns {
		if p.isRange {
			n := strings.TrimPrefix(user, "+")
			if isDigits(n) && len(n) <= maxRangeDigits {
				v, _ := strconv.ParseUint(n, 10, 64)
				if v >= p.lo && v <= p.hi {
					return true
				}
			}
			continue
		}
		if !strings.Contains(p.glob, "*") {
			if p.glob == full || p.glob == bare || p.glob == user {
				return true
			}
			continue
		}
		target := full
		if p.noScheme {
			target = bare
		}
		if globMatch(p.glob, target) {
			return true
		}
	}
	return false
}

// normalizeAOR lower-cases an AOR and strips a display name, angle
// brackets and parameters; it returns the URI and its user part.
func normalizeAOR(aor string) (uri, user string) {
	s := strings.TrimSpace(aor)
	if i := strings.IndexByte(s, '<'); i >= 0 {
		s = s[i+1:]
		if j := strings.IndexByte(s, '>'); j >= 0 {
			s = s[:j]
		}
	}
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(strings.TrimSpace(s))
	rest := s
	if _, r, ok := strings.Cut(s, ":"); ok {
		rest = r
	}
	user = rest
	if u, _, ok := strings.Cut(rest, "@"); ok {
		user = u
	}
	return s, user
}

// globMatch matches s against a pattern where * matches any run of
// characters (including none). It runs in O(len(p)*len(s)) at worst.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(p) && p[px] == '*':
			star, mark = px, sx
			px++
		case px < len(p) && p[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
