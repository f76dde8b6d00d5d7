package conductor

import (
	"context"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	bolt "go.etcd.io/bbolt"
)

// VM states of the instances a conductor builds.
const (
	vmStateActive  = "active"
	vmStateDeleted = "deleted"
)

// CreateInstance builds an instance on one compute host: it picks the host, claims the flavor's
// capacity there and inserts the record, all in one transaction. created is false when an
// instance with that uuid exists and is not deleted: the stored record is returned and nothing
// changes (an idempotent retry). Errors: ErrInvalid, ErrAlreadyExists (the uuid belongs to a
// deleted instance), ErrNoValidHost (nothing written).
func (d *DB) CreateInstance(ctx context.Context, req api.InstanceCreate) (inst api.Instance, created bool, err error) {
	if req, err = checkInstanceCreate(req); err != nil {
		return api.Instance{}, false, err
	}
	err = d.update(ctx, func(tx *bolt.Tx) error {
		// The caller may have given up while this waited for the write lock: its API tier then
		// treats the outcome as unknown and may build the server elsewhere, so build nothing.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("create of %s abandoned by its caller before the cell took it: %w", req.UUID, err)
		}
		ib := tx.Bucket(bucketInstances)
		found, err := getJSON(ib, []byte(req.UUID), &inst)
		if err != nil || found {
			if found && inst.Deleted {
				return fmt.Errorf("instance %s was deleted: %w", req.UUID, ErrAlreadyExists)
			}
			return err
		}
		host, err := claimHost(tx, req.Flavor, hostFilter(req.Hosts, req.ExcludeHosts))
		if err != nil {
			return err
		}
		inst = newInstance(req, host, d.now())
		if err := putJSON(ib, []byte(inst.UUID), &inst); err != nil {
			return err
		}
		if err := putIndexes(tx, &inst); err != nil {
			return err
		}
		created = true
		return addCounter(tx, metaLive, 1)
	})
	if err != nil {
		return api.Instance{}, false, err
	}
	if created {
		d.logger.Debug("instance built", "uuid", inst.UUID, "host", inst.Host)
	}
	return inst, created, nil
}

// newInstance is the record of a freshly built instance.
func newInstance(req api.InstanceCreate, host string, now time.Time) api.Instance {
	created := req.CreatedAt
	if created.IsZero() {
		created = now
	}
	return api.Instance{
		UUID: req.UUID, Name: req.Name, ProjectID: req.ProjectID, UserID: req.UserID,
		Flavor: req.Flavor, ImageRef: req.ImageRef, AvailabilityZone: req.AvailabilityZone,
		Metadata: req.Metadata, Status: api.StatusActive, VMState: vmStateActive, Host: host,
		CreatedAt: created, UpdatedAt: now,
	}
}

// DeleteInstance soft-deletes an instance and frees its capacity on its host, in one
// transaction. It returns the deleted record; ErrNotFound when the instance is missing or
// deleted already.
func (d *DB) DeleteInstance(ctx context.Context, uuid string) (api.Instance, error) {
	uuid, err := validate.UUID("uuid", uuid)
	if err != nil {
		return api.Instance{}, err
	}
	var inst api.Instance
	err = d.update(ctx, func(tx *bolt.Tx) error {
		ib := tx.Bucket(bucketInstances)
		found, err := getJSON(ib, []byte(uuid), &inst)
		if err != nil {
			return err
		}
		if !found || inst.Deleted {
			return fmt.Errorf("instance %s: %w", uuid, ErrNotFound)
		}
		now := d.now()
		inst.Deleted, inst.DeletedAt, inst.UpdatedAt = true, &now, now
		inst.Status, inst.VMState = api.StatusDeleted, vmStateDeleted
		if err := putJSON(ib, []byte(uuid), &inst); err != nil {
			return err
		}
		if err := putIndexes(tx, &inst); err != nil {
			return err
		}
		if err := releaseHost(tx, inst.Host, inst.Flavor); err != nil {
			return err
		}
		if err := addCounter(tx, metaLive, -1); err != nil {
			return err
		}
		return addCounter(tx, metaDeleted, 1)
	})
	if err != nil {
		return api.Instance{}, err
	}
	d.logger.Debug("instance deleted", "uuid", uuid, "host", inst.Host)
	return inst, nil
}

// Instance reads one instance. deleted is api.DeletedNo (or empty: a deleted instance is not
// found), api.DeletedYes or api.DeletedOnly.
func (d *DB) Instance(ctx context.Context, uuid, deleted string) (api.Instance, error) {
	uuid, err := validate.UUID("uuid", uuid)
	if err != nil {
		return api.Instance{}, err
	}
	if deleted, err = checkDeletedMode(deleted); err != nil {
		return api.Instance{}, err
	}
	var inst api.Instance
	err = d.view(ctx, func(tx *bolt.Tx) error {
		found, err := getJSON(tx.Bucket(bucketInstances), []byte(uuid), &inst)
		if err != nil {
			return err
		}
		if !found || !deletedMatches(deleted, inst.Deleted) {
			return fmt.Errorf("instance %s: %w", uuid, ErrNotFound)
		}
		return nil
	})
	return inst, err
}

// checkDeletedMode validates a deleted mode; empty is api.DeletedNo.
func checkDeletedMode(mode string) (string, error) {
	switch mode {
	case "":
		return api.DeletedNo, nil
	case api.DeletedNo, api.DeletedYes, api.DeletedOnly:
		return mode, nil
	}
	return "", invalidf("deleted must be %s, %s or %s, not %q", api.DeletedNo, api.DeletedYes, api.DeletedOnly, mode)
}

// deletedMatches says whether a row with the given deleted flag is selected by mode.
func deletedMatches(mode string, deleted bool) bool {
	switch mode {
	case api.DeletedYes:
		return true
	case api.DeletedOnly:
		return deleted
	}
	return !deleted
}
