package main

import (
	"io"
	"testing"
	"time"

	"github.com/cellmap/cellmap/node"
)

// TestAutopilotFlags: the durations not given come from the raft profile; given ones (flag
// or environment) win; --autopilot=false turns it off.
func TestAutopilotFlags(t *testing.T) {
	t.Parallel()
	lan, test := node.LANAutopilotConfig(), node.TestAutopilotConfig()
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want *node.AutopilotConfig
	}{
		{"lan defaults", nil, nil, &lan},
		{"test profile", []string{"--raft-profile", "test"}, nil, &test},
		{"off", []string{"--autopilot=false"}, nil, nil},
		{"given wins over the profile", []string{"--raft-profile", "test", "--autopilot-dead-server-threshold", "2s",
			"--autopilot-min-quorum", "3", "--autopilot-cleanup-dead-servers=false"}, nil,
			func() *node.AutopilotConfig {
				c := test
				c.DeadServerThreshold, c.MinQuorum, c.CleanupDeadServers = 2*time.Second, 3, false
				return &c
			}()},
		{"environment", []string{"--raft-profile", "test"}, map[string]string{"CELLMAP_AUTOPILOT_SERVER_STABILIZATION_TIME": "0s"},
			func() *node.AutopilotConfig { c := test; c.ServerStabilizationTime = 0; return &c }()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(append([]string{"--data-dir", "d"}, tc.args...), io.Discard, env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			got, err := o.autopilot.config(o.raftProfile)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	o, err := parseFlags([]string{"--data-dir", "d", "--autopilot-last-contact-threshold", "0s"}, io.Discard, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.autopilot.config(o.raftProfile); err == nil {
		t.Fatal("a zero last contact threshold was accepted")
	}
}
