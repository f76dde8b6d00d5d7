package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/node"
)

// TestRaftFlags: the snapshot settings not given come from the raft profile; given ones (flag
// or environment) win; a zero threshold or an interval under a second is refused.
func TestRaftFlags(t *testing.T) {
	t.Parallel()
	lan, test := node.LANRaftConfig(), node.TestRaftConfig()
	with := func(c node.RaftConfig, edit func(*node.RaftConfig)) node.RaftConfig { edit(&c); return c }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    node.RaftConfig
		wantErr string
	}{
		{"lan defaults", nil, nil, lan, ""},
		{"test profile", []string{"--raft-profile", "test"}, nil, test, ""},
		{"given wins over the profile", []string{"--raft-profile", "test", "--raft-snapshot-threshold", "65536",
			"--raft-snapshot-interval", "2m", "--raft-trailing-logs", "0"}, nil,
			with(test, func(c *node.RaftConfig) {
				c.SnapshotThreshold, c.SnapshotInterval, c.TrailingLogs = 65536, 2*time.Minute, 0
			}), ""},
		{"environment", nil, map[string]string{"CELLMAP_RAFT_SNAPSHOT_THRESHOLD": "100000"},
			with(lan, func(c *node.RaftConfig) { c.SnapshotThreshold = 100000 }), ""},
		{"zero threshold", []string{"--raft-snapshot-threshold", "0"}, nil, node.RaftConfig{}, "--raft-snapshot-threshold must be positive"},
		{"short interval", []string{"--raft-snapshot-interval", "500ms"}, nil, node.RaftConfig{}, "--raft-snapshot-interval must be at least 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseFlags(append([]string{"--data-dir", t.TempDir(), "--insecure"}, tc.args...), io.Discard,
				func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := o.serverConfig(nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.node.Raft != tc.want {
				t.Fatalf("got %+v, want %+v", cfg.node.Raft, tc.want)
			}
		})
	}
}
