package node

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// CheckHostPort checks a TCP address of the form host:port with a port in 0..65535. The host
// may be empty (all interfaces) unless hostRequired.
func CheckHostPort(addr string, hostRequired bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && hostRequired) {
		return fmt.Errorf("%q has no valid port", addr)
	}
	if hostRequired && host == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if host != "" && net.ParseIP(host) == nil && !isHostName(host) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", addr, host)
	}
	return nil
}

// isHostName reports whether s is made of what DNS names are: letters, digits, dots, hyphens
// (and underscores, which some resolvers accept).
func isHostName(s string) bool {
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_') {
			return false
		}
	}
	return s != "" && s[0] != '.' && s[0] != '-'
}

// JoinURL turns a member's HTTP address as operators give it, host:port or
// http(s)://host:port (a trailing slash allowed), into the base URL of its API.
func JoinURL(addr string) (string, error) {
	if !strings.Contains(addr, "://") {
		if err := CheckHostPort(addr, true); err != nil {
			return "", fmt.Errorf("join address %w; want host:port or http(s)://host:port", err)
		}
		return "http://" + addr, nil
	}
	u, err := url.Parse(addr)
	if err != nil {
		return "", fmt.Errorf("join address %q: %v", addr, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("join address %q: scheme must be http or https", addr)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("join address %q: want http(s)://host:port with nothing after it", addr)
	}
	if err := CheckHostPort(u.Host, true); err != nil {
		return "", fmt.Errorf("join address %q: %w", addr, err)
	}
	return u.Scheme + "://" + u.Host, nil
}
