// Package tally turns the two roles' speech segments (who spoke when: the
// rep and the customer, each a list of [start, end) seconds) into the call
// metrics talkratio reports: talk time, listen %, overlap, silences,
// monologues and stories, turn switches, interruptions and reply pauses,
// live as the segments come or at the end of a call, and the one verdict
// on them (on target or not).
//
// It knows nothing of audio: package vad finds the segments and feeds a
// Tally; a stored call's figures can be computed again from its segments
// alone, with another configuration. It uses the standard library only and
// is deterministic: the same segments, settled at the same points (see
// Tally.Settle), give the same numbers bit for bit.
package tally
