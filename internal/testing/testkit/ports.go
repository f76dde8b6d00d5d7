// Package testkit holds small helpers for tests: free loopback addresses and waiting for a
// condition with a deadline. It imports no cellmap package but internal/poll, so the tests of
// any package (gossip and conductor included) can use it.
package testkit

import (
	"net"
	"testing"
)

// FreeAddr returns a free 127.0.0.1 TCP address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// FreeUDPTCPAddr returns a 127.0.0.1 port free for both TCP and UDP (gossip uses both).
func FreeUDPTCPAddr(t testing.TB) string {
	t.Helper()
	for i := 0; i < 50; i++ {
		addr := FreeAddr(t)
		if pc, err := net.ListenPacket("udp", addr); err == nil {
			pc.Close()
			return addr
		}
	}
	t.Fatal("no port free for TCP and UDP")
	return ""
}
