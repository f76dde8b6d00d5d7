package httpapi

import (
	"bytes"
	"net/http"
	"net/url"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
)

// Listing limits for instance mappings.
const (
	defaultListLimit = 1000
	maxListLimit     = 10000
)

func (s *Service) getInstanceMapping(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	q := r.URL.Query()
	withCell, err := boolParam(q, "with_cell")
	if err != nil {
		s.failErr(w, err)
		return
	}
	expand, err := boolParam(q, "expand")
	if err != nil {
		s.failErr(w, err)
		return
	}
	if err := s.mappingInScope(r, uuid); err != nil {
		s.failErr(w, err)
		return
	}
	if !withCell {
		s.lookup(w, r, q, uuid)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		m, err := rd.InstanceMapping(uuid)
		if err != nil {
			return nil, err
		}
		out := InstanceMappingOut(m)
		if m.CellUUID != "" {
			if c, err := rd.Cell(m.CellUUID); err == nil {
				v := s.cellView(IdentityFrom(r.Context()), c, expand)
				out.Cell = &v
			}
		}
		return out, nil
	})
}

// lookup is the hot path: one mapping, encoded by hand into a pooled buffer.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request, q url.Values, uuid string) {
	lk := s.lookups.Get().(*lookupBuf)
	defer s.lookups.Put(lk)
	lk.uuid = uuid
	if index, ok := s.view(w, r, q, lk.encode); ok {
		s.replyJSON(w, http.StatusOK, index, lk.Bytes())
	}
}

// lookupBuf is the pooled state of one lookup. Its read function is made once, with the
// buffer, so that handing it to Node.Read allocates nothing per lookup.
type lookupBuf struct {
	bytes.Buffer
	uuid   string
	encode func(rd *fsm.Reader) error
}

func newLookupBuf() any {
	lk := &lookupBuf{}
	lk.encode = func(rd *fsm.Reader) error {
		m, err := rd.InstanceMapping(lk.uuid)
		if err != nil {
			return err
		}
		lk.Reset()
		lk.Write(appendInstanceMapping(lk.AvailableBuffer(), m))
		return nil
	}
	return lk
}

func (s *Service) listInstanceMappings(w http.ResponseWriter, r *http.Request) {
	q, err := instanceQuery(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if p := scopedProject(r); p != "" { // a scoped token lists its own project only
		q.ProjectID = p
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		ms, err := rd.InstanceMappings(q)
		if err != nil {
			return nil, err
		}
		out := api.InstanceMappingList{InstanceMappings: make([]api.InstanceMapping, 0, len(ms))}
		for _, m := range ms {
			out.InstanceMappings = append(out.InstanceMappings, InstanceMappingOut(m))
		}
		if len(ms) == q.Limit {
			out.NextMarker = ms[len(ms)-1].InstanceUUID
		}
		return out, nil
	})
}

func instanceQuery(r *http.Request) (fsm.InstanceQuery, error) {
	v := r.URL.Query()
	q := fsm.InstanceQuery{ProjectID: v.Get("project_id")}
	if err := validate.Name("project_id", q.ProjectID, false); err != nil {
		return q, err
	}
	var err error
	if c := v.Get("cell_uuid"); c != "" {
		if q.CellUUID, err = validate.UUID("cell_uuid", c); err != nil {
			return q, err
		}
	}
	if m := v.Get("marker"); m != "" {
		if q.Marker, err = validate.UUID("marker", m); err != nil {
			return q, err
		}
	}
	q.Limit, err = queryLimit(r, defaultListLimit, maxListLimit)
	return q, err
}

// mappingRecord checks the writable fields of an instance mapping and builds its record.
func mappingRecord(uuid string, cell *string, project string, user *string, qfd bool, created *time.Time) (*fsm.InstanceMapping, error) {
	m := &fsm.InstanceMapping{InstanceUUID: uuid, ProjectID: project, QueuedForDelete: qfd}
	if err := validate.Name("project_id", project, true); err != nil {
		return nil, err
	}
	if user != nil {
		if err := validate.Name("user_id", *user, true); err != nil {
			return nil, err
		}
		m.UserID = *user
	}
	if cell != nil {
		c, err := validate.UUID("cell_uuid", *cell)
		if err != nil {
			return nil, err
		}
		m.CellUUID = c
	}
	if created != nil {
		if err := validate.Time("created_at", *created); err != nil {
			return nil, err
		}
		m.CreatedAt = created.UTC()
	}
	return m, nil
}

func (s *Service) putInstanceMapping(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	ifRev, ifAbsent, err := conditions(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	var req api.InstanceMappingPut
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	rec, err := mappingRecord(uuid, req.CellUUID, req.ProjectID, req.UserID, req.QueuedForDelete, req.CreatedAt)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if err := checkWriteProject(r, rec.ProjectID); err != nil {
		s.failScope(w, err)
		return
	}
	if err := s.mappingInScope(r, uuid); err != nil { // nor replace another project's mapping
		s.failErr(w, err)
		return
	}
	op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableInstanceMappings, Record: rec, IfRevision: ifRev, IfAbsent: ifAbsent}
	status := http.StatusOK
	if ifAbsent {
		status = http.StatusCreated
	}
	s.putOne(w, r, op, status)
}

func (s *Service) deleteInstanceMapping(w http.ResponseWriter, r *http.Request) {
	uuid, err := pathUUID(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	ifRev, ifAbsent, err := conditions(r)
	if err != nil {
		s.failErr(w, err)
		return
	}
	if ifAbsent {
		s.failErr(w, invalidf("If-None-Match makes no sense on DELETE"))
		return
	}
	if err := s.mappingInScope(r, uuid); err != nil {
		s.failErr(w, err)
		return
	}
	op := fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableInstanceMappings, Key: uuid, IfRevision: ifRev}
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, ifRev != 0)
	if !ok {
		return
	}
	s.noContent(w, res.Index)
}
