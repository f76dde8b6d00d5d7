package httpapi_test

import (
	"testing"
	"time"

	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
	"github.com/cellmap/cellmap/transport"
)

// TestSlowBodyDoesNotHoldAConnection: a request whose body never finishes is cut once the
// server's read timeout passes (it used to hold its connection for ever: only the headers
// were bounded).
func TestSlowBodyDoesNotHoldAConnection(t *testing.T) {
	n := testcluster.StartNode(t, &testcluster.Options{APIConfig: func(c *httpapi.Config) {
		c.Timeouts = transport.ServerTimeouts{ReadHeader: time.Second, Read: 500 * time.Millisecond, Write: 5 * time.Second, Idle: 5 * time.Second}
	}})
	testkit.SlowBodyIsCut(t, n.Addr, "POST", "/v1/cells", 30*time.Second)
}
