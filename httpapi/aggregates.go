package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// Host aggregates and availability zones (fsm/aggregates.go): reads need reader, changes
// operate. Every change is a read and a write conditioned on the aggregate's revision (412
// when another change came between).

func (s *Service) aggregateRoutes(r *mux.Router) {
	s.handle(r, http.MethodGet, "/v1/aggregates", acl.PermRead, s.listAggregates)
	s.handle(r, http.MethodPost, "/v1/aggregates", acl.PermOperate, s.createAggregate)
	s.handle(r, http.MethodGet, "/v1/aggregates/{id}", acl.PermRead, s.getAggregate)
	s.handle(r, http.MethodPut, "/v1/aggregates/{id}", acl.PermOperate, s.updateAggregate)
	s.handle(r, http.MethodDelete, "/v1/aggregates/{id}", acl.PermOperate, s.deleteAggregate)
	s.handle(r, http.MethodPost, "/v1/aggregates/{id}/hosts", acl.PermOperate, s.addAggregateHost)
	s.handle(r, http.MethodDelete, "/v1/aggregates/{id}/hosts/{host}", acl.PermOperate, s.removeAggregateHost)
	s.handle(r, http.MethodGet, "/v1/availability-zones", acl.PermRead, s.listZones)
}

func aggregateOut(a *fsm.Aggregate) api.Aggregate {
	md := a.Metadata
	if md == nil {
		md = map[string]string{}
	}
	hosts := a.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	return api.Aggregate{ID: a.ID, Name: a.Name, AvailabilityZone: a.Zone(), Hosts: hosts, Metadata: md,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, Revision: a.Revision}
}

func (s *Service) listAggregates(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		aggs, err := rd.Aggregates()
		out := api.AggregateList{Aggregates: make([]api.Aggregate, 0, len(aggs))}
		for _, a := range aggs {
			out.Aggregates = append(out.Aggregates, aggregateOut(a))
		}
		return out, err
	})
}

func (s *Service) getAggregate(w http.ResponseWriter, r *http.Request) {
	id, err := validate.UUID("id", mux.Vars(r)["id"])
	if err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		a, err := rd.Aggregate(id)
		if err != nil {
			return nil, err
		}
		return aggregateOut(a), nil
	})
}

func (s *Service) createAggregate(w http.ResponseWriter, r *http.Request) {
	var in api.AggregateCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.failErr(w, err)
		return
	}
	a := &fsm.Aggregate{ID: api.NewUUID(), Name: in.Name}
	if in.AvailabilityZone != "" {
		a.Metadata = map[string]string{fsm.ZoneKey: in.AvailabilityZone}
	}
	s.writeAggregate(w, r, a, 0, http.StatusCreated)
}

// writeAggregate validates and writes a, conditioned on rev (0: it must not exist).
func (s *Service) writeAggregate(w http.ResponseWriter, r *http.Request, a *fsm.Aggregate, rev uint64, status int) {
	if err := validate.Name("name", a.Name, true); err != nil {
		s.failErr(w, err)
		return
	}
	if err := validate.Name("availability_zone", a.Zone(), false); err != nil {
		s.failErr(w, err)
		return
	}
	op := fsm.Op{Kind: fsm.OpPut, Table: fsm.TableAggregates, Record: a, IfRevision: rev, IfAbsent: rev == 0}
	res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, rev != 0)
	if !ok {
		return
	}
	s.reply(w, status, res.Index, aggregateOut(res.Record.(*fsm.Aggregate)))
}

// readAggregate reads the aggregate of the path (linearizable); false when it answered an error.
func (s *Service) readAggregate(w http.ResponseWriter, r *http.Request) (*fsm.Aggregate, bool) {
	id, err := validate.UUID("id", mux.Vars(r)["id"])
	if err != nil {
		s.failErr(w, err)
		return nil, false
	}
	var cur *fsm.Aggregate
	if _, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		cur, err = rd.Aggregate(id)
		return err
	}); err != nil {
		s.failErr(w, err)
		return nil, false
	}
	return cur, true
}

// modifyAggregate reads the aggregate of the path, lets change edit a copy, and writes it.
func (s *Service) modifyAggregate(w http.ResponseWriter, r *http.Request, change func(a *fsm.Aggregate) error) {
	cur, ok := s.readAggregate(w, r)
	if !ok {
		return
	}
	next := cur.Clone()
	if err := change(next); err != nil {
		s.failErr(w, err)
		return
	}
	s.writeAggregate(w, r, next, cur.Revision, http.StatusOK)
}

func (s *Service) updateAggregate(w http.ResponseWriter, r *http.Request) {
	var in api.AggregateUpdate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.failErr(w, err)
		return
	}
	s.modifyAggregate(w, r, func(a *fsm.Aggregate) error {
		if in.Name != nil {
			a.Name = *in.Name
		}
		a.SetMetadata(in.Metadata)
		return validate.Metadata("metadata", a.Metadata, validate.MaxMetadataItems)
	})
}

func (s *Service) addAggregateHost(w http.ResponseWriter, r *http.Request) {
	var in api.AggregateHost
	if err := decode(w, r, s.cfg.MaxBodyBytes, &in); err != nil {
		s.failErr(w, err)
		return
	}
	if err := validate.Host("host", in.Host); err != nil {
		s.failErr(w, err)
		return
	}
	s.modifyAggregate(w, r, func(a *fsm.Aggregate) error { return a.AddHost(in.Host) })
}

func (s *Service) removeAggregateHost(w http.ResponseWriter, r *http.Request) {
	host := mux.Vars(r)["host"]
	s.modifyAggregate(w, r, func(a *fsm.Aggregate) error { return a.RemoveHost(host) })
}

// deleteAggregate removes an aggregate without hosts (as Nova: 409 while it has some).
func (s *Service) deleteAggregate(w http.ResponseWriter, r *http.Request) {
	cur, ok := s.readAggregate(w, r)
	if !ok {
		return
	}
	if len(cur.Hosts) > 0 {
		s.fail(w, http.StatusConflict, api.CodeHostsMapped, fmt.Sprintf("aggregate %s still has %d hosts: remove them first", cur.Name, len(cur.Hosts)))
		return
	}
	op := fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableAggregates, Key: cur.ID, IfRevision: cur.Revision}
	if res, ok := s.applied(w, r, &fsm.Txn{Ops: []fsm.Op{op}}, true); ok {
		s.noContent(w, res.Index)
	}
}

// listZones lists the availability zones with their hosts: the zoned aggregates' and the
// default zone's (every mapped host in no zone).
func (s *Service) listZones(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		aggs, err := rd.Aggregates()
		if err != nil {
			return nil, err
		}
		hosts, err := rd.HostMappings("")
		if err != nil {
			return nil, err
		}
		byZone := map[string][]string{s.cfg.DefaultAvailabilityZone: {}}
		zoned := map[string]bool{}
		for _, a := range aggs {
			if z := a.Zone(); z != "" {
				byZone[z] = append(byZone[z], a.Hosts...)
				for _, h := range a.Hosts {
					zoned[h] = true
				}
			}
		}
		for _, h := range hosts {
			if !zoned[h.Host] {
				byZone[s.cfg.DefaultAvailabilityZone] = append(byZone[s.cfg.DefaultAvailabilityZone], h.Host)
			}
		}
		out := api.AvailabilityZoneList{Zones: []api.AvailabilityZone{}}
		for z, hs := range byZone {
			sort.Strings(hs)
			out.Zones = append(out.Zones, api.AvailabilityZone{Name: z, Hosts: slices.Compact(hs)})
		}
		sort.Slice(out.Zones, func(i, j int) bool { return out.Zones[i].Name < out.Zones[j].Name })
		return out, nil
	})
}
