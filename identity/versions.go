package identity

import "net/http"

// The identity API version cellmap answers as: Keystone Zed's (v3.14).
const (
	apiVersion = "v3.14"
	apiUpdated = "2020-04-07T00:00:00Z"
	mediaType  = "application/vnd.openstack.identity-v3+json"
)

// versionDoc is Keystone's description of v3 at base (scheme, host and prefix).
func versionDoc(base string) map[string]any {
	return map[string]any{"id": apiVersion, "status": "stable", "updated": apiUpdated,
		"links":       []map[string]string{{"rel": "self", "href": base + "/v3/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": mediaType}}}
}

// versions is GET /identity: 300 Multiple Choices listing v3, as Keystone answers its root.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	doc := versionDoc(origin(r) + s.cfg.Prefix)
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{doc}}})
}

// version is GET /identity/v3.
func (s *Service) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": versionDoc(origin(r) + s.cfg.Prefix)})
}
