package fsm

import (
	"fmt"
	"unicode/utf8"

	"github.com/cellmap/cellmap/api/validate"
)

// Validation of commands before they are proposed. The rules are the HTTP API's and the
// conductors' (package validate: uuids, names, string maps, URLs, flavor sizes), so a
// command that reaches a leader by any path (the API, the data plane, a peer's forwarded entry)
// is held to the same rules. Apply never validates content: an entry already in a log applies
// as it always did, so replicas cannot diverge when a rule changes.

// MaxTxnOps bounds the ops of one transaction, whoever proposes it: the API's TxnMaxOps
// (10000 by default) may not exceed it, and the data plane's own transactions stay below it
// (map_instances: at most 10000 mappings and the marker; discover_hosts writes in chunks).
const MaxTxnOps = 16384

// maxFaultLen bounds the fault text of a server buried in cell0.
const maxFaultLen = 64 << 10

func invalid(what string, err error) error { return fmt.Errorf("%s: %v: %w", what, err, ErrInvalid) }

// canonicalUUID checks a uuid field in the form records are stored in (lower case).
func canonicalUUID(field, s string) error {
	v, err := validate.UUID(field, s)
	if err != nil {
		return err
	}
	if v != s {
		return fmt.Errorf("%s %q is not in lower case: %w", field, s, ErrInvalid)
	}
	return nil
}

// optionalUUID is canonicalUUID for a field that may be empty.
func optionalUUID(field, s string) error {
	if s == "" {
		return nil
	}
	return canonicalUUID(field, s)
}

// firstError returns the first non-nil error of checks.
func firstError(checks ...error) error {
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// Validate accepts every no-op.
func (*Noop) Validate() error { return nil }

// Validate checks the cell's uuid, name and URLs.
func (c *CreateCell) Validate() error {
	if err := c.Cell.validate(); err != nil {
		return invalid("create_cell", err)
	}
	return nil
}

func (c *Cell) validate() error {
	return firstError(canonicalUUID("uuid", c.UUID), validate.Name("name", c.Name, false),
		validate.URL("transport_url", c.TransportURL), validate.URL("database_connection", c.DatabaseConnection))
}

// Validate checks the uuid and the fields being set.
func (c *UpdateCell) Validate() error {
	checks := []error{canonicalUUID("uuid", c.UUID)}
	if c.Name != nil {
		checks = append(checks, validate.Name("name", *c.Name, false))
	}
	if c.TransportURL != nil {
		checks = append(checks, validate.URL("transport_url", *c.TransportURL))
	}
	if c.DatabaseConnection != nil {
		checks = append(checks, validate.URL("database_connection", *c.DatabaseConnection))
	}
	if err := firstError(checks...); err != nil {
		return invalid("update_cell", err)
	}
	return nil
}

// Validate checks the uuid.
func (c *DeleteCell) Validate() error {
	if err := canonicalUUID("uuid", c.UUID); err != nil {
		return invalid("delete_cell", err)
	}
	return nil
}

// Validate checks the database connection, which may be empty (map_cell0 without one).
func (c *MapCell0) Validate() error {
	if c.DatabaseConnection == "" {
		return nil
	}
	if err := validate.URL("database_connection", c.DatabaseConnection); err != nil {
		return invalid("map_cell0", err)
	}
	return nil
}

// Validate checks the flavor as POST /v1/flavors does.
func (c *PutFlavor) Validate() error {
	if err := c.Flavor.validate(); err != nil {
		return invalid("put_flavor", err)
	}
	return nil
}

// Validate checks the flavor id.
func (c *DeleteFlavor) Validate() error {
	if err := validate.Name("id", c.ID, true); err != nil {
		return invalid("delete_flavor", err)
	}
	return nil
}

func (f *Flavor) validate() error {
	return firstError(validate.Name("id", f.ID, true), validate.Name("name", f.Name, true),
		validate.Sizes("a flavor", f.VCPUs, f.RAMMB, f.DiskGB), validate.ExtraSpecs("extra_specs", f.ExtraSpecs))
}

// validateOpContent checks what an op carries: its key, precondition cell and record.
func validateOpContent(op *Op) error {
	if op.IfCell != "" {
		if err := canonicalUUID("if_cell", op.IfCell); err != nil {
			return err
		}
	}
	if op.Record == nil {
		switch op.Table {
		case TableHostMappings:
			return validate.Host("key", op.Key)
		case TableQuotaUsages, TableQuotaLimits:
			return validateQuotaKey("key", op.Key)
		}
		return canonicalUUID("key", op.Key)
	}
	if u, ok := op.Record.(*QuotaUsage); ok && op.Kind != OpAdjust && (u.Instances < 0 || u.Cores < 0 || u.RAMMB < 0) {
		return fmt.Errorf("a quota usage cannot be negative")
	}
	v, ok := op.Record.(interface{ validate() error })
	if !ok {
		return fmt.Errorf("%s records cannot be written", op.Table)
	}
	return v.validate()
}

func (m *InstanceMapping) validate() error {
	return firstError(canonicalUUID("instance_uuid", m.InstanceUUID), optionalUUID("cell_uuid", m.CellUUID),
		validate.Name("project_id", m.ProjectID, true), validate.Name("user_id", m.UserID, false),
		validate.Time("created_at", m.CreatedAt))
}

func (h *HostMapping) validate() error {
	return firstError(validate.Host("host", h.Host), canonicalUUID("cell_uuid", h.CellUUID))
}

func (r *ServerRequest) validate() error {
	return firstError(canonicalUUID("instance_uuid", r.InstanceUUID), r.Spec.validate(), validate.Time("created_at", r.CreatedAt))
}

func (c *Cell0Instance) validate() error {
	if len(c.Fault) > maxFaultLen || !utf8.ValidString(c.Fault) {
		return fmt.Errorf("fault must be valid UTF-8 of at most %d bytes", maxFaultLen)
	}
	return firstError(canonicalUUID("instance_uuid", c.InstanceUUID), validate.Name("status", c.Status, true), c.Spec.validate(),
		validate.Time("created_at", c.CreatedAt))
}

func (p *PendingDelete) validate() error {
	return firstError(canonicalUUID("instance_uuid", p.InstanceUUID), canonicalUUID("cell_uuid", p.CellUUID))
}

func (m *MapMarker) validate() error {
	return firstError(canonicalUUID("cell_uuid", m.CellUUID), canonicalUUID("marker", m.Marker))
}

func (s *ServerSpec) validate() error {
	return firstError(validate.Name("name", s.Name, true), validate.Name("project_id", s.ProjectID, true),
		validate.Name("user_id", s.UserID, false), validate.Name("image_ref", s.ImageRef, false),
		validate.Name("availability_zone", s.AvailabilityZone, false),
		validate.Metadata("metadata", s.Metadata, validate.MaxMetadataItems), s.Flavor.validate())
}
