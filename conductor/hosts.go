package conductor

import (
	"context"
	"fmt"

	"github.com/cellmap/cellmap/api"
	bolt "go.etcd.io/bbolt"
)

// serviceBinary is the binary every compute host reports as a service.
const serviceBinary = "nova-compute"

// free returns what is left on a host, never below zero.
func free(h *api.ComputeHost) (vcpus, ramMB, diskGB int64) {
	return max(h.VCPUs-h.UsedVCPUs, 0), max(h.RAMMB-h.UsedRAMMB, 0), max(h.DiskGB-h.UsedDiskGB, 0)
}

// fits says whether a flavor fits on a host now.
func fits(h *api.ComputeHost, f api.Flavor) bool {
	v, r, d := free(h)
	return !h.Disabled && v >= f.VCPUs && r >= f.RAMMB && d >= f.DiskGB
}

// pickHost chooses where a flavor goes: among the enabled hosts the filter allows where it
// fits, the one with the most free RAM, ties to the first name. hosts are in name order. It
// returns -1 when none fits. Unmapped hosts count: mapping matters to the API tier, not to
// this scheduler.
func pickHost(hosts []api.ComputeHost, f api.Flavor, allowed func(string) bool) int {
	best, bestRAM := -1, int64(-1)
	for i := range hosts {
		if !fits(&hosts[i], f) || !allowed(hosts[i].Name) {
			continue
		}
		if _, ram, _ := free(&hosts[i]); ram > bestRAM {
			best, bestRAM = i, ram
		}
	}
	return best
}

// allHosts reads every compute host, in name order.
func allHosts(tx *bolt.Tx) ([]api.ComputeHost, error) {
	var out []api.ComputeHost
	err := tx.Bucket(bucketHosts).ForEach(func(k, v []byte) error {
		var h api.ComputeHost
		if err := decodeJSON(k, v, &h); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	})
	return out, err
}

// claimHost picks a host for the flavor and adds the flavor to its used amounts.
func claimHost(tx *bolt.Tx, f api.Flavor, allowed func(string) bool) (string, error) {
	hosts, err := allHosts(tx)
	if err != nil {
		return "", err
	}
	i := pickHost(hosts, f, allowed)
	if i < 0 {
		return "", fmt.Errorf("no compute host has room for %d vcpus, %d MB RAM, %d GB disk among %d hosts: %w",
			f.VCPUs, f.RAMMB, f.DiskGB, len(hosts), ErrNoValidHost)
	}
	h := &hosts[i]
	h.UsedVCPUs += f.VCPUs
	h.UsedRAMMB += f.RAMMB
	h.UsedDiskGB += f.DiskGB
	return h.Name, putJSON(tx.Bucket(bucketHosts), []byte(h.Name), h)
}

// releaseHost takes the flavor off a host's used amounts. A host that is gone is ignored.
func releaseHost(tx *bolt.Tx, name string, f api.Flavor) error {
	b := tx.Bucket(bucketHosts)
	var h api.ComputeHost
	found, err := getJSON(b, []byte(name), &h)
	if err != nil || !found {
		return err
	}
	h.UsedVCPUs = max(h.UsedVCPUs-f.VCPUs, 0)
	h.UsedRAMMB = max(h.UsedRAMMB-f.RAMMB, 0)
	h.UsedDiskGB = max(h.UsedDiskGB-f.DiskGB, 0)
	return putJSON(b, []byte(name), &h)
}

// RegisterHost adds a compute host, unmapped and with nothing used. ErrAlreadyExists when the
// name is taken; ErrInvalid for a bad name or capacity.
func (d *DB) RegisterHost(ctx context.Context, req api.ComputeHostCreate) (api.ComputeHost, error) {
	if err := checkHost(req); err != nil {
		return api.ComputeHost{}, err
	}
	h := api.ComputeHost{Name: req.Name, VCPUs: req.VCPUs, RAMMB: req.RAMMB, DiskGB: req.DiskGB, CreatedAt: d.now()}
	err := d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHosts)
		if b.Get([]byte(h.Name)) != nil {
			return fmt.Errorf("compute host %q: %w", h.Name, ErrAlreadyExists)
		}
		return putJSON(b, []byte(h.Name), &h)
	})
	if err != nil {
		return api.ComputeHost{}, err
	}
	return h, nil
}

// EnsureHosts registers the hosts that are missing and sets the capacity of those present,
// which keep their used amounts, mapped flag and creation time. It returns how many it added.
func (d *DB) EnsureHosts(ctx context.Context, hosts []api.ComputeHostCreate) (added int, err error) {
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return 0, err
		}
	}
	now := d.now()
	err = d.update(ctx, func(tx *bolt.Tx) error {
		added = 0
		b := tx.Bucket(bucketHosts)
		for _, req := range hosts {
			h := api.ComputeHost{Name: req.Name, CreatedAt: now}
			found, err := getJSON(b, []byte(req.Name), &h)
			if err != nil {
				return err
			}
			if found && h.VCPUs == req.VCPUs && h.RAMMB == req.RAMMB && h.DiskGB == req.DiskGB {
				continue
			}
			if found {
				d.logger.Info("compute host capacity changed", "host", h.Name,
					"vcpus", req.VCPUs, "ram_mb", req.RAMMB, "disk_gb", req.DiskGB)
			} else {
				added++
			}
			h.VCPUs, h.RAMMB, h.DiskGB = req.VCPUs, req.RAMMB, req.DiskGB
			if err := putJSON(b, []byte(h.Name), &h); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// ComputeHosts lists the compute hosts in name order; with mapped not nil, only those whose
// mapped flag equals *mapped.
func (d *DB) ComputeHosts(ctx context.Context, mapped *bool) ([]api.ComputeHost, error) {
	var out []api.ComputeHost
	err := d.view(ctx, func(tx *bolt.Tx) error {
		hosts, err := allHosts(tx)
		if err != nil {
			return err
		}
		out = make([]api.ComputeHost, 0, len(hosts))
		for _, h := range hosts {
			if mapped == nil || h.Mapped == *mapped {
				out = append(out, h)
			}
		}
		return nil
	})
	return out, err
}

// SetHostMapped sets Nova's compute_nodes.mapped flag of a host; ErrNotFound for an unknown
// host.
func (d *DB) SetHostMapped(ctx context.Context, name string, mapped bool) (api.ComputeHost, error) {
	var h api.ComputeHost
	err := d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHosts)
		found, err := getJSON(b, []byte(name), &h)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("compute host %q: %w", name, ErrNotFound)
		}
		if h.Mapped == mapped {
			return nil
		}
		h.Mapped = mapped
		return putJSON(b, []byte(name), &h)
	})
	return h, err
}

// Capacity reports every host and the cell's free totals (enabled hosts only). With a flavor
// size, Fits is how many servers of that size the cell can still take, each on one host: the
// sum over enabled hosts of the smallest free/need over the resources the flavor needs.
func (d *DB) Capacity(ctx context.Context, size *api.Flavor) (api.Capacity, error) {
	out := api.Capacity{Hosts: []api.ComputeHost{}}
	err := d.view(ctx, func(tx *bolt.Tx) error {
		hosts, err := allHosts(tx)
		if err != nil {
			return err
		}
		for i := range hosts {
			h := &hosts[i]
			out.Hosts = append(out.Hosts, *h)
			if h.Mapped {
				out.MappedHosts++
			} else {
				out.UnmappedHosts++
			}
			if h.Disabled {
				continue
			}
			v, r, dk := free(h)
			out.FreeVCPUs, out.FreeRAMMB, out.FreeDiskGB = out.FreeVCPUs+v, out.FreeRAMMB+r, out.FreeDiskGB+dk
			if size != nil {
				out.Fits += hostFits([3]int64{v, r, dk}, [3]int64{size.VCPUs, size.RAMMB, size.DiskGB})
			}
		}
		return nil
	})
	return out, err
}

// hostFits is min over the needed resources of floor(free/need); resources needing 0 do not
// limit. A size needing nothing fits 0 times (it is not a size).
func hostFits(free, need [3]int64) int64 {
	n := int64(-1)
	for i := range need {
		if need[i] <= 0 {
			continue
		}
		if k := free[i] / need[i]; n < 0 || k < n {
			n = k
		}
	}
	return max(n, 0)
}

// Services lists every compute host as a nova-compute service, in host order.
func (d *DB) Services(ctx context.Context) ([]api.Service, error) {
	hosts, err := d.ComputeHosts(ctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]api.Service, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, api.Service{Host: h.Name, Binary: serviceBinary, Disabled: h.Disabled})
	}
	return out, nil
}

// Stats counts the cell's instances (non-deleted and deleted) and compute hosts. CellUUID is
// left for the caller.
func (d *DB) Stats(ctx context.Context) (api.CellStats, error) {
	var out api.CellStats
	err := d.view(ctx, func(tx *bolt.Tx) error {
		out.Instances = int(counter(tx, metaLive))
		out.DeletedInstances = int(counter(tx, metaDeleted))
		out.ComputeHosts = tx.Bucket(bucketHosts).Stats().KeyN
		return nil
	})
	return out, err
}

// hostFilter allows the hosts of only (every host when only is empty) that are not in exclude.
func hostFilter(only, exclude []string) func(string) bool {
	set := func(hs []string) map[string]bool {
		m := make(map[string]bool, len(hs))
		for _, h := range hs {
			m[h] = true
		}
		return m
	}
	in, out := set(only), set(exclude)
	return func(h string) bool { return (len(only) == 0 || in[h]) && !out[h] }
}
