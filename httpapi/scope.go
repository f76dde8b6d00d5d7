package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
)

// A project-scoped token (reader or service) acts only inside its project: listings are
// confined to it, another project's server or instance mapping answers 404 (as Nova does) and
// a create or write naming another project answers 403.

// errOtherProject is what a scoped token sees of another project's record: not found.
var errOtherProject = fmt.Errorf("%w: no such record in this token's project", fsm.ErrNotFound)

// scopedProject returns the project the caller is confined to ("" unscoped).
func scopedProject(r *http.Request) string {
	if id := IdentityFrom(r.Context()); id != nil {
		return id.ProjectID
	}
	return ""
}

// checkWriteProject refuses a write naming a project outside the caller's scope.
func checkWriteProject(r *http.Request, project string) error {
	if id := IdentityFrom(r.Context()); id != nil && !id.InProject(project) {
		return fmt.Errorf("%w: this token acts only in project %s, not %s", acl.ErrForbidden, id.ProjectID, project)
	}
	return nil
}

// mappingInScope answers errOtherProject (404) when a scoped caller asks for an instance
// mapping of another project; an unknown mapping is left to the caller's own read.
func (s *Service) mappingInScope(r *http.Request, uuid string) error {
	project := scopedProject(r)
	if project == "" {
		return nil
	}
	_, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		m, err := rd.InstanceMapping(uuid)
		if errors.Is(err, fsm.ErrNotFound) {
			return nil
		}
		if err == nil && m.ProjectID != project {
			return errOtherProject
		}
		return err
	})
	return err
}

// failScope answers a scope refusal: 403 for a write outside the scope, else the error's own.
func (s *Service) failScope(w http.ResponseWriter, err error) {
	if errors.Is(err, acl.ErrForbidden) {
		s.authFailed(w, err)
		return
	}
	s.failErr(w, err)
}
