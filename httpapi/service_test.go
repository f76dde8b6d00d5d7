package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/httpapi"
)

// stubNode is a Node that only mounts an empty internal handler; the test calls nothing else.
type stubNode struct{ httpapi.Node }

func (stubNode) InternalHandler() http.Handler { return http.NotFoundHandler() }

// TestShutdownBeforeServe: a Shutdown that comes before Serve got going (a test cleanup right
// after start) still stops it: Serve returns and closes the listener.
func TestShutdownBeforeServe(t *testing.T) {
	svc, err := httpapi.New(httpapi.DefaultConfig(), stubNode{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ln) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve kept serving after Shutdown")
	}
}
