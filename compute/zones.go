package compute

import (
	"fmt"
	"net/http"
	"sort"
)

// os-availability-zone: the zones of the compute hosts the cells report, each host in its
// zoned aggregate's zone or the default one (fsm/aggregates.go). A zone is available while
// one of its hosts is enabled in an up cell; a zone whose aggregates hold no compute host is
// not listed (as Nova lists the zones of services).

// toString formats an id.
func toString(v any) string { return fmt.Sprint(v) }

// zoneHost is one compute host of a zone.
type zoneHost struct {
	name         string
	up, disabled bool
}

// zoneInfo is the zones' compute hosts and the cells' conductors.
type zoneInfo struct {
	zones      map[string][]zoneHost
	conductors map[string]bool // name -> alive
}

func (s *Service) zoneInfo(q *request) (*zoneInfo, error) {
	cells, err := s.cfg.Hosts.ComputeHosts(q.r.Context())
	if err != nil {
		return nil, err
	}
	place, err := s.placement(q.r.Context(), false)
	if err != nil {
		return nil, err
	}
	info := &zoneInfo{zones: map[string][]zoneHost{}, conductors: map[string]bool{}}
	for _, c := range cells {
		for _, cd := range c.Conductors {
			info.conductors[cd.Name] = cd.Alive
		}
		for _, h := range c.Hosts {
			z := place.zoneOfHost(h.Name)
			info.zones[z] = append(info.zones[z], zoneHost{name: h.Name, up: c.Up, disabled: h.Disabled})
		}
	}
	return info, nil
}

// available reports whether a zone has an enabled host in an up cell.
func available(hosts []zoneHost) bool {
	for _, h := range hosts {
		if h.up && !h.disabled {
			return true
		}
	}
	return false
}

// zoneList is the zones in Nova's order: the available ones, then the others, each by name.
func (z *zoneInfo) zoneList() []string {
	names := make([]string, 0, len(z.zones))
	for n := range z.zones {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ai, aj := available(z.zones[names[i]]), available(z.zones[names[j]])
		if ai != aj {
			return ai
		}
		return names[i] < names[j]
	})
	return names
}

// listZones is GET /os-availability-zone (readers): each zone and whether it is available.
func (s *Service) listZones(w http.ResponseWriter, q *request) error {
	info, err := s.zoneInfo(q)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, name := range info.zoneList() {
		out = append(out, map[string]any{"zoneName": name, "zoneState": map[string]bool{"available": available(info.zones[name])}, "hosts": nil})
	}
	writeJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}

// listZonesDetail is GET /os-availability-zone/detail (operators and admins): the zones with
// their hosts and services; conductors are in "internal".
func (s *Service) listZonesDetail(w http.ResponseWriter, q *request) error {
	info, err := s.zoneInfo(q)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	if len(info.conductors) > 0 {
		internal := map[string]any{}
		for name, alive := range info.conductors {
			internal[name] = map[string]any{"nova-conductor": map[string]any{"available": alive, "active": true, "updated_at": nil}}
		}
		out = append(out, map[string]any{"zoneName": internalZone, "zoneState": map[string]bool{"available": true}, "hosts": internal})
	}
	for _, name := range info.zoneList() {
		hosts := map[string]any{}
		for _, h := range info.zones[name] {
			hosts[h.name] = map[string]any{"nova-compute": map[string]any{"available": h.up, "active": !h.disabled, "updated_at": nil}}
		}
		out = append(out, map[string]any{"zoneName": name, "zoneState": map[string]bool{"available": available(info.zones[name])}, "hosts": hosts})
	}
	writeJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": out})
	return nil
}
