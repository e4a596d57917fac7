package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// The address serve listens on, unless -addr says otherwise. The
// environment variable lets a container set it once for serve and for the
// HEALTHCHECK that probes it.
const (
	defaultAddr = "localhost:8080"
	addrEnv     = "TALKRATIO_ADDR"
)

// livezURL is where a service listening on addr answers /livez, from this
// machine: a wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") is
// reached on the loopback address.
func livezURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/livez"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/livez"
}

// runHealthcheck probes a running service. The container image has no
// shell or curl (distroless), so its HEALTHCHECK runs the binary itself.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", livezURL(envOr(addrEnv, defaultAddr)), "URL that must answer 200 (default: /livez at "+addrEnv+", the address serve listens on)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	c := &http.Client{Timeout: *timeout}
	resp, err := c.Get(*url)
	if err != nil {
		fmt.Fprintf(stderr, "talkratio healthcheck: %v\n", err)
		return exitFail
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "talkratio healthcheck: %s answered %s\n", *url, resp.Status)
		return exitFail
	}
	fmt.Fprintln(stdout, "ok")
	return exitOK
}
