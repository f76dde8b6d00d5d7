package cluster

import (
	"context"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/jepsen/history"
)

// Recorder is where the poller writes status events.
type Recorder interface {
	Record(e history.Event) history.Event
}

// Poll asks every node for its status every interval until ctx ends and records each answer
// as a status event: the checkers use them to find two leaders in one term, diverging
// replicas and raft membership changes.
func (c *Cluster) Poll(ctx context.Context, rec Recorder, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for id, st := range c.StatusAll(ctx) {
			rec.Record(history.Event{Kind: history.KindStatus, Node: id, Status: StatusOf(st)})
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// StatusOf converts an API status into its history form.
func StatusOf(st *api.ClusterStatus) *history.Status {
	return &history.Status{
		State: st.State, Term: st.Term, LeaderID: st.LeaderID, CommitIndex: st.CommitIndex,
		AppliedIndex: st.AppliedIndex, LastLogIndex: st.LastLogIndex, Servers: Voters(st),
		Checksum: st.FSMChecksum, ChecksumIndex: st.FSMChecksumIdx,
	}
}
