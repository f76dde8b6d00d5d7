package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// ACLBootstrap creates the cluster's first admin token and returns it with its secret; the
// second call fails with acl_already_bootstrapped.
func (c *Client) ACLBootstrap(ctx context.Context) (*api.Token, error) {
	var out api.Token
	if _, err := c.Do(ctx, http.MethodPost, "/v1/acl/bootstrap", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateToken creates a token (admin); its secret is in the answer only.
func (c *Client) CreateToken(ctx context.Context, in api.TokenCreate) (*api.Token, error) {
	var out api.Token
	if _, err := c.Do(ctx, http.MethodPost, "/v1/acl/tokens", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Tokens lists the tokens, without secrets (admin).
func (c *Client) Tokens(ctx context.Context) ([]api.Token, error) {
	var out api.TokenList
	if _, err := c.Do(ctx, http.MethodGet, "/v1/acl/tokens", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// RevokeToken deletes a token; once it returns no node accepts it (admin).
func (c *Client) RevokeToken(ctx context.Context, accessor string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/acl/tokens/"+url.PathEscape(accessor), nil, nil, nil)
	return err
}

// TokenSelf returns the caller's own token record.
func (c *Client) TokenSelf(ctx context.Context) (*api.Token, error) {
	var out api.Token
	if _, err := c.Do(ctx, http.MethodGet, "/v1/acl/token/self", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
