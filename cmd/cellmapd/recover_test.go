package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// TestRecoverCommandLine: cellmapd recover refuses a command line it cannot act on (exit 2)
// and a data directory it cannot open (exit 1), and says why.
func TestRecoverCommandLine(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"no peers", []string{"--data-dir", "/d"}, nil, 2, "--peers are required"},
		{"no data dir", []string{"--peers", "n1=127.0.0.1:8481"}, nil, 2, "--data-dir and --peers are required"},
		{"peer without id", []string{"--data-dir", "/d", "--peers", "127.0.0.1:8481"}, nil, 2, "want id=host:port"},
		{"peer without port", []string{"--data-dir", "/d", "--peers", "n1=127.0.0.1"}, nil, 2, "not host:port"},
		{"duplicate peer", []string{"--data-dir", "/d", "--node-id", "n1", "--peers", "n1=127.0.0.1:1,n1=127.0.0.1:2"}, nil, 2, "another peer"},
		{"node not among the peers", []string{"--data-dir", "/d", "--node-id", "n3", "--peers", "n1=127.0.0.1:8481"}, nil, 2,
			"n3, is not one of the peers"},
		{"node id from the environment", []string{"--data-dir", "/d", "--peers", "n1=127.0.0.1:1,n2=127.0.0.1:2"},
			map[string]string{"CELLMAP_NODE_ID": "n9"}, 2, "n9, is not one of the peers"},
		{"stray argument", []string{"--data-dir", "/d", "--peers", "n1=127.0.0.1:8481", "now"}, nil, 2, "unexpected arguments"},
		{"missing data dir", []string{"--data-dir", missing, "--peers", "n1=127.0.0.1:8481"}, nil, 1, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(append([]string{"recover"}, tc.args...), &out, &out, env(tc.env))
			if code != tc.code || !strings.Contains(out.String(), tc.want) {
				t.Fatalf("exit %d, want %d, output %q does not say %q", code, tc.code, out.String(), tc.want)
			}
		})
	}
}

// TestRecoverRefusesARunningNode: the data directory of a running node is locked; recover
// fails with exit 1 and changes nothing.
func TestRecoverRefusesARunningNode(t *testing.T) {
	n := testcluster.StartNode(t, nil)
	before, err := n.Client.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := run([]string{"recover", "--data-dir", n.Dir, "--peers", "n1=" + n.Node.RaftAddr()}, &out, &out, func(string) (string, bool) { return "", false })
	if code != 1 || !strings.Contains(out.String(), "is the node stopped?") {
		t.Fatalf("exit %d, output %q", code, out.String())
	}
	after, err := n.Client.ClusterStatus(ctx(t, 5*time.Second))
	if err != nil || after.FSMChecksum != before.FSMChecksum || len(after.Servers) != 1 || after.State != "Leader" {
		t.Fatalf("the node changed: %+v, %v", after, err)
	}
}
