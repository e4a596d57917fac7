package call

import (
	"crypto/rand"
	"encoding/hex"
)

// maxIDLen: call ids are short and URL-safe, so that an id can never step
// out of a path, whichever store keeps it. Ids chosen by publishers (role
// sessions joined by call=ID) are held to it too.
const maxIDLen = 64

// ValidID reports whether id can name a call: 1-64 ASCII letters, digits,
// _ or -, starting with a letter or digit. It is a loop, not a regular
// expression: compiling ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$ at start-up took
// 0.9 ms of every run of the binary, a short `talkratio analyze` included.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// NewID returns n random bytes as hex: call ids are 8 bytes (short enough
// to read), secrets such as session tokens 16 (unguessable).
func NewID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
