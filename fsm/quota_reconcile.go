package fsm

import (
	"bytes"
	"sort"
)

// What the leader's quota reconciliation (cellproxy) reads of the state: the projects to
// check, a few at a time in a stable order, and the write that corrects a drifted usage (the
// same write as the operator's drift fix).

// ProjectsAfter returns up to n project ids greater than after, in order: every project that
// has instance mappings or a usage record. Each project costs one seek in the mappings'
// project index, however many servers it has.
func (r *Reader) ProjectsAfter(after string, n int) ([]string, error) {
	set := map[string]bool{}
	ix := &instancesTable.indexes[0]
	c := r.tx.Bucket(ix.bucket).Cursor()
	// The entries of project p lie in [p\x00, p\x01): seeking to p\x01 skips them all.
	seek := append([]byte(after), 1)
	if after == "" {
		seek = nil
	}
	for k, _ := c.Seek(seek); k != nil && len(set) < n; {
		p := bytes.Clone(k[:bytes.IndexByte(k, 0)])
		set[string(p)] = true
		k, _ = c.Seek(append(p, 1))
	}
	uc := r.tx.Bucket(quotaUsageTable.bucket).Cursor()
	var uk []byte
	if after == "" {
		uk, _ = uc.First()
	} else if uk, _ = uc.Seek([]byte(after)); uk != nil && string(uk) == after {
		uk, _ = uc.Next()
	}
	for i := 0; uk != nil && i < n; uk, _ = uc.Next() {
		set[string(uk)] = true
		i++
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// UsageFixOp is the write that replaces a project's recorded usage (nil or a record without
// revision: none) with counted, conditioned on the record read: a create or delete that came
// between fails it (ErrRevisionMismatch, or ErrConflict for a record that appeared).
func UsageFixOp(project string, recorded *QuotaUsage, counted QuotaSet) Op {
	var rev uint64
	if recorded != nil {
		rev = recorded.Revision
	}
	return Op{Kind: OpPut, Table: TableQuotaUsages, IfRevision: rev, IfAbsent: rev == 0,
		Record: &QuotaUsage{ProjectID: project, QuotaSet: counted}}
}

// ProjectUsage counts what one project's servers created through the API hold, as
// RecountUsage does for all of them, reading only that project's mappings.
func (r *Reader) ProjectUsage(project string) (QuotaSet, error) {
	var q QuotaSet
	ms, err := r.InstanceMappings(InstanceQuery{ProjectID: project, NotDeletedOnly: true})
	if err != nil {
		return q, err
	}
	for _, m := range ms {
		spec, err := requestSpecsTable.get(r.tx, m.InstanceUUID)
		if err != nil {
			return q, err
		}
		if spec == nil {
			continue
		}
		fl := &spec.(*ServerRequest).Spec.Flavor
		q.Instances, q.Cores, q.RAMMB = q.Instances+1, q.Cores+fl.VCPUs, q.RAMMB+fl.RAMMB
	}
	return q, nil
}
