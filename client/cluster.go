package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// Flavors lists flavors.
func (c *Client) Flavors(ctx context.Context, opts ...ReadOption) ([]api.Flavor, error) {
	var out api.FlavorList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/flavors", nil, opts), nil, nil, &out)
	return out.Flavors, err
}

// Flavor returns one flavor.
func (c *Client) Flavor(ctx context.Context, id string, opts ...ReadOption) (*api.Flavor, error) {
	var out api.Flavor
	if _, err := c.Do(ctx, http.MethodGet, withQuery("/v1/flavors/"+url.PathEscape(id), nil, opts), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateFlavor adds a flavor.
func (c *Client) CreateFlavor(ctx context.Context, in api.Flavor) (*api.Flavor, error) {
	var out api.Flavor
	if _, err := c.Do(ctx, http.MethodPost, "/v1/flavors", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteFlavor removes a flavor.
func (c *Client) DeleteFlavor(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/flavors/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// Images lists the image catalogue.
func (c *Client) Images(ctx context.Context, opts ...ReadOption) ([]api.Image, error) {
	var out api.ImageList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/images", nil, opts), nil, nil, &out)
	return out.Images, err
}

// CreateImage adds an image to the catalogue (an empty id is generated).
func (c *Client) CreateImage(ctx context.Context, in api.Image) (*api.Image, error) {
	var out api.Image
	if _, err := c.Do(ctx, http.MethodPost, "/v1/images", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteImage removes an image from the catalogue.
func (c *Client) DeleteImage(ctx context.Context, id string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/images/"+url.PathEscape(id), nil, nil, nil)
	return err
}

// ClusterStatus returns the answering node's view of the cluster.
func (c *Client) ClusterStatus(ctx context.Context) (*api.ClusterStatus, error) {
	var out api.ClusterStatus
	if _, err := c.Do(ctx, http.MethodGet, "/v1/cluster/status", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Join adds a voter to the cluster.
func (c *Client) Join(ctx context.Context, nodeID, raftAddr string) error {
	_, err := c.Do(ctx, http.MethodPost, "/v1/cluster/join", nil, api.JoinRequest{NodeID: nodeID, RaftAddr: raftAddr}, nil)
	return err
}

// RemoveServer takes a server out of the cluster.
func (c *Client) RemoveServer(ctx context.Context, nodeID string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/cluster/servers/"+url.PathEscape(nodeID), nil, nil, nil)
	return err
}

// Ready reports /readyz.
func (c *Client) Ready(ctx context.Context) error {
	_, err := c.Do(ctx, http.MethodGet, "/readyz", nil, nil, nil)
	return err
}

// AutopilotHealth returns the leader's autopilot view of every server (reader).
func (c *Client) AutopilotHealth(ctx context.Context) (*api.AutopilotHealth, error) {
	var out api.AutopilotHealth
	if _, err := c.Do(ctx, http.MethodGet, "/v1/operator/autopilot/health", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
