package compute

import (
	"github.com/cellmap/cellmap/fsm"
)

// flavorBasic is the GET /flavors view of a flavor.
func (q *request) flavorBasic(f *fsm.Flavor) map[string]any {
	out := map[string]any{"id": f.ID, "name": f.Name, "links": q.links("flavors", f.ID)}
	if q.atLeast(55) {
		out["description"] = nil
	}
	return out
}

// flavorFull is the flavor's detailed view (GET /flavors/detail, GET /flavors/{id}). cellmap's
// flavors are public, enabled and have neither swap nor ephemeral disk.
func (q *request) flavorFull(f *fsm.Flavor) map[string]any {
	out := q.flavorBasic(f)
	out["ram"], out["disk"], out["vcpus"] = f.RAMMB, f.DiskGB, f.VCPUs
	out["swap"] = ""
	if q.atLeast(75) {
		out["swap"] = 0
	}
	out["OS-FLV-EXT-DATA:ephemeral"] = 0
	out["OS-FLV-DISABLED:disabled"] = false
	out["os-flavor-access:is_public"] = true
	out["rxtx_factor"] = 1.0
	if q.atLeast(61) {
		out["extra_specs"] = extraSpecs(f)
	}
	return out
}

// extraSpecs is a flavor's extra specs, {} when it has none.
func extraSpecs(f *fsm.Flavor) map[string]string {
	if f.ExtraSpecs == nil {
		return map[string]string{}
	}
	return f.ExtraSpecs
}
