package siprec

import (
	"talkratio/ingest"
	"talkratio/siprec/rsmeta"
)

// roleNone marks an m-line no role is read from.
const roleNone = -1

// assignment is how the streams of a recording session map to roles.
type assignment struct {
	roles    []int // per m-line: the role (ingest.Rep, ingest.Customer) or roleNone
	rep      *rsmeta.Participant
	customer *rsmeta.Participant
	// byRule: the rule picked the rep; otherwise the first stream's
	// participant is the rep (no rule, or nobody matched it).
	byRule bool
}

// assignRoles decides whose audio each usable m-line carries. usable
// marks the m-lines whose audio can be read. The rep is the participant
// the rule matches; without a rule, or when no participant matches, the
// sender of the first usable stream. Each role is read from one stream,
// the first usable one that carries it; without metadata (or streams the
// metadata does not tie to a participant) the first usable stream is the
// rep's and the second the customer's.
func assignRoles(lines []mline, usable []bool, md *rsmeta.Metadata, rule rsmeta.RepRule) assignment {
	a := assignment{roles: make([]int, len(lines))}
	senders := make([]*rsmeta.Participant, len(lines))
	known := true
	firstUsable := -1
	for i := range lines {
		a.roles[i] = roleNone
		if !usable[i] {
			continue
		}
		if firstUsable < 0 {
			firstUsable = i
		}
		senders[i] = md.SenderOfLabel(lines[i].label)
		if senders[i] == nil {
			known = false
		}
	}
	if firstUsable < 0 {
		return a
	}
	if !known {
		// Roles by order.
		next := int(ingest.Rep)
		for i := range lines {
			if usable[i] && next <= int(ingest.Customer) {
				a.roles[i] = next
				if next == int(ingest.Rep) {
					a.rep = senders[i]
				} else {
					a.customer = senders[i]
				}
				next++
			}
		}
		return a
	}
	rep := senders[firstUsable]
	if !rule.Empty() {
		for i := range lines {
			if usable[i] && rule.Match(senders[i].AOR) {
				rep, a.byRule = senders[i], true
				break
			}
		}
	}
	a.rep = rep
	for i := range lines {
		if !usable[i] {
			continue
		}
		role := int(ingest.Customer)
		if senders[i].ID == rep.ID {
			role = int(ingest.Rep)
		}
		taken := false
		for j := 0; j < i; j++ {
			if a.roles[j] == role {
				taken = true
			}
		}
		if taken {
			continue
		}
		a.roles[i] = role
		if role == int(ingest.Customer) {
			a.customer = senders[i]
		}
	}
	return a
}
