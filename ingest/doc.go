// Package ingest is what the phone-system adapters (siprec, twilio,
// audiohook) share: the narrow interface each needs from the service that
// owns live calls (Parent, Call), the roles, media clocks and timestamps by
// which their audio is placed, and small helpers for their metrics and
// logs.
//
// An adapter speaks its protocol, decodes the audio to PCM at SampleRate,
// and hands each packet or frame to its Call with the packet's own media
// timestamp and arrival time, exactly as a WHIP track's RTP packets are
// handed to a live call: the call places media by its own clock, waits for
// a late side, and counts audio that never came as missing, never as
// silence. Adapters never pace, mix or resample by wall time.
//
// The package depends on neither net/http nor pion, so that the live call
// owner can implement Parent without importing any adapter, and the
// adapters can be tested against ingesttest's in-memory parent.
package ingest
