package cellproxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Server groups (fsm/servergroups.go) at scheduling: the conductor is told which hosts the
// group allows, and the transaction that records where the server landed also records the
// host in the group, conditioned on the group's revision. A lost race (another member landed
// meanwhile and the policy now forbids this host) takes the server back from the cell and
// tries again elsewhere; nothing depends on the cell calling up.

// maxGroupRetries bounds the re-checks of one placement against a changing group.
const maxGroupRetries = 20

// groupPlan is the server's group as the scheduler read it.
type groupPlan struct {
	group *fsm.ServerGroup
	live  func(string) bool
}

// pass is one scheduling attempt's host filter; none says no host can take the server.
type pass struct {
	only, exclude []string
	none          bool
}

// groupHint is what the scheduler knows of a server's group: a create knows it (the group it
// named, or none), a reschedule does not and looks it up in the membership index.
type groupHint struct {
	known bool
	id    string
}

// none says the server is known to be in no group: scheduling it reads no group.
func (h groupHint) none() bool { return h.known && h.id == "" }

// groupPlan reads the server's group and which of its members still count (not queued for
// delete). A server known to be in no group reads nothing.
func (p *Proxy) groupPlan(ctx context.Context, uuid string, hint groupHint) (groupPlan, error) {
	var plan groupPlan
	if hint.none() {
		return plan, nil
	}
	err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		plan.group, plan.live, err = groupIn(r, uuid, hint)
		return err
	})
	return plan, err
}

// groupIn returns the server's group (nil: none, or deleted since) and a filter of its members
// that count.
func groupIn(r *fsm.Reader, uuid string, hint groupHint) (*fsm.ServerGroup, func(string) bool, error) {
	var g *fsm.ServerGroup
	var err error
	if hint.known {
		if g, err = r.ServerGroup(hint.id); errors.Is(err, fsm.ErrNotFound) {
			return nil, nil, nil
		}
	} else {
		g, err = r.GroupOf(uuid)
	}
	if err != nil || g == nil {
		return nil, nil, err
	}
	live := map[string]bool{}
	for _, m := range g.Members {
		if im, err := r.InstanceMapping(m.InstanceUUID); err == nil && !im.QueuedForDelete {
			live[m.InstanceUUID] = true
		}
	}
	return g, func(u string) bool { return live[u] }, nil
}

// passes returns the scheduling attempts: the zone's filter narrowed by the group's policy,
// then, for soft policies, the zone's filter alone (the preference gives way rather than fail).
func (g groupPlan) passes(only, exclude []string) []pass {
	zone := pass{only: only, exclude: exclude}
	if g.group == nil {
		return []pass{zone}
	}
	counts := map[string]int64{}
	for _, m := range g.group.Members {
		if m.Host != "" && g.live(m.InstanceUUID) {
			counts[m.Host]++
		}
	}
	narrowed := pass{only: slices.Clone(only), exclude: slices.Clone(exclude)}
	switch g.group.Policy {
	case fsm.PolicyAntiAffinity, fsm.PolicySoftAntiAffinity:
		for h, n := range counts {
			if n >= g.group.PerHost() {
				narrowed.exclude = append(narrowed.exclude, h)
			}
		}
	case fsm.PolicyAffinity, fsm.PolicySoftAffinity:
		if len(counts) > 0 {
			var hosts []string
			for h := range counts {
				if len(only) == 0 || slices.Contains(only, h) {
					hosts = append(hosts, h)
				}
			}
			narrowed.only, narrowed.none = hosts, len(hosts) == 0
		}
	}
	if g.group.Policy == fsm.PolicySoftAffinity || g.group.Policy == fsm.PolicySoftAntiAffinity {
		return []pass{narrowed, zone}
	}
	return []pass{narrowed}
}

// finishInGroup records where the server landed, and in its group the host, in one
// transaction. It reports false when the group's hard policy no longer allows the host (a
// member landed there meanwhile): the server is then deleted from the cell.
func (p *Proxy) finishInGroup(ctx context.Context, uuid string, hint groupHint, spec fsm.ServerSpec, created time.Time, cell, host string) bool {
	for try := 0; try < maxGroupRetries; try++ {
		plan, err := p.groupPlan(ctx, uuid, hint)
		if err != nil || plan.group == nil {
			p.finish(ctx, uuid, spec, created, cell)
			return true
		}
		g := plan.group
		if !g.Allows(uuid, host, plan.live) {
			p.logger.Info("server group policy lost a race; taking the server back from its host", "server", uuid,
				"group", g.ID, "policy", g.Policy, "host", host)
			if err := p.cellCall(ctx, cell, func(ctx context.Context, addr string) error { return p.cells.delete(ctx, addr, uuid) }); err != nil {
				p.logger.Warn("could not take back a server its group does not allow there", "server", uuid, "cell", cell, "error", err)
			}
			return false
		}
		next := *g
		next.Members = nil
		for _, m := range g.Members {
			switch {
			case m.InstanceUUID == uuid:
				next.Members = append(next.Members, fsm.GroupMember{InstanceUUID: uuid, Host: host})
			case m.Host == "" || plan.live(m.InstanceUUID): // members gone for good are dropped
				next.Members = append(next.Members, m)
			}
		}
		op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableServerGroups, Record: &next, IfRevision: g.Revision}
		if err := p.finish(ctx, uuid, spec, created, cell, op); !errors.Is(err, fsm.ErrRevisionMismatch) {
			return true
		}
	}
	p.logger.Warn("server group kept changing; leaving the build request for a retry", "server", uuid)
	return true
}

// groupJoin is the op that adds a new server to its group (create's transaction), checking
// that the group exists in the server's project.
func groupJoin(r *fsm.Reader, groupID, project, uuid string) (fsm.Op, error) {
	g, err := r.ServerGroup(groupID)
	if err != nil || g.ProjectID != project {
		return fsm.Op{}, fmt.Errorf("server group %s not found in project %s: %w", groupID, project, ErrInvalid)
	}
	return fsm.Op{Kind: fsm.OpAdjust, Table: fsm.TableServerGroups, Record: &fsm.ServerGroup{ID: g.ID, ProjectID: project,
		Policy: g.Policy, Members: []fsm.GroupMember{{InstanceUUID: uuid}}}}, nil
}

// ServerGroupOut is a server group as the API shows it, with the members that count.
func ServerGroupOut(g *fsm.ServerGroup, live func(string) bool) api.ServerGroup {
	out := api.ServerGroup{ID: g.ID, Name: g.Name, ProjectID: g.ProjectID, UserID: g.UserID, Policy: g.Policy,
		Members: []string{}, CreatedAt: g.CreatedAt}
	if g.MaxPerHost > 0 {
		out.Rules = &api.ServerGroupRules{MaxServerPerHost: g.MaxPerHost}
	}
	for _, m := range g.Members {
		if live == nil || live(m.InstanceUUID) {
			out.Members = append(out.Members, m.InstanceUUID)
		}
	}
	return out
}
