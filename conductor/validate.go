package conductor

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cellmap/cellmap/api"
)

// Bounds of free-form fields (Nova's VARCHAR(255)), of instance metadata (Nova's default quota)
// and of flavor extra specs.
const (
	maxNameLen       = 255
	maxMetadataItems = 128
	maxExtraSpecs    = 1024
)

// canonicalUUID checks an RFC 4122 textual uuid (any version, either case) and returns it
// lower-cased.
func canonicalUUID(field, s string) (string, error) {
	if len(s) != 36 {
		return "", invalidf("%s %q is not a uuid", field, s)
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return "", invalidf("%s %q is not a uuid", field, s)
			}
		} else if !isHex(c) {
			return "", invalidf("%s %q is not a uuid", field, s)
		}
	}
	return strings.ToLower(s), nil
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// checkName checks a free-form identifier: at most 255 bytes of UTF-8 without control
// characters; empty only when not required.
func checkName(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalidf("%s is required", field)
		}
		return nil
	}
	if len(s) > maxNameLen || !utf8.ValidString(s) {
		return invalidf("%s must be valid UTF-8 of at most %d bytes", field, maxNameLen)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalidf("%s must not contain control characters", field)
		}
	}
	return nil
}

// checkHostName checks a compute host name; it is a path segment of the API, so no '/'.
func checkHostName(name string) error {
	if err := checkName("host name", name, true); err != nil {
		return err
	}
	if strings.ContainsAny(name, "/:,") {
		return invalidf("host name %q must not contain '/', ':' or ','", name)
	}
	return nil
}

// checkHost checks a compute host registration.
func checkHost(h api.ComputeHostCreate) error {
	if err := checkHostName(h.Name); err != nil {
		return err
	}
	if h.VCPUs <= 0 || h.RAMMB <= 0 || h.DiskGB < 0 {
		return invalidf("host %q: vcpus and ram_mb must be positive and disk_gb not negative", h.Name)
	}
	return nil
}

// checkTime checks that t is zero or fits the created_at index (nanoseconds since 1970 in an
// int64: years 1678 to 2262).
func checkTime(field string, t time.Time) error {
	if t.IsZero() || time.Unix(0, t.UnixNano()).Equal(t) {
		return nil
	}
	return invalidf("%s %s is out of range", field, t.Format(time.RFC3339Nano))
}

// checkInstanceCreate checks a build request and returns it normalised (lower-case uuid, UTC
// time).
func checkInstanceCreate(req api.InstanceCreate) (api.InstanceCreate, error) {
	var err error
	if req.UUID, err = canonicalUUID("uuid", req.UUID); err != nil {
		return req, err
	}
	for _, f := range []struct {
		field, v string
		required bool
	}{
		{"name", req.Name, false}, {"project_id", req.ProjectID, true}, {"user_id", req.UserID, false},
		{"image_ref", req.ImageRef, false}, {"availability_zone", req.AvailabilityZone, false},
		{"flavor.id", req.Flavor.ID, false}, {"flavor.name", req.Flavor.Name, false},
	} {
		if err := checkName(f.field, f.v, f.required); err != nil {
			return req, err
		}
	}
	if req.Flavor.VCPUs <= 0 || req.Flavor.RAMMB <= 0 || req.Flavor.DiskGB < 0 {
		return req, invalidf("flavor: vcpus and ram_mb must be positive and disk_gb not negative")
	}
	if err := checkMetadata("metadata", req.Metadata, maxMetadataItems); err != nil {
		return req, err
	}
	if err := checkMetadata("flavor.extra_specs", req.Flavor.ExtraSpecs, maxExtraSpecs); err != nil {
		return req, err
	}
	if err := checkTime("created_at", req.CreatedAt); err != nil {
		return req, err
	}
	req.CreatedAt = req.CreatedAt.UTC()
	return req, nil
}

// checkMetadata checks a string map: at most max items, keys 1..255 bytes, values up to 255.
func checkMetadata(field string, m map[string]string, max int) error {
	if len(m) > max {
		return invalidf("%s has %d items, more than %d", field, len(m), max)
	}
	for k, v := range m {
		if err := checkName(field+" key", k, true); err != nil {
			return err
		}
		if len(v) > maxNameLen || !utf8.ValidString(v) {
			return invalidf("%s value of %q must be valid UTF-8 of at most %d bytes", field, k, maxNameLen)
		}
	}
	return nil
}
