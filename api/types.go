package api

import "time"

// Cell is a cell mapping.
type Cell struct {
	UUID               string      `json:"uuid"`
	Name               string      `json:"name"`
	TransportURL       string      `json:"transport_url"`
	DatabaseConnection string      `json:"database_connection"`
	Disabled           bool        `json:"disabled"`
	CreatedAt          time.Time   `json:"created_at"`
	UpdatedAt          time.Time   `json:"updated_at"`
	Revision           uint64      `json:"revision"`
	Health             *CellHealth `json:"health,omitempty"`
}

// CellHealth is what gossip says about a cell's conductors.
type CellHealth struct {
	// Status is "up", "down" or "unknown" (never seen a conductor; cell0 is always "up").
	Status     string    `json:"status"`
	Conductors int       `json:"conductors"`
	Since      time.Time `json:"since,omitzero"`
}

// CellList is the answer of GET /v1/cells.
type CellList struct {
	Cells []Cell `json:"cells"`
}

// CellCreate is the body of POST /v1/cells (create_cell). UUID is generated when empty.
type CellCreate struct {
	UUID               string `json:"uuid,omitempty"`
	Name               string `json:"name,omitempty"`
	TransportURL       string `json:"transport_url"`
	DatabaseConnection string `json:"database_connection"`
	Disabled           bool   `json:"disabled,omitempty"`
}

// CellUpdate is the body of PATCH /v1/cells/{uuid} (update_cell); absent fields stay.
type CellUpdate struct {
	Name               *string `json:"name,omitempty"`
	TransportURL       *string `json:"transport_url,omitempty"`
	DatabaseConnection *string `json:"database_connection,omitempty"`
	Disabled           *bool   `json:"disabled,omitempty"`
}

// Cell0Create is the body of POST /v1/cells/cell0 (map_cell0).
type Cell0Create struct {
	DatabaseConnection string `json:"database_connection,omitempty"`
}

// HostMapping maps a compute host to its cell.
type HostMapping struct {
	Host      string    `json:"host"`
	CellUUID  string    `json:"cell_uuid"`
	CellName  string    `json:"cell_name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Revision  uint64    `json:"revision"`
}

// HostMappingList is the answer of GET /v1/hosts.
type HostMappingList struct {
	Hosts []HostMapping `json:"hosts"`
}

// HostMappingPut is the body of PUT /v1/hosts/{host}.
type HostMappingPut struct {
	CellUUID string `json:"cell_uuid"`
}

// InstanceMapping maps an instance to its cell. CellUUID is null until the instance is
// scheduled; UserID may be null (Nova's legacy rows).
type InstanceMapping struct {
	InstanceUUID    string    `json:"instance_uuid"`
	CellUUID        *string   `json:"cell_uuid"`
	ProjectID       string    `json:"project_id"`
	UserID          *string   `json:"user_id"`
	QueuedForDelete bool      `json:"queued_for_delete"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Revision        uint64    `json:"revision"`
	// Cell is included by GET /v1/instance-mappings/{uuid}?with_cell=true.
	Cell *Cell `json:"cell,omitempty"`
}

// InstanceMappingList is the answer of GET /v1/instance-mappings.
type InstanceMappingList struct {
	InstanceMappings []InstanceMapping `json:"instance_mappings"`
	// NextMarker is set when more mappings may follow; pass it as "marker".
	NextMarker string `json:"next_marker,omitempty"`
}

// InstanceMappingPut is the body of PUT /v1/instance-mappings/{uuid}. Conditional with
// If-Match: <revision> or If-None-Match: *.
type InstanceMappingPut struct {
	CellUUID        *string    `json:"cell_uuid"`
	ProjectID       string     `json:"project_id"`
	UserID          *string    `json:"user_id,omitempty"`
	QueuedForDelete bool       `json:"queued_for_delete,omitempty"`
	CreatedAt       *time.Time `json:"created_at,omitzero"`
}

// Txn is the body of POST /v1/txn: all ops apply or none.
type Txn struct {
	Ops []TxnOp `json:"ops"`
}

// TxnOp is one step of a transaction. Op is put, put_if_absent, delete or check; Table is
// instance_mapping or host_mapping. Put ops carry the record in InstanceMapping or
// HostMapping (the key is taken from it); the others name Key.
type TxnOp struct {
	Op              string              `json:"op"`
	Table           string              `json:"table"`
	Key             string              `json:"key,omitempty"`
	InstanceMapping *InstanceMappingOp  `json:"instance_mapping,omitempty"`
	HostMapping     *HostMappingOpValue `json:"host_mapping,omitempty"`
	IfRevision      uint64              `json:"if_revision,omitempty"`
	IfAbsent        bool                `json:"if_absent,omitempty"`
	IfCell          string              `json:"if_cell,omitempty"`
}

// InstanceMappingOp is an instance mapping written by a transaction.
type InstanceMappingOp struct {
	InstanceUUID    string     `json:"instance_uuid"`
	CellUUID        *string    `json:"cell_uuid"`
	ProjectID       string     `json:"project_id"`
	UserID          *string    `json:"user_id,omitempty"`
	QueuedForDelete bool       `json:"queued_for_delete,omitempty"`
	CreatedAt       *time.Time `json:"created_at,omitzero"`
}

// HostMappingOpValue is a host mapping written by a transaction.
type HostMappingOpValue struct {
	Host     string `json:"host"`
	CellUUID string `json:"cell_uuid"`
}

// TxnResult is the answer of a successful transaction: every record it wrote has Revision.
type TxnResult struct {
	Revision uint64 `json:"revision"`
}

// Flavor is a server size.
type Flavor struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	VCPUs      int64             `json:"vcpus"`
	RAMMB      int64             `json:"ram_mb"`
	DiskGB     int64             `json:"disk_gb"`
	ExtraSpecs map[string]string `json:"extra_specs"`
	CreatedAt  time.Time         `json:"created_at,omitzero"`
	Revision   uint64            `json:"revision,omitzero"`
}

// FlavorList is the answer of GET /v1/flavors.
type FlavorList struct {
	Flavors []Flavor `json:"flavors"`
}

// JoinRequest is the body of POST /v1/cluster/join.
type JoinRequest struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	// Replace lets the join take the place of the member that has its id or its address
	// (a node moved to a new address, or a new node on a dead one's address); without it
	// such a join is refused with member_exists.
	Replace bool `json:"replace,omitempty"`
}

// ClusterServer is one member of the raft configuration.
type ClusterServer struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	// HTTPAddr is the member's HTTP API (host:port) as it tells its peers over the raft port;
	// "" when the answering node could not ask it.
	HTTPAddr string `json:"http_addr,omitempty"`
	Suffrage string `json:"suffrage"`
}

// ClusterStatus is the answer of GET /v1/cluster/status.
type ClusterStatus struct {
	NodeID string `json:"node_id"`
	// HTTPAddr is the answering node's HTTP API address, as its peers know it.
	HTTPAddr       string          `json:"http_addr"`
	State          string          `json:"state"`
	Term           uint64          `json:"term"`
	LeaderID       string          `json:"leader_id"`
	LeaderRaftAddr string          `json:"leader_raft_addr"`
	LeaderHTTPAddr string          `json:"leader_http_addr"`
	CommitIndex    uint64          `json:"commit_index"`
	AppliedIndex   uint64          `json:"applied_index"`
	LastLogIndex   uint64          `json:"last_log_index"`
	LastContactMS  int64           `json:"last_contact_ms"`
	Servers        []ClusterServer `json:"servers"`
	FSMChecksum    string          `json:"fsm_checksum"`
	FSMChecksumIdx uint64          `json:"fsm_checksum_index"`
	// Version is the answering binary's version (module version and VCS revision).
	Version string `json:"version"`
	// Health is "ok" when the node answers /readyz with 200, else the reason it does not.
	Health string `json:"health"`
}

// Health is the answer of /healthz and /readyz.
type Health struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Gossip roles.
const (
	RoleServer    = "server"
	RoleConductor = "conductor"
)

// GossipMeta is what a member of the gossip pool advertises (memberlist node metadata, at most
// 512 bytes of JSON).
type GossipMeta struct {
	Role     string `json:"role"`
	NodeID   string `json:"node_id,omitempty"`
	CellUUID string `json:"cell_uuid,omitempty"`
	HTTPAddr string `json:"http_addr"`
}

// Token is an ACL token as the API shows it: never its secret's hash; the secret itself only
// once, in the answer that created it.
type Token struct {
	AccessorID  string     `json:"accessor_id"`
	Secret      string     `json:"secret,omitempty"`
	Description string     `json:"description"`
	Role        string     `json:"role"`
	ProjectID   string     `json:"project_id,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	Revision    uint64     `json:"revision"`
}

// TokenCreate is the body of POST /v1/acl/tokens.
type TokenCreate struct {
	Description string `json:"description"`
	Role        string `json:"role"`
	ProjectID   string `json:"project_id,omitempty"`
	// TTL is a Go duration ("24h"); empty: the token does not expire.
	TTL string `json:"ttl,omitempty"`
}

// TokenList is the answer of GET /v1/acl/tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// Image is an image of the catalogue (POST /v1/images; the compute API's image endpoint
// serves it as Glance v2 does). cellmap keeps no image data.
type Image struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	DiskFormat      string    `json:"disk_format"`
	ContainerFormat string    `json:"container_format"`
	MinDiskGB       int64     `json:"min_disk,omitempty"`
	MinRAMMB        int64     `json:"min_ram,omitempty"`
	CreatedAt       time.Time `json:"created_at,omitzero"`
	Revision        uint64    `json:"revision,omitzero"`
}

// ImageList is the answer of GET /v1/images.
type ImageList struct {
	Images []Image `json:"images"`
}

// User is a user of the built-in identity API (/v1/identity/users): never its password or
// its hash. Roles maps a project to the user's role there (reader, service, operator, admin).
type User struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Domain    string            `json:"domain"`
	Roles     map[string]string `json:"roles"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Revision  uint64            `json:"revision"`
}

// UserCreate is the body of POST /v1/identity/users.
type UserCreate struct {
	Name     string            `json:"name"`
	Password string            `json:"password"`
	Roles    map[string]string `json:"roles,omitempty"`
}

// UserUpdate is the body of PUT /v1/identity/users/{user}: the fields that are set change, and
// the user's tokens are revoked.
type UserUpdate struct {
	Password *string `json:"password,omitempty"`
	// Roles replaces the user's roles when set (an empty map: no role left).
	Roles *map[string]string `json:"roles,omitempty"`
}

// UserList is the answer of GET /v1/identity/users.
type UserList struct {
	Users []User `json:"users"`
}
