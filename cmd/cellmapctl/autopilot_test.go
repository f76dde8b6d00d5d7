package main

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestOperatorAutopilotState: operator autopilot state (reader: a reader token suffices; no
// token is refused with 255) against three real processes shows the configuration and every
// server healthy (exit 0), in a table and as JSON; a cluster whose leader does not run
// autopilot (the in-process node) gives exit 3.
func TestOperatorAutopilotState(t *testing.T) {
	t.Parallel()
	c := testcluster.StartCluster(t, nil)
	leader := c.Leader(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reader, err := leader.Client.CreateToken(ctx, api.TokenCreate{Role: "reader", Description: "autopilot state"})
	if err != nil {
		t.Fatal(err)
	}
	state := func(token string, args ...string) result {
		t.Helper()
		return runCLI(t, map[string]string{"CELLMAP_TOKEN": token}, append([]string{"--addr", c.URL(c.Nodes[1])}, args...)...)
	}
	state("", "operator", "autopilot", "state").want(t, exitUnexpected)

	var h api.AutopilotHealth
	// Autopilot's state follows the configuration at its next update: a server promoted a
	// moment ago may still show as a non-voter, or not yet healthy (exit 1).
	testkit.WaitFor(t, "autopilot state exit 0 with 3 voters", 30*time.Second, func() bool {
		r := state(reader.Secret, "--format", "json", "operator", "autopilot", "state")
		h = api.AutopilotHealth{}
		decodeJSON(t, r, &h)
		if r.code != exitOK && r.code != exitAutopilotUnhealthy {
			t.Fatalf("exit %d: %+v", r.code, h)
		}
		return r.code == exitOK && len(h.Voters) == 3
	})
	if !h.Healthy || h.Leader != leader.ID || len(h.Voters) != 3 || len(h.Servers) != 3 || !h.Config.CleanupDeadServers {
		t.Fatalf("json: %+v", h)
	}
	r := state(reader.Secret, "operator", "autopilot", "state")
	r.want(t, exitOK, "Failure Tolerance", "Server Stabilization Time")
	_, second, _ := strings.Cut(r.stdout, "\n\n")
	want := []string{"ID", "Address", "Node Status", "State", "Healthy", "Stable Since", "Last Contact", "Last Term", "Last Index"}
	if got := tableHeader(t, second); !reflect.DeepEqual(got, want) {
		t.Fatalf("servers header: %q", got)
	}
	if rows := tableRows(t, second); len(rows) != 3 || rows[0][2] != "alive" || rows[0][4] != "true" {
		t.Fatalf("servers: %q", rows)
	}

	n := testcluster.StartNode(t, nil)
	ctl(t, n, "operator", "autopilot", "state").wantExact(t, exitAutopilotDisabled, "Autopilot is not running on the leader (cellmapd --autopilot=false).\n")
}
