package cellurl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reasons ExpandErr gives for leaving a template unchanged. ExpandErr wraps
// them with %w, so test with errors.Is.
var (
	// ErrNoBase means the template contains '{' but the base URL is unset
	// (""). Nova logs "... is a template, but ... is not set" in that case.
	ErrNoBase = errors.New("cellurl: template given but base URL is not set")
	// ErrBadBase means the base URL could not be split the way Nova splits
	// it: unbalanced or invalid IPv6 brackets, a port that is not an integer
	// or is out of range, or a multi-host piece with an invalid port.
	ErrBadBase = errors.New("cellurl: cannot parse base URL")
	// ErrUnknownVariable means the template names a variable the base does
	// not provide, such as a typo or {username3} with a two-host base
	// (Python's KeyError).
	ErrUnknownVariable = errors.New("cellurl: unknown template variable")
	// ErrMalformedTemplate means the template is not a valid str.format
	// string for this package: a single '{' or '}', an unterminated field,
	// an empty or positional field ({} or {0}), or a field with a
	// conversion, format spec, attribute or index ({port:d}, {x!r}, {a.b}).
	ErrMalformedTemplate = errors.New("cellurl: malformed template")
)

// Expand fills the variables of template from base, with Nova's rules. If
// base is "" (unset) the template is returned unchanged. Any formatting
// problem (unknown variable, malformed braces, unparsable base, invalid port
// in the base) returns the template unchanged — never a partial
// substitution.
func Expand(template, base string) string {
	out, _ := ExpandErr(template, base)
	return out
}

// ExpandErr is Expand but also says why a template was left unchanged (nil
// when it expanded or had nothing to expand). A template with neither '{'
// nor '}' is returned as is with a nil error, whatever the base; an unset
// base with a template containing '{' gives ErrNoBase. Other errors wrap
// ErrBadBase, ErrUnknownVariable or ErrMalformedTemplate.
func ExpandErr(template, base string) (string, error) {
	if base == "" {
		if IsTemplate(template) {
			return template, ErrNoBase
		}
		return template, nil
	}
	if !strings.ContainsAny(template, "{}") {
		return template, nil
	}
	subs, err := substitutions(base)
	if err != nil {
		return template, fmt.Errorf("%w: %v", ErrBadBase, err)
	}
	out, err := pyFormat(template, subs)
	if err != nil {
		return template, err
	}
	return out, nil
}

// IsTemplate reports whether s contains a '{' (looks like a template).
func IsTemplate(s string) bool {
	return strings.Contains(s, "{")
}

// substitutions computes the variables Nova's _format_url offers for base:
// the urlparse-derived scheme, username, password, hostname, port, path,
// query and fragment, plus usernameN, passwordN, hostnameN and portN for
// each piece of a netloc containing ','.
func substitutions(base string) (map[string]string, error) {
	u, err := urlParse(base)
	if err != nil {
		return nil, err
	}
	port, err := u.port()
	if err != nil {
		return nil, err
	}
	username, password := u.credentials()
	subs := map[string]string{
		"scheme":   u.scheme,
		"username": username.String(),
		"password": password.String(),
		"hostname": u.hostname().String(),
		"port":     port.String(),
		"path":     strings.TrimLeft(u.path, "/"),
		"query":    u.query,
		"fragment": u.fragment,
	}
	if !strings.Contains(u.netloc, ",") {
		return subs, nil
	}
	for i, piece := range strings.Split(u.netloc, ",") {
		p, err := parseNetloc(piece)
		if err != nil {
			return nil, fmt.Errorf("host %d of the netloc: %w", i+1, err)
		}
		n := strconv.Itoa(i + 1)
		subs["username"+n] = p.username.String()
		subs["password"+n] = p.password.String()
		subs["hostname"+n] = p.hostname.String()
		subs["port"+n] = p.port.String()
	}
	return subs, nil
}
