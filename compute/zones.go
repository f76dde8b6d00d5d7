package compute

import (
	"fmt"
	"net/http"
)

// toString formats an id.
func toString(v any) string { return fmt.Sprint(v) }

// listZones is GET /os-availability-zone: "nova" (no host aggregates exist), available while
// any enabled compute host of an up cell is in it.
func (s *Service) listZones(w http.ResponseWriter, q *request) error {
	available, some, err := s.zoneState(q)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	if some {
		out = append(out, map[string]any{"zoneName": defaultZone, "zoneState": map[string]bool{"available": available}, "hosts": nil})
	}
	writeJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}

func (s *Service) zoneState(q *request) (available, some bool, err error) {
	cells, err := s.cfg.Hosts.ComputeHosts(q.r.Context())
	if err != nil {
		return false, false, err
	}
	for _, c := range cells {
		for _, h := range c.Hosts {
			some = true
			available = available || (c.Up && !h.Disabled)
		}
	}
	return available, some, nil
}

// listZonesDetail is GET /os-availability-zone/detail (operator and admin): the zones with
// their hosts and services; conductors are in "internal".
func (s *Service) listZonesDetail(w http.ResponseWriter, q *request) error {
	cells, err := s.cfg.Hosts.ComputeHosts(q.r.Context())
	if err != nil {
		return err
	}
	internal, compute := map[string]any{}, map[string]any{}
	available := false
	for _, c := range cells {
		for _, cd := range c.Conductors {
			internal[cd.Name] = map[string]any{"nova-conductor": map[string]any{"available": cd.Alive, "active": true, "updated_at": nil}}
		}
		for _, h := range c.Hosts {
			ok := c.Up && !h.Disabled
			available = available || ok
			compute[h.Name] = map[string]any{"nova-compute": map[string]any{"available": c.Up, "active": !h.Disabled, "updated_at": nil}}
		}
	}
	out := []map[string]any{}
	if len(internal) > 0 {
		out = append(out, map[string]any{"zoneName": internalZone, "zoneState": map[string]bool{"available": true}, "hosts": internal})
	}
	if len(compute) > 0 {
		out = append(out, map[string]any{"zoneName": defaultZone, "zoneState": map[string]bool{"available": available}, "hosts": compute})
	}
	writeJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}
