package conductor

import (
	"net"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// TestSlowBodyDoesNotHoldAConductorConnection: the conductor's server cuts a request whose body
// never finishes once its read timeout passes.
func TestSlowBodyDoesNotHoldAConductorConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CellUUID, cfg.DataDir, cfg.HTTPAddr, cfg.Name = testCell, t.TempDir(), ln.Addr().String(), "t1"
	cfg.GossipAddr, cfg.GossipProfile, cfg.Logger = testkit.FreeUDPTCPAddr(t), "test", testLogger(t)
	cfg.Timeouts = transport.ServerTimeouts{ReadHeader: time.Second, Read: 500 * time.Millisecond, Write: 5 * time.Second, Idle: 5 * time.Second}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go c.Serve(ln)
	defer c.Shutdown(t.Context())
	testkit.SlowBodyIsCut(t, ln.Addr().String(), "POST", "/v1/instances", 30*time.Second)
}
