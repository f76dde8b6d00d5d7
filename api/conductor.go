package api

import "time"

// The cell conductor's HTTP API (served by cmd/cellconductor, called by cellproxy). Paths:
//
//	POST   /v1/instances                      InstanceCreate → 201 Instance (200 if the uuid exists, not deleted)
//	                                          409 no_valid_host: no compute host has room
//	GET    /v1/instances                      InstanceList; query: see InstanceListQuery
//	GET    /v1/instances/{uuid}[?deleted=yes] Instance; 404 not_found
//	DELETE /v1/instances/{uuid}               204; soft delete, frees capacity; 404 not_found
//	GET    /v1/capacity[?vcpus&ram_mb&disk_gb] Capacity
//	GET    /v1/compute-hosts[?mapped=false]   ComputeHostList
//	POST   /v1/compute-hosts                  ComputeHostCreate → 201 ComputeHost; 409 already_exists
//	PUT    /v1/compute-hosts/{name}/mapped    ComputeHostMapped → 200 ComputeHost
//	GET    /v1/services                       ServiceList (every compute host as a nova-compute service)
//	GET    /v1/stats                          CellStats
//	GET    /healthz
//
// Errors use the same body as the main API (Error).

// Instance statuses and vm states.
const (
	StatusBuild   = "BUILD"
	StatusActive  = "ACTIVE"
	StatusError   = "ERROR"
	StatusDeleted = "DELETED"
	StatusUnknown = "UNKNOWN"
)

// Instance is a server's full record in its cell database.
type Instance struct {
	UUID             string            `json:"uuid"`
	Name             string            `json:"name"`
	ProjectID        string            `json:"project_id"`
	UserID           string            `json:"user_id"`
	Flavor           Flavor            `json:"flavor"`
	ImageRef         string            `json:"image_ref"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	Status           string            `json:"status"`
	VMState          string            `json:"vm_state"`
	Host             string            `json:"host"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
	Deleted          bool              `json:"deleted"`
	DeletedAt        *time.Time        `json:"deleted_at,omitempty"`
}

// InstanceCreate asks a conductor to build a server: the API tier passes the full flavor with
// its extra specs, and the creation time it stamped (kept for the server's whole life).
type InstanceCreate struct {
	UUID             string            `json:"uuid"`
	Name             string            `json:"name"`
	ProjectID        string            `json:"project_id"`
	UserID           string            `json:"user_id"`
	Flavor           Flavor            `json:"flavor"`
	ImageRef         string            `json:"image_ref"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	CreatedAt        time.Time         `json:"created_at"`
	// Hosts, when set, are the only compute hosts the instance may go to; ExcludeHosts are
	// hosts it may not go to (an availability zone's hosts, the API tier's placement rules).
	// Neither is stored with the instance. At most MaxHostFilter each.
	Hosts        []string `json:"hosts,omitempty"`
	ExcludeHosts []string `json:"exclude_hosts,omitempty"`
}

// MaxHostFilter bounds InstanceCreate.Hosts and ExcludeHosts.
const MaxHostFilter = 10000

// InstanceList is the answer of GET /v1/instances.
type InstanceList struct {
	Instances []Instance `json:"instances"`
}

// Query parameters of GET /v1/instances, as a cell database query takes them:
//
//	project_id, user_id, host, status, name   exact-match filters
//	deleted      "no" (default), "yes" (deleted ones too), "only"
//	sort_key     repeatable; created_at, updated_at, name, uuid, project_id, host, status.
//	             Default created_at; "uuid" asc is always appended as the final tiebreak.
//	sort_dir     repeatable, asc or desc, one per sort_key (default desc).
//	limit        1..10000 (default 1000)
//	marker       uuid of an instance of this cell: rows after it (400 marker_not_found)
//	after        JSON array of strings: the sort values (times in RFC 3339 with nanoseconds)
//	             followed by a uuid; rows strictly after that position in the sort order.
//	             Used to page across cells from a marker that lives in another cell.
const (
	DeletedNo   = "no"
	DeletedYes  = "yes"
	DeletedOnly = "only"
)

// Capacity is the answer of GET /v1/capacity. With a flavor size in the query, Fits is how many
// servers of that size the cell can still take (on any one host each).
type Capacity struct {
	Hosts         []ComputeHost `json:"hosts"`
	FreeVCPUs     int64         `json:"free_vcpus"`
	FreeRAMMB     int64         `json:"free_ram_mb"`
	FreeDiskGB    int64         `json:"free_disk_gb"`
	Fits          int64         `json:"fits"`
	MappedHosts   int           `json:"mapped_hosts"`
	UnmappedHosts int           `json:"unmapped_hosts"`
}

// ComputeHost is a (simulated) nova-compute host of a cell with its capacity.
type ComputeHost struct {
	Name       string    `json:"name"`
	VCPUs      int64     `json:"vcpus"`
	RAMMB      int64     `json:"ram_mb"`
	DiskGB     int64     `json:"disk_gb"`
	UsedVCPUs  int64     `json:"used_vcpus"`
	UsedRAMMB  int64     `json:"used_ram_mb"`
	UsedDiskGB int64     `json:"used_disk_gb"`
	Mapped     bool      `json:"mapped"`
	Disabled   bool      `json:"disabled"`
	CreatedAt  time.Time `json:"created_at"`
}

// ComputeHostList is the answer of GET /v1/compute-hosts.
type ComputeHostList struct {
	Hosts []ComputeHost `json:"hosts"`
}

// ComputeHostCreate registers a compute host.
type ComputeHostCreate struct {
	Name   string `json:"name"`
	VCPUs  int64  `json:"vcpus"`
	RAMMB  int64  `json:"ram_mb"`
	DiskGB int64  `json:"disk_gb"`
}

// ComputeHostMapped sets Nova's compute_nodes.mapped flag.
type ComputeHostMapped struct {
	Mapped bool `json:"mapped"`
}

// Service is a nova-compute service of a cell.
type Service struct {
	Host     string `json:"host"`
	Binary   string `json:"binary"`
	Disabled bool   `json:"disabled"`
}

// ServiceList is the answer of GET /v1/services.
type ServiceList struct {
	Services []Service `json:"services"`
}

// CellStats is the answer of GET /v1/stats.
type CellStats struct {
	CellUUID         string `json:"cell_uuid"`
	Instances        int    `json:"instances"`
	DeletedInstances int    `json:"deleted_instances"`
	ComputeHosts     int    `json:"compute_hosts"`
}

// CellHosts is one cell's compute hosts as the API tier sees them (the compute API's
// os-hypervisors and os-services). Hosts come from the cell's conductor while the cell is
// Up; from its host mappings (names only) when it is down or did not answer.
type CellHosts struct {
	CellUUID   string        `json:"cell_uuid"`
	CellName   string        `json:"cell_name"`
	Up         bool          `json:"up"`
	Hosts      []ComputeHost `json:"hosts"`
	Conductors []Conductor   `json:"conductors"`
}
