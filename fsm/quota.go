package fsm

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cellmap/cellmap/api/validate"
)

// Quotas are counted at the API tier, in the replicated state: a project's usage changes in the
// same transaction as the build request that claims it (OpAdjust, whose limit check runs in
// Apply, so parallel creates can never overshoot) and the delete that releases it. Nothing is
// asked of the cells, so a down cell does not stop a project's creates.

// ErrQuotaExceeded: an adjustment would take a project's usage over one of its limits.
var ErrQuotaExceeded = errors.New("quota exceeded")

// DefaultQuotaKey is the key of the default limits in the quota_limit table; project ids never
// contain control characters, so no project has it.
const DefaultQuotaKey = "\x00default"

// Unlimited is the limit value without a limit (Nova's -1).
const Unlimited = -1

// maxQuotaValue bounds a limit or a usage: far beyond any cloud, far from int64's end.
const maxQuotaValue = 1 << 50

// QuotaSet is an amount of each counted resource (Nova's instances, cores and ram in MB).
type QuotaSet struct {
	Instances int64
	Cores     int64
	RAMMB     int64
}

// resources names the set's values, in Nova's words, for messages.
func (q *QuotaSet) resources() []struct {
	name string
	v    *int64
} {
	return []struct {
		name string
		v    *int64
	}{{"instances", &q.Instances}, {"cores", &q.Cores}, {"ram", &q.RAMMB}}
}

// QuotaUsage is what a project's servers that are not queued for delete hold. In an OpAdjust
// its values are the change (negative to release).
type QuotaUsage struct {
	ProjectID string
	QuotaSet
	UpdatedAt time.Time
	Revision  uint64
}

// QuotaLimit is a project's limits (Unlimited for none), or the defaults under DefaultQuotaKey.
type QuotaLimit struct {
	ProjectID string
	QuotaSet
	UpdatedAt time.Time
	Revision  uint64
}

// DefaultQuotaLimits are the limits of a project when neither it nor the defaults have a
// record: none, so that a cluster upgraded from a release without quotas keeps working until
// the operator sets them (README, Quotas).
var DefaultQuotaLimits = QuotaSet{Instances: Unlimited, Cores: Unlimited, RAMMB: Unlimited}

var (
	quotaUsageTable = &table{name: "quota_usage", kind: "quota_usages", bucket: []byte("quota_usages"), newRec: func() Record { return &QuotaUsage{} }}
	quotaLimitTable = &table{name: "quota_limit", kind: "quota_limits", bucket: []byte("quota_limits"), newRec: func() Record { return &QuotaLimit{} }}
)

func (u *QuotaUsage) Key() string      { return u.ProjectID }
func (u *QuotaUsage) rev() uint64      { return u.Revision }
func (l *QuotaLimit) Key() string      { return l.ProjectID }
func (l *QuotaLimit) rev() uint64      { return l.Revision }
func (q *QuotaSet) marshal(e *encoder) { e.varint(q.Instances); e.varint(q.Cores); e.varint(q.RAMMB) }
func (q *QuotaSet) unmarshal(d *decoder) {
	q.Instances, q.Cores, q.RAMMB = d.varint(), d.varint(), d.varint()
}

// Both quota records are stored as project, set, update time, revision.
func marshalQuota(e *encoder, project string, q *QuotaSet, updated time.Time, rev uint64) {
	e.str(project)
	q.marshal(e)
	e.timestamp(updated)
	e.uvarint(rev)
}

func unmarshalQuota(d *decoder, project *string, q *QuotaSet, updated *time.Time, rev *uint64) {
	*project = d.str()
	q.unmarshal(d)
	*updated, *rev = d.timestamp(), d.uvarint()
}

func (u *QuotaUsage) marshal(e *encoder) {
	marshalQuota(e, u.ProjectID, &u.QuotaSet, u.UpdatedAt, u.Revision)
}
func (u *QuotaUsage) unmarshal(d *decoder) {
	unmarshalQuota(d, &u.ProjectID, &u.QuotaSet, &u.UpdatedAt, &u.Revision)
}
func (u *QuotaUsage) stamp(ac *applyCtx, _ Record) { u.Revision, u.UpdatedAt = ac.index, ac.now }

func (l *QuotaLimit) marshal(e *encoder) {
	marshalQuota(e, l.ProjectID, &l.QuotaSet, l.UpdatedAt, l.Revision)
}
func (l *QuotaLimit) unmarshal(d *decoder) {
	unmarshalQuota(d, &l.ProjectID, &l.QuotaSet, &l.UpdatedAt, &l.Revision)
}
func (l *QuotaLimit) stamp(ac *applyCtx, _ Record) { l.Revision, l.UpdatedAt = ac.index, ac.now }

// validateQuotaKey checks a project id or DefaultQuotaKey.
func validateQuotaKey(field, key string) error {
	if key == DefaultQuotaKey {
		return nil
	}
	return validate.Name(field, key, true)
}

// validate checks a usage record or an adjustment: values within ±maxQuotaValue (a put of a
// usage also needs them non-negative: validateOpContent).
func (u *QuotaUsage) validate() error {
	if err := validate.Name("project_id", u.ProjectID, true); err != nil {
		return err
	}
	for _, r := range u.resources() {
		if *r.v > maxQuotaValue || *r.v < -maxQuotaValue {
			return fmt.Errorf("%s must be within ±%d", r.name, int64(maxQuotaValue))
		}
	}
	return nil
}

func (l *QuotaLimit) validate() error {
	if err := validateQuotaKey("project_id", l.ProjectID); err != nil {
		return err
	}
	for _, r := range l.resources() {
		if *r.v < Unlimited || *r.v > maxQuotaValue {
			return fmt.Errorf("%s must be -1 (unlimited) or 0 to %d", r.name, int64(maxQuotaValue))
		}
	}
	return nil
}

// effectiveLimits returns the limits of a project: its own record, else the defaults' record,
// else DefaultQuotaLimits.
func effectiveLimits(tx *bolt.Tx, project string) (QuotaSet, error) {
	for _, key := range []string{project, DefaultQuotaKey} {
		rec, err := quotaLimitTable.get(tx, key)
		if err != nil {
			return QuotaSet{}, err
		}
		if rec != nil {
			return rec.(*QuotaLimit).QuotaSet, nil
		}
	}
	return DefaultQuotaLimits, nil
}

// adjustUsage computes what an OpAdjust writes: the project's usage plus the change, each
// value at least 0. A change that raises a value over its limit fails the transaction with
// Nova's message; a release never fails.
func adjustUsage(ac *applyCtx, i int, op *Op, prev Record) (Record, *Result, error) {
	delta := op.Record.(*QuotaUsage)
	next := &QuotaUsage{ProjectID: delta.ProjectID}
	if prev != nil {
		next.QuotaSet = prev.(*QuotaUsage).QuotaSet
	}
	used := next.QuotaSet
	var limits QuotaSet
	claims := delta.Instances > 0 || delta.Cores > 0 || delta.RAMMB > 0
	if claims {
		var err error
		if limits, err = effectiveLimits(ac.tx, delta.ProjectID); err != nil {
			return nil, nil, err
		}
	}
	ds, ns, us, ls := delta.resources(), next.resources(), used.resources(), limits.resources()
	for j := range ns {
		d := *ds[j].v
		*ns[j].v = max(0, *ns[j].v+d)
		if lim := *ls[j].v; claims && !skipQuotaLimits && d > 0 && lim != Unlimited && *ns[j].v > lim {
			return nil, failResult(ac, i, "Quota exceeded for %s: Requested %d, but already used %d of %d %s: %w",
				ds[j].name, d, *us[j].v, lim, ds[j].name, ErrQuotaExceeded), nil
		}
	}
	return next, nil, nil
}

// QuotaUsage returns a project's usage (zero without a record).
func (r *Reader) QuotaUsage(project string) (*QuotaUsage, error) {
	rec, err := quotaUsageTable.get(r.tx, project)
	if err != nil || rec == nil {
		return &QuotaUsage{ProjectID: project}, err
	}
	return rec.(*QuotaUsage), nil
}

// QuotaLimits returns a project's effective limits and whether the project has its own record.
func (r *Reader) QuotaLimits(project string) (QuotaSet, bool, error) {
	rec, err := quotaLimitTable.get(r.tx, project)
	if err != nil {
		return QuotaSet{}, false, err
	}
	if rec != nil {
		return rec.(*QuotaLimit).QuotaSet, true, nil
	}
	q, err := effectiveLimits(r.tx, project)
	return q, false, err
}

// QuotaUsages returns every project's usage record, by project.
func (r *Reader) QuotaUsages() ([]*QuotaUsage, error) {
	return listAs[*QuotaUsage](r.tx, quotaUsageTable, nil)
}

// RecountUsage counts, per project, what its servers created through the API hold: every
// instance mapping not queued for delete that has a request spec counts one instance and its
// flavor's vcpus and RAM (servers only mapped, by map_instances or the mappings API, never
// claimed and are not counted).
func (r *Reader) RecountUsage() (map[string]QuotaSet, error) {
	out := map[string]QuotaSet{}
	err := instancesTable.scan(r.tx, "", func(rec Record) (bool, error) {
		m := rec.(*InstanceMapping)
		if m.QueuedForDelete {
			return true, nil
		}
		spec, err := requestSpecsTable.get(r.tx, m.InstanceUUID)
		if err != nil || spec == nil {
			return err == nil, err
		}
		fl := &spec.(*ServerRequest).Spec.Flavor
		q := out[m.ProjectID]
		q.Instances, q.Cores, q.RAMMB = q.Instances+1, q.Cores+fl.VCPUs, q.RAMMB+fl.RAMMB
		out[m.ProjectID] = q
		return true, nil
	})
	return out, err
}

// QuotaLimitRevision returns the revision of the key's own limits record (0 when it has none).
func (r *Reader) QuotaLimitRevision(key string) uint64 {
	if rec, err := quotaLimitTable.get(r.tx, key); err == nil && rec != nil {
		return rec.rev()
	}
	return 0
}
