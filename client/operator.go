package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/cellmap/cellmap/api"
)

// The operator endpoints stream their bodies, so they build their requests here instead of
// going through Do (which holds a body in memory). They need an admin token.

// Backup streams a consistent backup of the cluster's state into w (GET /v1/operator/backup)
// and returns the number of bytes written. Verify what w received (package backup): a stream
// cut short is only visible there.
func (c *Client) Backup(ctx context.Context, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/operator/backup", nil)
	if err != nil {
		return 0, err
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return 0, decodeError(resp.StatusCode, data)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("cellmap: backup stream: %w", err)
	}
	return n, nil
}

// Restore replaces the cluster's state with the backup read from r (POST
// /v1/operator/restore) and returns the backup's header. A backup the cluster refuses
// (damaged, truncated) is an *Error with code invalid; nothing changed then.
func (c *Client) Restore(ctx context.Context, r io.Reader) (*api.BackupHeader, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/operator/restore", r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if notSent(err) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp.StatusCode, data)
	}
	var h api.BackupHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, fmt.Errorf("cellmap: bad answer to a restore: %w", err)
	}
	return &h, nil
}

// Keyring lists the gossip keys of every alive member of the pool (GET /v1/operator/keyring,
// admin).
func (c *Client) Keyring(ctx context.Context) (*api.KeyringResult, error) {
	var out api.KeyringResult
	if _, err := c.Do(ctx, http.MethodGet, "/v1/operator/keyring", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// KeyringOp installs, uses or removes a gossip key on every alive member of the pool (POST
// /v1/operator/keyring, admin). The result counts the members that failed or did not answer.
func (c *Client) KeyringOp(ctx context.Context, op, key string) (*api.KeyringResult, error) {
	var out api.KeyringResult
	if _, err := c.Do(ctx, http.MethodPost, "/v1/operator/keyring", nil, api.KeyringRequest{Op: op, Key: key}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
