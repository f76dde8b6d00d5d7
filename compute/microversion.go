package compute

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The microversion headers (Nova's wsgi.py): the standard one carries "compute X.Y", the
// legacy one "X.Y".
const (
	HeaderAPIVersion       = "OpenStack-API-Version"
	HeaderLegacyAPIVersion = "X-OpenStack-Nova-API-Version"
	serviceType            = "compute"
)

// Version is a microversion X.Y; the zero Version is Nova's "null" version.
type Version struct{ Major, Minor int }

// The microversions served: 2.1 up to the newest python-novaclient 18 (Debian 12) knows.
var (
	MinVersion = Version{2, 1}
	MaxVersion = Version{2, 92}
)

// Errors of negotiation: an unparseable version is 400, one outside Min..Max is 406 (each
// wrapped in a Fault with Nova's message).
var (
	ErrVersionFormat      = errors.New("invalid microversion string")
	ErrVersionUnsupported = errors.New("unsupported microversion")
)

var versionRE = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

// ParseVersion parses "X.Y" as Nova does (no leading zeros, no sign, no spaces).
func ParseVersion(s string) (Version, error) {
	bad := &Fault{Status: http.StatusBadRequest, Err: ErrVersionFormat,
		Message: fmt.Sprintf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", s)}
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, bad
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil { // too many digits
		return Version{}, bad
	}
	return Version{major, minor}, nil
}

func (v Version) String() string { return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) }

// AtLeast reports whether v >= o.
func (v Version) AtLeast(o Version) bool {
	return v.Major > o.Major || (v.Major == o.Major && v.Minor >= o.Minor)
}

// V is shorthand for Version{2, minor}.
func V(minor int) Version { return Version{2, minor} }

// requestedVersion returns the version string a request asks for ("" when none): the last
// "compute X" of the standard header (folded with commas), else the last value of the legacy
// header; service names are case-insensitive (microversion_parse).
func requestedVersion(h http.Header) string {
	if std := strings.Join(h.Values(HeaderAPIVersion), ","); std != "" {
		parts := strings.Split(std, ",")
		for i := len(parts) - 1; i >= 0; i-- {
			fields := strings.Fields(parts[i])
			if len(fields) < 2 {
				continue
			}
			if strings.EqualFold(fields[0], serviceType) {
				if v := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(parts[i]), fields[0])); v != "" {
					return v
				}
			}
		}
	}
	if legacy := strings.Join(h.Values(HeaderLegacyAPIVersion), ","); legacy != "" {
		parts := strings.Split(legacy, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	return ""
}

// Negotiate returns the microversion a request is served with: 2.1 without a header, the
// maximum for "latest", else the requested one when it lies within Min..Max.
func Negotiate(h http.Header) (Version, error) {
	s := requestedVersion(h)
	switch s {
	case "":
		return MinVersion, nil
	case "latest":
		return MaxVersion, nil
	}
	v, err := ParseVersion(s)
	if err != nil {
		return Version{}, err
	}
	if !v.AtLeast(MinVersion) || !MaxVersion.AtLeast(v) {
		return Version{}, &Fault{Status: http.StatusNotAcceptable, Err: ErrVersionUnsupported,
			Message: fmt.Sprintf("Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, MinVersion, MaxVersion)}
	}
	return v, nil
}

// setVersionHeaders answers the version a request was served with, as Nova does on every
// versioned response and fault.
func setVersionHeaders(h http.Header, v Version) {
	h.Set(HeaderAPIVersion, serviceType+" "+v.String())
	h.Set(HeaderLegacyAPIVersion, v.String())
	h.Add("Vary", HeaderAPIVersion)
	h.Add("Vary", HeaderLegacyAPIVersion)
}
