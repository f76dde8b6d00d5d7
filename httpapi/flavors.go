package httpapi

import (
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
	"github.com/gorilla/mux"
)

func (s *Service) listFlavors(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		fs, err := rd.Flavors()
		if err != nil {
			return nil, err
		}
		out := api.FlavorList{Flavors: make([]api.Flavor, 0, len(fs))}
		for _, f := range fs {
			out.Flavors = append(out.Flavors, cellproxy.FlavorOut(f))
		}
		return out, nil
	})
}

func (s *Service) getFlavor(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := validate.Name("id", id, true); err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		f, err := rd.Flavor(id)
		if err != nil {
			return nil, err
		}
		return cellproxy.FlavorOut(f), nil
	})
}

func validFlavor(in api.Flavor) (fsm.Flavor, error) {
	for _, err := range []error{validate.Name("id", in.ID, true), validate.Name("name", in.Name, true),
		validate.Sizes("a flavor", in.VCPUs, in.RAMMB, in.DiskGB), validate.ExtraSpecs("extra_specs", in.ExtraSpecs)} {
		if err != nil {
			return fsm.Flavor{}, err
		}
	}
	return fsm.Flavor{ID: in.ID, Name: in.Name, VCPUs: in.VCPUs, RAMMB: in.RAMMB, DiskGB: in.DiskGB, ExtraSpecs: in.ExtraSpecs}, nil
}

func (s *Service) createFlavor(w http.ResponseWriter, r *http.Request) {
	var req api.Flavor
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if req.Revision != 0 || !req.CreatedAt.IsZero() {
		s.failErr(w, invalidf("revision and created_at are set by the server"))
		return
	}
	f, err := validFlavor(req)
	if err != nil {
		s.failErr(w, err)
		return
	}
	res, ok := s.applied(w, r, &fsm.PutFlavor{Flavor: f}, false)
	if !ok {
		return
	}
	s.replyWritten(w, r, http.StatusCreated, res)
}

func (s *Service) deleteFlavor(w http.ResponseWriter, r *http.Request) {
	s.deleteByID(w, r, func(id string) fsm.Command { return &fsm.DeleteFlavor{ID: id} })
}

// deleteByID applies the delete command of the record named by the path's {id} (a name) and
// answers 204.
func (s *Service) deleteByID(w http.ResponseWriter, r *http.Request, del func(id string) fsm.Command) {
	id := mux.Vars(r)["id"]
	if err := validate.Name("id", id, true); err != nil {
		s.failErr(w, err)
		return
	}
	res, ok := s.applied(w, r, del(id), false)
	if !ok {
		return
	}
	s.noContent(w, res.Index)
}
