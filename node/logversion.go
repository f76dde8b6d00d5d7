package node

import (
	"context"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/raft"
)

// Log versions during a rolling upgrade. Every node reads log version 1 (the entries written
// before versions existed). A release that adds a command type raises fsm.LogVersion and
// writes the new type's entries with their version. Such an entry is proposed only when every
// member of the configuration (voters and non-voters: all of them apply it) says, in its
// answer to a metadata query, that it reads that version; an older leader refuses it because
// it cannot decode it. Either way the write fails with ErrUnsupportedVersion and nothing
// reaches the log of a node that could not apply it.

// versionQueryTimeout bounds the metadata query that asks a member for its log version.
const versionQueryTimeout = 2 * time.Second

// checkLogVersion returns nil when every member of the configuration reads log entries of
// version v, else an error matching ErrUnsupportedVersion.
func (n *Node) checkLogVersion(ctx context.Context, v uint64) error {
	if v <= 1 {
		return nil
	}
	if v > fsm.LogVersion {
		return fmt.Errorf("%w: log version %d, this node reads up to %d", ErrUnsupportedVersion, v, fsm.LogVersion)
	}
	cf := n.raft.GetConfiguration()
	if err := cf.Error(); err != nil {
		return classifyApplyError(err)
	}
	return membersRead(v, n.cfg.NodeID, cf.Configuration().Servers, func(addr string) (uint64, error) {
		return n.memberLogVersion(ctx, addr)
	})
}

// membersRead checks that every server but self reads log version v; version asks one server.
func membersRead(v uint64, self string, servers []raft.Server, version func(addr string) (uint64, error)) error {
	for _, s := range servers {
		if string(s.ID) == self {
			continue
		}
		got, err := version(string(s.Address))
		if err != nil {
			return fmt.Errorf("%w: cannot ask %s which log versions it reads: %v", ErrUnsupportedVersion, s.ID, err)
		}
		if got < v {
			return fmt.Errorf("%w: %s reads log versions up to %d, the write needs %d; upgrade it first", ErrUnsupportedVersion, s.ID, got, v)
		}
	}
	return nil
}

// memberLogVersion asks the node at a raft address for the newest log version it reads. A
// version, once seen, is remembered for the address (nodes are not downgraded in place).
func (n *Node) memberLogVersion(ctx context.Context, addr string) (uint64, error) {
	n.metaMu.Lock()
	v, ok := n.logVersions[addr]
	n.metaMu.Unlock()
	if ok && v >= fsm.LogVersion {
		return v, nil
	}
	qctx, cancel := context.WithTimeout(ctx, versionQueryTimeout)
	defer cancel()
	m, err := transport.QueryMeta(qctx, addr, n.clientTLS)
	if err != nil {
		return 0, err
	}
	v = max(m.LogVersion, 1) // releases before versions answer none and read version 1
	n.metaMu.Lock()
	n.logVersions[addr] = v
	n.metaMu.Unlock()
	return v, nil
}
