package fsm

import (
	"errors"
	"maps"
	"slices"
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

// TestAggregateEdits: the edits the HTTP and compute APIs share keep the hosts sorted and
// unique, refuse a host twice (ErrExists) or a missing one (ErrNotFound), merge metadata with
// "" removing a key, and never change the aggregate they were cloned from.
func TestAggregateEdits(t *testing.T) {
	orig := &Aggregate{ID: agg1, Name: "a", Hosts: []string{"h1", "h3"}, Metadata: map[string]string{ZoneKey: "az1", "ssd": "1"}}
	for _, tc := range []struct {
		name      string
		edit      func(a *Aggregate) error
		hosts     []string
		metadata  map[string]string
		wantError error
	}{
		{"add keeps order", func(a *Aggregate) error { return a.AddHost("h2") }, []string{"h1", "h2", "h3"}, orig.Metadata, nil},
		{"add at the end", func(a *Aggregate) error { return a.AddHost("h9") }, []string{"h1", "h3", "h9"}, orig.Metadata, nil},
		{"add twice", func(a *Aggregate) error { return a.AddHost("h3") }, orig.Hosts, orig.Metadata, ErrExists},
		{"remove", func(a *Aggregate) error { return a.RemoveHost("h1") }, []string{"h3"}, orig.Metadata, nil},
		{"remove missing", func(a *Aggregate) error { return a.RemoveHost("h2") }, orig.Hosts, orig.Metadata, ErrNotFound},
		{"metadata merge", func(a *Aggregate) error {
			a.SetMetadata(map[string]string{"ssd": "", "gpu": "yes", "nope": ""})
			return nil
		}, orig.Hosts, map[string]string{ZoneKey: "az1", "gpu": "yes"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := orig.Clone()
			if err := tc.edit(a); !errors.Is(err, tc.wantError) || (err == nil) != (tc.wantError == nil) {
				t.Fatalf("error %v, want %v", err, tc.wantError)
			}
			if !slices.Equal(a.Hosts, tc.hosts) || !maps.Equal(a.Metadata, tc.metadata) {
				t.Fatalf("hosts %v metadata %v, want %v %v", a.Hosts, a.Metadata, tc.hosts, tc.metadata)
			}
			if !slices.Equal(orig.Hosts, []string{"h1", "h3"}) || len(orig.Metadata) != 2 {
				t.Fatalf("the original changed: %+v", orig)
			}
		})
	}
	empty := &Aggregate{ID: agg2, Name: "e"}
	empty.SetMetadata(map[string]string{"k": "v"})
	if empty.Metadata["k"] != "v" {
		t.Fatalf("metadata on an aggregate without any: %v", empty.Metadata)
	}
}
