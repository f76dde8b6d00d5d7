package api

import "time"

// Server is a server as the API tier shows it (Nova's shape). A server in a cell that is down
// is a minimal record: id, status UNKNOWN, tenant_id, created, user_id, flavor, image.
type Server struct {
	ID       string            `json:"id"`
	Name     string            `json:"name,omitempty"`
	Status   string            `json:"status"`
	TenantID string            `json:"tenant_id"`
	UserID   string            `json:"user_id,omitempty"`
	Created  time.Time         `json:"created"`
	Updated  *time.Time        `json:"updated,omitempty"`
	Flavor   *Flavor           `json:"flavor,omitempty"`
	Image    string            `json:"image"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Operator fields.
	CellUUID         string `json:"cell_uuid,omitempty"`
	Host             string `json:"host,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	Fault            *Fault `json:"fault,omitempty"`
}

// Fault says why a server is in ERROR.
type Fault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ServerCreate is the body of POST /v1/servers.
type ServerCreate struct {
	Server ServerCreateSpec `json:"server"`
}

// ServerCreateSpec is what a user asks for.
type ServerCreateSpec struct {
	Name             string            `json:"name"`
	FlavorRef        string            `json:"flavor_ref"`
	ImageRef         string            `json:"image_ref"`
	ProjectID        string            `json:"project_id"`
	UserID           string            `json:"user_id"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	// Group is the server group the server joins (Nova's scheduler hint group).
	Group string `json:"group,omitempty"`
}

// ServerResponse wraps one server.
type ServerResponse struct {
	Server Server `json:"server"`
}

// ServerList is the answer of GET /v1/servers. DownCells names the cells that were down or did
// not answer in time: their servers are minimal records, or missing when the request used
// sorting, paging or filters (Nova's 2.69 rule).
type ServerList struct {
	Servers   []Server `json:"servers"`
	DownCells []string `json:"down_cells"`
}

// DiscoverHosts is the body of POST /v1/hosts/discover (discover_hosts).
type DiscoverHosts struct {
	CellUUID  string `json:"cell_uuid,omitempty"`
	ByService bool   `json:"by_service,omitempty"`
}

// DiscoverResult lists what discovery did, cell by cell.
type DiscoverResult struct {
	Cells       []DiscoveredCell `json:"cells"`
	Mapped      []HostMapping    `json:"mapped"`
	FailedCells []string         `json:"failed_cells,omitempty"`
}

// DiscoveredCell is one cell's part of a discovery.
type DiscoveredCell struct {
	CellUUID string   `json:"cell_uuid"`
	CellName string   `json:"cell_name"`
	Skipped  string   `json:"skipped,omitempty"`
	Checked  []string `json:"checked"`
	Created  []string `json:"created"`
}

// MapInstances is the body of POST /v1/cells/{uuid}/map-instances: map one batch.
type MapInstances struct {
	MaxCount int  `json:"max_count,omitempty"`
	Reset    bool `json:"reset,omitempty"`
}

// MapInstancesResult says what one batch did. Done is false when more instances remain; the
// resume marker is kept per cell in the replicated state.
type MapInstancesResult struct {
	Mapped  int    `json:"mapped"`
	Skipped int    `json:"skipped"`
	Done    bool   `json:"done"`
	Marker  string `json:"marker,omitempty"`
}

// VerifyInstance is the answer of GET /v1/instance-mappings/{uuid}/verify (verify_instance).
type VerifyInstance struct {
	InstanceMapping InstanceMapping `json:"instance_mapping"`
	Cell            *Cell           `json:"cell,omitempty"`
	// Instance is "present", "deleted" (soft-deleted in its cell), "missing" (no row in the
	// cell) or "" when the mapping has no cell.
	Instance string `json:"instance,omitempty"`
}

// Conductor is a cell conductor seen in the gossip pool.
type Conductor struct {
	Name     string `json:"name"`
	CellUUID string `json:"cell_uuid"`
	HTTPAddr string `json:"http_addr"`
	Alive    bool   `json:"alive"`
	// Mapped is whether a cell mapping exists for its cell.
	Mapped bool `json:"mapped"`
}

// ConductorList is the answer of GET /v1/conductors.
type ConductorList struct {
	Conductors []Conductor `json:"conductors"`
}

// ServerQuery is a parsed GET /v1/servers request.
type ServerQuery struct {
	// ProjectID is the caller's project; AllTenants lists every project.
	ProjectID  string
	AllTenants bool
	Limit      int // 0: the default (1000)
	Marker     string
	SortKeys   []string
	SortDirs   []string
	// Paged is true when the request had sort, limit or marker parameters: then a down cell's
	// servers are left out rather than listed as minimal records (Nova's 2.69 rule).
	Paged bool
}
