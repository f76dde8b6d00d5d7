package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/fsm"
)

// serverNotFound is Nova's 404 for a server.
func serverNotFound(id string) *Fault {
	return &Fault{Status: http.StatusNotFound, Message: fmt.Sprintf("Instance %s could not be found.", id), Err: fsm.ErrNotFound}
}

// getServer shows a server the caller may see: another project's answers 404 to a scoped
// caller, as Nova's project-only queries do.
func (s *Service) getServer(q *request, id string) (*api.Server, error) {
	if _, err := validate.UUID("server id", id); err != nil {
		return nil, serverNotFound(id)
	}
	srv, err := s.cfg.Servers.ShowServer(q.r.Context(), id)
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return nil, serverNotFound(id)
	case err != nil:
		return nil, err
	case !q.sees(srv.TenantID):
		return nil, serverNotFound(id)
	}
	return srv, nil
}

// showServer is GET /servers/{id}. A server in a down cell is the minimal record from 2.69 on;
// before, Nova answers 500 (the cell did not respond).
func (s *Service) showServer(w http.ResponseWriter, q *request) error {
	srv, err := s.getServer(q, q.pathVar("uuid"))
	if err != nil {
		return err
	}
	if isMinimal(srv) && !q.atLeast(69) {
		return cellNotResponding(srv.CellUUID)
	}
	if q.place, err = s.placement(q.r.Context(), q.atLeast(71)); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"server": q.serverFull(srv, q.atLeast(69), true)})
	return nil
}

// cellNotResponding is Nova's answer when a server's cell is down and the microversion has no
// minimal records.
func cellNotResponding(cell string) *Fault {
	return faultf(http.StatusInternalServerError, "Cell %s is not responding or returned an exception, hence instance info is not available.", cell)
}

// deleteServer is DELETE /servers/{id}: 204; a server in a down cell answers 500 (as Nova)
// and nothing changes.
func (s *Service) deleteServer(w http.ResponseWriter, q *request) error {
	id := q.pathVar("uuid")
	if _, err := s.getServer(q, id); err != nil {
		return err
	}
	err := s.cfg.Servers.DeleteServer(q.r.Context(), id)
	if errors.Is(err, fsm.ErrNotFound) {
		return serverNotFound(id)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// createBody is POST /servers' body: the fields cellmap models; any other is refused (Nova's
// schema forbids unknown ones too).
type createBody struct {
	Server struct {
		Name             string            `json:"name"`
		ImageRef         *string           `json:"imageRef"`
		FlavorRef        json.RawMessage   `json:"flavorRef"`
		Networks         json.RawMessage   `json:"networks"`
		Metadata         map[string]string `json:"metadata"`
		AvailabilityZone string            `json:"availability_zone"`
		MinCount         *int              `json:"min_count"`
		MaxCount         *int              `json:"max_count"`
		SecurityGroups   []struct {
			Name string `json:"name"`
		} `json:"security_groups"`
		DiskConfig  string  `json:"OS-DCF:diskConfig"`
		Description *string `json:"description"`
	} `json:"server"`
	// SchedulerHints are Nova's scheduler hints (either spelling): cellmap models "group".
	SchedulerHints    map[string]json.RawMessage `json:"os:scheduler_hints"`
	SchedulerHintsOld map[string]json.RawMessage `json:"OS-SCH-HNT:scheduler_hints"`
}

// createServer is POST /servers: 202 with the new server's id and links; it builds in the
// background (BUILD, then ACTIVE in a cell or ERROR in cell0).
func (s *Service) createServer(w http.ResponseWriter, q *request) error {
	if q.project() == "" {
		return faultf(http.StatusBadRequest, "This token is not scoped to a project: creating a server needs a project-scoped token.")
	}
	var body createBody
	if err := decodeBody(q.r, &body); err != nil {
		return err
	}
	spec, err := s.createSpec(q, &body)
	if err != nil {
		return err
	}
	srv, err := s.cfg.Servers.CreateServer(q.r.Context(), spec)
	if errors.Is(err, cellproxy.ErrZoneUnavailable) {
		return &Fault{Status: http.StatusBadRequest, Message: "The requested availability zone is not available", Err: err}
	}
	if errors.Is(err, fsm.ErrInvalid) {
		return faultf(http.StatusBadRequest, "%s", strings.TrimSuffix(err.Error(), ": "+fsm.ErrInvalid.Error()))
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", q.href("servers", srv.ID))
	groups := []map[string]string{{"name": "default"}}
	writeJSON(w, http.StatusAccepted, map[string]any{"server": map[string]any{
		"id": srv.ID, "links": q.links("servers", srv.ID), "OS-DCF:diskConfig": "MANUAL", "security_groups": groups}})
	return nil
}

// createSpec checks a create body as Nova's schema does, for what cellmap models.
func (s *Service) createSpec(q *request, body *createBody) (api.ServerCreateSpec, error) {
	b := body.Server
	if strings.TrimSpace(b.Name) == "" {
		return api.ServerCreateSpec{}, faultf(http.StatusBadRequest, "Invalid input for field/attribute name. Value: %q. name must be 1 to 255 characters, not blank.", b.Name)
	}
	flavor, err := refString(b.FlavorRef)
	if err != nil || flavor == "" {
		return api.ServerCreateSpec{}, faultf(http.StatusBadRequest, "Invalid input for field/attribute flavorRef. flavorRef is required: a flavor id or link.")
	}
	if err := checkNetworks(q, b.Networks); err != nil {
		return api.ServerCreateSpec{}, err
	}
	if (b.MinCount != nil && *b.MinCount != 1) || (b.MaxCount != nil && *b.MaxCount != 1) {
		return api.ServerCreateSpec{}, faultf(http.StatusBadRequest, "cellmap creates one server per request: min_count and max_count must be 1.")
	}
	for _, g := range b.SecurityGroups {
		if g.Name != "default" {
			return api.ServerCreateSpec{}, faultf(http.StatusBadRequest, "cellmap does not model security groups: only the default group is accepted, not %q.", g.Name)
		}
	}
	image := ""
	if b.ImageRef != nil {
		image = lastPathElement(*b.ImageRef)
	}
	group, err := groupHint(body)
	if err != nil {
		return api.ServerCreateSpec{}, err
	}
	return api.ServerCreateSpec{Name: strings.TrimSpace(b.Name), FlavorRef: lastPathElement(flavor), ImageRef: image,
		ProjectID: q.project(), UserID: q.user(), AvailabilityZone: b.AvailabilityZone, Metadata: b.Metadata, Group: group}, nil
}

// groupHint is the server group a create joins (the "group" scheduler hint, a uuid); the
// other hints of Nova's filters are refused, as cellmap's scheduler has none of them.
func groupHint(body *createBody) (string, error) {
	hints := body.SchedulerHints
	if hints == nil {
		hints = body.SchedulerHintsOld
	} else if body.SchedulerHintsOld != nil {
		return "", faultf(http.StatusBadRequest, "Invalid input: give os:scheduler_hints or OS-SCH-HNT:scheduler_hints, not both.")
	}
	group := ""
	for k, raw := range hints {
		if k != "group" {
			return "", faultf(http.StatusBadRequest, "cellmap's scheduler takes only the group hint, not %q.", k)
		}
		if err := json.Unmarshal(raw, &group); err != nil {
			return "", faultf(http.StatusBadRequest, "Invalid input for field/attribute group. Value: %s. It must be a server group's uuid", raw)
		}
		if _, err := validate.UUID("group", group); err != nil {
			return "", faultf(http.StatusBadRequest, "Invalid input for field/attribute group. Value: %s. It is not a 'uuid'", group)
		}
	}
	return group, nil
}

// checkNetworks accepts "auto" and "none" (required from 2.37, absent before): no networking
// is modelled, so a list of networks or ports is refused.
func checkNetworks(q *request, raw json.RawMessage) error {
	if len(raw) == 0 {
		if q.atLeast(37) {
			return faultf(http.StatusBadRequest, "Invalid input for field/attribute server. Value: networks. 'networks' is a required property")
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil && (s == "auto" || s == "none") {
		return nil
	}
	var list []any
	if err := json.Unmarshal(raw, &list); err == nil && len(list) == 0 {
		return nil
	}
	return faultf(http.StatusBadRequest, "cellmap does not model networking: networks must be \"auto\" or \"none\".")
}

// refString reads a flavorRef: a string (id or link) or a number.
func refString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s), nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", err
	}
	return n.String(), nil
}

// lastPathElement is the id of an id or a link (Nova's get_id_from_href).
func lastPathElement(ref string) string {
	ref = strings.TrimSuffix(ref, "/")
	if i := strings.LastIndexByte(ref, '/'); i >= 0 {
		return ref[i+1:]
	}
	return ref
}
