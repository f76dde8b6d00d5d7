package fsm

import "time"

// Cell0UUID is the uuid of cell0, the cell that holds servers which could not be scheduled.
const Cell0UUID = "00000000-0000-0000-0000-000000000000"

// Cell0Name and Cell0TransportURL are what map_cell0 stores for cell0.
const (
	Cell0Name         = "cell0"
	Cell0TransportURL = "none:///"
)

// Cell is a cell mapping: how the API tier reaches one cell. URLs are stored as given (they may be
// templates) and expanded by whoever uses them.
type Cell struct {
	UUID               string
	Name               string
	TransportURL       string
	DatabaseConnection string
	Disabled           bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	Revision           uint64
}

// IsCell0 reports whether c is cell0 (decided by uuid only, as in Nova).
func (c *Cell) IsCell0() bool { return c.UUID == Cell0UUID }

// HostMapping maps a compute host to the one cell it belongs to.
type HostMapping struct {
	Host      string
	CellUUID  string
	CreatedAt time.Time
	UpdatedAt time.Time
	Revision  uint64
}

// InstanceMapping maps an instance to its cell. An empty CellUUID means "not scheduled yet": a
// build request exists. An empty UserID stands for Nova's NULL user_id.
type InstanceMapping struct {
	InstanceUUID    string
	CellUUID        string
	ProjectID       string
	UserID          string
	QueuedForDelete bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Revision        uint64
	// CreatedRevision is the raft index that created the mapping; it orders the project and
	// cell indexes, so new mappings are appended to them.
	CreatedRevision uint64
}

// Flavor is a server size. Its extra specs travel with every build request (cells v1 lesson:
// the cell must not depend on a flavor copy of its own).
type Flavor struct {
	ID         string
	Name       string
	VCPUs      int64
	RAMMB      int64
	DiskGB     int64
	ExtraSpecs map[string]string
	CreatedAt  time.Time
	Revision   uint64
}

// ServerSpec is what a user asked for when creating a server.
type ServerSpec struct {
	Name             string
	ProjectID        string
	UserID           string
	ImageRef         string
	AvailabilityZone string
	Flavor           Flavor
	Metadata         map[string]string
}

// ServerRequest is a server as its user asked for it. Two tables hold it: build requests
// ([TableBuildRequests]) while the server has not landed in a cell yet, and request specs
// ([TableRequestSpecs]) for the life of the server, so that a down cell's GET is answered
// from it.
type ServerRequest struct {
	InstanceUUID string
	Spec         ServerSpec
	CreatedAt    time.Time
	Revision     uint64
}

// Cell0Instance is the full record of a server that could not be scheduled (status ERROR).
type Cell0Instance struct {
	InstanceUUID string
	Spec         ServerSpec
	Status       string
	Fault        string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Revision     uint64
}

// MapMarker is the map_instances resume point of one cell: the last instance uuid mapped.
type MapMarker struct {
	CellUUID  string
	Marker    string
	UpdatedAt time.Time
	Revision  uint64
}

// PendingDelete is a server queued for delete whose cell has not confirmed the delete: written
// with the queued_for_delete mark, removed once the cell answers.
type PendingDelete struct {
	InstanceUUID string
	CellUUID     string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Revision     uint64
}
