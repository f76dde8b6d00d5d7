package compute

import (
	"context"
	"net/http"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Limits reports a project's limits and usage (NewStateLimits: the replicated quotas).
type Limits interface {
	ProjectLimits(ctx context.Context, project string) (*ProjectLimits, error)
}

// ProjectLimits are a project's absolute limits (-1: unlimited; 0: the feature is not
// modelled, so none can exist) and its usage.
type ProjectLimits struct {
	Instances, Cores, RAMMB           int64
	MetadataItems                     int64
	KeyPairs, ServerGroups, Members   int64
	InstancesUsed, CoresUsed, RAMUsed int64
	ServerGroupsUsed                  int64
	// OwnLimits says whether the project has limits of its own (else the defaults apply).
	OwnLimits bool
}

// StateLimits reads a project's limits and usage from the replicated quotas (fsm/quota.go):
// the usage every create claims and every confirmed delete releases, the project's limits or
// the defaults. Server metadata is limited to 128 items; server groups and their members are
// not limited (-1); key pairs are not modelled (0).
type StateLimits struct{ store Store }

// NewStateLimits returns the limits of the replicated state.
func NewStateLimits(store Store) *StateLimits { return &StateLimits{store: store} }

// ProjectLimits implements Limits; "" (an unscoped caller) is the defaults with no usage.
func (l *StateLimits) ProjectLimits(ctx context.Context, project string) (*ProjectLimits, error) {
	var out *ProjectLimits
	_, err := l.store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		out, err = readLimits(r, project)
		return err
	})
	return out, err
}

// readLimits reads a project's limits and usage ("" or fsm.DefaultQuotaKey: the defaults).
func readLimits(r *fsm.Reader, project string) (*ProjectLimits, error) {
	key := project
	if key == "" {
		key = fsm.DefaultQuotaKey
	}
	set, own, err := r.QuotaLimits(key)
	if err != nil {
		return nil, err
	}
	out := &ProjectLimits{Instances: set.Instances, Cores: set.Cores, RAMMB: set.RAMMB, OwnLimits: own,
		MetadataItems: validate.MaxMetadataItems, ServerGroups: fsm.Unlimited, Members: fsm.Unlimited}
	if key == fsm.DefaultQuotaKey {
		return out, nil
	}
	u, err := r.QuotaUsage(project)
	if err != nil {
		return nil, err
	}
	out.InstancesUsed, out.CoresUsed, out.RAMUsed = u.Instances, u.Cores, u.RAMMB
	gs, err := r.ServerGroups()
	for _, g := range gs {
		if g.ProjectID == project {
			out.ServerGroupsUsed++
		}
	}
	return out, err
}

// showLimits is GET /limits: the caller's project's limits and usage (an operator or admin may
// name another project with tenant_id), shaped by the microversion as Nova's view is.
func (s *Service) showLimits(w http.ResponseWriter, q *request) error {
	project := q.project()
	if t := q.r.URL.Query().Get("tenant_id"); t != "" && q.admin() && q.sees(t) {
		project = t
	}
	l, err := s.limits.ProjectLimits(q.r.Context(), project)
	if err != nil {
		return err
	}
	abs := map[string]any{
		"maxTotalInstances": l.Instances, "maxTotalCores": l.Cores, "maxTotalRAMSize": l.RAMMB,
		"maxServerMeta": l.MetadataItems, "maxTotalKeypairs": l.KeyPairs,
		"maxServerGroups": l.ServerGroups, "maxServerGroupMembers": l.Members,
		"totalInstancesUsed": l.InstancesUsed, "totalCoresUsed": l.CoresUsed, "totalRAMUsed": l.RAMUsed,
		"totalServerGroupsUsed": l.ServerGroupsUsed,
	}
	if !q.atLeast(36) { // network proxies, gone from 2.36
		abs["maxTotalFloatingIps"], abs["totalFloatingIpsUsed"] = 0, 0
		abs["maxSecurityGroups"], abs["maxSecurityGroupRules"], abs["totalSecurityGroupsUsed"] = 0, 0, 0
	}
	if !q.atLeast(39) {
		abs["maxImageMeta"] = l.MetadataItems
	}
	if !q.atLeast(57) { // personality files, gone from 2.57 (cellmap accepts none)
		abs["maxPersonality"], abs["maxPersonalitySize"] = 0, 0
	}
	writeJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
	return nil
}
