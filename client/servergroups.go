package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// CreateServerGroup creates a server group in a project (service).
func (c *Client) CreateServerGroup(ctx context.Context, in api.ServerGroupCreate) (*api.ServerGroup, error) {
	var out api.ServerGroup
	if _, err := c.Do(ctx, http.MethodPost, "/v1/server-groups", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ServerGroups lists the server groups, of one project when project is set (reader).
func (c *Client) ServerGroups(ctx context.Context, project string) ([]api.ServerGroup, error) {
	path := "/v1/server-groups"
	if project != "" {
		path += "?project_id=" + url.QueryEscape(project)
	}
	var out api.ServerGroupList
	if _, err := c.Do(ctx, http.MethodGet, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return out.ServerGroups, nil
}

// ServerGroup returns one server group with the members that count (reader).
func (c *Client) ServerGroup(ctx context.Context, id string) (*api.ServerGroup, error) {
	var out api.ServerGroup
	if _, err := c.Do(ctx, http.MethodGet, "/v1/server-groups/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteServerGroup deletes a server group (service).
func (c *Client) DeleteServerGroup(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/server-groups/"+url.PathEscape(id), nil, nil, nil)
	return err
}
