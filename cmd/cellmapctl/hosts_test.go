package main

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func TestListHosts(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	c1 := mustCell(t, n, "c1", "rabbit://mq-1/", "mysql://db/1")
	c2 := mustCell(t, n, "c2", "rabbit://mq-2/", "mysql://db/2")
	empty := mustCell(t, n, "empty", "rabbit://mq-3/", "mysql://db/3")
	mustHost(t, n, "compute-b", c1.UUID)
	mustHost(t, n, "compute-c", c2.UUID)
	mustHost(t, n, "compute-a", c2.UUID)
	mustHost(t, n, "compute-10", c1.UUID)
	unknown := "6f0c1b9e-0000-4000-8000-000000000003"
	tests := []struct {
		name string
		args []string
		code int
		rows [][]string
		want string // exact stdout when rows is nil
	}{
		{"all, sorted by host name", nil, exitOK, [][]string{
			{"c1", c1.UUID, "compute-10"}, {"c2", c2.UUID, "compute-a"}, {"c1", c1.UUID, "compute-b"}, {"c2", c2.UUID, "compute-c"},
		}, ""},
		{"one cell", []string{"--cell_uuid", c2.UUID}, exitOK, [][]string{{"c2", c2.UUID, "compute-a"}, {"c2", c2.UUID, "compute-c"}}, ""},
		{"a cell without hosts", []string{"--cell_uuid", empty.UUID}, exitOK, nil,
			"+-----------+-----------+----------+\n| Cell Name | Cell UUID | Hostname |\n" +
				"+-----------+-----------+----------+\n+-----------+-----------+----------+\n"},
		{"unknown cell", []string{"--cell_uuid", unknown}, exitListHostsCellNotFound, nil, fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"not a uuid", []string{"--cell_uuid", "c1"}, exitListHostsCellNotFound, nil, fmt.Sprintf(msgCellNotFound, "c1") + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ctl(t, n, append([]string{"cell_v2", "list_hosts"}, tc.args...)...)
			if tc.rows == nil {
				r.wantExact(t, tc.code, tc.want)
				return
			}
			r.want(t, tc.code)
			if got := tableRows(t, r.stdout); !reflect.DeepEqual(got, tc.rows) {
				t.Fatalf("rows:\ngot  %q\nwant %q", got, tc.rows)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		var list api.HostMappingList
		decodeJSON(t, ctl(t, n, "--format", "json", "cell_v2", "list_hosts"), &list)
		var got []string
		for _, h := range list.Hosts {
			got = append(got, h.Host+"@"+h.CellName)
		}
		if want := []string{"compute-10@c1", "compute-a@c2", "compute-b@c1", "compute-c@c2"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

func TestDeleteHost(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	c1 := mustCell(t, n, "c1", "rabbit://mq-1/", "mysql://db/1")
	c2 := mustCell(t, n, "c2", "rabbit://mq-2/", "mysql://db/2")
	mustHost(t, n, "compute-1", c1.UUID)
	mustHost(t, n, "compute-2", c2.UUID)
	unknown := "6f0c1b9e-0000-4000-8000-000000000004"
	steps := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown cell", []string{"--cell_uuid", unknown, "--host", "compute-1"}, exitDeleteHostCellNotFound,
			fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"not a uuid", []string{"--cell_uuid", "c1", "--host", "compute-1"}, exitDeleteHostCellNotFound,
			fmt.Sprintf(msgCellNotFound, "c1") + "\n"},
		{"unknown cell and unmapped host: the cell first", []string{"--cell_uuid", unknown, "--host", "nowhere"}, exitDeleteHostCellNotFound,
			fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"host not mapped", []string{"--cell_uuid", c1.UUID, "--host", "nowhere"}, exitDeleteHostNotMapped, "The host nowhere was not found.\n"},
		{"host in another cell", []string{"--cell_uuid", c1.UUID, "--host", "compute-2"}, exitDeleteHostOtherCell,
			fmt.Sprintf("The host compute-2 was not found in the cell %s.\n", c1.UUID)},
		{"deleted", []string{"--cell_uuid", c1.UUID, "--host", "compute-1"}, exitOK, ""},
		{"deleted already", []string{"--cell_uuid", c1.UUID, "--host", "compute-1"}, exitDeleteHostNotMapped, "The host compute-1 was not found.\n"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			ctl(t, n, append([]string{"cell_v2", "delete_host"}, s.args...)...).wantExact(t, s.code, s.want)
		})
	}
	hosts, err := n.Client.Hosts(ctxT(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 1 || hosts[0].Host != "compute-2" {
		t.Fatalf("hosts left: %+v, want only compute-2", hosts)
	}
}
