package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal: the master end (what a terminal
// emulator reads) and the slave end (the program's terminal).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("TIOCGPTN: %v", e)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pty's slave: %v", err)
	}
	return m, s
}

// screen replays what a terminal shows for the bytes a program wrote: a
// carriage return goes back to the line's start, ESC [ K erases to the
// line's end, a newline starts the next line, other bytes overwrite.
func screen(out []byte) []string {
	lines := []string{""}
	col := 0
	put := func(s string) {
		l := []rune(lines[len(lines)-1])
		for len(l) < col {
			l = append(l, ' ')
		}
		r := []rune(s)
		if col+len(r) > len(l) {
			l = append(l[:col], r...)
		} else {
			copy(l[col:], r)
		}
		col += len(r)
		lines[len(lines)-1] = string(l)
	}
	s := string(out)
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "\033[K"):
			l := []rune(lines[len(lines)-1])
			if col < len(l) {
				lines[len(lines)-1] = string(l[:col])
			}
			s = s[3:]
		case s[0] == '\r':
			col = 0
			s = s[1:]
		case s[0] == '\n':
			lines = append(lines, "")
			col = 0
			s = s[1:]
		default:
			i := strings.IndexAny(s, "\r\n\033")
			if i < 0 {
				i = len(s)
			}
			if i == 0 {
				i = 1
			}
			put(s[:i])
			s = s[i:]
		}
	}
	return lines
}

// On a terminal, `analyze -j 2` with many files shows its progress on
// stderr and the reports on stdout, both on the one screen: the screen
// must end up holding every report as written to a file, each line whole
// (the progress line erased and never mixed into a report line).
func TestAnalyzeProgressOnTerminal(t *testing.T) {
	var files []string
	for range 24 {
		files = append(files, "testdata/call-bleed-mulaw.wav")
	}
	for _, format := range []string{"text", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			args := append([]string{"analyze", "-j", "2", "--format", format}, files...)
			code, want, _ := runCmd(args...)
			if code != 0 {
				t.Fatalf("exit %d", code)
			}
			m, s := openPTY(t)
			defer m.Close()
			var got bytes.Buffer
			read := make(chan struct{})
			go func() {
				io.Copy(&got, m) // ends with EIO once the slave is closed
				close(read)
			}()
			code = run(args, s, s)
			s.Close()
			<-read
			if code != 0 {
				t.Fatalf("exit %d on a terminal", code)
			}
			if !strings.Contains(got.String(), "analyzed 1/24 files") {
				t.Fatalf("no progress shown on the terminal:\n%.500q", got.String())
			}
			shown := strings.Join(screen(got.Bytes()), "\n")
			if shown != want {
				gl, wl := strings.Split(shown, "\n"), strings.Split(want, "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("the screen differs from the report at line %d:\n got: %q\nwant: %q", i+1, gl[i], wl[i])
					}
				}
				t.Fatalf("the screen has %d lines, the report %d", len(gl), len(wl))
			}
		})
	}
}
