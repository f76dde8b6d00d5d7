package fsm

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/cellmap/cellmap/api/validate"
)

// Host aggregates and availability zones are API-level objects here, not rows of a cell
// database: an aggregate groups mapped compute hosts (of any cells) and carries metadata; its
// `availability_zone` metadata makes it a zone, and a host is in at most one zone. Deleting a
// host mapping takes the host out of its aggregates in the same apply.

// ErrZoneConflict: a host would be in two availability zones.
var ErrZoneConflict = errors.New("host already in another availability zone")

// ZoneKey is the aggregate metadata key that names its availability zone.
const ZoneKey = "availability_zone"

// maxAggregateHosts bounds an aggregate's hosts.
const maxAggregateHosts = 10000

// Aggregate is a host aggregate.
type Aggregate struct {
	ID        string // uuid
	Name      string
	Hosts     []string // sorted, no duplicates
	Metadata  map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
	Revision  uint64
}

// Zone is the aggregate's availability zone ("" none).
func (a *Aggregate) Zone() string { return a.Metadata[ZoneKey] }

// Clone returns a copy whose hosts and metadata can be changed without changing a.
func (a *Aggregate) Clone() *Aggregate {
	c := *a
	c.Hosts, c.Metadata = slices.Clone(a.Hosts), maps.Clone(a.Metadata)
	return &c
}

// AddHost adds a host, keeping the hosts sorted (ErrExists when it is in already).
func (a *Aggregate) AddHost(host string) error {
	i, found := slices.BinarySearch(a.Hosts, host)
	if found {
		return fmt.Errorf("host %s is in aggregate %s already: %w", host, a.Name, ErrExists)
	}
	a.Hosts = slices.Insert(a.Hosts, i, host)
	return nil
}

// RemoveHost removes a host (ErrNotFound when it is not in).
func (a *Aggregate) RemoveHost(host string) error {
	i, found := slices.BinarySearch(a.Hosts, host)
	if !found {
		return fmt.Errorf("host %s is not in aggregate %s: %w", host, a.Name, ErrNotFound)
	}
	a.Hosts = slices.Delete(a.Hosts, i, i+1)
	return nil
}

// SetMetadata merges md into the metadata: a key with an empty value is removed (Nova's
// set_metadata with null).
func (a *Aggregate) SetMetadata(md map[string]string) {
	for k, v := range md {
		if a.Metadata == nil {
			a.Metadata = map[string]string{}
		}
		if v == "" {
			delete(a.Metadata, k)
		} else {
			a.Metadata[k] = v
		}
	}
}

var aggregatesTable = &table{name: "aggregate", kind: "aggregates", bucket: []byte("aggregates"), newRec: func() Record { return &Aggregate{} }}

func (a *Aggregate) Key() string { return a.ID }
func (a *Aggregate) rev() uint64 { return a.Revision }
func (a *Aggregate) marshal(e *encoder) {
	e.str(a.ID)
	e.str(a.Name)
	e.uvarint(uint64(len(a.Hosts)))
	for _, h := range a.Hosts {
		e.str(h)
	}
	e.strMap(a.Metadata)
	e.timestamp(a.CreatedAt)
	e.timestamp(a.UpdatedAt)
	e.uvarint(a.Revision)
}
func (a *Aggregate) unmarshal(d *decoder) {
	a.ID, a.Name = d.str(), d.str()
	n := d.uvarint()
	a.Hosts = make([]string, 0, d.sizeHint(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		a.Hosts = append(a.Hosts, d.str())
	}
	a.Metadata = d.strMap()
	a.CreatedAt, a.UpdatedAt = d.timestamp(), d.timestamp()
	a.Revision = d.uvarint()
}
func (a *Aggregate) stamp(ac *applyCtx, prev Record) {
	a.Revision, a.UpdatedAt = ac.index, ac.now
	if old, ok := prev.(*Aggregate); ok {
		a.CreatedAt = old.CreatedAt
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = ac.now
	}
}

func (a *Aggregate) validate() error {
	if err := firstError(canonicalUUID("id", a.ID), validate.Name("name", a.Name, true),
		validate.Metadata("metadata", a.Metadata, validate.MaxMetadataItems)); err != nil {
		return err
	}
	if len(a.Hosts) > maxAggregateHosts {
		return fmt.Errorf("an aggregate has at most %d hosts", maxAggregateHosts)
	}
	if !sort.StringsAreSorted(a.Hosts) {
		return fmt.Errorf("hosts must be sorted")
	}
	for i, h := range a.Hosts {
		if err := validate.Host("hosts", h); err != nil {
			return err
		}
		if i > 0 && a.Hosts[i-1] == h {
			return fmt.Errorf("host %s appears twice", h)
		}
	}
	return nil
}

// checkAggregate runs the rules of a written aggregate against the state before the
// transaction: its hosts are mapped, its name is unique, and no host of a zoned aggregate is in
// another zone.
func checkAggregate(ac *applyCtx, i int, a *Aggregate) (*Result, error) {
	for _, h := range a.Hosts {
		rec, err := hostsTable.get(ac.tx, h)
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return failResult(ac, i, "aggregate %s: compute host %s is not mapped: %w", a.Name, h, ErrNotFound), nil
		}
	}
	others, err := listAs[*Aggregate](ac.tx, aggregatesTable, func(o *Aggregate) bool { return o.ID != a.ID })
	if err != nil {
		return nil, err
	}
	for _, o := range others {
		if o.Name == a.Name {
			return failResult(ac, i, "aggregate %s: %w", a.Name, ErrExists), nil
		}
		if a.Zone() == "" || o.Zone() == "" || o.Zone() == a.Zone() {
			continue
		}
		for _, h := range a.Hosts {
			if slices.Contains(o.Hosts, h) {
				return failResult(ac, i, "host %s is in availability zone %s (aggregate %s), cannot be in %s too: %w",
					h, o.Zone(), o.Name, a.Zone(), ErrZoneConflict), nil
			}
		}
	}
	return nil, nil
}

// dropHostFromAggregates takes a host whose mapping goes out of every aggregate.
func dropHostFromAggregates(ac *applyCtx, host string) error {
	holding, err := listAs[*Aggregate](ac.tx, aggregatesTable, func(a *Aggregate) bool { return slices.Contains(a.Hosts, host) })
	if err != nil {
		return err
	}
	for _, prev := range holding {
		next := *prev
		next.Hosts = slices.DeleteFunc(slices.Clone(prev.Hosts), func(h string) bool { return h == host })
		next.stamp(ac, prev)
		if err := aggregatesTable.put(ac, &next, prev); err != nil {
			return err
		}
	}
	return nil
}

// Aggregates returns every aggregate, by id.
func (r *Reader) Aggregates() ([]*Aggregate, error) {
	return listAs[*Aggregate](r.tx, aggregatesTable, nil)
}

// Aggregate returns one aggregate.
func (r *Reader) Aggregate(id string) (*Aggregate, error) {
	return getAs[*Aggregate](r.tx, aggregatesTable, id)
}

// HostZones maps each host of a zoned aggregate to its zone.
func (r *Reader) HostZones() (map[string]string, error) {
	aggs, err := r.Aggregates()
	out := map[string]string{}
	for _, a := range aggs {
		if z := a.Zone(); z != "" {
			for _, h := range a.Hosts {
				out[h] = z
			}
		}
	}
	return out, err
}
