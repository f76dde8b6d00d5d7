package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// cluster status exit codes.
const (
	// exitClusterDegraded: a member did not answer, or no member leads.
	exitClusterDegraded = 1
)

// memberTimeout bounds asking one member for its status.
const memberTimeout = 5 * time.Second

// clusterStatusOptions are the options of cluster status.
type clusterStatusOptions struct{}

// clusterStatusCommand is the dispatch entry of cluster status.
func clusterStatusCommand() command {
	return command{name: "status",
		summary: "Show every member of the cluster, each asked for its own status (like etcdctl endpoint status --cluster).",
		exits:   "  0 every member answered and one leads\n  1 a member is unreachable, or no member leads\n",
		new:     func() options { return &clusterStatusOptions{} }}
}

// addFlags defines the options of cluster status.
func (o *clusterStatusOptions) addFlags(*flagSet) {}

// memberStatus is one member as cluster status shows it. The fields from State on are
// what the member itself answered; they are empty when it did not.
type memberStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	Suffrage string `json:"suffrage"`
	// Reachable says whether the member answered; Error is why not.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`

	State        string `json:"state,omitempty"`
	Term         uint64 `json:"term,omitempty"`
	CommitIndex  uint64 `json:"commit_index,omitempty"`
	AppliedIndex uint64 `json:"applied_index,omitempty"`
	// Lag is the leader's commit index minus the member's applied index (nil when the
	// leader or the member did not answer).
	Lag              *uint64 `json:"lag,omitempty"`
	LastContactMS    int64   `json:"last_contact_ms,omitempty"`
	FSMChecksum      string  `json:"fsm_checksum,omitempty"`
	FSMChecksumIndex uint64  `json:"fsm_checksum_index,omitempty"`
	Version          string  `json:"version,omitempty"`
	Health           string  `json:"health,omitempty"`
}

// clusterStatusResult is the JSON of cluster status.
type clusterStatusResult struct {
	LeaderID string         `json:"leader_id"`
	Members  []memberStatus `json:"members"`
	// Healthy is false when a member is unreachable or no member leads (exit code 1).
	Healthy bool `json:"healthy"`
}

// run executes cluster status: the answering node names the members and their HTTP
// addresses; each member is then asked for its own status, in parallel.
func (o *clusterStatusOptions) run(ctx context.Context, e *env, _ []string) int {
	first, err := e.client.ClusterStatus(ctx)
	if err != nil {
		return e.fail(err)
	}
	res := &clusterStatusResult{Members: make([]memberStatus, len(first.Servers))}
	var wg sync.WaitGroup
	for i, s := range first.Servers {
		m := &res.Members[i]
		*m = memberStatus{ID: s.ID, RaftAddr: s.RaftAddr, HTTPAddr: s.HTTPAddr, Suffrage: s.Suffrage}
		wg.Add(1)
		go func() {
			defer wg.Done()
			askMember(ctx, e, m)
		}()
	}
	wg.Wait()
	res.summarize()
	t := newTable("ID", "Address", "Suffrage", "State", "Term", "Commit", "Applied", "Lag", "Last Contact", "Checksum", "Version", "Health")
	for _, m := range res.Members {
		t.addRow(m.row()...)
	}
	if code := e.show(res, t); code != exitOK {
		return code
	}
	if !res.Healthy {
		return exitClusterDegraded
	}
	return exitOK
}

// askMember fills m with the member's own answer, or marks it unreachable.
func askMember(ctx context.Context, e *env, m *memberStatus) {
	if m.HTTPAddr == "" {
		m.Error = "its HTTP address is unknown: its raft port did not answer"
		return
	}
	mctx, cancel := context.WithTimeout(ctx, memberTimeout)
	defer cancel()
	st, err := e.client.At(m.HTTPAddr).ClusterStatus(mctx)
	switch {
	case err != nil:
		m.Error = err.Error()
		return
	case st.NodeID != m.ID:
		m.Error = fmt.Sprintf("%s answers as node %q", m.HTTPAddr, st.NodeID)
		return
	}
	m.Reachable = true
	m.State, m.Term, m.CommitIndex, m.AppliedIndex = st.State, st.Term, st.CommitIndex, st.AppliedIndex
	m.LastContactMS, m.FSMChecksum, m.FSMChecksumIndex = st.LastContactMS, st.FSMChecksum, st.FSMChecksumIdx
	m.Version, m.Health = st.Version, st.Health
}

// summarize finds the leader (the reachable member of the highest term that says it leads),
// computes every member's lag behind its commit index, and whether the cluster is healthy.
func (r *clusterStatusResult) summarize() {
	var leader *memberStatus
	r.Healthy = true
	for i := range r.Members {
		m := &r.Members[i]
		if !m.Reachable {
			r.Healthy = false
			continue
		}
		if m.State == "Leader" && (leader == nil || m.Term > leader.Term) {
			leader = m
		}
	}
	if leader == nil {
		r.Healthy = false
		return
	}
	r.LeaderID = leader.ID
	for i := range r.Members {
		if m := &r.Members[i]; m.Reachable {
			lag := uint64(0)
			if leader.CommitIndex > m.AppliedIndex {
				lag = leader.CommitIndex - m.AppliedIndex
			}
			m.Lag = &lag
		}
	}
}

// row is the member's table row.
func (m *memberStatus) row() []string {
	if !m.Reachable {
		return []string{m.ID, m.HTTPAddr, m.Suffrage, "unreachable", "", "", "", "", "", "", "", m.Error}
	}
	lag := "-"
	if m.Lag != nil {
		lag = strconv.FormatUint(*m.Lag, 10)
	}
	contact := "never"
	if m.LastContactMS < int64(time.Duration(1<<63-1)/time.Millisecond) {
		contact = (time.Duration(m.LastContactMS) * time.Millisecond).String()
	}
	checksum := m.FSMChecksum
	if checksum != "" {
		checksum = fmt.Sprintf("%s (index %d)", m.FSMChecksum, m.FSMChecksumIndex)
	}
	return []string{m.ID, m.HTTPAddr, m.Suffrage, m.State, strconv.FormatUint(m.Term, 10), strconv.FormatUint(m.CommitIndex, 10),
		strconv.FormatUint(m.AppliedIndex, 10), lag, contact, checksum, m.Version, m.Health}
}
