//go:build !linux

package icelite

import "syscall"

// reusePortWorks: elsewhere one socket reads the port.
const reusePortWorks = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
