package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func TestMapCell0(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		vars   map[string]string
		args   []string
		wantDB string
	}{
		{"explicit URL", nil, []string{"--database_connection", "mysql://u:p@db/explicit_cell0"}, "mysql://u:p@db/explicit_cell0"},
		{"derived from the base", map[string]string{"CELLMAP_BASE_DATABASE_CONNECTION": "mysql+pymysql://u:p@h/nova?x=1"},
			nil, "mysql+pymysql://u:p@h/nova_cell0?x=1"},
		{"option beats the base", map[string]string{"CELLMAP_BASE_DATABASE_CONNECTION": "mysql://u:p@h/nova"},
			[]string{"--database_connection", "mysql://other/c0"}, "mysql://other/c0"},
		{"neither: empty", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := testcluster.StartNode(t, nil)
			args := append([]string{"cell_v2", "map_cell0"}, tc.args...)
			ctlEnv(t, n, tc.vars, args...).wantExact(t, exitOK, "")
			c, err := n.Client.Cell(ctxT(t), api.Cell0UUID)
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabaseConnection != tc.wantDB || c.Name != "cell0" || c.TransportURL != "none:///" {
				t.Fatalf("cell0: got %+v, want database %q", c, tc.wantDB)
			}
			// The second run finds it and keeps it.
			ctlEnv(t, n, tc.vars, "cell_v2", "map_cell0", "--database_connection", "mysql://changed/x").
				wantExact(t, exitOK, "Cell0 is already setup\n")
			again, _ := n.Client.Cell(ctxT(t), api.Cell0UUID)
			if again.DatabaseConnection != tc.wantDB {
				t.Fatalf("second map_cell0 changed the database to %q", again.DatabaseConnection)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		n := testcluster.StartNode(t, nil)
		for i, wantCreated := range []bool{true, false} {
			r := ctl(t, n, "--format", "json", "cell_v2", "map_cell0", "--database_connection", "mysql://u:secret@db/c0")
			var rep jsonReport
			decodeJSON(t, r, &rep)
			var res cell0Result
			if err := json.Unmarshal(rep.Result, &res); err != nil {
				t.Fatal(err)
			}
			if rep.ExitCode != 0 || res.Created != wantCreated || res.Cell.DatabaseConnection != "mysql://u:****@db/c0" {
				t.Fatalf("run %d: got %+v %+v, want created=%v and a masked URL", i, rep, res, wantCreated)
			}
			if !wantCreated && (len(rep.Messages) != 1 || rep.Messages[0] != "Cell0 is already setup") {
				t.Fatalf("run %d: messages %q", i, rep.Messages)
			}
		}
	})
	t.Run("underivable base", func(t *testing.T) {
		t.Parallel()
		r := runCLI(t, map[string]string{"CELLMAP_BASE_DATABASE_CONNECTION": "mysql://host-only"},
			"--addr", closedAddr(t), "cell_v2", "map_cell0")
		if r.code != exitUnexpected || !strings.Contains(r.stderr, "names no database") {
			t.Fatalf("got exit %d, stderr %q; want 255 naming the problem", r.code, r.stderr)
		}
	})
}

func TestCreateCell(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	first := mustCell(t, n, "first", "rabbit://u:p@mq1:5672/", "mysql://u:p@db1/nova")
	tmpl := mustCell(t, n, "tmpl", "rabbit://{username}:{password}@mq-tmpl:5672/", "mysql://{username}:{password}@db-tmpl/{path}")
	bases := map[string]string{
		"CELLMAP_BASE_TRANSPORT_URL":       "rabbit://bob:s3cret@base-mq:5672/",
		"CELLMAP_BASE_DATABASE_CONNECTION": "mysql://bob:s3cret@base-db/nova",
	}
	tests := []struct {
		name    string
		vars    map[string]string
		args    []string
		code    int
		wantOut string // exact stdout; "<uuid>" stands for the new cell's uuid
	}{
		{"created", nil, []string{"--name", "c1", "--transport-url", "rabbit://u:p@mq-c1:5672/", "--database_connection", "mysql://db/c1"},
			exitOK, ""},
		{"verbose prints the uuid", nil, []string{"--transport-url", "rabbit://mq-c2/", "--database_connection", "mysql://db/c2", "--verbose"},
			exitOK, "<uuid>\n"},
		{"no transport URL and no base", nil, []string{"--database_connection", "mysql://db/c3"},
			exitCreateCellBadURL, msgNoTransportURL + "\n"},
		{"no database URL and no base", nil, []string{"--transport-url", "rabbit://mq-c4/"},
			exitCreateCellBadURL, msgNoDatabase + "\n"},
		{"transport URL without scheme", nil, []string{"--transport-url", "mq-c5/vhost", "--database_connection", "mysql://db/c5"},
			exitCreateCellBadURL, "Invalid transport URL: No scheme specified in \"mq-c5/vhost\"\n"},
		{"transport URL refused by the server", nil, []string{"--transport-url", "mq-c5:5672", "--database_connection", "mysql://db/c5"},
			exitCreateCellBadURL, "invalid transport URL \"mq-c5:5672\": no scheme\n"},
		{"transport URL with a bad port", nil, []string{"--transport-url", "rabbit://u:p@mq-c6:amqp/", "--database_connection", "mysql://db/c6"},
			exitCreateCellBadURL, "Invalid transport URL: invalid literal for int() with base 10: 'amqp'\n"},
		{"bad fallback transport URL", map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://h:x/"},
			[]string{"--database_connection", "mysql://db/c7"}, exitCreateCellBadURL,
			msgTransportFromCfg + "\nInvalid transport URL: invalid literal for int() with base 10: 'x'\n"},
		{"both URLs from the bases", bases, []string{"--name", "from-bases", "--verbose"},
			exitOK, msgTransportFromCfg + "\n" + msgDatabaseFromCfg + "\n<uuid>\n"},
		{"duplicate transport URL", nil, []string{"--transport-url", first.TransportURL, "--database_connection", "mysql://db/c8"},
			exitCreateCellDuplicate, fmt.Sprintf(msgDuplicateURL, first.UUID) + "\n"},
		{"duplicate database URL", nil, []string{"--transport-url", "rabbit://mq-c9/", "--database_connection", first.DatabaseConnection},
			exitCreateCellDuplicate, fmt.Sprintf(msgDuplicateURL, first.UUID) + "\n"},
		{"duplicate of an expanded template", bases, []string{"--transport-url", "rabbit://bob:s3cret@mq-tmpl:5672/", "--database_connection", "mysql://db/c10"},
			exitCreateCellDuplicate, fmt.Sprintf(msgDuplicateURL, tmpl.UUID) + "\n"},
		{"template duplicate needs the base", nil, []string{"--transport-url", "rabbit://bob:s3cret@mq-tmpl:5672/", "--database_connection", "mysql://db/c11"},
			exitOK, ""},
		{"name refused by the server", nil, []string{"--name", strings.Repeat("n", 256), "--transport-url", "rabbit://mq-c12/", "--database_connection", "mysql://db/c12"},
			exitCreateCellBadURL, "name must be valid UTF-8 of at most 255 characters\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := cellCount(t, n)
			r := ctlEnv(t, n, tc.vars, append([]string{"cell_v2", "create_cell"}, tc.args...)...)
			want := tc.wantOut
			if strings.Contains(want, "<uuid>") {
				lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
				uuid := lines[len(lines)-1]
				if !validate.IsUUID(uuid) {
					t.Fatalf("last line %q is not a uuid", uuid)
				}
				if _, err := n.Client.Cell(ctxT(t), uuid); err != nil {
					t.Fatalf("printed uuid %s: %v", uuid, err)
				}
				want = strings.ReplaceAll(want, "<uuid>", uuid)
			}
			r.wantExact(t, tc.code, want)
			wantCount := before
			if tc.code == exitOK {
				wantCount++
			}
			if got := cellCount(t, n); got != wantCount {
				t.Fatalf("got %d cells, want %d", got, wantCount)
			}
		})
	}
}

func TestCreateCellStores(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	vars := map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://bob:s3cret@base-mq:5672/vhost"}
	r := ctlEnv(t, n, vars, "--format", "json", "cell_v2", "create_cell", "--name", "tpl", "--disabled",
		"--transport-url", "rabbit://{username}:{password}@cell-mq:{port}/{path}", "--database_connection", "mysql://u:p@db/tpl")
	var rep jsonReport
	decodeJSON(t, r, &rep)
	var shown api.Cell
	if err := json.Unmarshal(rep.Result, &shown); err != nil {
		t.Fatal(err)
	}
	if rep.ExitCode != 0 || len(rep.Messages) != 0 || shown.TransportURL != "rabbit://bob:****@cell-mq:5672/vhost" ||
		shown.DatabaseConnection != "mysql://u:****@db/tpl" || !shown.Disabled {
		t.Fatalf("got %+v %+v, want the new disabled cell with expanded, masked URLs", rep, shown)
	}
	stored, err := n.Client.Cell(ctxT(t), shown.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.TransportURL != "rabbit://{username}:{password}@cell-mq:{port}/{path}" || stored.Name != "tpl" || !stored.Disabled {
		t.Fatalf("stored %+v, want the raw template", stored)
	}
	// Without a base the template port cannot be checked client-side; the server accepts it.
	ctl(t, n, "cell_v2", "create_cell", "--transport-url", "rabbit://{username}@other-mq:{port}/",
		"--database_connection", "mysql://db/x").want(t, exitOK)
	// JSON failures carry the exit code and the message.
	r = ctl(t, n, "--format", "json", "cell_v2", "create_cell", "--database_connection", "mysql://db/y")
	decodeJSON(t, r, &rep)
	if r.code != exitCreateCellBadURL || rep.ExitCode != exitCreateCellBadURL || len(rep.Messages) != 1 || rep.Messages[0] != msgNoTransportURL {
		t.Fatalf("got exit %d %+v", r.code, rep)
	}
}

func cellCount(t *testing.T, n *testcluster.Node) int {
	t.Helper()
	cells, err := n.Client.Cells(ctxT(t), false)
	if err != nil {
		t.Fatal(err)
	}
	return len(cells)
}

func TestUpdateCell(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	ctl(t, n, "cell_v2", "map_cell0", "--database_connection", "mysql://db/cell0").want(t, exitOK)
	a := mustCell(t, n, "a", "rabbit://mq-a/", "mysql://db/a")
	b := mustCell(t, n, "b", "rabbit://mq-b/", "mysql://db/b")
	tmpl := mustCell(t, n, "tmpl", "rabbit://{username}@mq-tmpl/", "mysql://{username}@db-tmpl/x")
	bases := map[string]string{"CELLMAP_BASE_TRANSPORT_URL": "rabbit://bob@base/", "CELLMAP_BASE_DATABASE_CONNECTION": "mysql://bob@base/nova"}
	unknown := "6f0c1b9e-0000-4000-8000-000000000001"
	// Steps run in order against one cluster; want is the exact stdout.
	steps := []struct {
		name string
		vars map[string]string
		args []string
		code int
		want string
	}{
		{"rename", nil, []string{"--cell_uuid", a.UUID, "--name", "a2"}, exitOK, ""},
		{"omitted URLs keep their values despite the bases", bases, []string{"--cell_uuid", a.UUID, "--name", "a3"}, exitOK, ""},
		{"new URLs", nil, []string{"--cell_uuid", a.UUID, "--transport-url", "rabbit://mq-a2/", "--database_connection", "mysql://db/a2"}, exitOK, ""},
		{"its own URLs are no duplicate", nil, []string{"--cell_uuid", a.UUID, "--transport-url", "rabbit://mq-a2/"}, exitOK, ""},
		{"disable", nil, []string{"--cell_uuid", a.UUID, "--disable"}, exitOK, ""},
		{"already disabled", nil, []string{"--cell_uuid", a.UUID, "--disable"}, exitOK, "Cell " + a.UUID + " is already disabled\n"},
		{"enable", nil, []string{"--cell_uuid", a.UUID, "--enable"}, exitOK, ""},
		{"already enabled", nil, []string{"--cell_uuid", a.UUID, "--enable"}, exitOK, "Cell " + a.UUID + " is already enabled\n"},
		{"unknown cell", nil, []string{"--cell_uuid", unknown, "--name", "x"}, exitUpdateCellNotFound, fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"not a uuid", nil, []string{"--cell_uuid", "cell-a", "--name", "x"}, exitUpdateCellNotFound, fmt.Sprintf(msgCellNotFound, "cell-a") + "\n"},
		{"refused by the server", nil, []string{"--cell_uuid", a.UUID, "--transport-url", "mq-without-scheme"}, exitUpdateCellSaveFailed,
			"Unable to update CellMapping: invalid transport URL \"mq-without-scheme\": no scheme\n"},
		{"duplicate transport URL", nil, []string{"--cell_uuid", a.UUID, "--transport-url", b.TransportURL}, exitUpdateCellDuplicate,
			fmt.Sprintf(msgDuplicateURL, b.UUID) + "\n"},
		{"duplicate database URL", nil, []string{"--cell_uuid", a.UUID, "--database_connection", b.DatabaseConnection}, exitUpdateCellDuplicate,
			fmt.Sprintf(msgDuplicateURL, b.UUID) + "\n"},
		{"duplicate of an expanded template", bases, []string{"--cell_uuid", a.UUID, "--database_connection", "mysql://bob@db-tmpl/x"},
			exitUpdateCellDuplicate, fmt.Sprintf(msgDuplicateURL, tmpl.UUID) + "\n"},
		{"both flags", nil, []string{"--cell_uuid", a.UUID, "--disable", "--enable"}, exitUpdateCellBothFlags,
			"Cell cannot be disabled and enabled at the same time.\n"},
		{"both flags and a unique URL", nil, []string{"--cell_uuid", a.UUID, "--disable", "--enable", "--transport-url", "rabbit://mq-new/"},
			exitUpdateCellBothFlags, "Cell cannot be disabled and enabled at the same time.\n"},
		{"both flags and a duplicate URL: uniqueness first", nil, []string{"--cell_uuid", a.UUID, "--disable", "--enable", "--transport-url", b.TransportURL},
			exitUpdateCellDuplicate, fmt.Sprintf(msgDuplicateURL, b.UUID) + "\n"},
		{"both flags on an unknown cell: not found first", nil, []string{"--cell_uuid", unknown, "--disable", "--enable"},
			exitUpdateCellNotFound, fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"disable cell0", nil, []string{"--cell_uuid", api.Cell0UUID, "--disable"}, exitUpdateCellCell0, "Cell0 cannot be disabled.\n"},
		{"enable cell0", nil, []string{"--cell_uuid", api.Cell0UUID, "--enable"}, exitUpdateCellCell0, "Cell0 cannot be disabled.\n"},
		{"rename cell0", nil, []string{"--cell_uuid", api.Cell0UUID, "--name", "zero"}, exitOK, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			ctlEnv(t, n, s.vars, append([]string{"cell_v2", "update_cell"}, s.args...)...).wantExact(t, s.code, s.want)
		})
	}
	got, err := n.Client.Cell(ctxT(t), a.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "a3" || got.TransportURL != "rabbit://mq-a2/" || got.DatabaseConnection != "mysql://db/a2" || got.Disabled {
		t.Fatalf("cell a: got %+v after the steps", got)
	}
	// Nothing else changed.
	if gotB, _ := n.Client.Cell(ctxT(t), b.UUID); gotB.Revision != b.Revision {
		t.Fatalf("cell b changed: %+v", gotB)
	}
	if c0, _ := n.Client.Cell(ctxT(t), api.Cell0UUID); c0.Name != "zero" || c0.Disabled {
		t.Fatalf("cell0: got %+v", c0)
	}
}

func TestDeleteCell(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	empty := mustCell(t, n, "empty", "rabbit://mq-empty/", "mysql://db/empty")
	hosts := mustCell(t, n, "hosts", "rabbit://mq-hosts/", "mysql://db/hosts")
	mustHost(t, n, "h-1", hosts.UUID)
	live := mustCell(t, n, "live", "rabbit://mq-live/", "mysql://db/live")
	mustMapping(t, n, "11111111-1111-4111-8111-111111111111", live.UUID, false)
	mustMapping(t, n, "11111111-1111-4111-8111-111111111112", live.UUID, true)
	both := mustCell(t, n, "both", "rabbit://mq-both/", "mysql://db/both")
	mustHost(t, n, "h-2", both.UUID)
	mustMapping(t, n, "22222222-2222-4222-8222-222222222222", both.UUID, false)
	deleted := mustCell(t, n, "deleted", "rabbit://mq-deleted/", "mysql://db/deleted")
	mustHost(t, n, "h-3", deleted.UUID)
	mustMapping(t, n, "33333333-3333-4333-8333-333333333333", deleted.UUID, true)
	unknown := "6f0c1b9e-0000-4000-8000-000000000002"

	msgHosts := "There are existing hosts mapped to cell with uuid %s.\n"
	msgInstances := "There are existing instances mapped to cell with uuid %s.\n"
	msgDeleted := "There are instance mappings to cell with uuid %s, but all instances have been deleted in the cell.\n" +
		"So execute 'nova-manage db archive_deleted_rows' to delete the instance mappings.\n"
	steps := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown cell", []string{"--cell_uuid", unknown}, exitDeleteCellNotFound, fmt.Sprintf(msgCellNotFound, unknown) + "\n"},
		{"not a uuid", []string{"--cell_uuid", "nope"}, exitDeleteCellNotFound, fmt.Sprintf(msgCellNotFound, "nope") + "\n"},
		{"hosts mapped", []string{"--cell_uuid", hosts.UUID}, exitDeleteCellHostsMapped, fmt.Sprintf(msgHosts, hosts.UUID)},
		{"instances exist", []string{"--cell_uuid", live.UUID}, exitDeleteCellInstancesExist, fmt.Sprintf(msgInstances, live.UUID)},
		{"instances exist, even with --force", []string{"--cell_uuid", live.UUID, "--force"}, exitDeleteCellInstancesExist,
			fmt.Sprintf(msgInstances, live.UUID)},
		{"hosts are checked before instances", []string{"--cell_uuid", both.UUID}, exitDeleteCellHostsMapped, fmt.Sprintf(msgHosts, both.UUID)},
		{"with --force the instances still block", []string{"--cell_uuid", both.UUID, "--force"}, exitDeleteCellInstancesExist,
			fmt.Sprintf(msgInstances, both.UUID)},
		{"only deleted instances mapped", []string{"--cell_uuid", deleted.UUID}, exitDeleteCellHostsMapped, fmt.Sprintf(msgHosts, deleted.UUID)},
		{"empty cell", []string{"--cell_uuid", empty.UUID}, exitOK, ""},
		{"deleted already", []string{"--cell_uuid", empty.UUID}, exitDeleteCellNotFound, fmt.Sprintf(msgCellNotFound, empty.UUID) + "\n"},
		{"hosts with --force", []string{"--cell_uuid", hosts.UUID, "--force"}, exitOK, ""},
		{"deleted instances and hosts with --force", []string{"--cell_uuid", deleted.UUID, "--force"}, exitOK, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			ctl(t, n, append([]string{"cell_v2", "delete_cell"}, s.args...)...).wantExact(t, s.code, s.want)
		})
	}
	t.Run("deleted instances without --force", func(t *testing.T) {
		c := mustCell(t, n, "deleted2", "rabbit://mq-deleted2/", "mysql://db/deleted2")
		mustMapping(t, n, "44444444-4444-4444-8444-444444444444", c.UUID, true)
		ctl(t, n, "cell_v2", "delete_cell", "--cell_uuid", c.UUID).wantExact(t, exitDeleteCellDeletedInstance, fmt.Sprintf(msgDeleted, c.UUID))
		ctl(t, n, "--format", "json", "cell_v2", "delete_cell", "--cell_uuid", c.UUID, "--force").want(t, exitOK, `"exit_code": 0`)
		if _, _, err := n.Client.InstanceMapping(ctxT(t), "44444444-4444-4444-8444-444444444444"); err == nil {
			t.Fatal("the forced delete left the instance mapping")
		}
	})
	if hs, _ := n.Client.Hosts(ctxT(t), ""); len(hs) != 1 || hs[0].Host != "h-2" {
		t.Fatalf("hosts left: %+v, want only h-2", hs)
	}
}
