package icelite

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePortWorks: Linux spreads a port's datagrams over the sockets that
// share it by remote address (SO_REUSEPORT), so each core reads its own.
const reusePortWorks = true

func reusePort(_, _ string, rc syscall.RawConn) error {
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); cerr != nil {
		return cerr
	}
	return err
}
