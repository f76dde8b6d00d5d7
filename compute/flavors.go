package compute

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// flavorNotFound is Nova's 404 for a flavor.
func flavorNotFound(id string) *Fault {
	return &Fault{Status: http.StatusNotFound, Message: "Flavor " + id + " could not be found.", Err: fsm.ErrNotFound}
}

// readFlavor reads one flavor.
func (s *Service) readFlavor(ctx context.Context, id string) (*fsm.Flavor, error) {
	var f *fsm.Flavor
	_, err := s.cfg.Store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		f, err = r.Flavor(id)
		return err
	})
	if errors.Is(err, fsm.ErrNotFound) {
		return nil, flavorNotFound(id)
	}
	return f, err
}

// listFlavors is GET /flavors.
func (s *Service) listFlavors(w http.ResponseWriter, q *request) error {
	return s.flavorList(w, q, false)
}

// listFlavorsDetail is GET /flavors/detail.
func (s *Service) listFlavorsDetail(w http.ResponseWriter, q *request) error {
	return s.flavorList(w, q, true)
}

// flavorList lists flavors in Nova's default order (flavorid ascending, or sort_key/sort_dir
// among flavorid, name, memory_mb, vcpus, root_gb), with minRam, minDisk, limit and marker.
func (s *Service) flavorList(w http.ResponseWriter, q *request, detail bool) error {
	v := q.r.URL.Query()
	var fs []*fsm.Flavor
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		fs, err = r.Flavors()
		return err
	})
	if err != nil {
		return err
	}
	minRAM, err1 := queryInt(v.Get("minRam"), "minRam")
	minDisk, err2 := queryInt(v.Get("minDisk"), "minDisk")
	limit, err3 := queryInt(v.Get("limit"), "limit")
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	if err := sortFlavors(fs, v.Get("sort_key"), v.Get("sort_dir")); err != nil {
		return err
	}
	kept := fs[:0]
	for _, f := range fs {
		if f.RAMMB >= minRAM && f.DiskGB >= minDisk {
			kept = append(kept, f)
		}
	}
	if m := v.Get("marker"); m != "" {
		at := -1
		for i := range kept {
			if kept[i].ID == m {
				at = i
				break
			}
		}
		if at < 0 {
			return faultf(http.StatusBadRequest, "marker [%s] not found", m)
		}
		kept = kept[at+1:]
	}
	max := s.cfg.MaxLimit
	if limit > 0 && limit < int64(max) {
		max = int(limit)
	}
	if len(kept) > max {
		kept = kept[:max]
	}
	out := make([]map[string]any, 0, len(kept))
	for _, f := range kept {
		if detail {
			out = append(out, q.flavorFull(f))
		} else {
			out = append(out, q.flavorBasic(f))
		}
	}
	body := map[string]any{"flavors": out}
	collection := "flavors"
	if detail {
		collection = "flavors/detail"
	}
	if len(kept) > 0 {
		if links := q.nextLinks(collection, len(kept), kept[len(kept)-1].ID, s.cfg.MaxLimit); links != nil {
			body["flavors_links"] = links
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// sortFlavors orders flavors by Nova's sort keys (default flavorid ascending).
func sortFlavors(fs []*fsm.Flavor, key, dir string) error {
	if dir == "" {
		dir = "asc"
	}
	if dir != "asc" && dir != "desc" {
		return faultf(http.StatusBadRequest, "Invalid input for query parameters sort_dir. Value: %s. '%s' is not one of ['asc', 'desc']", dir, dir)
	}
	less := map[string]func(a, b *fsm.Flavor) bool{
		"": func(a, b *fsm.Flavor) bool { return a.ID < b.ID }, "flavorid": func(a, b *fsm.Flavor) bool { return a.ID < b.ID },
		"name":      func(a, b *fsm.Flavor) bool { return a.Name < b.Name },
		"memory_mb": func(a, b *fsm.Flavor) bool { return a.RAMMB < b.RAMMB },
		"vcpus":     func(a, b *fsm.Flavor) bool { return a.VCPUs < b.VCPUs },
		"root_gb":   func(a, b *fsm.Flavor) bool { return a.DiskGB < b.DiskGB },
	}[key]
	if less == nil {
		return faultf(http.StatusBadRequest, "Invalid input for query parameters sort_key. Value: %s. cellmap sorts flavors by flavorid, name, memory_mb, vcpus or root_gb.", key)
	}
	sort.SliceStable(fs, func(i, j int) bool {
		if dir == "desc" {
			return less(fs[j], fs[i])
		}
		return less(fs[i], fs[j])
	})
	return nil
}

// queryInt reads a non-negative integer query parameter ("" is 0).
func queryInt(s, name string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, faultf(http.StatusBadRequest, "Invalid input for query parameters %s. Value: %s. '%s' does not match '^[0-9]*$'", name, s, s)
	}
	return n, nil
}

// showFlavor is GET /flavors/{id}.
func (s *Service) showFlavor(w http.ResponseWriter, q *request) error {
	f, err := s.readFlavor(q.r.Context(), q.pathVar("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"flavor": q.flavorFull(f)})
	return nil
}

// flavorCreate is POST /flavors' body.
type flavorCreate struct {
	Flavor struct {
		Name        string   `json:"name"`
		ID          *string  `json:"id"`
		RAM         *int64   `json:"ram"`
		VCPUs       *int64   `json:"vcpus"`
		Disk        *int64   `json:"disk"`
		Swap        *int64   `json:"swap"`
		Ephemeral   *int64   `json:"OS-FLV-EXT-DATA:ephemeral"`
		RXTXFactor  *float64 `json:"rxtx_factor"`
		IsPublic    *bool    `json:"os-flavor-access:is_public"`
		Description *string  `json:"description"`
	} `json:"flavor"`
}

// createFlavor is POST /flavors (operator and admin: Nova's os-flavor-manage:create).
func (s *Service) createFlavor(w http.ResponseWriter, q *request) error {
	var body flavorCreate
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	b := body.Flavor
	if b.RAM == nil || b.VCPUs == nil || b.Disk == nil {
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute flavor: name, ram, vcpus and disk are required.")
	}
	switch {
	case b.Swap != nil && *b.Swap != 0, b.Ephemeral != nil && *b.Ephemeral != 0:
		return faultf(http.StatusBadRequest, "cellmap does not model swap or ephemeral disks: they must be 0.")
	case b.RXTXFactor != nil && *b.RXTXFactor != 1:
		return faultf(http.StatusBadRequest, "cellmap does not model rxtx_factor: it must be 1.0.")
	case b.IsPublic != nil && !*b.IsPublic:
		return faultf(http.StatusBadRequest, "cellmap does not model private flavors: os-flavor-access:is_public must be true.")
	case b.Description != nil && *b.Description != "":
		return faultf(http.StatusBadRequest, "cellmap does not keep flavor descriptions.")
	}
	id := api.NewUUID()
	if b.ID != nil && *b.ID != "" && *b.ID != "auto" {
		id = *b.ID
	}
	f := fsm.Flavor{ID: id, Name: b.Name, VCPUs: *b.VCPUs, RAMMB: *b.RAM, DiskGB: *b.Disk}
	for _, err := range []error{validate.Name("id", f.ID, true), validate.Name("name", f.Name, true),
		validate.Sizes("a flavor", f.VCPUs, f.RAMMB, f.DiskGB)} {
		if err != nil {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute flavor: %v", err)
		}
	}
	if err := s.flavorNameFree(q.r.Context(), f.Name); err != nil {
		return err
	}
	res, err := s.cfg.Store.Apply(q.r.Context(), &fsm.PutFlavor{Flavor: f})
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if errors.Is(err, fsm.ErrExists) {
		return faultf(http.StatusConflict, "Flavor with ID %s already exists.", f.ID)
	}
	if err != nil {
		return err
	}
	stored, err := s.readFlavor(q.r.Context(), f.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"flavor": q.flavorFull(stored)})
	return nil
}

// flavorNameFree refuses a name another flavor has (Nova's unique flavor names).
func (s *Service) flavorNameFree(ctx context.Context, name string) error {
	_, err := s.cfg.Store.Read(ctx, node.Linearizable{}, func(r *fsm.Reader) error {
		fs, err := r.Flavors()
		for _, f := range fs {
			if f.Name == name {
				return faultf(http.StatusConflict, "Flavor with name %s already exists.", name)
			}
		}
		return err
	})
	return err
}

// deleteFlavor is DELETE /flavors/{id}: 202 (operator and admin).
func (s *Service) deleteFlavor(w http.ResponseWriter, q *request) error {
	id := q.pathVar("id")
	res, err := s.cfg.Store.Apply(q.r.Context(), &fsm.DeleteFlavor{ID: id})
	if err == nil && res.Err != nil {
		err = res.Err
	}
	if errors.Is(err, fsm.ErrNotFound) {
		return flavorNotFound(id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// listExtraSpecs is GET /flavors/{id}/os-extra_specs.
func (s *Service) listExtraSpecs(w http.ResponseWriter, q *request) error {
	f, err := s.readFlavor(q.r.Context(), q.pathVar("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"extra_specs": extraSpecs(f)})
	return nil
}

// showExtraSpec is GET /flavors/{id}/os-extra_specs/{key}.
func (s *Service) showExtraSpec(w http.ResponseWriter, q *request) error {
	id, key := q.pathVar("id"), q.pathVar("key")
	f, err := s.readFlavor(q.r.Context(), id)
	if err != nil {
		return err
	}
	v, ok := f.ExtraSpecs[key]
	if !ok {
		return faultf(http.StatusNotFound, "Flavor %s has no extra specs with key %s.", id, key)
	}
	writeJSON(w, http.StatusOK, map[string]string{key: v})
	return nil
}
