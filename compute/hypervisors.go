package compute

import (
	"net/http"
	"regexp"

	"github.com/cellmap/cellmap/api"
)

// hypervisor is a compute host with its cell's state.
type hypervisor struct {
	cell string
	host api.ComputeHost
	up   bool
}

func (h *hypervisor) id(q *request) any {
	if q.atLeast(53) {
		return stableUUID(h.cell, "hypervisor", h.host.Name)
	}
	return stableInt(h.cell, "hypervisor", h.host.Name)
}

// hypervisorView is one os-hypervisors record; detail adds the host's sizes (before 2.88) and
// its service. A down cell's hosts are state "down" with unknown (0) sizes.
func (q *request) hypervisorView(h *hypervisor, detail bool) map[string]any {
	state, status := "down", "enabled"
	if h.up {
		state = "up"
	}
	if h.host.Disabled {
		status = "disabled"
	}
	out := map[string]any{"id": h.id(q), "hypervisor_hostname": h.host.Name, "state": state, "status": status}
	if !detail {
		return out
	}
	svc := map[string]any{"host": h.host.Name, "disabled_reason": nil}
	if q.atLeast(53) {
		svc["id"] = stableUUID(h.cell, "nova-compute", h.host.Name)
	} else {
		svc["id"] = stableInt(h.cell, "nova-compute", h.host.Name)
	}
	out["service"] = svc
	out["host_ip"] = ""
	out["hypervisor_type"] = "cellmap"
	out["hypervisor_version"] = 1
	if q.atLeast(88) {
		out["uptime"] = nil
		return out
	}
	c := h.host
	out["vcpus"], out["memory_mb"], out["local_gb"] = c.VCPUs, c.RAMMB, c.DiskGB
	out["vcpus_used"], out["memory_mb_used"], out["local_gb_used"] = c.UsedVCPUs, c.UsedRAMMB, c.UsedDiskGB
	out["free_ram_mb"], out["free_disk_gb"] = c.RAMMB-c.UsedRAMMB, c.DiskGB-c.UsedDiskGB
	out["disk_available_least"] = c.DiskGB - c.UsedDiskGB
	out["current_workload"], out["running_vms"] = 0, 0
	if q.atLeast(28) {
		out["cpu_info"] = map[string]any{}
	} else {
		out["cpu_info"] = "{}"
	}
	return out
}

// hypervisors lists every cell's compute hosts, filtered by hypervisor_hostname_pattern.
func (s *Service) hypervisors(q *request) ([]hypervisor, error) {
	cells, err := s.cfg.Hosts.ComputeHosts(q.r.Context())
	if err != nil {
		return nil, err
	}
	var re *regexp.Regexp
	if p := q.r.URL.Query().Get("hypervisor_hostname_pattern"); p != "" {
		if re, err = regexp.Compile(regexp.QuoteMeta(p)); err != nil {
			return nil, faultf(http.StatusBadRequest, "Invalid hypervisor_hostname_pattern.")
		}
	}
	var out []hypervisor
	for _, c := range cells {
		for _, h := range c.Hosts {
			if re == nil || re.MatchString(h.Name) {
				out = append(out, hypervisor{cell: c.CellUUID, host: h, up: c.Up})
			}
		}
	}
	if re != nil && len(out) == 0 {
		return nil, faultf(http.StatusNotFound, "No hypervisor matching '%s' could be found.", q.r.URL.Query().Get("hypervisor_hostname_pattern"))
	}
	return out, nil
}

// listHypervisors is GET /os-hypervisors (operator and admin).
func (s *Service) listHypervisors(w http.ResponseWriter, q *request) error {
	return s.hypervisorList(w, q, false)
}

// listHypervisorsDetail is GET /os-hypervisors/detail (operator and admin).
func (s *Service) listHypervisorsDetail(w http.ResponseWriter, q *request) error {
	return s.hypervisorList(w, q, true)
}

func (s *Service) hypervisorList(w http.ResponseWriter, q *request, detail bool) error {
	hs, err := s.hypervisors(q)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(hs))
	for i := range hs {
		out = append(out, q.hypervisorView(&hs[i], detail))
	}
	writeJSON(w, http.StatusOK, map[string]any{"hypervisors": out})
	return nil
}

// showHypervisor is GET /os-hypervisors/{id} (operator and admin).
func (s *Service) showHypervisor(w http.ResponseWriter, q *request) error {
	id := q.pathVar("id")
	hs, err := s.hypervisors(q)
	if err != nil {
		return err
	}
	for i := range hs {
		if toString(hs[i].id(q)) == id {
			writeJSON(w, http.StatusOK, map[string]any{"hypervisor": q.hypervisorView(&hs[i], true)})
			return nil
		}
	}
	return faultf(http.StatusNotFound, "Hypervisor with ID %s could not be found.", id)
}
