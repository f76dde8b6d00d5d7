package api

import "time"

// Aggregate is a host aggregate (GET /v1/aggregates/{id}); AvailabilityZone is its
// `availability_zone` metadata.
type Aggregate struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	Hosts            []string          `json:"hosts"`
	Metadata         map[string]string `json:"metadata"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
	Revision         uint64            `json:"revision"`
}

// AggregateList is the answer of GET /v1/aggregates.
type AggregateList struct {
	Aggregates []Aggregate `json:"aggregates"`
}

// AggregateCreate is the body of POST /v1/aggregates.
type AggregateCreate struct {
	Name             string `json:"name"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

// AggregateUpdate is the body of PUT /v1/aggregates/{id}: a new name and/or metadata, whose
// keys with an empty value are removed (as Nova's set_metadata with null).
type AggregateUpdate struct {
	Name     *string           `json:"name,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// AggregateHost is the body of POST /v1/aggregates/{id}/hosts.
type AggregateHost struct {
	Host string `json:"host"`
}

// AvailabilityZone is one zone and its hosts (GET /v1/availability-zones).
type AvailabilityZone struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
}

// AvailabilityZoneList is the answer of GET /v1/availability-zones.
type AvailabilityZoneList struct {
	Zones []AvailabilityZone `json:"availability_zones"`
}
