package cluster

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
)

func TestNodeCommandLines(t *testing.T) {
	cfg := DefaultConfig(3)
	cfg.Binary, cfg.Dir = "/bin/cellmapd", "/run/x"
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n1, _ := c.Node("n1")
	n3, _ := c.Node("n3")
	first := strings.Join(c.argv(n1, true), " ")
	for _, want := range []string{"ip netns exec cmj-n1 /bin/cellmapd", "--node-id n1", "--http-addr 10.77.0.1:8480",
		"--raft-addr 10.77.0.1:8481", "--gossip-addr 10.77.0.1:8482", "--raft-profile test", "--enable-fault-injection", "--bootstrap",
		"--tls-cert /run/x/tls/node-n1.pem", "--tls-ca /run/x/tls/cellmap-ca.pem", "--gossip-key-file /run/x/tls/gossip.key",
		"--acl-bootstrap-token-file /run/x/admin-token", "--autopilot-min-quorum 3"} {
		if !strings.Contains(first, want) {
			t.Fatalf("n1 first start lacks %q: %s", want, first)
		}
		if strings.Contains(first, "--insecure") {
			t.Fatalf("the harness secures its nodes as production does: %s", first)
		}
	}
	if got := strings.Join(c.argv(n3, true), " "); !strings.Contains(got, "--join https://10.77.0.1:8480") || strings.Contains(got, "--bootstrap") {
		t.Fatalf("n3 first start: %s", got)
	}
	if got := strings.Join(c.argv(n1, false), " "); strings.Contains(got, "--bootstrap") || strings.Contains(got, " --join") {
		t.Fatalf("a restart needs neither --bootstrap nor --join: %s", got)
	}
	// One gossip pool with the test profile: every start but n1's first joins the others.
	if strings.Contains(first, "--gossip-join") || !strings.Contains(first, "--gossip-profile test") {
		t.Fatalf("n1 first start: %s", first)
	}
	if got := strings.Join(c.argv(n3, true), " "); !strings.Contains(got, "--gossip-join 10.77.0.1:8482,10.77.0.2:8482") {
		t.Fatalf("n3 does not join the gossip pool: %s", got)
	}
	if got := strings.Join(c.argv(n1, false), " "); !strings.Contains(got, "--gossip-join 10.77.0.2:8482,10.77.0.3:8482") {
		t.Fatalf("a restarted n1 does not rejoin the gossip pool: %s", got)
	}
	if got := c.GossipAddrs(); strings.Join(got, ",") != "10.77.0.1:8482,10.77.0.2:8482,10.77.0.3:8482" {
		t.Fatalf("gossip addresses %v", got)
	}
	if n3.DataDir != "/run/x/n3/data" || n3.LogPath != "/run/x/n3.log" {
		t.Fatalf("paths: %s %s", n3.DataDir, n3.LogPath)
	}
	env := strings.Join(c.env(), " ")
	if !strings.Contains(env, "GOMAXPROCS=1") || strings.Contains(env, "CELLMAP_") {
		t.Fatalf("node environment: %s", env)
	}
	if _, err := c.Node("n9"); err == nil {
		t.Fatal("unknown node accepted")
	}
}

func TestVotersAndDivergence(t *testing.T) {
	st := &api.ClusterStatus{Servers: []api.ClusterServer{{ID: "n3", Suffrage: "Voter"}, {ID: "n1", Suffrage: "Voter"}, {ID: "n2", Suffrage: "Nonvoter"}}}
	if got := Voters(st); !reflect.DeepEqual(got, []string{"n1", "n3"}) {
		t.Fatalf("voters %v", got)
	}
	same := map[string]*api.ClusterStatus{"n1": {FSMChecksum: "a", FSMChecksumIdx: 5}, "n2": {FSMChecksum: "a", FSMChecksumIdx: 5}, "n3": {FSMChecksum: "b", FSMChecksumIdx: 6}}
	if diverged(same) {
		t.Fatal("different indexes are not divergence")
	}
	same["n3"].FSMChecksumIdx = 5
	if !diverged(same) {
		t.Fatal("different checksums at one index not found")
	}
}

func TestConfigValidate(t *testing.T) {
	cfg := DefaultConfig(3)
	if cfg.Validate() == nil {
		t.Fatal("missing Binary accepted")
	}
	cfg.Binary, cfg.Dir = "x", "y"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
