package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cellmap/cellmap/api"
)

// CreateServer asks for a server; it answers at once with status BUILD and is scheduled to a
// cell in the background.
func (c *Client) CreateServer(ctx context.Context, spec api.ServerCreateSpec) (*api.Server, error) {
	var out api.ServerResponse
	if _, err := c.Do(ctx, http.MethodPost, "/v1/servers", nil, api.ServerCreate{Server: spec}, &out); err != nil {
		return nil, err
	}
	return &out.Server, nil
}

// Server shows one server (a minimal record with status UNKNOWN when its cell is down).
func (c *Client) Server(ctx context.Context, id string) (*api.Server, error) {
	var out api.ServerResponse
	if _, err := c.Do(ctx, http.MethodGet, "/v1/servers/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.Server, nil
}

// Servers lists servers across cells.
func (c *Client) Servers(ctx context.Context, q api.ServerQuery) (*api.ServerList, error) {
	v := url.Values{}
	if q.ProjectID != "" {
		v.Set("project_id", q.ProjectID)
	}
	if q.AllTenants {
		v.Set("all_tenants", "true")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Marker != "" {
		v.Set("marker", q.Marker)
	}
	v["sort_key"], v["sort_dir"] = q.SortKeys, q.SortDirs
	var out api.ServerList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/servers", v, nil), nil, nil, &out)
	return &out, err
}

// DeleteServer deletes a server (503 cell_down when its cell is down).
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/servers/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// DiscoverHosts maps the cells' unmapped compute hosts (discover_hosts).
func (c *Client) DiscoverHosts(ctx context.Context, req api.DiscoverHosts) (*api.DiscoverResult, error) {
	var out api.DiscoverResult
	if _, err := c.Do(ctx, http.MethodPost, "/v1/hosts/discover", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MapInstances maps one batch of a cell's instances (map_instances).
func (c *Client) MapInstances(ctx context.Context, cellUUID string, req api.MapInstances) (*api.MapInstancesResult, error) {
	var out api.MapInstancesResult
	if _, err := c.Do(ctx, http.MethodPost, "/v1/cells/"+url.PathEscape(cellUUID)+"/map-instances", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VerifyInstance reports where an instance is and whether its cell still has it.
func (c *Client) VerifyInstance(ctx context.Context, uuid string) (*api.VerifyInstance, error) {
	var out api.VerifyInstance
	if _, err := c.Do(ctx, http.MethodGet, "/v1/instance-mappings/"+url.PathEscape(uuid)+"/verify", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Conductors lists the cell conductors of the gossip pool.
func (c *Client) Conductors(ctx context.Context) ([]api.Conductor, error) {
	var out api.ConductorList
	_, err := c.Do(ctx, http.MethodGet, "/v1/conductors", nil, nil, &out)
	return out.Conductors, err
}
