package reply

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"syscall"
)

// StoreRetrySeconds is the Retry-After of a write the store refused: room
// is made, or the store comes back, in minutes rather than seconds.
const StoreRetrySeconds = 60

// StoreFault is the answer to a write the service could not make (a full
// disk, a store that is down): a server fault, 507 or 503, with a message
// that names no file. The caller logs err itself.
func StoreFault(what string, err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return &Error{Code: http.StatusInsufficientStorage, RetryAfter: StoreRetrySeconds,
			Msg: "the server has no room to store " + what + " (its disk is full); try again later"}
	}
	return &Error{Code: http.StatusServiceUnavailable, RetryAfter: StoreRetrySeconds,
		Msg: "the server could not store " + what + "; try again later"}
}

// NoPaths is err's message without the file paths an *fs.PathError or
// *os.LinkError puts in it: what is shown to clients (a failed call's
// error) names no file of the server.
func NoPaths(err error) string {
	msg := err.Error()
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch pe := e.(type) {
		case *fs.PathError:
			msg = strings.Replace(msg, pe.Error(), pe.Op+": "+pe.Err.Error(), 1)
		case *os.LinkError:
			msg = strings.Replace(msg, pe.Error(), pe.Op+": "+pe.Err.Error(), 1)
		}
	}
	return msg
}
