package httpapi

import (
	"net/http"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
)

func (s *Service) listCells(w http.ResponseWriter, r *http.Request) {
	expand, err := queryBool(r, "expand")
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		cells, err := rd.Cells()
		if err != nil {
			return nil, err
		}
		out := api.CellList{Cells: make([]api.Cell, 0, len(cells))}
		for _, c := range cells {
			out.Cells = append(out.Cells, s.cellView(IdentityFrom(r.Context()), c, expand))
		}
		return out, nil
	})
}

func (s *Service) getCell(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	expand, err := queryBool(r, "expand")
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		c, err := rd.Cell(uuid)
		if err != nil {
			return nil, err
		}
		return s.cellView(IdentityFrom(r.Context()), c, expand), nil
	})
}

func (s *Service) createCell(w http.ResponseWriter, r *http.Request) {
	var req api.CellCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	cell, err := s.validCellCreate(req)
	if err != nil {
		s.failErr(w, err)
		return
	}
	res, ok := s.applied(w, r, &fsm.CreateCell{Cell: cell}, false)
	if !ok {
		return
	}
	s.replyWritten(w, r, http.StatusCreated, res)
}

func (s *Service) validCellCreate(req api.CellCreate) (fsm.Cell, error) {
	uuid := req.UUID
	if uuid == "" {
		uuid = api.NewUUID()
	}
	uuid, err := validate.UUID("uuid", uuid)
	if err != nil {
		return fsm.Cell{}, err
	}
	if err := validate.Name("name", req.Name, false); err != nil {
		return fsm.Cell{}, err
	}
	if err := checkTransportURL(req.TransportURL, s.cfg.BaseTransportURL); err != nil {
		return fsm.Cell{}, err
	}
	if err := checkDatabaseConnection(req.DatabaseConnection); err != nil {
		return fsm.Cell{}, err
	}
	return fsm.Cell{UUID: uuid, Name: req.Name, TransportURL: req.TransportURL,
		DatabaseConnection: req.DatabaseConnection, Disabled: req.Disabled}, nil
}

func (s *Service) mapCell0(w http.ResponseWriter, r *http.Request) {
	var req api.Cell0Create
	if r.ContentLength != 0 {
		if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
			s.failErr(w, err)
			return
		}
	}
	if len(req.DatabaseConnection) > 4096 {
		s.failErr(w, invalidf("database_connection is longer than 4096 bytes"))
		return
	}
	res, ok := s.applied(w, r, &fsm.MapCell0{DatabaseConnection: req.DatabaseConnection}, false)
	if !ok {
		return
	}
	status := http.StatusOK
	if res.Changed {
		status = http.StatusCreated
	}
	s.replyWritten(w, r, status, res)
}

func (s *Service) updateCell(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var req api.CellUpdate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.validCellUpdate(req); err != nil {
		s.failErr(w, err)
		return
	}
	cmd := &fsm.UpdateCell{UUID: uuid, Name: req.Name, TransportURL: req.TransportURL,
		DatabaseConnection: req.DatabaseConnection, Disabled: req.Disabled}
	res, ok := s.applied(w, r, cmd, false)
	if !ok {
		return
	}
	s.replyWritten(w, r, http.StatusOK, res)
}

func (s *Service) validCellUpdate(req api.CellUpdate) error {
	if req.Name != nil {
		if err := validate.Name("name", *req.Name, false); err != nil {
			return err
		}
	}
	if req.TransportURL != nil {
		if err := checkTransportURL(*req.TransportURL, s.cfg.BaseTransportURL); err != nil {
			return err
		}
	}
	if req.DatabaseConnection != nil {
		if err := checkDatabaseConnection(*req.DatabaseConnection); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) deleteCell(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	force, err := queryBool(r, "force")
	if err != nil {
		s.failErr(w, err)
		return
	}
	res, err := s.unmap.DeleteCell(r.Context(), uuid, force)
	if s.written(w, res, err, false) {
		s.noContent(w, res.Index)
	}
}
