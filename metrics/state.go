package metrics

import (
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cellmap/cellmap/fsm"
)

// stateCollector reads the node, the state, the cells, the gossip pool and the backups at
// scrape time.
type stateCollector struct {
	mu        sync.Mutex
	src       Sources
	stats     fsm.Stats
	statsErr  error
	statsTime time.Time
}

func newStateCollector() *stateCollector { return &stateCollector{} }

func (c *stateCollector) set(src Sources) {
	if src.StatsEvery <= 0 {
		src.StatsEvery = 30 * time.Second
	}
	c.mu.Lock()
	c.src, c.statsTime = src, time.Time{}
	c.mu.Unlock()
}

func (c *stateCollector) sources() Sources {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.src
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	raftState         = desc("cellmap_raft_state", "1 for this node's raft state (Leader, Follower, Candidate, Shutdown), 0 for the others.", "state")
	raftTerm          = desc("cellmap_raft_term", "Current raft term.")
	raftCommit        = desc("cellmap_raft_commit_index", "Highest log index known committed.")
	raftApplied       = desc("cellmap_raft_applied_index", "Highest log index applied to the state.")
	raftLast          = desc("cellmap_raft_last_index", "Last index in the raft log.")
	raftContact       = desc("cellmap_raft_last_contact_seconds", "Seconds since the leader (on the leader: a quorum) was last heard from.")
	raftLeaderChanges = desc("cellmap_raft_leader_changes_total", "Leader changes this node observed since it started.")
	raftVoters        = desc("cellmap_raft_voters", "Voters in the raft configuration.")
	fsmBytes          = desc("cellmap_fsm_file_bytes", "Size of the state file (bbolt).")
	fsmFree           = desc("cellmap_fsm_free_pages", "Free and pending pages of the state file.")
	fsmEntries        = desc("cellmap_fsm_entries", "Records per table of the state (counted at most every StatsEvery).", "table")
	pendingDeletes    = desc("cellmap_pending_deletes", "Servers queued for delete whose cell has not confirmed the delete.")
	cellUp            = desc("cellmap_cell_up", "1 when the cell's conductor is usable, 0 when the cell is down or never seen.", "cell")
	cellSince         = desc("cellmap_cell_state_since_timestamp_seconds", "When the cell last changed between up and down (Unix time).", "cell")
	cellConductors    = desc("cellmap_cell_conductors", "Alive conductors serving the cell's mapped address.", "cell")
	gossipMembers     = desc("cellmap_gossip_members", "Gossip pool members as this node sees them, by role and state (alive, failed).", "role", "state")
	backupLast        = desc("cellmap_backup_last_success_timestamp_seconds", "When the last periodic backup was written (Unix time; 0: none yet).")
	diskFree          = desc("cellmap_disk_free_bytes", "Free bytes of the file system holding the data directory (for unprivileged users).")
	diskSize          = desc("cellmap_disk_size_bytes", "Size of the file system holding the data directory.")
	backupFailures    = desc("cellmap_backup_failures_total", "Periodic backups that failed since start.")
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{raftState, raftTerm, raftCommit, raftApplied, raftLast, raftContact, raftLeaderChanges,
		raftVoters, fsmBytes, fsmFree, fsmEntries, pendingDeletes, cellUp, cellSince, cellConductors, gossipMembers,
		backupLast, backupFailures, diskFree, diskSize} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.sources()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if s := src.Raft; s != nil {
		m := s.Metrics()
		for _, st := range []string{"Leader", "Follower", "Candidate", "Shutdown"} {
			gauge(raftState, b2f(m.State == st), st)
		}
		gauge(raftTerm, float64(m.Term))
		gauge(raftCommit, float64(m.CommitIndex))
		gauge(raftApplied, float64(m.AppliedIndex))
		gauge(raftLast, float64(m.Last))
		gauge(raftContact, m.LastContact.Seconds())
		gauge(raftVoters, float64(m.Voters))
		ch <- prometheus.MustNewConstMetric(raftLeaderChanges, prometheus.CounterValue, float64(m.LeaderChanges))
	}
	c.collectState(src, gauge)
	if s := src.Cells; s != nil {
		for cell, h := range s.CellsHealth() {
			gauge(cellUp, b2f(h.Status == "up"), cell)
			gauge(cellConductors, float64(h.Conductors), cell)
			if !h.Since.IsZero() {
				gauge(cellSince, float64(h.Since.UnixNano())/1e9, cell)
			}
		}
	}
	if s := src.Gossip; s != nil {
		counts := map[[2]string]int{}
		for _, m := range s.Members() {
			state := "failed"
			if m.Alive {
				state = "alive"
			}
			counts[[2]string{m.Meta.Role, state}]++
		}
		for k, n := range counts {
			gauge(gossipMembers, float64(n), k[0], k[1])
		}
	}
	if src.DataDir != "" {
		var fs syscall.Statfs_t
		if err := syscall.Statfs(src.DataDir, &fs); err == nil {
			gauge(diskFree, float64(fs.Bavail)*float64(fs.Bsize))
			gauge(diskSize, float64(fs.Blocks)*float64(fs.Bsize))
		}
	}
	if s := src.Backups; s != nil {
		st := s.Status()
		last := 0.0
		if !st.LastSuccess.IsZero() {
			last = float64(st.LastSuccess.UnixNano()) / 1e9
		}
		gauge(backupLast, last)
		ch <- prometheus.MustNewConstMetric(backupFailures, prometheus.CounterValue, float64(st.Failures))
	}
}

// collectState reports the state's size, recounting its entries at most every StatsEvery.
func (c *stateCollector) collectState(src Sources, gauge func(*prometheus.Desc, float64, ...string)) {
	if src.State == nil {
		return
	}
	c.mu.Lock()
	if time.Since(c.statsTime) >= src.StatsEvery {
		c.stats, c.statsErr = src.State.Stats()
		c.statsTime = time.Now()
	}
	st, err := c.stats, c.statsErr
	c.mu.Unlock()
	if err != nil {
		return
	}
	gauge(fsmBytes, float64(st.FileBytes))
	gauge(fsmFree, float64(st.FreePages))
	for table, n := range st.Entries {
		gauge(fsmEntries, float64(n), table)
	}
	gauge(pendingDeletes, float64(st.Entries["pending_delete"]))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
