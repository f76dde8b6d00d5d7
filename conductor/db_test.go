package conductor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	bolt "go.etcd.io/bbolt"
)

func TestPickHost(t *testing.T) {
	h := func(name string, freeV, freeR, freeD int64, disabled ...bool) api.ComputeHost {
		return api.ComputeHost{Name: name, VCPUs: 100, RAMMB: 100000, DiskGB: 1000,
			UsedVCPUs: 100 - freeV, UsedRAMMB: 100000 - freeR, UsedDiskGB: 1000 - freeD, Disabled: len(disabled) > 0}
	}
	tests := []struct {
		name  string
		hosts []api.ComputeHost
		f     api.Flavor
		want  int
		only  []string
		not   []string
	}{
		{"most free ram", []api.ComputeHost{h("a", 8, 1000, 10), h("b", 8, 3000, 10), h("c", 8, 2000, 10)}, flavor(1, 512, 1), 1, nil, nil},
		{"ties to first name", []api.ComputeHost{h("a", 8, 3000, 10), h("b", 8, 3000, 10)}, flavor(1, 512, 1), 0, nil, nil},
		{"skips too few vcpus", []api.ComputeHost{h("a", 1, 9000, 10), h("b", 4, 1000, 10)}, flavor(2, 512, 1), 1, nil, nil},
		{"skips too little disk", []api.ComputeHost{h("a", 8, 9000, 0), h("b", 8, 1000, 10)}, flavor(1, 512, 1), 1, nil, nil},
		{"zero disk flavor fits a full disk", []api.ComputeHost{h("a", 8, 9000, 0)}, flavor(1, 512, 0), 0, nil, nil},
		{"exact fit", []api.ComputeHost{h("a", 2, 512, 1)}, flavor(2, 512, 1), 0, nil, nil},
		{"skips disabled", []api.ComputeHost{h("a", 8, 9000, 10, true), h("b", 8, 1000, 10)}, flavor(1, 512, 1), 1, nil, nil},
		{"none fits", []api.ComputeHost{h("a", 8, 256, 10)}, flavor(1, 512, 1), -1, nil, nil},
		{"no hosts", nil, flavor(1, 512, 1), -1, nil, nil},
		{"only the allowed", []api.ComputeHost{h("a", 8, 1000, 10), h("b", 8, 3000, 10)}, flavor(1, 512, 1), 0, []string{"a"}, nil},
		{"not the excluded", []api.ComputeHost{h("a", 8, 1000, 10), h("b", 8, 3000, 10)}, flavor(1, 512, 1), 0, nil, []string{"b"}},
		{"allowed but excluded", []api.ComputeHost{h("a", 8, 1000, 10), h("b", 8, 3000, 10)}, flavor(1, 512, 1), -1, []string{"b"}, []string{"b"}},
		{"allowed but full", []api.ComputeHost{h("a", 8, 100, 10), h("b", 8, 3000, 10)}, flavor(1, 512, 1), -1, []string{"a"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pickHost(tc.hosts, tc.f, hostFilter(tc.only, tc.not)); got != tc.want {
				t.Fatalf("got host %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCreateClaimsOnTheRoomiestHost(t *testing.T) {
	db, _ := openTestDB(t, host("h1", 4, 4096, 100), host("h2", 8, 8192, 100), host("h3", 8, 8192, 100))
	// h2 and h3 tie on free RAM: h2 by name. Then h3 has the most free RAM.
	for i, want := range []string{"h2", "h3", "h2", "h3"} {
		inst := mustCreate(t, db, buildReq(i, flavor(2, 2048, 10)))
		if inst.Host != want {
			t.Fatalf("instance %d: got host %s, want %s", i, inst.Host, want)
		}
		if inst.Status != api.StatusActive || inst.VMState != "active" || inst.Deleted {
			t.Fatalf("instance %d: got status %s vm_state %s deleted %v, want ACTIVE active false", i, inst.Status, inst.VMState, inst.Deleted)
		}
	}
	h2 := mustHost(t, db, "h2")
	if h2.UsedVCPUs != 4 || h2.UsedRAMMB != 4096 || h2.UsedDiskGB != 20 {
		t.Fatalf("h2 used: got %d/%d/%d, want 4/4096/20", h2.UsedVCPUs, h2.UsedRAMMB, h2.UsedDiskGB)
	}
}

func TestCreateStampsTimes(t *testing.T) {
	db, _ := openTestDB(t, host("h1", 8, 8192, 100))
	req := buildReq(1, flavor(1, 512, 1))
	inst := mustCreate(t, db, req)
	if !inst.CreatedAt.Equal(req.CreatedAt) || !inst.UpdatedAt.After(t0) {
		t.Fatalf("got created_at %v updated_at %v, want the request's created_at and now", inst.CreatedAt, inst.UpdatedAt)
	}
	req = buildReq(2, flavor(1, 512, 1))
	req.CreatedAt = req.CreatedAt.In(time.FixedZone("UTC+5", 5*3600))
	if inst := mustCreate(t, db, req); inst.CreatedAt.Location() != time.UTC || !inst.CreatedAt.Equal(req.CreatedAt) {
		t.Fatalf("got created_at %v, want %v in UTC", inst.CreatedAt, req.CreatedAt)
	}
	req = buildReq(3, flavor(1, 512, 1))
	req.CreatedAt = time.Time{}
	if inst := mustCreate(t, db, req); !inst.CreatedAt.Equal(inst.UpdatedAt) {
		t.Fatalf("zero created_at: got created_at %v updated_at %v, want both now", inst.CreatedAt, inst.UpdatedAt)
	}
}

func TestCreateNoValidHostWritesNothing(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, host("h1", 4, 4096, 100), host("h2", 2, 8192, 10))
	before, _ := db.Capacity(ctx, nil)
	for _, f := range []api.Flavor{flavor(8, 512, 1), flavor(1, 16384, 1), flavor(1, 512, 1000), flavor(4, 8192, 1)} {
		_, _, err := db.CreateInstance(ctx, buildReq(1, f))
		if !errors.Is(err, ErrNoValidHost) {
			t.Fatalf("flavor %+v: got %v, want ErrNoValidHost", f, err)
		}
	}
	if _, err := db.Instance(ctx, testUUID(1), api.DeletedYes); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want the refused instance not written", err)
	}
	after, _ := db.Capacity(ctx, nil)
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("capacity changed by a refused create: got %+v, want %+v", after, before)
	}
	if st, _ := db.Stats(ctx); st.Instances != 0 {
		t.Fatalf("got %d instances, want 0", st.Instances)
	}
}

func TestDeleteFreesCapacity(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, host("h1", 4, 4096, 100))
	f := flavor(4, 4096, 100)
	inst := mustCreate(t, db, buildReq(1, f))
	if _, _, err := db.CreateInstance(ctx, buildReq(2, f)); !errors.Is(err, ErrNoValidHost) {
		t.Fatalf("full host: got %v, want ErrNoValidHost", err)
	}
	del, err := db.DeleteInstance(ctx, inst.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if !del.Deleted || del.DeletedAt == nil || del.Status != api.StatusDeleted || del.VMState != "deleted" || !del.UpdatedAt.After(inst.UpdatedAt) {
		t.Fatalf("got %+v, want a soft-deleted record with deleted_at and a newer updated_at", del)
	}
	if h := mustHost(t, db, "h1"); h.UsedVCPUs != 0 || h.UsedRAMMB != 0 || h.UsedDiskGB != 0 {
		t.Fatalf("used after delete: got %d/%d/%d, want 0/0/0", h.UsedVCPUs, h.UsedRAMMB, h.UsedDiskGB)
	}
	mustCreate(t, db, buildReq(2, f))
	for _, uuid := range []string{inst.UUID, testUUID(99)} {
		if _, err := db.DeleteInstance(ctx, uuid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete %s: got %v, want ErrNotFound", uuid, err)
		}
	}
	if _, err := db.Instance(ctx, inst.UUID, api.DeletedNo); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get deleted without deleted=yes: got %v, want ErrNotFound", err)
	}
	got, err := db.Instance(ctx, inst.UUID, api.DeletedYes)
	if err != nil || !reflect.DeepEqual(got, del) {
		t.Fatalf("get deleted with deleted=yes: got %+v, %v, want %+v", got, err, del)
	}
	if _, err := db.Instance(ctx, testUUID(2), api.DeletedOnly); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get live with deleted=only: got %v, want ErrNotFound", err)
	}
	if st, _ := db.Stats(ctx); st.Instances != 1 || st.DeletedInstances != 1 || st.ComputeHosts != 1 {
		t.Fatalf("stats: got %+v, want 1 instance, 1 deleted, 1 host", st)
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, host("h1", 8, 8192, 100))
	first := mustCreate(t, db, buildReq(1, flavor(2, 1024, 10)))
	retry := buildReq(1, flavor(2, 1024, 10))
	retry.Name = "changed"
	got, created, err := db.CreateInstance(ctx, retry)
	if err != nil || created || !reflect.DeepEqual(got, first) {
		t.Fatalf("retry: got %+v created=%v err=%v, want the first record, not created", got, created, err)
	}
	if h := mustHost(t, db, "h1"); h.UsedVCPUs != 2 {
		t.Fatalf("used vcpus after a retry: got %d, want 2 (claimed once)", h.UsedVCPUs)
	}
	upper := buildReq(1, flavor(2, 1024, 10))
	upper.UUID = "00000000-0000-4000-8000-00000000000A"
	mustCreate(t, db, upper)
	if got, created, _ = db.CreateInstance(ctx, upper); created || got.UUID != "00000000-0000-4000-8000-00000000000a" {
		t.Fatalf("upper-case uuid retry: got %s created=%v, want the lower-cased record", got.UUID, created)
	}
	if _, err := db.DeleteInstance(ctx, first.UUID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateInstance(ctx, retry); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("create over a deleted uuid: got %v, want ErrAlreadyExists", err)
	}
}

func TestCreateRejectsBadRequests(t *testing.T) {
	db, _ := openTestDB(t, host("h1", 8, 8192, 100))
	long := string(make([]byte, 256))
	tests := []struct {
		name string
		mod  func(*api.InstanceCreate)
	}{
		{"bad uuid", func(r *api.InstanceCreate) { r.UUID = "nope" }},
		{"uuid without dashes", func(r *api.InstanceCreate) { r.UUID = "00000000000040008000000000000001abcd" }},
		{"no project", func(r *api.InstanceCreate) { r.ProjectID = "" }},
		{"long name", func(r *api.InstanceCreate) { r.Name = long }},
		{"control character", func(r *api.InstanceCreate) { r.Name = "a\nb" }},
		{"zero vcpus", func(r *api.InstanceCreate) { r.Flavor.VCPUs = 0 }},
		{"zero ram", func(r *api.InstanceCreate) { r.Flavor.RAMMB = 0 }},
		{"negative disk", func(r *api.InstanceCreate) { r.Flavor.DiskGB = -1 }},
		{"empty metadata key", func(r *api.InstanceCreate) { r.Metadata = map[string]string{"": "v"} }},
		{"created_at out of range", func(r *api.InstanceCreate) { r.CreatedAt = r.CreatedAt.AddDate(500, 0, 0) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := buildReq(1, flavor(1, 512, 1))
			tc.mod(&req)
			if _, _, err := db.CreateInstance(context.Background(), req); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	db, path := openTestDB(t, host("h1", 8, 8192, 100), host("h2", 8, 8192, 100))
	for i := 0; i < 5; i++ {
		mustCreate(t, db, buildReq(i, flavor(1, 1024, 10)))
	}
	if _, err := db.DeleteInstance(ctx, testUUID(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetHostMapped(ctx, "h1", true); err != nil {
		t.Fatal(err)
	}
	q := ListQuery{Deleted: api.DeletedYes}
	wantList, _ := db.ListInstances(ctx, q)
	wantCap, _ := db.Capacity(ctx, nil)
	wantStats, _ := db.Stats(ctx)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = reopenTestDB(t, path)
	gotList, err := db.ListInstances(ctx, q)
	if err != nil || !reflect.DeepEqual(gotList, wantList) {
		t.Fatalf("instances after reopen: got %d rows (%v), want %d equal rows", len(gotList), err, len(wantList))
	}
	if gotCap, _ := db.Capacity(ctx, nil); !reflect.DeepEqual(gotCap, wantCap) {
		t.Fatalf("capacity after reopen: got %+v, want %+v", gotCap, wantCap)
	}
	if gotStats, _ := db.Stats(ctx); gotStats != wantStats {
		t.Fatalf("stats after reopen: got %+v, want %+v", gotStats, wantStats)
	}
}

func TestEnsureHostsAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	hosts := []api.ComputeHostCreate{host("h1", 8, 8192, 100), host("h2", 4, 4096, 50)}
	db, path := openTestDB(t, hosts...)
	mustCreate(t, db, buildReq(1, flavor(2, 2048, 10)))
	if _, err := db.SetHostMapped(ctx, "h1", true); err != nil {
		t.Fatal(err)
	}
	before := mustHost(t, db, "h1")
	db.Close()

	db = reopenTestDB(t, path)
	if added, err := db.EnsureHosts(ctx, hosts); err != nil || added != 0 {
		t.Fatalf("same hosts again: got added=%d err=%v, want 0, nil", added, err)
	}
	if got := mustHost(t, db, "h1"); !reflect.DeepEqual(got, before) {
		t.Fatalf("h1 after restart: got %+v, want %+v", got, before)
	}
	grown := []api.ComputeHostCreate{host("h1", 16, 16384, 200), host("h3", 2, 2048, 20)}
	if added, err := db.EnsureHosts(ctx, grown); err != nil || added != 1 {
		t.Fatalf("grown hosts: got added=%d err=%v, want 1, nil", added, err)
	}
	got := mustHost(t, db, "h1")
	want := before
	want.VCPUs, want.RAMMB, want.DiskGB = 16, 16384, 200
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resized h1: got %+v, want %+v (used, mapped and created_at kept)", got, want)
	}
	if st, _ := db.Stats(ctx); st.ComputeHosts != 3 {
		t.Fatalf("got %d hosts, want 3", st.ComputeHosts)
	}
}

func TestComputeHosts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, host("h2", 8, 8192, 100))
	h, err := db.RegisterHost(ctx, host("h1", 4, 4096, 0))
	if err != nil || h.Name != "h1" || h.Mapped || h.CreatedAt.IsZero() {
		t.Fatalf("register: got %+v, %v, want unmapped h1 with created_at", h, err)
	}
	if _, err := db.RegisterHost(ctx, host("h1", 4, 4096, 0)); !errors.Is(err, ErrAlreadyExists) {
		t.Fatalf("register twice: got %v, want ErrAlreadyExists", err)
	}
	for _, bad := range []api.ComputeHostCreate{host("", 1, 1, 1), host("a/b", 1, 1, 1), host("x", 0, 1, 1), host("x", 1, 0, 1), host("x", 1, 1, -1)} {
		if _, err := db.RegisterHost(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Fatalf("register %+v: got %v, want ErrInvalid", bad, err)
		}
	}
	if h, err := db.SetHostMapped(ctx, "h2", true); err != nil || !h.Mapped {
		t.Fatalf("set mapped: got %+v, %v, want mapped", h, err)
	}
	if _, err := db.SetHostMapped(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("set mapped on an unknown host: got %v, want ErrNotFound", err)
	}
	yes, no := true, false
	for _, tc := range []struct {
		mapped *bool
		want   []string
	}{{nil, []string{"h1", "h2"}}, {&no, []string{"h1"}}, {&yes, []string{"h2"}}} {
		hosts, err := db.ComputeHosts(ctx, tc.mapped)
		if err != nil {
			t.Fatal(err)
		}
		if got := hostNames(hosts); !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("mapped=%v: got %v, want %v", tc.mapped, got, tc.want)
		}
	}
	svcs, err := db.Services(ctx)
	want := []api.Service{{Host: "h1", Binary: "nova-compute"}, {Host: "h2", Binary: "nova-compute"}}
	if err != nil || !reflect.DeepEqual(svcs, want) {
		t.Fatalf("services: got %+v, %v, want %+v", svcs, err, want)
	}
}

func hostNames(hosts []api.ComputeHost) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

// disableHost sets a host's disabled flag directly: the API has no call for it.
func disableHost(t *testing.T, db *DB, name string) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var h api.ComputeHost
		if _, err := getJSON(tx.Bucket(bucketHosts), []byte(name), &h); err != nil {
			return err
		}
		h.Disabled = true
		return putJSON(tx.Bucket(bucketHosts), []byte(name), &h)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCapacity(t *testing.T) {
	ctx := context.Background()
	db, _ := openTestDB(t, host("h1", 8, 8192, 100), host("h2", 4, 16384, 40), host("h3", 64, 65536, 1000))
	mustCreate(t, db, buildReq(1, flavor(2, 2048, 10))) // lands on h3 (most free RAM)
	disableHost(t, db, "h3")
	if _, err := db.SetHostMapped(ctx, "h1", true); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		size *api.Flavor
		fits int64
	}{
		{"no size", nil, 0},
		{"ram bound", &api.Flavor{VCPUs: 1, RAMMB: 4096, DiskGB: 1}, 2 + 4},
		{"vcpu bound", &api.Flavor{VCPUs: 4, RAMMB: 1024}, 2 + 1},
		{"disk bound", &api.Flavor{VCPUs: 1, RAMMB: 1, DiskGB: 30}, 3 + 1},
		{"too big", &api.Flavor{VCPUs: 9, RAMMB: 1}, 0},
		{"disk only", &api.Flavor{DiskGB: 50}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := db.Capacity(ctx, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if c.Fits != tc.fits {
				t.Fatalf("fits: got %d, want %d", c.Fits, tc.fits)
			}
			if c.FreeVCPUs != 12 || c.FreeRAMMB != 24576 || c.FreeDiskGB != 140 {
				t.Fatalf("free totals: got %d/%d/%d, want 12/24576/140 (disabled h3 left out)", c.FreeVCPUs, c.FreeRAMMB, c.FreeDiskGB)
			}
			if len(c.Hosts) != 3 || c.MappedHosts != 1 || c.UnmappedHosts != 2 {
				t.Fatalf("hosts: got %d hosts, %d mapped, %d unmapped, want 3, 1, 2", len(c.Hosts), c.MappedHosts, c.UnmappedHosts)
			}
			if h3 := c.Hosts[2]; h3.UsedVCPUs != 2 || !h3.Disabled {
				t.Fatalf("h3: got %+v, want 2 used vcpus and disabled", h3)
			}
		})
	}
}

func TestDisabledHostIsNotChosen(t *testing.T) {
	db, _ := openTestDB(t, host("h1", 8, 4096, 100), host("h2", 8, 8192, 100))
	disableHost(t, db, "h2")
	if inst := mustCreate(t, db, buildReq(1, flavor(1, 512, 1))); inst.Host != "h1" {
		t.Fatalf("got host %s, want h1 (h2 disabled)", inst.Host)
	}
}

// TestProjectIndexBuiltForOldDatabases: a cell database made before the project index existed
// gets it built when opened, and project listings answer from it.
func TestProjectIndexBuiltForOldDatabases(t *testing.T) {
	ctx := context.Background()
	db, path := openTestDB(t, host("h1", 64, 1<<20, 10000))
	for i := 0; i < 12; i++ {
		req := buildReq(i, flavor(1, 256, 1))
		req.ProjectID = fmt.Sprintf("proj%d", i%3)
		mustCreate(t, db, req)
	}
	if _, err := db.DeleteInstance(ctx, testUUID(1)); err != nil {
		t.Fatal(err)
	}
	q := ListQuery{ProjectID: "proj1", Deleted: api.DeletedYes, Limit: MaxListLimit}
	want, err := db.ListInstances(ctx, q)
	if err != nil || len(want) != 4 {
		t.Fatalf("project listing before: %d rows, %v", len(want), err)
	}
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketProject) }); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = reopenTestDB(t, path)
	got, err := db.ListInstances(ctx, q)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("project listing after rebuilding the index: got %d rows (%v), want %d equal rows", len(got), err, len(want))
	}
}
