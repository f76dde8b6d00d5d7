package main

import (
	"reflect"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func TestFlavors(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	create := func(id string, extra ...string) result {
		args := append([]string{"flavor", "create", "--id", id, "--name", "m1." + id, "--vcpus", "2", "--ram-mb", "2048", "--disk-gb", "20"}, extra...)
		return ctl(t, n, args...)
	}

	r := create("small", "--extra-spec", "hw:cpu_policy=dedicated", "--extra-spec", "quota:disk=1=2")
	r.want(t, exitOK)
	show := map[string]string{}
	for _, row := range tableRows(t, r.stdout) {
		show[row[0]] = row[1]
	}
	if want := map[string]string{"ID": "small", "Name": "m1.small", "VCPUs": "2", "RAM (MB)": "2048", "Disk (GB)": "20",
		"Extra Specs": "hw:cpu_policy=dedicated, quota:disk=1=2"}; !reflect.DeepEqual(show, want) {
		t.Fatalf("created: got %q, want %q", show, want)
	}
	create("big").want(t, exitOK)

	tests := []struct {
		name string
		r    func() result
		code int
		want string
	}{
		{"create a duplicate", func() result { return create("small") }, exitFlavorFailed, "Flavor small already exists.\n"},
		{"create invalid", func() result {
			return ctl(t, n, "flavor", "create", "--id", "zero", "--name", "z", "--vcpus", "0", "--ram-mb", "1", "--disk-gb", "0")
		}, exitFlavorFailed, "Invalid flavor: a flavor needs vcpus >= 1, ram_mb >= 1 and disk_gb >= 0\n"},
		{"show unknown", func() result { return ctl(t, n, "flavor", "show", "nope") }, exitFlavorFailed, "Flavor nope not found.\n"},
		{"delete", func() result { return ctl(t, n, "flavor", "delete", "big") }, exitOK, "Flavor big deleted.\n"},
		{"delete again", func() result { return ctl(t, n, "flavor", "delete", "big") }, exitFlavorFailed, "Flavor big not found.\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.r().wantExact(t, tc.code, tc.want) })
	}

	create("a-tiny").want(t, exitOK)
	r = ctl(t, n, "flavor", "list")
	r.want(t, exitOK)
	if got, want := tableHeader(t, r.stdout), []string{"ID", "Name", "VCPUs", "RAM (MB)", "Disk (GB)", "Extra Specs"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("header: got %q, want %q", got, want)
	}
	want := [][]string{
		{"a-tiny", "m1.a-tiny", "2", "2048", "20", ""},
		{"small", "m1.small", "2", "2048", "20", "hw:cpu_policy=dedicated, quota:disk=1=2"},
	}
	if got := tableRows(t, r.stdout); !reflect.DeepEqual(got, want) {
		t.Fatalf("list:\ngot  %q\nwant %q", got, want)
	}

	var list api.FlavorList
	decodeJSON(t, ctl(t, n, "--format", "json", "flavor", "list"), &list)
	if len(list.Flavors) != 2 || list.Flavors[0].ID != "a-tiny" || list.Flavors[1].ExtraSpecs["hw:cpu_policy"] != "dedicated" {
		t.Fatalf("json list: got %+v", list)
	}
	var fl api.Flavor
	decodeJSON(t, ctl(t, n, "flavor", "show", "small", "--format", "json"), &fl)
	if fl.ID != "small" || fl.RAMMB != 2048 || fl.ExtraSpecs["quota:disk"] != "1=2" {
		t.Fatalf("json show: got %+v", fl)
	}
}
