package compute

import (
	"net/http"
)

// listMetadata is GET /servers/{id}/metadata.
func (s *Service) listMetadata(w http.ResponseWriter, q *request) error {
	srv, err := s.getServer(q, q.pathVar("uuid"))
	if err != nil {
		return err
	}
	if isMinimal(srv) {
		return cellNotResponding(srv.CellUUID)
	}
	md := srv.Metadata
	if md == nil {
		md = map[string]string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"metadata": md})
	return nil
}

// showMetadata is GET /servers/{id}/metadata/{key}.
func (s *Service) showMetadata(w http.ResponseWriter, q *request) error {
	srv, err := s.getServer(q, q.pathVar("uuid"))
	if err != nil {
		return err
	}
	if isMinimal(srv) {
		return cellNotResponding(srv.CellUUID)
	}
	key := q.pathVar("key")
	v, ok := srv.Metadata[key]
	if !ok {
		return faultf(http.StatusNotFound, "Metadata item was not found")
	}
	writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]string{key: v}})
	return nil
}
