package httpapi

import (
	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellurl"
	"github.com/cellmap/cellmap/fsm"
)

func cellOut(c *fsm.Cell) api.Cell {
	return api.Cell{UUID: c.UUID, Name: c.Name, TransportURL: c.TransportURL, DatabaseConnection: c.DatabaseConnection,
		Disabled: c.Disabled, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Revision: c.Revision}
}

// cellView converts a cell for output, expanding its URLs with this server's bases when asked
// and adding its health when the data plane reports it. Below operator (id) the URLs' passwords
// are masked, as Nova masks them.
func (s *Service) cellView(id *acl.Identity, c *fsm.Cell, expand bool) api.Cell {
	out := cellOut(c)
	if expand {
		out.TransportURL = cellurl.Expand(out.TransportURL, s.cfg.BaseTransportURL)
		out.DatabaseConnection = cellurl.Expand(out.DatabaseConnection, s.cfg.BaseDatabaseConnection)
	}
	if !id.SeesSecrets() {
		out.TransportURL, out.DatabaseConnection = cellurl.Mask(out.TransportURL), cellurl.Mask(out.DatabaseConnection)
	}
	if s.health != nil {
		out.Health = s.health.CellHealth(c.UUID)
	}
	return out
}

func hostOut(h *fsm.HostMapping) api.HostMapping {
	return api.HostMapping{Host: h.Host, CellUUID: h.CellUUID, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt, Revision: h.Revision}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InstanceMappingOut converts a stored instance mapping to its wire form.
func InstanceMappingOut(m *fsm.InstanceMapping) api.InstanceMapping {
	return api.InstanceMapping{InstanceUUID: m.InstanceUUID, CellUUID: nullable(m.CellUUID), ProjectID: m.ProjectID,
		UserID: nullable(m.UserID), QueuedForDelete: m.QueuedForDelete, CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt,
		Revision: m.Revision}
}
