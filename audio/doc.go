// Package audio turns wire formats into per-channel float32 PCM for the rest
// of talkratio. A sales call arrives as two channels (rep and customer), either
// as one stereo WAV or as separate mono files that Merge lines up; everything
// downstream sees a Source that yields deinterleaved samples in [-1, 1].
//
// The WAV reader covers integer PCM (8/16/24/32-bit), IEEE float (32/64-bit),
// G.711 mu-law and A-law, both plain and WAVE_FORMAT_EXTENSIBLE, at telephone
// to studio rates (8-48 kHz). It streams: memory stays constant whatever the
// length of the call, so a two-hour recording costs the same as a two-second
// one.
//
// Every size a file declares is checked against the bytes that actually
// remain before anything is read or allocated. Uploaded files are untrusted,
// and RIFF lets a 24-byte file claim a 4 GiB chunk; readers that trust the
// header (go-audio/wav among them) allocate whatever they are told and can be
// knocked over by a single request. For the same reason the chunk walker is
// written here rather than taken from go-audio/riff, whose Parser allocates
// from declared sizes, drops read errors in IDnSize and wraps the odd-size
// padding of a 0xFFFFFFFF size to zero.
//
// Stored calls are FLAC, read and written by the subpackage audio/flac,
// which builds on this package's Source and errors; flac.OpenAny tells WAV
// from FLAC by their first bytes.
//
// The G.711 decoders are exported on their own because RTP PCMU/PCMA payloads
// use the same byte codes without any container.
//
// RTP payloads decode through PacketDecoder: Opus (the in-repo fork of
// pion/opus), PCMU and PCMA, and G.722 at 64 kbit/s (g722.go, written from
// ITU-T G.722 and bit-exact with ffmpeg's decoder), which SIP phone systems
// send.
package audio
