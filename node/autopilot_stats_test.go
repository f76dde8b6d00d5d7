package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// TestFetchServerStatsWithSelfAmongOthers: the leader's own stats and the ones its goroutines
// fetch from the other servers go into one map. The leader wrote its own entry without the
// map's lock while the goroutines of the servers before it in the (random) iteration were
// writing theirs: `make test` crashed a leader with "fatal error: concurrent map writes" in
// FetchServerStats. Twenty rounds over nine servers put the leader after others almost every
// round; the race detector reports the unordered writes whenever they do not overlap.
func TestFetchServerStatsWithSelfAmongOthers(t *testing.T) {
	n := singleNode(t, t.TempDir(), nil)
	d := newAutopilotDelegate(n, TestAutopilotConfig(), nil)
	servers := map[raft.ServerID]*autopilot.Server{raft.ServerID(n.cfg.NodeID): {ID: raft.ServerID(n.cfg.NodeID), Address: raft.ServerAddress(n.cfg.RaftAddr)}}
	for i := range 8 { // nothing listens there: each query fails at once
		id := raft.ServerID(fmt.Sprintf("gone%d", i))
		servers[id] = &autopilot.Server{ID: id, Address: raft.ServerAddress(freeAddr(t))}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 20 {
		stats := d.FetchServerStats(ctx, servers)
		if len(stats) != len(servers) {
			t.Fatalf("%d stats for %d servers", len(stats), len(servers))
		}
		for id, st := range stats {
			self := string(id) == n.cfg.NodeID
			if self && st.LastIndex == 0 || !self && st.LastContact != -1 {
				t.Fatalf("%s: %+v; want its own progress for the leader, no contact for a server that does not answer", id, st)
			}
		}
	}
}
