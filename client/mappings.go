package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/cellmap/cellmap/api"
)

// InstanceMapping looks an instance up.
func (c *Client) InstanceMapping(ctx context.Context, uuid string, opts ...ReadOption) (*api.InstanceMapping, Meta, error) {
	var out api.InstanceMapping
	m, err := c.Do(ctx, http.MethodGet, withQuery("/v1/instance-mappings/"+url.PathEscape(uuid), nil, opts), nil, nil, &out)
	if err != nil {
		return nil, m, err
	}
	return &out, m, nil
}

// Lookup returns an instance's mapping together with its cell (URLs as stored).
func (c *Client) Lookup(ctx context.Context, uuid string, opts ...ReadOption) (*api.InstanceMapping, error) {
	var out api.InstanceMapping
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/instance-mappings/"+url.PathEscape(uuid), url.Values{"with_cell": {"true"}}, opts), nil, nil, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// InstanceQuery selects instance mappings.
type InstanceQuery struct {
	ProjectID string
	CellUUID  string
	Marker    string
	Limit     int
}

// InstanceMappings lists one page of mappings ordered by instance uuid.
func (c *Client) InstanceMappings(ctx context.Context, q InstanceQuery, opts ...ReadOption) (*api.InstanceMappingList, error) {
	v := url.Values{}
	for k, s := range map[string]string{"project_id": q.ProjectID, "cell_uuid": q.CellUUID, "marker": q.Marker} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out api.InstanceMappingList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/instance-mappings", v, opts), nil, nil, &out)
	return &out, err
}

// Condition guards a write: IfRevision (If-Match) or IfAbsent (If-None-Match: *).
type Condition struct {
	IfRevision uint64
	IfAbsent   bool
}

func (cond Condition) header() http.Header {
	h := http.Header{}
	if cond.IfRevision != 0 {
		h.Set("If-Match", strconv.FormatUint(cond.IfRevision, 10))
	}
	if cond.IfAbsent {
		h.Set("If-None-Match", "*")
	}
	return h
}

// PutInstanceMapping creates or replaces a mapping.
func (c *Client) PutInstanceMapping(ctx context.Context, uuid string, in api.InstanceMappingPut, cond Condition) (*api.InstanceMapping, Meta, error) {
	var out api.InstanceMapping
	m, err := c.Do(ctx, http.MethodPut, "/v1/instance-mappings/"+url.PathEscape(uuid), cond.header(), in, &out)
	if err != nil {
		return nil, m, err
	}
	return &out, m, nil
}

// DeleteInstanceMapping removes a mapping (ifRevision 0: unconditionally).
func (c *Client) DeleteInstanceMapping(ctx context.Context, uuid string, ifRevision uint64) (Meta, error) {
	return c.Do(ctx, http.MethodDelete, "/v1/instance-mappings/"+url.PathEscape(uuid), Condition{IfRevision: ifRevision}.header(), nil, nil)
}

// Txn applies ops atomically.
func (c *Client) Txn(ctx context.Context, ops []api.TxnOp) (*api.TxnResult, error) {
	var out api.TxnResult
	if _, err := c.Do(ctx, http.MethodPost, "/v1/txn", nil, api.Txn{Ops: ops}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Hosts lists host mappings, of one cell when cellUUID is set.
func (c *Client) Hosts(ctx context.Context, cellUUID string, opts ...ReadOption) ([]api.HostMapping, error) {
	v := url.Values{}
	if cellUUID != "" {
		v.Set("cell_uuid", cellUUID)
	}
	var out api.HostMappingList
	_, err := c.Do(ctx, http.MethodGet, withQuery("/v1/hosts", v, opts), nil, nil, &out)
	return out.Hosts, err
}

// PutHost maps a host to a cell.
func (c *Client) PutHost(ctx context.Context, host, cellUUID string, cond Condition) (*api.HostMapping, error) {
	var out api.HostMapping
	_, err := c.Do(ctx, http.MethodPut, "/v1/hosts/"+url.PathEscape(host), cond.header(), api.HostMappingPut{CellUUID: cellUUID}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteHost unmaps a host; with cellUUID set, only if it is mapped to that cell.
func (c *Client) DeleteHost(ctx context.Context, host, cellUUID string) error {
	path := "/v1/hosts/" + url.PathEscape(host)
	if cellUUID != "" {
		path += "?cell_uuid=" + url.QueryEscape(cellUUID)
	}
	_, err := c.Do(ctx, http.MethodDelete, path, nil, nil, nil)
	return err
}
