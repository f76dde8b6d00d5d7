package node

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestRemovalKeepsMinQuorum(t *testing.T) {
	t.Parallel()
	voter := func(id string) raft.Server { return raft.Server{ID: raft.ServerID(id), Suffrage: raft.Voter} }
	nonvoter := func(id string) raft.Server { return raft.Server{ID: raft.ServerID(id), Suffrage: raft.Nonvoter} }
	three := []raft.Server{voter("a"), voter("b"), voter("c")}
	tests := []struct {
		name      string
		servers   []raft.Server
		id        string
		minQuorum uint
		want      bool
	}{
		{"no minimum", three, "c", 0, true},
		{"minimum met after", three, "c", 2, true},
		{"minimum would be broken", three, "c", 3, false},
		{"four voters, minimum three", append(three, voter("d")), "d", 3, true},
		{"a non-voter always", append(three, nonvoter("d")), "d", 3, true},
		{"not in the configuration", three, "z", 3, true},
	}
	for _, tc := range tests {
		if got := removalKeepsMinQuorum(tc.servers, raft.ServerID(tc.id), tc.minQuorum); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAutopilotConfigValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []AutopilotConfig{LANAutopilotConfig(), TestAutopilotConfig()} {
		if err := c.Validate(); err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
	}
	bad := []func(*AutopilotConfig){
		func(c *AutopilotConfig) { c.DeadServerThreshold = 0 },
		func(c *AutopilotConfig) { c.LastContactThreshold = 0 },
		func(c *AutopilotConfig) { c.ServerStabilizationTime = -time.Second },
		func(c *AutopilotConfig) { c.UpdateInterval = 0 },
		func(c *AutopilotConfig) { c.ReconcileInterval = 0 },
		func(c *AutopilotConfig) { c.MaxTrailingLogs = 0 },
	}
	for i, f := range bad {
		c := LANAutopilotConfig()
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
		cfg := DefaultConfig()
		cfg.NodeID, cfg.DataDir, cfg.RaftAddr, cfg.HTTPAddr, cfg.Autopilot = "n1", t.TempDir(), "127.0.0.1:0", "127.0.0.1:1", &c
		if cfg.Validate() == nil {
			t.Errorf("case %d: a node configuration with %+v accepted", i, c)
		}
	}
}
