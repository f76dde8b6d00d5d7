package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellurl"
)

// Cells lists cell mappings ordered by name; expand asks the server to fill template URLs
// with its own base URLs.
func (c *Client) Cells(ctx context.Context, expand bool, opts ...ReadOption) ([]api.Cell, error) {
	v := url.Values{}
	if expand {
		v.Set("expand", "true")
	}
	var out api.CellList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/cells", v, opts), nil, nil, &out)
	return out.Cells, err
}

// Cell returns one cell mapping.
func (c *Client) Cell(ctx context.Context, uuid string, opts ...ReadOption) (*api.Cell, error) {
	var out api.Cell
	if _, err := c.Do(ctx, http.MethodGet, withQuery("/v1/cells/"+url.PathEscape(uuid), nil, opts), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateCell adds a cell mapping.
func (c *Client) CreateCell(ctx context.Context, in api.CellCreate) (*api.Cell, error) {
	var out api.Cell
	if _, err := c.Do(ctx, http.MethodPost, "/v1/cells", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MapCell0 creates cell0 if missing; created is false when it already existed.
func (c *Client) MapCell0(ctx context.Context, databaseConnection string) (cell *api.Cell, created bool, err error) {
	var out api.Cell
	m, err := c.Do(ctx, http.MethodPost, "/v1/cells/cell0", nil, api.Cell0Create{DatabaseConnection: databaseConnection}, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, m.Status == http.StatusCreated, nil
}

// UpdateCell changes the fields set in in.
func (c *Client) UpdateCell(ctx context.Context, uuid string, in api.CellUpdate) (*api.Cell, error) {
	var out api.Cell
	if _, err := c.Do(ctx, http.MethodPatch, "/v1/cells/"+url.PathEscape(uuid), nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCell removes a cell mapping (force: with its host and instance mappings).
func (c *Client) DeleteCell(ctx context.Context, uuid string, force bool) error {
	path := "/v1/cells/" + url.PathEscape(uuid)
	if force {
		path += "?force=true"
	}
	_, err := c.Do(ctx, http.MethodDelete, path, nil, nil, nil)
	return err
}

// ExpandCell fills the template URLs of a cell with the caller's base URLs (Nova's rules: a
// URL that cannot be expanded is returned unchanged).
func ExpandCell(cell api.Cell, baseTransportURL, baseDatabaseConnection string) api.Cell {
	cell.TransportURL = cellurl.Expand(cell.TransportURL, baseTransportURL)
	cell.DatabaseConnection = cellurl.Expand(cell.DatabaseConnection, baseDatabaseConnection)
	return cell
}
