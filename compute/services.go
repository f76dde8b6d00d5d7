package compute

import (
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// serviceView is one os-services record.
func (q *request) serviceView(cell, binary, host, zone string, disabled, up bool) map[string]any {
	status, state := "enabled", "down"
	if disabled {
		status = "disabled"
	}
	if up {
		state = "up"
	}
	out := map[string]any{"binary": binary, "host": host, "zone": zone, "status": status, "state": state,
		"updated_at": nil, "disabled_reason": nil}
	if q.atLeast(11) {
		out["forced_down"] = false
	}
	if q.atLeast(53) {
		out["id"] = stableUUID(cell, binary, host)
	} else {
		out["id"] = stableInt(cell, binary, host)
	}
	return out
}

// listServices is GET /os-services (operator and admin): each cell's conductors
// (nova-conductor, zone internal) and compute hosts (nova-compute). A down cell's compute hosts
// are {binary, host, status: UNKNOWN} from 2.69, and the cell is left out before (as Nova).
func (s *Service) listServices(w http.ResponseWriter, q *request) error {
	cells, err := s.cfg.Hosts.ComputeHosts(q.r.Context())
	if err != nil {
		return err
	}
	place, err := s.placement(q.r.Context(), false)
	if err != nil {
		return err
	}
	v := q.r.URL.Query()
	wantHost, wantBinary := v.Get("host"), v.Get("binary")
	keep := func(binary, host string) bool {
		return (wantHost == "" || wantHost == host) && (wantBinary == "" || wantBinary == binary)
	}
	out := []map[string]any{}
	for _, c := range cells {
		if !c.Up {
			if !q.atLeast(69) {
				continue
			}
			for _, h := range c.Hosts {
				if keep("nova-compute", h.Name) {
					out = append(out, map[string]any{"binary": "nova-compute", "host": h.Name, "status": api.StatusUnknown})
				}
			}
			continue
		}
		for _, cd := range c.Conductors {
			if keep("nova-conductor", cd.Name) {
				out = append(out, q.serviceView(c.CellUUID, "nova-conductor", cd.Name, internalZone, false, cd.Alive))
			}
		}
		for _, h := range c.Hosts {
			if keep("nova-compute", h.Name) {
				out = append(out, q.serviceView(c.CellUUID, "nova-compute", h.Name, place.zoneOfHost(h.Name), h.Disabled, true))
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
	return nil
}
