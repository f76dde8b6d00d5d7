package conductor

import (
	"context"
	"errors"
	"testing"
)

// TestHostAndFlavorSizesAreBounded: host capacities and flavor sizes are held to Nova's
// integer columns (at most 2147483647 each). Without the bound two hosts of 2^62 vcpus were
// registered, and the capacity of the cell overflowed: free_vcpus and the number of servers
// that fit came out negative, so the API tier never scheduled into that cell.
func TestHostAndFlavorSizesAreBounded(t *testing.T) {
	db, _ := openTestDB(t)
	ctx := context.Background()
	for _, h := range []struct {
		name             string
		vcpus, ram, disk int64
	}{{"a", 1 << 62, 1 << 62, 1 << 62}, {"b", 1 << 62, 1 << 62, 1 << 62}, {"v", 1 << 31, 1, 0}, {"r", 1, 1 << 31, 0}, {"d", 1, 1, 1 << 31}} {
		if _, err := db.RegisterHost(ctx, host(h.name, h.vcpus, h.ram, h.disk)); !errors.Is(err, ErrInvalid) {
			t.Errorf("register host %s of %d vcpus, %d MB, %d GB: got %v, want %v", h.name, h.vcpus, h.ram, h.disk, err, ErrInvalid)
		}
	}
	if _, err := ParseHosts("big:4294967296:1024:10"); err == nil {
		t.Errorf("ParseHosts accepted a host of 2^32 vcpus")
	}
	one := flavor(1, 1, 0)
	capa, err := db.Capacity(ctx, &one)
	if err != nil || capa.FreeVCPUs < 0 || capa.Fits < 0 {
		t.Errorf("capacity after the refused hosts: %+v, %v", capa, err)
	}
	if _, err := db.RegisterHost(ctx, host("max", 1<<31-1, 1<<31-1, 1<<31-1)); err != nil {
		t.Fatalf("register a host at the bound: %v", err)
	}
	if _, _, err := db.CreateInstance(ctx, buildReq(1, flavor(1<<31, 1, 0))); !errors.Is(err, ErrInvalid) {
		t.Errorf("build a server of a flavor of 2^31 vcpus: got %v, want %v", err, ErrInvalid)
	}
	mustCreate(t, db, buildReq(2, flavor(1<<31-1, 1, 0)))
}
