package call

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
)

// idPattern: call ids are short and URL-safe, so that an id can never step
// out of a path, whichever store keeps it. Ids chosen by publishers (role
// sessions joined by call=ID) are held to it too.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ValidID reports whether id can name a call: 1-64 letters, digits, _ or
// -, starting with a letter or digit.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// NewID returns n random bytes as hex: call ids are 8 bytes (short enough
// to read), secrets such as session tokens 16 (unguessable).
func NewID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
