package fsm

import (
	"errors"
	"testing"
)

const (
	agg1 = "a0000000-0000-4000-8000-000000000001"
	agg2 = "a0000000-0000-4000-8000-000000000002"
	agg3 = "a0000000-0000-4000-8000-000000000003"
)

func putAggregate(id, name, zone string, hosts ...string) *Txn {
	a := &Aggregate{ID: id, Name: name, Hosts: hosts}
	if zone != "" {
		a.Metadata = map[string]string{ZoneKey: zone}
	}
	return &Txn{Ops: []Op{{Kind: OpPut, Table: TableAggregates, Record: a}}}
}

// TestAggregateRules: hosts must be mapped, names unique, a host in at most one zone (two
// aggregates of one zone may share it, an aggregate without a zone may hold any host); a
// refused write changes nothing; deleting a host mapping, or a cell with --force, takes the
// host out of every aggregate.
func TestAggregateRules(t *testing.T) {
	f := newTestFSM(t)
	f.mustApply(createCell(cellA, "a", "rabbit://a", "mysql://a"))
	for _, h := range []string{"h1", "h2", "h3"} {
		f.mustApply(putHost(h, cellA))
	}
	steps := []struct {
		name string
		txn  *Txn
		want error
	}{
		{"zone z1", putAggregate(agg1, "rack1", "z1", "h1", "h2"), nil},
		{"unmapped host", putAggregate(agg2, "rack2", "z2", "h9"), ErrNotFound},
		{"same name", putAggregate(agg2, "rack1", "", "h3"), ErrExists},
		{"h2 in another zone", putAggregate(agg2, "rack2", "z2", "h2", "h3"), ErrZoneConflict},
		{"h2 again in z1", putAggregate(agg2, "rack2", "z1", "h2", "h3"), nil},
		{"no zone, any host", putAggregate(agg3, "ssd", "", "h1", "h3"), nil},
		{"moving rack1 to z2 while rack2 holds h2 in z1", putAggregate(agg1, "rack1", "z2", "h1", "h2"), ErrZoneConflict},
	}
	for _, st := range steps {
		before := f.checksum()
		res := f.apply(st.txn)
		if !errors.Is(res.Err, st.want) || (st.want == nil && res.Err != nil) {
			t.Fatalf("%s: got %v, want %v", st.name, res.Err, st.want)
		}
		if st.want != nil && f.checksum() != before {
			t.Fatalf("%s: a refused write changed the state", st.name)
		}
	}
	for _, bad := range []*Txn{putAggregate(agg3, "ssd", "", "h3", "h1"), putAggregate(agg3, "ssd", "", "h1", "h1"),
		putAggregate("not-a-uuid", "x", ""), putAggregate(agg3, "", "")} {
		if err := bad.Validate(); !errors.Is(err, ErrInvalid) {
			t.Fatalf("%+v: %v, want invalid", bad.Ops[0].Record, err)
		}
	}
	f.mustApply(&Txn{Ops: []Op{{Kind: OpDelete, Table: TableHostMappings, Key: "h1"}}})
	f.mustApply(&DeleteCell{UUID: cellA, Force: true, NoLiveInstances: true})
	f.read(func(r *Reader) error {
		aggs, err := r.Aggregates()
		if err != nil || len(aggs) != 3 {
			t.Fatalf("aggregates %v (%v)", aggs, err)
		}
		for _, a := range aggs {
			if len(a.Hosts) != 0 {
				t.Fatalf("aggregate %s still holds %v after its hosts were unmapped", a.Name, a.Hosts)
			}
		}
		return nil
	})
}
