// Package audiohook takes calls from Genesys Cloud AudioHook: an
// http.Handler (mounted at /ingest/audiohook) that accepts the websocket
// Genesys opens for an AudioHook Monitor integration, authenticates it,
// speaks the AudioHook protocol (version 2) and feeds the conversation's
// two channels to a live call: internal (the agent) as the rep, external
// as the customer.
//
// Implemented, from Genesys's public "AudioHook Protocol Specification"
// and its reference implementation's behaviour:
//   - authentication before the upgrade: the X-API-KEY header must be a
//     configured key, and the request must carry an HTTP message signature
//     (RFC 9421, Signature-Input and Signature, hmac-sha256 keyed with the
//     integration's client secret) covering @request-target, @authority,
//     audiohook-organization-id, audiohook-session-id,
//     audiohook-correlation-id and x-api-key, created within 10 s, with a
//     nonce not seen before; anything else gets 401. A key configured
//     without a client secret takes unsigned requests, as such an
//     integration sends;
//   - the open transaction with media negotiation: PCMU at 8000 Hz, the
//     external and internal channels (stereo preferred, one channel
//     taken); a connection probe (the null conversation id) is answered
//     without starting a call;
//   - ping/pong, update (logged), error (counted and logged), paused and
//     resumed, discarded, close/closed; the server's disconnect on a
//     protocol error, a refused call, the call's end or shutdown;
//   - sequence numbers (seq one more than the last, serverseq never ahead
//     of the server's), the session id of every message, the positions
//     and durations ("PT1.5S");
//   - binary frames of interleaved PCMU samples of the chosen channels,
//     placed by the stream position; a pause or a discarded stretch is
//     declared missing audio for both roles (Call.Missing), never silence.
//
// A message or frame outside the protocol gets a disconnect message with
// reason error and what was wrong, a log line with the source address, a
// count in talkratio_audiohook_errors_total by reason, and the call ends
// with reason error; the client is dropped if it does not close within 5 s.
//
// Not supported: the L16 media format and rates other than 8 kHz, event
// messages to the client (transcripts, agent assist), server-initiated
// pause and resume, reconnection (continuedSessions), and languages
// (update is logged only).
package audiohook
