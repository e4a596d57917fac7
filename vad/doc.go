// Package vad is talkratio's analysis core: a per-channel, energy-based voice
// activity detector and cross-channel bleed rejection, which find the two
// roles' speech segments and feed them to a tally.Tally, which turns them
// into listen %, monologues, interruptions and the other call metrics.
//
// Everything here is deterministic and driven by sample counts: the same
// samples give the same segments and the same numbers, whether they arrive
// from a WAV file in one go or from a live call in 20 ms packets. That is
// why the live service and `talkratio analyze` share this code unchanged.
//
// The package uses the standard library only (besides package tally and
// its own signal-processing blocks in vad/internal/dsp), so that it can be
// reasoned about, fuzzed and benchmarked on its own.
package vad
