package fsm

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func adjust(project string, instances, cores, ram int64) Op {
	return Op{Kind: OpAdjust, Table: TableQuotaUsages, Record: &QuotaUsage{ProjectID: project, QuotaSet: QuotaSet{instances, cores, ram}}}
}

func putLimits(key string, instances, cores, ram int64) *Txn {
	return &Txn{Ops: []Op{{Kind: OpPut, Table: TableQuotaLimits, Record: &QuotaLimit{ProjectID: key, QuotaSet: QuotaSet{instances, cores, ram}}}}}
}

// TestQuotaAdjust applies claims and releases in order: a claim over any limit fails with
// Nova's message and changes nothing; a release never fails and never goes below zero; a
// project's own limits override the defaults, which override unlimited.
func TestQuotaAdjust(t *testing.T) {
	f := newTestFSM(t)
	steps := []struct {
		name    string
		txn     *Txn
		want    error
		msg     string
		usage   QuotaSet // of p1 after the step
		project string
	}{
		{name: "no limits: anything goes", txn: &Txn{Ops: []Op{adjust("p1", 50, 100, 1<<20)}}, usage: QuotaSet{50, 100, 1 << 20}},
		{name: "release to zero", txn: &Txn{Ops: []Op{adjust("p1", -50, -100, -(1 << 20))}}, usage: QuotaSet{}},
		{name: "defaults", txn: putLimits(DefaultQuotaKey, 2, 4, 1024)},
		{name: "first", txn: &Txn{Ops: []Op{adjust("p1", 1, 2, 512)}}, usage: QuotaSet{1, 2, 512}},
		{name: "second, up to the limit", txn: &Txn{Ops: []Op{adjust("p1", 1, 2, 512)}}, usage: QuotaSet{2, 4, 1024}},
		{name: "third is over", txn: &Txn{Ops: []Op{adjust("p1", 1, 1, 1)}}, want: ErrQuotaExceeded,
			msg: "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances", usage: QuotaSet{2, 4, 1024}},
		{name: "ram over alone", txn: &Txn{Ops: []Op{adjust("p1", -1, -2, 1)}}, want: ErrQuotaExceeded, msg: "ram", usage: QuotaSet{2, 4, 1024}},
		{name: "a failing claim rolls back the transaction", txn: &Txn{Ops: []Op{
			{Kind: OpPut, Table: TableQuotaLimits, Record: &QuotaLimit{ProjectID: "p9", QuotaSet: QuotaSet{1, 1, 1}}},
			adjust("p1", 1, 0, 0)}}, want: ErrQuotaExceeded, usage: QuotaSet{2, 4, 1024}},
		{name: "own limits override the defaults", txn: putLimits("p1", 3, Unlimited, Unlimited), usage: QuotaSet{2, 4, 1024}},
		{name: "now fits", txn: &Txn{Ops: []Op{adjust("p1", 1, 100, 100)}}, usage: QuotaSet{3, 104, 1124}},
		{name: "release below zero stops at zero", txn: &Txn{Ops: []Op{adjust("p1", -10, -200, -2000)}}, usage: QuotaSet{}},
		{name: "another project gets the defaults", txn: &Txn{Ops: []Op{adjust("p2", 3, 1, 1)}}, want: ErrQuotaExceeded, usage: QuotaSet{}},
	}
	for _, st := range steps {
		before := f.checksum()
		res := f.apply(st.txn)
		if !errors.Is(res.Err, st.want) || (st.want == nil && res.Err != nil) {
			t.Fatalf("%s: got %v, want %v", st.name, res.Err, st.want)
		}
		if st.want != nil && (f.checksum() != before || !strings.Contains(res.Err.Error(), st.msg)) {
			t.Fatalf("%s: %v (state changed: %v)", st.name, res.Err, f.checksum() != before)
		}
		f.read(func(r *Reader) error {
			u, err := r.QuotaUsage("p1")
			if err != nil || u.QuotaSet != st.usage {
				t.Fatalf("%s: usage %+v (%v), want %+v", st.name, u.QuotaSet, err, st.usage)
			}
			return nil
		})
	}
	f.read(func(r *Reader) error {
		if q, own, err := r.QuotaLimits("p2"); err != nil || own || q != (QuotaSet{2, 4, 1024}) {
			t.Fatalf("p2 limits %+v own %v (%v), want the defaults", q, own, err)
		}
		return nil
	})
}

// TestQuotaOpsValidate: adjust only on quota_usage, without preconditions; limits -1 or more;
// a put of a usage is never negative; quota transactions are log version 3.
func TestQuotaOpsValidate(t *testing.T) {
	bad := []*Txn{
		{Ops: []Op{{Kind: OpAdjust, Table: TableInstanceMappings, Record: &InstanceMapping{InstanceUUID: inst1, ProjectID: "p"}}}},
		{Ops: []Op{{Kind: OpAdjust, Table: TableQuotaUsages, Record: &QuotaUsage{ProjectID: "p"}, IfAbsent: true}}},
		{Ops: []Op{{Kind: OpAdjust, Table: TableQuotaUsages, Key: "p"}}},
		putLimits("p", -2, 0, 0),
		putLimits("p\x01", 1, 1, 1),
		{Ops: []Op{{Kind: OpPut, Table: TableQuotaUsages, Record: &QuotaUsage{ProjectID: "p", QuotaSet: QuotaSet{-1, 0, 0}}}}},
		{Ops: []Op{adjust("p", 1<<51, 0, 0)}},
	}
	for i, txn := range bad {
		if err := txn.Validate(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("case %d: %v, want ErrInvalid", i, err)
		}
	}
	if err := putLimits(DefaultQuotaKey, Unlimited, 0, 10).Validate(); err != nil {
		t.Fatal(err)
	}
	if v := Version(&Txn{Ops: []Op{adjust("p", 1, 1, 1)}}); v != 3 {
		t.Fatalf("version %d, want 3", v)
	}
}

// TestProjectsAfter: the projects to reconcile are the union of the projects with mappings and
// those with a usage record, in order, n at a time after a cursor, each once however many
// servers it has.
func TestProjectsAfter(t *testing.T) {
	f := newTestFSM(t)
	var ops []Op
	for i, p := range []string{"b", "b", "b", "d", "a"} {
		ops = append(ops, Op{Kind: OpPut, Table: TableInstanceMappings,
			Record: &InstanceMapping{InstanceUUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), ProjectID: p}})
	}
	ops = append(ops, adjust("c", 1, 1, 1), adjust("b", 1, 1, 1), adjust("e", 0, 0, 0))
	if res := f.apply(&Txn{Ops: ops}); res.Err != nil {
		t.Fatal(res.Err)
	}
	for _, tc := range []struct {
		after string
		n     int
		want  []string
	}{
		{"", 10, []string{"a", "b", "c", "d", "e"}},
		{"", 2, []string{"a", "b"}},
		{"b", 2, []string{"c", "d"}},
		{"a", 1, []string{"b"}},
		{"d", 5, []string{"e"}},
		{"e", 5, []string{}},
		{"bb", 5, []string{"c", "d", "e"}},
	} {
		f.read(func(r *Reader) error {
			got, err := r.ProjectsAfter(tc.after, tc.n)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ProjectsAfter(%q, %d) = %v (%v), want %v", tc.after, tc.n, got, err, tc.want)
			}
			return nil
		})
	}
}
