package cellproxy

import (
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
)

// FlavorOut converts a stored flavor to its wire form (extra_specs is {} rather than null).
func FlavorOut(f *fsm.Flavor) api.Flavor {
	specs := f.ExtraSpecs
	if specs == nil {
		specs = map[string]string{}
	}
	return api.Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAMMB: f.RAMMB, DiskGB: f.DiskGB, ExtraSpecs: specs,
		CreatedAt: f.CreatedAt, Revision: f.Revision}
}

// specFlavor is the flavor of a server's spec as the server shows it and its cell gets it: a
// size with extra specs, without the created_at and revision of the flavor record the spec
// copied it from.
func specFlavor(f fsm.Flavor) api.Flavor {
	out := FlavorOut(&f)
	out.CreatedAt, out.Revision = time.Time{}, 0
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromInstance is a server as its cell reports it.
func fromInstance(in *api.Instance, cellUUID string) api.Server {
	f := in.Flavor
	return api.Server{ID: in.UUID, Name: in.Name, Status: in.Status, TenantID: in.ProjectID, UserID: in.UserID,
		Created: in.CreatedAt, Updated: timePtr(in.UpdatedAt), Flavor: &f, Image: in.ImageRef, Metadata: in.Metadata,
		CellUUID: cellUUID, Host: in.Host, AvailabilityZone: in.AvailabilityZone}
}

// fromSpec is a server known only from what the user asked for.
func fromSpec(uuid string, spec *fsm.ServerSpec, status string, created, updated time.Time) api.Server {
	f := specFlavor(spec.Flavor)
	return api.Server{ID: uuid, Name: spec.Name, Status: status, TenantID: spec.ProjectID, UserID: spec.UserID,
		Created: created, Updated: timePtr(updated), Flavor: &f, Image: spec.ImageRef, Metadata: spec.Metadata,
		AvailabilityZone: spec.AvailabilityZone}
}

func fromBuildRequest(br *fsm.ServerRequest) api.Server {
	return fromSpec(br.InstanceUUID, &br.Spec, api.StatusBuild, br.CreatedAt, br.CreatedAt)
}

func fromCell0(c *fsm.Cell0Instance) api.Server {
	s := fromSpec(c.InstanceUUID, &c.Spec, c.Status, c.CreatedAt, c.UpdatedAt)
	s.CellUUID = fsm.Cell0UUID
	if c.Fault != "" {
		s.Fault = &api.Fault{Code: 500, Message: c.Fault}
	}
	return s
}

// minimal is a server of a down cell, built from its mapping and request spec (Nova 2.69).
func minimal(m *fsm.InstanceMapping, rs *fsm.ServerRequest) api.Server {
	s := api.Server{ID: m.InstanceUUID, Status: api.StatusUnknown, TenantID: m.ProjectID, UserID: m.UserID,
		Created: m.CreatedAt, CellUUID: m.CellUUID}
	if rs != nil {
		f := specFlavor(rs.Spec.Flavor)
		s.Flavor, s.Image = &f, rs.Spec.ImageRef
		if s.UserID == "" {
			s.UserID = rs.Spec.UserID
		}
	}
	if s.UserID == "" {
		s.UserID = "UNKNOWN"
	}
	return s
}
