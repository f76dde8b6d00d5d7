package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// os-aggregates serves the host aggregates of the replicated state (fsm/aggregates.go): an
// aggregate's availability_zone metadata makes it a zone, a host is in at most one zone, and
// every change is a read and a write conditioned on the aggregate's revision (read again when
// another change came between). Nova's ids are integers: cellmap derives a stable one from the
// aggregate's uuid (shown from 2.41) and accepts either in the path.

// maxAggregateRetries bounds the re-reads of a change racing another change of the aggregate.
const maxAggregateRetries = 5

// naiveTime is how Nova's aggregate view writes its naive UTC timestamps.
const naiveTime = "2006-01-02T15:04:05.000000"

// aggregateID is the integer id Nova shows for an aggregate.
func aggregateID(a *fsm.Aggregate) int64 { return stableInt("aggregate", a.ID) }

func aggregateNotFound(id string) *Fault {
	return &Fault{Status: http.StatusNotFound, Message: "Aggregate " + id + " could not be found.", Err: fsm.ErrNotFound}
}

// aggregateView is Nova's aggregate; full adds its hosts and metadata (a create's answer has
// neither).
func (q *request) aggregateView(a *fsm.Aggregate, full bool) map[string]any {
	var zone, updated any
	if z := a.Zone(); z != "" {
		zone = z
	}
	if !a.UpdatedAt.Equal(a.CreatedAt) {
		updated = a.UpdatedAt.UTC().Format(naiveTime)
	}
	out := map[string]any{"id": aggregateID(a), "name": a.Name, "availability_zone": zone,
		"created_at": a.CreatedAt.UTC().Format(naiveTime), "updated_at": updated, "deleted": false, "deleted_at": nil}
	if q.atLeast(41) {
		out["uuid"] = a.ID
	}
	if full {
		hosts, md := a.Hosts, a.Metadata
		if hosts == nil {
			hosts = []string{}
		}
		if md == nil {
			md = map[string]string{}
		}
		out["hosts"], out["metadata"] = hosts, md
	}
	return out
}

// findAggregate reads the aggregate the path names by its integer id or its uuid.
func (s *Service) findAggregate(q *request) (*fsm.Aggregate, error) {
	id := q.pathVar("id")
	var found *fsm.Aggregate
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		aggs, err := r.Aggregates()
		for _, a := range aggs {
			if a.ID == id || strconv.FormatInt(aggregateID(a), 10) == id {
				found = a
			}
		}
		return err
	})
	if err == nil && found == nil {
		err = aggregateNotFound(id)
	}
	return found, err
}

// listAggregates is GET /os-aggregates (operators and admins).
func (s *Service) listAggregates(w http.ResponseWriter, q *request) error {
	out := []map[string]any{}
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		aggs, err := r.Aggregates()
		for _, a := range aggs {
			out = append(out, q.aggregateView(a, true))
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregates": out})
	return nil
}

// showAggregate is GET /os-aggregates/{id} (operators and admins).
func (s *Service) showAggregate(w http.ResponseWriter, q *request) error {
	a, err := s.findAggregate(q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregate": q.aggregateView(a, true)})
	return nil
}

// aggregateBody is the body of a create (name required) and an update; availability_zone
// null removes the zone.
type aggregateBody struct {
	Aggregate *struct {
		Name             *string         `json:"name"`
		AvailabilityZone json.RawMessage `json:"availability_zone"`
	} `json:"aggregate"`
}

// zoneField reads availability_zone: absent (nil), null (""), or a name.
func zoneField(raw json.RawMessage) (*string, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var z *string
	if err := json.Unmarshal(raw, &z); err != nil {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute availability_zone. Value: %s. It must be a string or null", raw)
	}
	if z == nil {
		z = new(string)
	}
	if err := validate.Name("availability_zone", *z, false); err != nil {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute availability_zone: %v", err)
	}
	if *z == internalZone {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute availability_zone. %q is where Nova keeps its internal services.", *z)
	}
	return z, nil
}

// createAggregate is POST /os-aggregates (operators and admins): 200 with the aggregate.
func (s *Service) createAggregate(w http.ResponseWriter, q *request) error {
	var body aggregateBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	if body.Aggregate == nil || body.Aggregate.Name == nil {
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute aggregate. 'name' is a required property")
	}
	zone, err := zoneField(body.Aggregate.AvailabilityZone)
	if err != nil {
		return err
	}
	a := &fsm.Aggregate{ID: api.NewUUID(), Name: strings.TrimSpace(*body.Aggregate.Name)}
	if err := validate.Name("name", a.Name, true); err != nil {
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute name: %v", err)
	}
	if zone != nil && *zone != "" {
		a.Metadata = map[string]string{fsm.ZoneKey: *zone}
	}
	if err := s.applyOps(q, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableAggregates, Record: a, IfAbsent: true}); err != nil {
		return aggregateFault(a, "", err)
	}
	stored, err := s.readAggregate(q, a.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregate": q.aggregateView(stored, false)})
	return nil
}

// readAggregate reads one aggregate by uuid.
func (s *Service) readAggregate(q *request, id string) (*fsm.Aggregate, error) {
	var a *fsm.Aggregate
	_, err := s.cfg.Store.Read(q.r.Context(), node.Linearizable{}, func(r *fsm.Reader) error {
		var err error
		a, err = r.Aggregate(id)
		return err
	})
	return a, err
}

// aggregateFault is Nova's answer to a refused change of an aggregate (host: the host the
// change added or removed).
func aggregateFault(a *fsm.Aggregate, host string, err error) error {
	switch {
	case errors.Is(err, fsm.ErrZoneConflict) && host != "":
		return &Fault{Status: http.StatusConflict, Err: err,
			Message: fmt.Sprintf("Cannot add host to aggregate %d. Reason: One or more hosts already in availability zone(s): %v.", aggregateID(a), err)}
	case errors.Is(err, fsm.ErrZoneConflict):
		return &Fault{Status: http.StatusBadRequest, Err: err, Message: fmt.Sprintf("Cannot update aggregate %d. Reason: %v.", aggregateID(a), err)}
	case errors.Is(err, fsm.ErrExists) && host != "":
		return &Fault{Status: http.StatusConflict, Err: err, Message: fmt.Sprintf("Aggregate %d already has host %s.", aggregateID(a), host)}
	case errors.Is(err, fsm.ErrExists):
		return &Fault{Status: http.StatusConflict, Err: err, Message: fmt.Sprintf("Aggregate %s already exists.", a.Name)}
	case errors.Is(err, fsm.ErrNotFound) && host != "":
		return &Fault{Status: http.StatusNotFound, Err: err, Message: fmt.Sprintf("Compute host %s could not be found.", host)}
	case errors.Is(err, fsm.ErrInvalid):
		return &Fault{Status: http.StatusBadRequest, Err: err, Message: err.Error()}
	}
	return err
}

// modifyAggregate reads the path's aggregate, lets change edit a copy and writes it,
// conditioned on the revision read; a change that came between is read again.
func (s *Service) modifyAggregate(q *request, host string, change func(a *fsm.Aggregate) error) (*fsm.Aggregate, error) {
	for try := 0; ; try++ {
		cur, err := s.findAggregate(q)
		if err != nil {
			return nil, err
		}
		next := cur.Clone()
		if err := change(next); err != nil {
			return nil, aggregateFault(cur, host, err)
		}
		err = s.applyOps(q, fsm.Op{Kind: fsm.OpPut, Table: fsm.TableAggregates, Record: next, IfRevision: cur.Revision})
		if errors.Is(err, fsm.ErrRevisionMismatch) && try < maxAggregateRetries {
			continue
		}
		if err != nil {
			return nil, aggregateFault(cur, host, err)
		}
		return s.readAggregate(q, cur.ID)
	}
}

// updateAggregate is PUT /os-aggregates/{id}: a new name and/or zone.
func (s *Service) updateAggregate(w http.ResponseWriter, q *request) error {
	var body aggregateBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	b := body.Aggregate
	if b == nil || (b.Name == nil && len(b.AvailabilityZone) == 0) {
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute aggregate. An update needs name or availability_zone.")
	}
	zone, err := zoneField(b.AvailabilityZone)
	if err != nil {
		return err
	}
	if b.Name != nil {
		if err := validate.Name("name", strings.TrimSpace(*b.Name), true); err != nil {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute name: %v", err)
		}
	}
	a, err := s.modifyAggregate(q, "", func(a *fsm.Aggregate) error {
		if b.Name != nil {
			a.Name = strings.TrimSpace(*b.Name)
		}
		if zone != nil {
			a.SetMetadata(map[string]string{fsm.ZoneKey: *zone})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregate": q.aggregateView(a, true)})
	return nil
}

// deleteAggregate is DELETE /os-aggregates/{id}: 200; an aggregate with hosts is refused as
// Nova refuses it.
func (s *Service) deleteAggregate(w http.ResponseWriter, q *request) error {
	a, err := s.findAggregate(q)
	if err != nil {
		return err
	}
	if len(a.Hosts) > 0 {
		return faultf(http.StatusBadRequest, "Cannot remove aggregate %d. Reason: Host aggregate is not empty", aggregateID(a))
	}
	err = s.applyOps(q, fsm.Op{Kind: fsm.OpDelete, Table: fsm.TableAggregates, Key: a.ID, IfRevision: a.Revision})
	if errors.Is(err, fsm.ErrNotFound) {
		return aggregateNotFound(q.pathVar("id"))
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// actionBody is POST /os-aggregates/{id}/action's body: exactly one action.
type actionBody struct {
	AddHost     *struct{ Host string } `json:"add_host"`
	RemoveHost  *struct{ Host string } `json:"remove_host"`
	SetMetadata *struct {
		Metadata map[string]*string `json:"metadata"`
	} `json:"set_metadata"`
}

// aggregateAction is POST /os-aggregates/{id}/action: add_host, remove_host or set_metadata
// (a null value removes its key); 200 with the aggregate.
func (s *Service) aggregateAction(w http.ResponseWriter, q *request) error {
	var body actionBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	var a *fsm.Aggregate
	var err error
	switch {
	case body.AddHost != nil && body.RemoveHost == nil && body.SetMetadata == nil:
		host := body.AddHost.Host
		if err := validate.Host("host", host); err != nil {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute host: %v", err)
		}
		a, err = s.modifyAggregate(q, host, func(a *fsm.Aggregate) error { return a.AddHost(host) })
	case body.RemoveHost != nil && body.AddHost == nil && body.SetMetadata == nil:
		host := body.RemoveHost.Host
		a, err = s.modifyAggregate(q, "", func(a *fsm.Aggregate) error {
			if err := a.RemoveHost(host); err != nil {
				return &Fault{Status: http.StatusNotFound, Err: err, Message: fmt.Sprintf("Cannot remove host %s in aggregate %d", host, aggregateID(a))}
			}
			return nil
		})
	case body.SetMetadata != nil && body.AddHost == nil && body.RemoveHost == nil:
		a, err = s.setAggregateMetadata(q, body.SetMetadata.Metadata)
	default:
		return faultf(http.StatusBadRequest, "Invalid input for field/attribute action. The body must hold exactly one of add_host, remove_host and set_metadata.")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregate": q.aggregateView(a, true)})
	return nil
}

// setAggregateMetadata merges metadata (null removes a key) within cellmap's metadata limits.
func (s *Service) setAggregateMetadata(q *request, md map[string]*string) (*fsm.Aggregate, error) {
	if md == nil {
		return nil, faultf(http.StatusBadRequest, "Invalid input for field/attribute set_metadata. 'metadata' is a required property")
	}
	set := map[string]string{}
	for k, v := range md {
		set[k] = ""
		if v != nil {
			set[k] = *v
		}
	}
	if z, ok := set[fsm.ZoneKey]; ok && z != "" {
		if _, err := zoneField(json.RawMessage(strconv.Quote(z))); err != nil {
			return nil, err
		}
	}
	return s.modifyAggregate(q, "", func(a *fsm.Aggregate) error {
		a.SetMetadata(set)
		if err := validate.Metadata("metadata", a.Metadata, validate.MaxMetadataItems); err != nil {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute metadata: %v", err)
		}
		return nil
	})
}
