package conductor

import (
	"fmt"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
)

// checkHostName checks a compute host name; it is a path segment of the API, so no '/'.
func checkHostName(name string) error {
	if err := validate.Host("host name", name); err != nil {
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
	return validate.Sizes("host "+h.Name, h.VCPUs, h.RAMMB, h.DiskGB)
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
	if req.UUID, err = validate.UUID("uuid", req.UUID); err != nil {
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
		if err := validate.Name(f.field, f.v, f.required); err != nil {
			return req, err
		}
	}
	if err := validate.Sizes("flavor", req.Flavor.VCPUs, req.Flavor.RAMMB, req.Flavor.DiskGB); err != nil {
		return req, err
	}
	for _, list := range []struct {
		field string
		hosts []string
	}{{"hosts", req.Hosts}, {"exclude_hosts", req.ExcludeHosts}} {
		if len(list.hosts) > api.MaxHostFilter {
			return req, fmt.Errorf("%s has %d hosts, more than %d: %w", list.field, len(list.hosts), api.MaxHostFilter, validate.ErrInvalid)
		}
		for _, h := range list.hosts {
			if err := validate.Host(list.field, h); err != nil {
				return req, err
			}
		}
	}
	if err := validate.Metadata("metadata", req.Metadata, validate.MaxMetadataItems); err != nil {
		return req, err
	}
	if err := validate.Time("created_at", req.CreatedAt); err != nil {
		return req, err
	}
	if err := validate.ExtraSpecs("flavor.extra_specs", req.Flavor.ExtraSpecs); err != nil {
		return req, err
	}
	if err := checkTime("created_at", req.CreatedAt); err != nil {
		return req, err
	}
	req.CreatedAt = req.CreatedAt.UTC()
	return req, nil
}
