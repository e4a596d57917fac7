// Package siprec is a SIPREC Session Recording Server (SRS): the phone
// system's Session Recording Client (an SBC or PBX: Cisco CUBE,
// AudioCodes, Oracle/Acme Packet, Ribbon, OpenSIPS, Kamailio with
// rtpengine) forks both legs of a call to it, and it feeds them to a live
// call as the rep and the customer.
//
// Implemented:
//   - SIP (RFC 3261) over UDP and TCP, and TLS with a certificate and key,
//     with github.com/emiago/sipgo: INVITE, re-INVITE, ACK, BYE, CANCEL
//     (the transaction layer answers 200 and 487), OPTIONS (keep-alive
//     pings of SBCs), UPDATE (RFC 3311: metadata or an offer within the
//     session); other methods get 405;
//   - the recording session of RFC 7866 section 6: an INVITE whose body is
//     multipart/mixed (RFC 5621) with application/sdp and
//     application/rs-metadata+xml, Require: siprec; the answer has one
//     m-line per offered one, recvonly where read (inactive while held),
//     port 0 where not (video, a codec talkratio lacks, a third stream),
//     RTP ports from a configured range, and a Contact with +sip.srs;
//   - recording metadata (RFC 7865; also the earlier draft format with id
//     attributes, send/recv inside participant and aor elements):
//     participants with AOR and name, streams with their SDP label, and
//     which participant sends which stream; partial updates (read by
//     package rsmeta, with the multipart body and the rep rule);
//   - roles: the rep is the participant whose AOR matches the rule (globs
//     like sip:*@sales.example.com, extension ranges like 1000-1999);
//     without a rule, or when nobody matches, the sender of the first
//     stream is the rep; without metadata the first stream is the rep's
//     and the second the customer's;
//   - re-INVITE: hold (a=inactive or recvonly, c=0.0.0.0, port 0) and
//     resume, a codec change, added streams, a refresh without SDP (the
//     answer restates the session); held time is missing audio, not
//     silence (the stream's next packets start a new media clock);
//   - RTP (RFC 3550) per stream: PCMU, PCMA, G.722 (talkratio's decoder
//     from ITU-T G.722) and Opus (the in-repo pion/opus fork), placed by
//     RTP timestamps and sequence numbers; telephone-event and comfort
//     noise packets are skipped without being taken for loss; an SSRC
//     change starts a new media clock;
//   - the allow list: SIP requests from outside it get 403, RTP from
//     outside it is dropped (SIP carries no credentials); a session whose
//     streams send nothing for the RTP timeout (not on hold) is ended with
//     a BYE, as is every session when the service ends its call or shuts
//     down.
//
// A malformed or unsupported request gets a SIP error response with a
// Warning header saying why (400 for malformed SIP, multipart, SDP or
// metadata; 415 with Accept for other body types; 420 with Unsupported
// for other required extensions; 488 without a usable offer; 481 outside
// a session; 503 with Retry-After when the service or the port range is
// full), a log line with the source, and a count in
// talkratio_siprec_errors_total by reason. Messages the SIP parser cannot
// read at all are dropped by sipgo with a log line (there is nothing to
// answer them with).
//
// Not supported: SRTP and SDES/DTLS keys (RTP/SAVP offers are answered
// with port 0), RTCP (not read; the RTCP port is not bound), ICE, session
// timers (Require: timer gets 420), authentication challenges (the allow
// list is the access control), offerless INVITEs (488), mixed streams (a
// stream carrying both parties is read as one role), SIP over websockets,
// and more than one stream per role.
package siprec
