package cellproxy

import (
	"context"
	"fmt"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Availability zones come from the aggregates of the replicated state (fsm/aggregates.go):
// a zoned aggregate's hosts are in its zone, every other host in DefaultAvailabilityZone.

// checkZone refuses a create naming a zone that does not exist, as Nova does.
func (p *Proxy) checkZone(r *fsm.Reader, zone string) error {
	if zone == "" || zone == p.cfg.DefaultAvailabilityZone {
		return nil
	}
	zones, err := r.HostZones()
	if err != nil {
		return err
	}
	for _, z := range zones {
		if z == zone {
			return nil
		}
	}
	aggs, err := r.Aggregates()
	if err != nil {
		return err
	}
	for _, a := range aggs { // a zone whose aggregates hold no host yet exists too
		if a.Zone() == zone {
			return nil
		}
	}
	return fmt.Errorf("%w: %s: %w", ErrZoneUnavailable, zone, ErrInvalid)
}

// zoneFilter is the host filter of a create in zone: no filter without one, the zone's hosts
// for a zone of aggregates, and every host but the zoned ones for the default zone. none says
// that no host can take it (a zone whose aggregates hold no host).
func (p *Proxy) zoneFilter(ctx context.Context, zone string) (only, exclude []string, none bool, err error) {
	if zone == "" {
		return nil, nil, false, nil
	}
	var zones map[string]string
	if err := p.read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		zones, err = r.HostZones()
		return err
	}); err != nil {
		return nil, nil, false, err
	}
	for host, z := range zones {
		switch {
		case zone == p.cfg.DefaultAvailabilityZone && z != zone:
			exclude = append(exclude, host)
		case z == zone:
			only = append(only, host)
		}
	}
	return only, exclude, zone != p.cfg.DefaultAvailabilityZone && len(only) == 0, nil
}
