package reply

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Issue 10, point 13: a failed write is the server's fault (5xx), and no
// message names a file.
func TestStoreFaultAndNoPaths(t *testing.T) {
	full := fmt.Errorf("staging: %w", &fs.PathError{Op: "write", Path: "/abs/data/tmp/upload-1.wav", Err: syscall.ENOSPC})
	for _, c := range []struct {
		err  error
		code int
		msg  string
	}{
		{full, 507, "no room"},
		{fmt.Errorf("keep: %w", &os.LinkError{Op: "rename", Old: "/a/b", New: "/a/c", Err: syscall.EIO}), 503, "could not store"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, StoreFault("this upload", c.err))
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.msg) || strings.Contains(w.Body.String(), "/a") || w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: %d %s", c.err, w.Code, w.Body)
		}
	}
	if got := NoPaths(fmt.Errorf("analysis: %w", full)); got != "analysis: staging: write: no space left on device" {
		t.Errorf("NoPaths: %q", got)
	}
	if got := NoPaths(fmt.Errorf("rename: %w", &os.LinkError{Op: "rename", Old: "/x/y", New: "/x/z", Err: syscall.EXDEV})); strings.Contains(got, "/x") {
		t.Errorf("NoPaths: %q", got)
	}
	if got := NoPaths(errors.New("plain")); got != "plain" {
		t.Errorf("NoPaths: %q", got)
	}
	_ = http.StatusOK
}
