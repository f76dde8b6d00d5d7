package testkit

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// SlowBodyIsCut sends a request whose body never finishes (complete headers, 1 byte of a
// declared 100) to the HTTP server at addr and fails the test unless the server closes the
// connection before within passes.
func SlowBodyIsCut(t testing.TB, addr, method, path string, within time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := method + " " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(within)); err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(conn) // whatever the server answers, then its close
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("%s %s with a body that never finishes: the connection is still open after %v", method, path, within)
	}
}
