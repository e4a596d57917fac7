// Package flac reads and writes native FLAC (RFC 9639), the format calls are
// stored in: lossless, about 43% of WAV for speech, in constant memory and
// without cgo.
//
// Writer compresses 16-bit PCM with the usual libFLAC-style search (fixed
// and LPC predictors, stereo decorrelation, Rice partitions) inside the
// streamable subset, with a seek table so that a browser's <audio> can seek
// over HTTP Range requests. Reader decodes it, or any native FLAC up to 24
// bits, as an audio.Source, with the same distrust of what the file
// declares as package audio's WAV reader: every size is checked before it
// is used, every frame's CRCs and the MD5 of the audio are checked, so
// damage shows as an error, never as wrong samples.
//
// It builds on package audio (Format, Source, the sentinel errors and the
// rate limits), never the other way round, so that audio stays small;
// OpenAny, which tells FLAC from WAV by the first bytes, is here for that
// reason.
package flac
