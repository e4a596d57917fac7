package icelite

import (
	"crypto"
	"crypto/rand"
	_ "crypto/sha1" // a publisher's sha-1 fingerprint
	_ "crypto/sha256"
	_ "crypto/sha512" // sha-384 and sha-512 fingerprints
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pion/rtcp"
)

// rxStats is what a receiver report says of an SSRC (RFC 3550 section
// 6.4.1 and appendix A.3).
type rxStats struct {
	started                  bool
	since                    time.Time // the first packet's arrival
	baseSeq, maxSeq          uint16
	cycles                   uint32 // sequence number wraps, times 65536
	received                 uint32
	expectedPrior, rcvdPrior uint32 // at the last report
	lastArrival              int64  // the last packet's arrival, in RTP clock units
	lastTS                   uint32 // and its timestamp
	jitter                   float64
	lastSR                   uint32 // middle 32 bits of its NTP time
	lastSRAt                 time.Time
}

// update counts a packet that arrived at now; rate is its RTP clock.
func (r *rxStats) update(seq uint16, ts, rate uint32, now time.Time) {
	if !r.started {
		r.since = now
	}
	// Arrival in RTP clock units since the first packet (microseconds
	// first: nanoseconds times 48000 would overflow within days).
	arrival := now.Sub(r.since).Microseconds() * int64(rate) / 1e6
	if !r.started {
		r.started, r.baseSeq, r.maxSeq, r.received = true, seq, seq, 1
		r.lastArrival, r.lastTS = arrival, ts
		return
	}
	r.received++
	// Ahead by less than half the sequence space: newer (wrapping when
	// it is numerically smaller); anything else is reordered or repeated.
	if d := seq - r.maxSeq; d != 0 && d < 1<<15 {
		if seq < r.maxSeq {
			r.cycles += 1 << 16
		}
		r.maxSeq = seq
	}
	// The change in transit time; timestamps are compared as a signed
	// difference, so that their wrap (every 25 hours at 48 kHz) is none.
	d := arrival - r.lastArrival - int64(int32(ts-r.lastTS))
	r.lastArrival, r.lastTS = arrival, ts
	if d < 0 {
		d = -d
	}
	r.jitter += (float64(d) - r.jitter) / 16
}

// report is the reception report on ssrc as of now; it starts the next
// interval's loss fraction.
func (r *rxStats) report(ssrc uint32, now time.Time) rtcp.ReceptionReport {
	ext := r.cycles | uint32(r.maxSeq)
	expected := ext - uint32(r.baseSeq) + 1
	lost := max(min(int64(expected)-int64(r.received), 0x7fffff), -0x800000) // 24-bit signed
	expInt := expected - r.expectedPrior
	rcvInt := r.received - r.rcvdPrior
	r.expectedPrior, r.rcvdPrior = expected, r.received
	var fraction uint8
	if lostInt := int64(expInt) - int64(rcvInt); expInt != 0 && lostInt > 0 {
		fraction = uint8(lostInt << 8 / int64(expInt))
	}
	rep := rtcp.ReceptionReport{
		SSRC: ssrc, FractionLost: fraction, TotalLost: uint32(lost) & 0xffffff,
		LastSequenceNumber: ext, Jitter: uint32(r.jitter), LastSenderReport: r.lastSR,
	}
	if !r.lastSRAt.IsZero() {
		rep.Delay = uint32(min(now.Sub(r.lastSRAt).Seconds(), 65535) * 65536) // in 1/65536 s
	}
	return rep
}

// Fingerprint is a certificate fingerprint as SDP carries it: the hash's
// name (sha-256...) and the digest in hex pairs joined by colons.
type Fingerprint struct{ Alg, Value string }

// ParseFingerprint reads an a=fingerprint value ("sha-256 AB:CD:...").
func ParseFingerprint(v string) (Fingerprint, error) {
	alg, value, _ := strings.Cut(strings.TrimSpace(v), " ")
	fp := Fingerprint{strings.ToLower(alg), strings.TrimSpace(value)}
	if _, ok := fingerprintHash(fp.Alg); !ok || fp.Value == "" {
		return Fingerprint{}, fmt.Errorf("fingerprint %q: want sha-256, sha-384, sha-512 or sha-1 and a digest", v)
	}
	return fp, nil
}

// verify checks the publisher's DTLS certificate against the fingerprint
// its offer carried: without it, anyone who saw the ICE credentials could
// take over the session's media.
func (f Fingerprint) verify(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) == 0 {
		return errors.New("no certificate")
	}
	got, err := certFingerprint(f.Alg, raw[0])
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, f.Value) {
		return errors.New("the certificate does not match the offer's fingerprint")
	}
	return nil
}

// fingerprintHash is the hash an SDP fingerprint names.
func fingerprintHash(alg string) (crypto.Hash, bool) {
	switch strings.ToLower(alg) {
	case "sha-1":
		return crypto.SHA1, true
	case "sha-256":
		return crypto.SHA256, true
	case "sha-384":
		return crypto.SHA384, true
	case "sha-512":
		return crypto.SHA512, true
	}
	return 0, false
}

// certFingerprint is a DER certificate's fingerprint as SDP writes it.
func certFingerprint(alg string, der []byte) (string, error) {
	h, ok := fingerprintHash(alg)
	if !ok || !h.Available() {
		return "", fmt.Errorf("fingerprint hash %q", alg)
	}
	d := h.New()
	d.Write(der)
	sum := d.Sum(nil)
	hexes := make([]string, len(sum))
	for i, c := range sum {
		hexes[i] = fmt.Sprintf("%02X", c)
	}
	return strings.Join(hexes, ":"), nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// randomHex is n random bytes in hex (ICE credentials).
func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomUint32() uint32 { return binary.BigEndian.Uint32(randomBytes(4)) }
