package upload

import (
	"io"
	"net/http"
	"time"

	"talkratio/reply"
)

// progressDeadline reads an upload's body with a read deadline that moves
// with progress: each read that brings bytes gives the next stall another
// timeout. Without it the server's ReadTimeout would cut any upload that
// takes longer to send, whatever its pace.
func progressDeadline(w http.ResponseWriter, body io.ReadCloser, stall time.Duration) io.ReadCloser {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(stall)); err != nil {
		return body // a writer that cannot (a test recorder): the server's own timeouts apply
	}
	return &deadlineReader{ReadCloser: body, rc: rc, stall: stall}
}

type deadlineReader struct {
	io.ReadCloser
	rc    *http.ResponseController
	stall time.Duration
	last  time.Time
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	// Moving the deadline is a syscall-free field update, but there is no
	// need to do it for every small read.
	if now := time.Now(); n > 0 && now.Sub(d.last) >= d.stall/10 {
		d.last = now
		_ = d.rc.SetReadDeadline(now.Add(d.stall))
	}
	return n, err
}

// readErr remembers the error its reader gave.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// storeFault logs a write the store refused, counts it, and returns the
// client's 507 or 503, which names no file.
func (s *Service) storeFault(what string, err error) error {
	s.cfg.Log.Error(what, "err", err)
	s.cfg.Metrics.StoreError()
	return reply.StoreFault("this upload", err)
}
