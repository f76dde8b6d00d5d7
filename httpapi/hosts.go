package httpapi

import (
	"fmt"
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/gorilla/mux"
)

func pathHost(r *http.Request) (string, error) {
	h := mux.Vars(r)["host"]
	return h, validate.Host("host", h)
}

func (s *Service) listHosts(w http.ResponseWriter, r *http.Request) {
	cell := r.URL.Query().Get("cell_uuid")
	if cell != "" {
		var err error
		if cell, err = validate.UUID("cell_uuid", cell); err != nil {
			s.failErr(w, err)
			return
		}
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		if cell != "" {
			if _, err := rd.Cell(cell); err != nil {
				return nil, fmt.Errorf("cell %s: %w", cell, fsm.ErrUnknownCell)
			}
		}
		hosts, err := rd.HostMappings(cell)
		if err != nil {
			return nil, err
		}
		out := api.HostMappingList{Hosts: make([]api.HostMapping, 0, len(hosts))}
		names := map[string]string{}
		for _, h := range hosts {
			v := hostOut(h)
			if name, ok := names[h.CellUUID]; ok {
				v.CellName = name
			} else if c, err := rd.Cell(h.CellUUID); err == nil {
				names[h.CellUUID], v.CellName = c.Name, c.Name
			}
			out.Hosts = append(out.Hosts, v)
		}
		return out, nil
	})
}

func (s *Service) getHost(w http.ResponseWriter, r *http.Request) {
	host, err := pathHost(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		h, err := rd.HostMapping(host)
		if err != nil {
			return nil, err
		}
		return hostOut(h), nil
	})
}

func (s *Service) putHost(w http.ResponseWriter, r *http.Request) {
	host, err := pathHost(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	ifRev, ifAbsent, err := conditions(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var req api.HostMappingPut
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	cell, err := validate.UUID("cell_uuid", req.CellUUID)
	if err != nil {
		s.failErr(w, err)
		return
	}
	op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableHostMappings, Record: &fsm.HostMapping{Host: host, CellUUID: cell},
		IfRevision: ifRev, IfAbsent: ifAbsent}
	s.putOne(w, r, op, http.StatusOK)
}

// deleteHost removes a host mapping; with ?cell_uuid= the cell must exist (404 unknown_cell)
// and the host must be in it (409 cell_mismatch), as delete_host checks. With the data plane
// running, a host that still runs instances is refused (409 instances_exist) and the cell's
// mapped flag is cleared afterwards (ops.Unmapper.DeleteHost).
func (s *Service) deleteHost(w http.ResponseWriter, r *http.Request) {
	host, err := pathHost(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	ifRev, _, err := conditions(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var cell string
	if c := r.URL.Query().Get("cell_uuid"); c != "" {
		if cell, err = validate.UUID("cell_uuid", c); err != nil {
			s.failErr(w, err)
			return
		}
	}
	res, err := s.unmap.DeleteHost(r.Context(), host, cell, ifRev)
	if s.written(w, res, err, ifRev != 0) {
		s.noContent(w, res.Index)
	}
}
