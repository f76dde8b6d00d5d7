package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Identity kinds: every cellmap certificate names who holds it in one URI SAN,
// cellmap://<kind>/<name>.
const (
	// IdentityScheme is the scheme of the identity URI.
	IdentityScheme = "cellmap"
	// KindNode is a cellmapd node (cellmap://node/<node-id>): the raft and RPC port, node to
	// node HTTP, and the API tier's client certificate towards conductors.
	KindNode = "node"
	// KindClient is an operator or service client (cellmap://client/<name>).
	KindClient = "client"
	// KindCell is a cell's conductor (cellmap://cell/<cell-uuid>).
	KindCell = "cell"
)

// ErrIdentity reports a peer certificate whose identity is not the one expected.
var ErrIdentity = errors.New("transport: peer certificate identity refused")

// Identity is who a certificate belongs to.
type Identity struct {
	Kind string
	Name string
}

// NodeIdentity is the identity of cellmapd node id.
func NodeIdentity(id string) Identity { return Identity{Kind: KindNode, Name: id} }

// ClientIdentity is the identity of client name.
func ClientIdentity(name string) Identity { return Identity{Kind: KindClient, Name: name} }

// CellIdentity is the identity of the conductors of cell uuid.
func CellIdentity(uuid string) Identity { return Identity{Kind: KindCell, Name: uuid} }

// URL is the identity as the URI SAN of a certificate.
func (id Identity) URL() *url.URL {
	return &url.URL{Scheme: IdentityScheme, Host: id.Kind, Path: "/" + id.Name}
}

// String is the identity URI, cellmap://kind/name.
func (id Identity) String() string { return id.URL().String() }

// Validate checks that the identity has a known kind and a name that fits in a URI path
// segment.
func (id Identity) Validate() error {
	switch id.Kind {
	case KindNode, KindClient, KindCell:
	default:
		return fmt.Errorf("transport: unknown identity kind %q (want %s, %s or %s)", id.Kind, KindNode, KindClient, KindCell)
	}
	if id.Name == "" || strings.ContainsAny(id.Name, "/?#") || strings.TrimSpace(id.Name) != id.Name {
		return fmt.Errorf("transport: identity name %q must be non-empty, without '/', '?', '#' or surrounding spaces", id.Name)
	}
	return nil
}

// parseIdentity reads an identity URI; ok is false for a URI that is not one.
func parseIdentity(u *url.URL) (Identity, bool) {
	if u == nil || u.Scheme != IdentityScheme || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Identity{}, false
	}
	id := Identity{Kind: u.Host, Name: strings.TrimPrefix(u.Path, "/")}
	if !strings.HasPrefix(u.Path, "/") || id.Validate() != nil {
		return Identity{}, false
	}
	return id, true
}

// CertIdentity returns the identity a certificate carries in its URI SANs. A certificate
// with none, or with several, has no identity.
func CertIdentity(c *x509.Certificate) (Identity, error) {
	var found []Identity
	for _, u := range c.URIs {
		if id, ok := parseIdentity(u); ok {
			found = append(found, id)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Identity{}, fmt.Errorf("%w: certificate %q carries no %s:// URI SAN", ErrIdentity, c.Subject.CommonName, IdentityScheme)
	}
	return Identity{}, fmt.Errorf("%w: certificate %q carries %d %s:// URI SANs", ErrIdentity, c.Subject.CommonName, len(found), IdentityScheme)
}

// PeerIdentity returns the identity of the verified peer certificate of a TLS connection.
// ok is false when the peer presented no certificate (or it was not verified).
func PeerIdentity(cs *tls.ConnectionState) (id Identity, ok bool, err error) {
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		return Identity{}, false, nil
	}
	id, err = CertIdentity(cs.VerifiedChains[0][0])
	return id, err == nil, err
}

// PeerCheck decides whether a verified peer identity may talk to us (or we to it).
type PeerCheck func(Identity) error

// RequireKind accepts any identity of kind.
func RequireKind(kind string) PeerCheck {
	return func(id Identity) error {
		if id.Kind != kind {
			return fmt.Errorf("%w: %s is not a %s certificate", ErrIdentity, id, kind)
		}
		return nil
	}
}

// RequireIdentity accepts exactly want.
func RequireIdentity(want Identity) PeerCheck {
	return func(id Identity) error {
		if id != want {
			return fmt.Errorf("%w: got %s, want %s", ErrIdentity, id, want)
		}
		return nil
	}
}

type identityKey struct{}

// WithPeerIdentity is HTTP middleware: when the request came over TLS with a verified client
// certificate carrying a cellmap identity, that identity is put in the request's context
// (see IdentityFromContext). Requests without one pass unchanged.
func WithPeerIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, ok, _ := PeerIdentity(r.TLS); ok {
			r = r.WithContext(context.WithValue(r.Context(), identityKey{}, id))
		}
		next.ServeHTTP(w, r)
	})
}

// IdentityFromContext returns the client certificate identity WithPeerIdentity found.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}
