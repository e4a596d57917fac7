// Package reply writes the service's HTTP answers, the same for every
// package that serves HTTP (server, whip, upload): JSON bodies, and errors
// as a status with a JSON {"error": "..."} that says what went wrong.
package reply

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"talkratio/call"
)

// Error is an error with the status it is answered with.
type Error struct {
	Code int
	Msg  string
	// RetryAfter, when set, goes out as Retry-After (seconds), so that a
	// client refused for load knows when to come back.
	RetryAfter int
	// Location, when set, goes out as Location: where a redirect (307)
	// sends the client.
	Location string
}

func (e *Error) Error() string { return e.Msg }

// Errorf returns an Error with the status code and a formatted message.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// WriteError answers with an error's status and a JSON body that says what
// went wrong: an Error's own, 404 for call.ErrNotFound, else 500 with no
// detail.
func WriteError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	msg := "internal error"
	var e *Error
	switch {
	case errors.As(err, &e):
		code, msg = e.Code, e.Msg
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		if e.Location != "" {
			w.Header().Set("Location", e.Location)
		}
	case errors.Is(err, call.ErrNotFound):
		code, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, call.ErrCorrupt):
		msg = call.ErrCorrupt.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// JSON answers 200 with v, not to be cached.
func JSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	Body(w, v)
}

// Body writes v as JSON after the headers have been sent.
func Body(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
