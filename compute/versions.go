package compute

import (
	"net/http"
)

// The v2.1 version document (Nova's versions.py); cellmap serves v2.1 only, not the
// deprecated v2.0.
const versionUpdated = "2013-07-23T11:33:21Z"

type versionDoc struct {
	ID         string      `json:"id"`
	Status     string      `json:"status"`
	Version    string      `json:"version"`
	MinVersion string      `json:"min_version"`
	Updated    string      `json:"updated"`
	Links      []link      `json:"links"`
	MediaTypes []mediaType `json:"media-types,omitempty"`
}

type mediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

// versions answers GET /compute/: every version, not under microversion control.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	q := &request{r: r, prefix: s.prefixOf(r)}
	doc := versionDoc{ID: "v2.1", Status: "CURRENT", Version: MaxVersion.String(), MinVersion: MinVersion.String(),
		Updated: versionUpdated, Links: []link{{Rel: "self", Href: q.appURL() + "/"}}}
	writeJSON(w, http.StatusOK, map[string]any{"versions": []versionDoc{doc}})
}

// version answers GET /compute/v2.1/: the v2.1 document with its media types.
func (s *Service) version(w http.ResponseWriter, q *request) error {
	doc := versionDoc{ID: "v2.1", Status: "CURRENT", Version: MaxVersion.String(), MinVersion: MinVersion.String(),
		Updated: versionUpdated,
		Links: []link{{Rel: "self", Href: q.appURL() + "/"},
			{Rel: "describedby", Type: "text/html", Href: "http://docs.openstack.org/"}},
		MediaTypes: []mediaType{{Base: "application/json", Type: "application/vnd.openstack.compute+json;version=2.1"}}}
	writeJSON(w, http.StatusOK, map[string]any{"version": doc})
	return nil
}
