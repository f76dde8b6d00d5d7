package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// Aggregates lists the host aggregates (reader).
func (c *Client) Aggregates(ctx context.Context) ([]api.Aggregate, error) {
	var out api.AggregateList
	if _, err := c.Do(ctx, http.MethodGet, "/v1/aggregates", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Aggregates, nil
}

// Aggregate returns one host aggregate (reader).
func (c *Client) Aggregate(ctx context.Context, id string) (*api.Aggregate, error) {
	return c.aggregateCall(ctx, http.MethodGet, "/v1/aggregates/"+url.PathEscape(id), nil)
}

// CreateAggregate creates a host aggregate, in an availability zone when zone is set (operator).
func (c *Client) CreateAggregate(ctx context.Context, name, zone string) (*api.Aggregate, error) {
	return c.aggregateCall(ctx, http.MethodPost, "/v1/aggregates", api.AggregateCreate{Name: name, AvailabilityZone: zone})
}

// UpdateAggregate renames an aggregate and/or sets metadata; an empty value removes the key
// (operator).
func (c *Client) UpdateAggregate(ctx context.Context, id string, in api.AggregateUpdate) (*api.Aggregate, error) {
	return c.aggregateCall(ctx, http.MethodPut, "/v1/aggregates/"+url.PathEscape(id), in)
}

// AddAggregateHost puts a mapped compute host in an aggregate (operator).
func (c *Client) AddAggregateHost(ctx context.Context, id, host string) (*api.Aggregate, error) {
	return c.aggregateCall(ctx, http.MethodPost, "/v1/aggregates/"+url.PathEscape(id)+"/hosts", api.AggregateHost{Host: host})
}

// RemoveAggregateHost takes a host out of an aggregate (operator).
func (c *Client) RemoveAggregateHost(ctx context.Context, id, host string) (*api.Aggregate, error) {
	return c.aggregateCall(ctx, http.MethodDelete, "/v1/aggregates/"+url.PathEscape(id)+"/hosts/"+url.PathEscape(host), nil)
}

// DeleteAggregate deletes an aggregate without hosts (operator).
func (c *Client) DeleteAggregate(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/aggregates/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// AvailabilityZones lists the zones and their hosts (reader).
func (c *Client) AvailabilityZones(ctx context.Context) ([]api.AvailabilityZone, error) {
	var out api.AvailabilityZoneList
	if _, err := c.Do(ctx, http.MethodGet, "/v1/availability-zones", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Zones, nil
}

func (c *Client) aggregateCall(ctx context.Context, method, path string, in any) (*api.Aggregate, error) {
	var out api.Aggregate
	if _, err := c.Do(ctx, method, path, nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
