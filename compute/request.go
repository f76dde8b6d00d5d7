package compute

import (
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/gorilla/mux"
)

// request is one request of the compute API: its microversion and who makes it.
type request struct {
	r      *http.Request
	v      Version
	id     *acl.Identity
	prefix string
	// place is the zones and groups a server view shows (set before rendering servers).
	place *placement
}

// atLeast reports whether the request's microversion is at least 2.minor.
func (q *request) atLeast(minor int) bool { return q.v.AtLeast(V(minor)) }

// admin reports whether the caller may do what Nova keeps for admins (operator and admin).
func (q *request) admin() bool { return q.id != nil && q.id.Role >= acl.RoleOperator }

// project is the project the caller acts in: its token's project, or the home project of a
// user's cloud-wide token ("" for a cloud-wide token without one). It is where creates go and
// what lists show by default; what the caller may see is sees'.
func (q *request) project() string {
	switch {
	case q.id == nil:
		return ""
	case q.id.ProjectID != "":
		return q.id.ProjectID
	}
	return q.id.HomeProject
}

// user is the caller's user id: the user the token was issued to, or for a token made with
// /v1/acl/tokens its accessor id.
func (q *request) user() string {
	switch {
	case q.id == nil:
		return ""
	case q.id.UserID != "":
		return q.id.UserID
	}
	return q.id.AccessorID
}

// sees reports whether the caller may see a record of project: unscoped callers see every
// project, scoped ones their own.
func (q *request) sees(project string) bool { return q.id.InProject(project) }

// var returns a path variable.
func (q *request) pathVar(name string) string { return mux.Vars(q.r)[name] }

// origin is the scheme and host the client used ("http://127.0.0.1:8480").
func (q *request) origin() string {
	scheme := "http"
	if q.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + q.r.Host
}

// appURL is Nova's application_url: where the v2.1 API is mounted.
func (q *request) appURL() string { return q.origin() + q.prefix + "/v2.1" }

// href is the self link of an item of a collection ("servers").
func (q *request) href(collection, id string) string {
	return q.appURL() + "/" + collection + "/" + id
}

// bookmark is the link of an item without the version.
func (q *request) bookmark(collection, id string) string {
	return q.origin() + q.prefix + "/" + collection + "/" + id
}

// links are Nova's self and bookmark links of an item.
func (q *request) links(collection, id string) []link {
	return []link{{Rel: "self", Href: q.href(collection, id)}, {Rel: "bookmark", Href: q.bookmark(collection, id)}}
}

// policyDenied is Nova's answer when policy refuses a rule.
func policyDenied(rule string) *Fault {
	return faultf(http.StatusForbidden, "Policy doesn't allow %s to be performed.", rule)
}

// link is a link of Nova's views.
type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
	Type string `json:"type,omitempty"`
}
