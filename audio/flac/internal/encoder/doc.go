// Package encoder is the FLAC writer's analysis (package audio/flac): for
// each channel of a block it tries a constant, verbatim, fixed-polynomial
// and LPC subframe and keeps the smallest, whose cost in bits lets the
// writer pick the stereo decorrelation (left/right, left/side, side/right
// or mid/side) whose two subframes are smallest together, and it writes
// the chosen subframe with its Rice-coded residual. It is the usual
// libFLAC-style search, sized for speech in the streamable subset (RFC 9639
// section 7), which every decoder, Chromium's included, plays.
//
// It is a package of its own so that audio/flac stays within the size of
// one package; it is internal because nothing else needs its plans.
package encoder
