package icelite

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/pion/transport/v5"
)

// candidateAddrs are the addresses announced: the public ones given, else
// every IPv4 address of the host's interfaces that are up (the loopback
// too, for a publisher on the same host, as the pion path has it).
func candidateAddrs(cfg Config) ([]netip.Addr, error) {
	if len(cfg.PublicIPs) > 0 {
		var out []netip.Addr
		for _, s := range cfg.PublicIPs {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("public IP %q: %w", s, err)
			}
			if !a.Unmap().Is4() {
				return nil, fmt.Errorf("public IP %q: the ICE-lite media path listens on IPv4 only", s)
			}
			out = append(out, a.Unmap())
		}
		return out, nil
	}
	if cfg.Net != nil {
		return netAddrs(cfg.Net)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("network interfaces: %w", err)
	}
	var out []netip.Addr
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		out = appendIPv4(out, addrs)
	}
	if len(out) == 0 {
		return nil, errors.New("ICE-lite: no IPv4 address to announce")
	}
	return out, nil
}

// netAddrs are a virtual network's IPv4 addresses, loopback last.
func netAddrs(n transport.Net) ([]netip.Addr, error) {
	ifs, err := n.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("network interfaces: %w", err)
	}
	var out, loop []netip.Addr
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range appendIPv4(nil, addrs) {
			if a.IsLoopback() {
				loop = append(loop, a)
			} else {
				out = append(out, a)
			}
		}
	}
	return append(out, loop...), nil
}

// appendIPv4 appends the IPv4 addresses among addrs, leaving out
// link-local ones (169.254/16), which no peer reaches.
func appendIPv4(out []netip.Addr, addrs []net.Addr) []netip.Addr {
	for _, a := range addrs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		na, ok := netip.AddrFromSlice(ip)
		if !ok {
			continue
		}
		if na = na.Unmap(); na.Is4() && !na.IsLinkLocalUnicast() {
			out = append(out, na)
		}
	}
	return out
}
