package api

import "time"

// ServerGroup is a server group (GET /v1/server-groups/{id}); Members are the servers that
// count (not deleted).
type ServerGroup struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	ProjectID string            `json:"project_id"`
	UserID    string            `json:"user_id,omitempty"`
	Policy    string            `json:"policy"`
	Rules     *ServerGroupRules `json:"rules,omitempty"`
	Members   []string          `json:"members"`
	CreatedAt time.Time         `json:"created_at"`
}

// ServerGroupRules are a group's rules (Nova 2.64): max_server_per_host for anti-affinity.
type ServerGroupRules struct {
	MaxServerPerHost int64 `json:"max_server_per_host,omitempty"`
}

// ServerGroupCreate is the body of POST /v1/server-groups.
type ServerGroupCreate struct {
	Name      string            `json:"name"`
	ProjectID string            `json:"project_id"`
	UserID    string            `json:"user_id,omitempty"`
	Policy    string            `json:"policy"`
	Rules     *ServerGroupRules `json:"rules,omitempty"`
}

// ServerGroupList is the answer of GET /v1/server-groups.
type ServerGroupList struct {
	ServerGroups []ServerGroup `json:"server_groups"`
}
