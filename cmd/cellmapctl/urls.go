package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/cellurl"
)

// checkTransportURL is what nova-manage checks of a transport URL: oslo.messaging's
// TransportURL.parse of the URL expanded with the base. It needs a scheme, and every host of
// the netloc that names a port needs an integer one. The errors are Python's texts (messages).
//
// Unlike Nova, a port that is still a template variable ("{port}", when the caller has no
// base to fill it) is accepted: whoever uses the URL expands it with their own base, and the
// server checks it with its base too.
func checkTransportURL(raw, base string) error {
	u := cellurl.Expand(raw, base)
	_, rest, ok := splitScheme(u)
	if !ok {
		return messagef("No scheme specified in \"%s\"", u)
	}
	if !strings.HasPrefix(rest, "//") {
		return nil
	}
	netloc := rest[2:]
	if i := strings.IndexAny(netloc, "/?#"); i >= 0 {
		netloc = netloc[:i]
	}
	for _, host := range strings.Split(netloc, ",") {
		hostname := host[strings.LastIndexByte(host, '@')+1:]
		port, err := portOf(hostname)
		if err != nil {
			return err
		}
		if port != "" && !cellurl.IsTemplate(port) {
			if _, err := strconv.Atoi(strings.TrimSpace(port)); err != nil {
				return messagef("invalid literal for int() with base 10: '%s'", port)
			}
		}
	}
	return nil
}

// portOf returns the port text of "host:port" or "[v6]:port" ("" when there is none).
func portOf(hostname string) (string, error) {
	if strings.HasPrefix(hostname, "[") {
		end := strings.IndexByte(hostname, ']')
		if end < 0 {
			return "", message("Invalid IPv6 URL")
		}
		_, port, _ := strings.Cut(hostname[end:], ":")
		return port, nil
	}
	_, port, _ := strings.Cut(hostname, ":")
	return port, nil
}

// splitScheme splits "scheme:rest" the way Python's urlsplit finds a scheme: a letter, then
// letters, digits, '+', '-' or '.' up to the first ':'.
func splitScheme(u string) (scheme, rest string, ok bool) {
	i := strings.IndexByte(u, ':')
	if i <= 0 || !isASCIILetter(u[0]) {
		return "", u, false
	}
	for j := 1; j < i; j++ {
		c := u[j]
		if !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return "", u, false
		}
	}
	return u[:i], u[i+1:], true
}

// isASCIILetter reports whether c is an ASCII letter.
func isASCIILetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// cell0Connection derives cell0's database URL from [database]/connection as map_cell0
// does: the database name (everything after the host up to any '?query') gets "_cell0",
// e.g. mysql+pymysql://u:p@h/nova?x=1 -> mysql+pymysql://u:p@h/nova_cell0?x=1. Like
// SQLAlchemy's make_url, the credentials end at the first '@' (a password may contain '/' or
// '?'). Unlike Nova the result is not URL-unquoted: it stays byte for byte the base.
func cell0Connection(base string) (string, error) {
	i := strings.Index(base, "://")
	if i <= 0 {
		return "", fmt.Errorf("cannot derive the cell0 database from %q: not a database URL", base)
	}
	rest := base[i+3:]
	hostStart := 0
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		user, _, _ := strings.Cut(rest[:at], ":")
		if !strings.Contains(user, "/") {
			hostStart = at + 1
		}
	}
	slash := strings.IndexAny(rest[hostStart:], "/?")
	if slash < 0 || rest[hostStart+slash] == '?' {
		return "", fmt.Errorf("cannot derive the cell0 database from %q: it names no database", base)
	}
	dbStart := hostStart + slash + 1
	dbEnd := len(rest)
	if q := strings.IndexByte(rest[dbStart:], '?'); q >= 0 {
		dbEnd = dbStart + q
	}
	if dbStart == dbEnd {
		return "", fmt.Errorf("cannot derive the cell0 database from %q: it names no database", base)
	}
	return base[:i+3] + rest[:dbEnd] + "_cell0" + rest[dbEnd:], nil
}

// uuidIn returns the first uuid in s (the server names the conflicting cell in its message),
// or "<unknown>".
func uuidIn(s string) string {
	for i := 0; i+36 <= len(s); i++ {
		if validate.IsUUID(s[i : i+36]) {
			return s[i : i+36]
		}
	}
	return "<unknown>"
}
