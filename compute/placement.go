package compute

import (
	"context"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// placement is what a server's view takes from the replicated state besides the server: the
// zone of each zoned host (fsm aggregates) and the group of each server (fsm server groups).
type placement struct {
	defaultZone string
	hostZones   map[string]string
	groups      map[string]string // server uuid -> group id
}

// placement reads the zones of the hosts and, with groups, the servers' groups.
func (s *Service) placement(ctx context.Context, groups bool) (*placement, error) {
	p := &placement{defaultZone: s.cfg.DefaultAvailabilityZone, groups: map[string]string{}}
	_, err := s.cfg.Store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		if p.hostZones, err = r.HostZones(); err != nil || !groups {
			return err
		}
		gs, err := r.ServerGroups()
		for _, g := range gs {
			for _, m := range g.Members {
				p.groups[m.InstanceUUID] = g.ID
			}
		}
		return err
	})
	return p, err
}

// zoneOfHost is a host's availability zone: its zoned aggregate's, else the default zone.
func (p *placement) zoneOfHost(host string) string {
	if z, ok := p.hostZones[host]; ok {
		return z
	}
	return p.defaultZone
}

// serverZone is a server's OS-EXT-AZ:availability_zone: the zone of its host once it has one
// (as Nova sets instance.availability_zone when it schedules), else the zone it asked for
// ("" for none).
func (p *placement) serverZone(requested, host string) string {
	if host != "" {
		return p.zoneOfHost(host)
	}
	return requested
}

// serverGroups is a server's server_groups (2.71): the id of its group, if any.
func (p *placement) serverGroups(uuid string) []string {
	if g, ok := p.groups[uuid]; ok {
		return []string{g}
	}
	return []string{}
}
