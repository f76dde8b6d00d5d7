// Package testkit holds small helpers for tests: free loopback addresses and waiting for a
// condition with a deadline. It imports no cellmap package but internal/poll, so the tests of
// any package (gossip and conductor included) can use it.
package testkit

import (
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Test ports come from below the kernel's ephemeral range (32768 and up on Linux): a port the
// kernel hands out for port 0 may be taken as the source port of some outgoing connection the
// moment the probe closes it, before the server under test binds it. A port is handed out once
// per test process.
const (
	portLow  = 10000
	portHigh = 32000
)

// handedOut remembers the ports this test process gave away (test helper state only).
var handedOut = struct {
	sync.Mutex
	ports map[int]bool
}{ports: map[int]bool{}}

// freePort returns a 127.0.0.1 port that can be bound now (TCP, and UDP when udp is set).
func freePort(t testing.TB, udp bool) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for i := 0; i < 1000; i++ {
		p := portLow + rand.IntN(portHigh-portLow)
		if handedOut.ports[p] {
			continue
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		if udp {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				continue
			}
			pc.Close()
		}
		handedOut.ports[p] = true
		return addr
	}
	t.Fatal("no free test port")
	return ""
}

// FreeAddr returns a free 127.0.0.1 TCP address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return freePort(t, false)
}

// FreeUDPTCPAddr returns a 127.0.0.1 port free for both TCP and UDP (gossip uses both).
func FreeUDPTCPAddr(t testing.TB) string {
	t.Helper()
	return freePort(t, true)
}
