package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cellmap/cellmap/api"
)

// pollInterval paces the wait loops.
const pollInterval = 200 * time.Millisecond

// Form starts node 1 with --bootstrap, waits until it leads, starts the others with --join
// and waits until every node is a voter and ready. It gives up after timeout.
func (c *Cluster) Form(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := c.sec.write(); err != nil {
		return err
	}
	first := c.nodes[0]
	if err := c.Start(first.ID); err != nil {
		return err
	}
	if err := poll(ctx, func() bool {
		st, err := c.Status(ctx, first.ID)
		return err == nil && st.State == "Leader"
	}); err != nil {
		return fmt.Errorf("%w: %s never led after bootstrap: %v", ErrNotConverged, first.ID, err)
	}
	for _, n := range c.nodes[1:] {
		if err := c.Start(n.ID); err != nil {
			return err
		}
	}
	err := poll(ctx, func() bool {
		for _, n := range c.nodes {
			rctx, cancel := context.WithTimeout(ctx, c.cfg.StatusTimeout)
			err := n.Client.Ready(rctx)
			cancel()
			if err != nil {
				return false
			}
		}
		st, err := c.Status(ctx, first.ID)
		return err == nil && len(Voters(st)) == len(c.nodes)
	})
	if err != nil {
		return fmt.Errorf("%w: %d nodes did not all join: %v", ErrNotConverged, len(c.nodes), err)
	}
	return nil
}

// poll calls cond every pollInterval until it holds or ctx ends.
func poll(ctx context.Context, cond func() bool) error {
	for {
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

// Converged is the outcome of [Cluster.WaitConverged].
type Converged struct {
	// Statuses are the last statuses seen, by node id.
	Statuses map[string]*api.ClusterStatus
	// Leader is the single leader, when there was one.
	Leader string
	// Reason says why the cluster is not converged ("" when it is).
	Reason string
}

// WaitConverged waits until every node answers, exactly one leads, every node lists all
// nodes as voters and all report the same applied index and state checksum. It returns early
// with ErrDiverged when two nodes have different checksums at the same index.
func (c *Cluster) WaitConverged(ctx context.Context, timeout time.Duration) (*Converged, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last *Converged
	for {
		last = c.convergence(ctx)
		if last.Reason == "" {
			return last, nil
		}
		if diverged(last.Statuses) {
			return last, fmt.Errorf("%w: %s", ErrDiverged, last.Reason)
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%w after %v: %s", ErrNotConverged, timeout, last.Reason)
		case <-time.After(pollInterval):
		}
	}
}

func (c *Cluster) convergence(ctx context.Context) *Converged {
	sts := c.StatusAll(ctx)
	out := &Converged{Statuses: sts}
	if len(sts) < len(c.nodes) {
		out.Reason = fmt.Sprintf("%d of %d nodes answered", len(sts), len(c.nodes))
		return out
	}
	var leaders []string
	var ref *api.ClusterStatus
	for _, n := range c.nodes {
		st := sts[n.ID]
		if st.State == "Leader" {
			leaders = append(leaders, n.ID)
		}
		if v := Voters(st); len(v) != len(c.nodes) {
			out.Reason = fmt.Sprintf("%s sees voters %v", n.ID, v)
			return out
		}
		if ref == nil {
			ref = st
			continue
		}
		if st.FSMChecksumIdx != ref.FSMChecksumIdx || st.FSMChecksum != ref.FSMChecksum {
			out.Reason = fmt.Sprintf("%s at index %d (%s), %s at index %d (%s)", ref.NodeID, ref.FSMChecksumIdx,
				short(ref.FSMChecksum), n.ID, st.FSMChecksumIdx, short(st.FSMChecksum))
			return out
		}
	}
	if len(leaders) != 1 {
		out.Reason = fmt.Sprintf("leaders %v", leaders)
		return out
	}
	out.Leader = leaders[0]
	return out
}

func diverged(sts map[string]*api.ClusterStatus) bool {
	at := map[uint64]string{}
	for _, st := range sts {
		if st.FSMChecksum == "" {
			continue
		}
		if sum, ok := at[st.FSMChecksumIdx]; ok && sum != st.FSMChecksum {
			return true
		}
		at[st.FSMChecksumIdx] = st.FSMChecksum
	}
	return false
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// ReadLog returns node id's log from byte offset from, and the offset after it.
func (c *Cluster) ReadLog(id string, from int64) ([]byte, int64, error) {
	n, err := c.Node(id)
	if err != nil {
		return nil, from, err
	}
	f, err := os.Open(n.LogPath)
	if err != nil {
		return nil, from, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, from, err
	}
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	return b, from + int64(len(b)), err
}
