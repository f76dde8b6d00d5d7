package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// Quota returns a project's limits and usage (reader; a scoped token only its project).
func (c *Client) Quota(ctx context.Context, project string) (*api.Quota, error) {
	var out api.Quota
	if _, err := c.Do(ctx, http.MethodGet, "/v1/quotas/"+url.PathEscape(project), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetQuota sets a project's limits, or the defaults when project is "" (operator); values left
// nil keep their current value. It returns the limits as now stored.
func (c *Client) SetQuota(ctx context.Context, project string, in api.QuotaUpdate) (*api.QuotaValues, error) {
	path := "/v1/quota-defaults"
	if project != "" {
		path = "/v1/quotas/" + url.PathEscape(project)
	}
	var out api.QuotaValues
	if _, err := c.Do(ctx, http.MethodPut, path, nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// QuotaDefaults returns the default limits (reader).
func (c *Client) QuotaDefaults(ctx context.Context) (*api.QuotaValues, error) {
	var out api.QuotaValues
	if _, err := c.Do(ctx, http.MethodGet, "/v1/quota-defaults", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ResetQuota removes a project's own limits: it takes the defaults again (operator).
func (c *Client) ResetQuota(ctx context.Context, project string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/quotas/"+url.PathEscape(project), nil, nil, nil)
	return err
}

// VerifyQuotas recounts every project's usage and reports the drift; fix replaces drifted
// usage with the recount (operator).
func (c *Client) VerifyQuotas(ctx context.Context, fix bool) (*api.QuotaVerify, error) {
	method, path := http.MethodGet, "/v1/quota-drift"
	if fix {
		method, path = http.MethodPost, "/v1/quota-drift/fix"
	}
	var out api.QuotaVerify
	if _, err := c.Do(ctx, method, path, nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
