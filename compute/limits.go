package compute

import (
	"context"
	"net/http"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Limits reports a project's limits and usage. NewStateLimits counts usage from the
// replicated state and limits nothing but what cellmap enforces; quotas (issue 15) replace it.
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
}

// StateLimits counts a project's usage from its instance mappings (build requests, cell0 and
// cell servers alike, not those queued for delete) and their request specs' flavors.
type StateLimits struct{ store Store }

// NewStateLimits returns the limits of the replicated state.
func NewStateLimits(store Store) *StateLimits { return &StateLimits{store: store} }

// ProjectLimits implements Limits: nothing is limited but server metadata (128 items).
func (l *StateLimits) ProjectLimits(ctx context.Context, project string) (*ProjectLimits, error) {
	out := &ProjectLimits{Instances: -1, Cores: -1, RAMMB: -1, MetadataItems: validate.MaxMetadataItems}
	if project == "" {
		return out, nil
	}
	_, err := l.store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		ms, err := r.InstanceMappings(fsm.InstanceQuery{ProjectID: project, NotDeletedOnly: true})
		if err != nil {
			return err
		}
		for _, m := range ms {
			out.InstancesUsed++
			if rs, err := r.RequestSpec(m.InstanceUUID); err == nil {
				out.CoresUsed += rs.Spec.Flavor.VCPUs
				out.RAMUsed += rs.Spec.Flavor.RAMMB
			}
		}
		return nil
	})
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
		"totalServerGroupsUsed": 0,
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
