// Package testports finds TCP ports for the lab's in-process test rings,
// whose nodes listen on several loopback addresses at one port each.
package testports

import (
	"net"
	"strconv"
	"testing"
)

// FreePorts returns two distinct ports free on every address of ips (the
// first is asked of the kernel on ips[0], then tried on the others).
func FreePorts(t testing.TB, ips []string) (int, int) {
	t.Helper()
	var ports []int
	for len(ports) < 2 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		ok := true
		var extra []net.Listener
		for _, ip := range ips[1:] {
			x, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			extra = append(extra, x)
		}
		l.Close()
		for _, x := range extra {
			x.Close()
		}
		if ok && (len(ports) == 0 || ports[0] != p) {
			ports = append(ports, p)
		}
	}
	return ports[0], ports[1]
}
