package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/cellmap/cellmap/api"
)

// CreateUser adds a user of the built-in identity (admin).
func (c *Client) CreateUser(ctx context.Context, in api.UserCreate) (*api.User, error) {
	var out api.User
	if _, err := c.Do(ctx, http.MethodPost, "/v1/identity/users", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Users lists the users, without passwords or hashes (admin).
func (c *Client) Users(ctx context.Context) ([]api.User, error) {
	var out api.UserList
	if _, err := c.Do(ctx, http.MethodGet, "/v1/identity/users", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Users, nil
}

// User returns a user by id or name (admin).
func (c *Client) User(ctx context.Context, user string) (*api.User, error) {
	var out api.User
	if _, err := c.Do(ctx, http.MethodGet, "/v1/identity/users/"+url.PathEscape(user), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateUser changes a user's password and/or roles, found by id or name; its tokens are
// revoked (admin).
func (c *Client) UpdateUser(ctx context.Context, user string, in api.UserUpdate) (*api.User, error) {
	var out api.User
	if _, err := c.Do(ctx, http.MethodPut, "/v1/identity/users/"+url.PathEscape(user), nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteUser removes a user, found by id or name, and revokes its tokens (admin).
func (c *Client) DeleteUser(ctx context.Context, user string) error {
	_, err := c.Do(ctx, http.MethodDelete, "/v1/identity/users/"+url.PathEscape(user), nil, nil, nil)
	return err
}
