package fsm

import (
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api/validate"
)

// Server groups are API-level records: a group's members and the hosts they landed on live
// here, so the placement rules are checked race-free where the placement is recorded. A create
// joins its group in its own transaction (OpAdjust on server_group: adding a member commutes,
// so parallel creates need no precondition); the transaction that records where the server
// landed rewrites the group with the member's host, conditioned on the revision the scheduler
// read: a placement racing another member's fails that precondition, and the scheduler checks
// again against the group as it now is.

// Server group policies (Nova's).
const (
	PolicyAffinity         = "affinity"
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAffinity     = "soft-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

// maxGroupMembers bounds a group (Nova's server_group_members quota default is 10; this is a
// hard ceiling).
const maxGroupMembers = 10000

// GroupMember is a server of a group and the host it landed on ("" while it is scheduled).
type GroupMember struct {
	InstanceUUID string
	Host         string
}

// ServerGroup is a server group.
type ServerGroup struct {
	ID        string
	Name      string
	ProjectID string
	UserID    string
	Policy    string
	// MaxPerHost is anti-affinity's max_server_per_host rule (Nova 2.64); 0 means 1.
	MaxPerHost int64
	Members    []GroupMember
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Revision   uint64
}

var serverGroupsTable = &table{name: "server_group", kind: "server_groups", bucket: []byte("server_groups"), newRec: func() Record { return &ServerGroup{} },
	derived: indexMembers}

func (g *ServerGroup) Key() string { return g.ID }
func (g *ServerGroup) rev() uint64 { return g.Revision }
func (g *ServerGroup) marshal(e *encoder) {
	e.str(g.ID)
	e.str(g.Name)
	e.str(g.ProjectID)
	e.str(g.UserID)
	e.str(g.Policy)
	e.varint(g.MaxPerHost)
	e.uvarint(uint64(len(g.Members)))
	for _, m := range g.Members {
		e.str(m.InstanceUUID)
		e.str(m.Host)
	}
	e.timestamp(g.CreatedAt)
	e.timestamp(g.UpdatedAt)
	e.uvarint(g.Revision)
}
func (g *ServerGroup) unmarshal(d *decoder) {
	g.ID, g.Name, g.ProjectID, g.UserID, g.Policy = d.str(), d.str(), d.str(), d.str(), d.str()
	g.MaxPerHost = d.varint()
	n := d.uvarint()
	g.Members = make([]GroupMember, 0, d.sizeHint(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		g.Members = append(g.Members, GroupMember{InstanceUUID: d.str(), Host: d.str()})
	}
	g.CreatedAt, g.UpdatedAt = d.timestamp(), d.timestamp()
	g.Revision = d.uvarint()
}
func (g *ServerGroup) stamp(ac *applyCtx, prev Record) {
	g.Revision, g.UpdatedAt = ac.index, ac.now
	if old, ok := prev.(*ServerGroup); ok {
		g.CreatedAt = old.CreatedAt
	}
	if g.CreatedAt.IsZero() {
		g.CreatedAt = ac.now
	}
}

func (g *ServerGroup) validate() error {
	if err := firstError(canonicalUUID("id", g.ID), validate.Name("name", g.Name, false), validate.Name("project_id", g.ProjectID, true),
		validate.Name("user_id", g.UserID, false)); err != nil {
		return err
	}
	switch g.Policy {
	case PolicyAffinity, PolicyAntiAffinity, PolicySoftAffinity, PolicySoftAntiAffinity:
	default:
		return fmt.Errorf("policy must be affinity, anti-affinity, soft-affinity or soft-anti-affinity, not %q", g.Policy)
	}
	if g.MaxPerHost < 0 || g.MaxPerHost > maxGroupMembers || (g.MaxPerHost > 0 && g.Policy != PolicyAntiAffinity) {
		return fmt.Errorf("max_server_per_host is a positive rule of anti-affinity only")
	}
	if len(g.Members) > maxGroupMembers {
		return fmt.Errorf("a group has at most %d members", maxGroupMembers)
	}
	for _, m := range g.Members {
		if err := firstError(canonicalUUID("member", m.InstanceUUID), validateOptionalHost(m.Host)); err != nil {
			return err
		}
	}
	return nil
}

func validateOptionalHost(h string) error {
	if h == "" {
		return nil
	}
	return validate.Host("host", h)
}

// PerHost is the anti-affinity limit of members per host.
func (g *ServerGroup) PerHost() int64 { return max(g.MaxPerHost, 1) }

// Allows says whether a member may land on host given the group's other placed members (hard
// policies only; soft ones always allow). live filters out members that no longer count
// (deleted servers); nil counts every member.
func (g *ServerGroup) Allows(member, host string, live func(uuid string) bool) bool {
	var onHost int64
	others := false
	for _, m := range g.Members {
		if m.InstanceUUID == member || m.Host == "" || (live != nil && !live(m.InstanceUUID)) {
			continue
		}
		others = true
		if m.Host == host {
			onHost++
		}
	}
	switch g.Policy {
	case PolicyAntiAffinity:
		return onHost < g.PerHost()
	case PolicyAffinity:
		return !others || onHost > 0
	}
	return true
}

// joinGroup is what an OpAdjust on server_group writes: the group with the record's members
// added (host not yet known). The group must exist and belong to the same project.
func joinGroup(ac *applyCtx, i int, op *Op, prev Record) (Record, *Result) {
	add := op.Record.(*ServerGroup)
	if prev == nil {
		return nil, failResult(ac, i, "server group %s: %w", add.ID, ErrNotFound)
	}
	g := *prev.(*ServerGroup)
	if add.ProjectID != g.ProjectID {
		return nil, failResult(ac, i, "server group %s belongs to another project: %w", add.ID, ErrNotFound)
	}
	if len(g.Members)+len(add.Members) > maxGroupMembers {
		return nil, failResult(ac, i, "server group %s is full: %w", add.ID, ErrInvalid)
	}
	g.Members = append(append([]GroupMember(nil), g.Members...), add.Members...)
	return &g, nil
}

// ServerGroups returns every server group, by id.
func (r *Reader) ServerGroups() ([]*ServerGroup, error) {
	return listAs[*ServerGroup](r.tx, serverGroupsTable, nil)
}

// ServerGroup returns one server group.
func (r *Reader) ServerGroup(id string) (*ServerGroup, error) {
	return getAs[*ServerGroup](r.tx, serverGroupsTable, id)
}

// GroupOf returns the group a server is a member of (nil: none): one lookup in the membership
// index and one read of the group.
func (r *Reader) GroupOf(uuid string) (*ServerGroup, error) {
	ix := groupMembersIndex(r.tx)
	if ix == nil {
		return nil, errNoMemberIndex
	}
	id := ix.Get([]byte(uuid))
	if id == nil {
		return nil, nil
	}
	return r.ServerGroup(string(id))
}
