// Package twilio takes calls from Twilio Media Streams: an http.Handler
// (mounted at /ingest/twilio) that accepts the websocket Twilio opens for
// <Start><Stream track="both_tracks">, checks the request's
// X-Twilio-Signature, and feeds the call's two tracks to a live call as
// the rep and the customer.
//
// Implemented, from Twilio's public documentation ("Media Streams -
// WebSocket Messages", "TwiML Voice: <Stream>", "Webhooks security"):
//   - the request signature: base64 HMAC-SHA1 of the full wss:// URL with
//     the account's auth token; a missing or wrong one gets 403 before the
//     upgrade;
//   - the messages connected, start (callSid, streamSid, tracks,
//     mediaFormat, customParameters), media (track, chunk, timestamp,
//     base64 payload), stop; mark and dtmf are read and ignored, unknown
//     events too;
//   - roles: the outbound track is the rep unless Config.RepTrack or the
//     stream's rep_track custom parameter says inbound; the name, rep and
//     customer custom parameters label the call;
//   - placement: media timestamps (milliseconds since the stream started,
//     one clock for both tracks) place the audio; chunk numbers count each
//     track's messages, so a later timestamp with the next chunk is
//     silence and a skipped chunk is missing audio.
//
// Any message outside the protocol (invalid JSON, media before start, a
// media format other than audio/x-mulaw 8000 Hz mono, an unknown track, a
// payload that is not base64 mu-law of at most 120 ms, a message of another
// stream, one over 64 KiB) closes the socket with a close code and reason
// (1008, or 1003 for the format), ends the call with reason error, counts
// talkratio_twilio_errors_total by reason, and logs a line with the source
// address.
//
// Not supported: bidirectional streams (<Connect><Stream>: talkratio
// sends no audio back, so it never sends media, mark or clear messages),
// media formats other than 8 kHz mu-law, and signatures over POST
// parameters (websocket upgrades have none).
package twilio
