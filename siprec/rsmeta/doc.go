// Package rsmeta reads what a SIPREC request says about the recorded
// call, apart from its media: the body's parts (an SDP offer and
// recording metadata, alone or in multipart/mixed, RFC 5621), the
// recording metadata (RFC 7865, and the earlier draft format: who takes
// part, under which address of record and name, and who sends which
// stream), and the rule that says which participant is the rep.
//
// Every parser bounds its input and wraps its errors (ErrMalformedBody,
// ErrUnsupportedType, ErrMalformedMetadata), so that the recording
// server answers a malformed request with a clear SIP error and never
// crashes on one; each has a fuzz target.
package rsmeta
