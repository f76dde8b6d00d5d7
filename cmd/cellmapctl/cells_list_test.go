package main

import (
	"reflect"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func TestListCells(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	ctl(t, n, "cell_v2", "map_cell0", "--database_connection", "mysql+pymysql://root:secret@db/nova_cell0").want(t, exitOK)
	b := mustCell(t, n, "b", "rabbit://u1:p1@h1:5672,u2:p2@h2:5672/", "mysql+pymysql://root:secret@db/b")
	unnamed := mustCell(t, n, "", "rabbit://mq-unnamed/", "sqlite:///unnamed.db")
	a := mustCell(t, n, "a", "rabbit://{username}:{password}@tmplhost:{port}/", "mysql://{username}:{password}@db/a")
	if _, err := n.Client.UpdateCell(ctxT(t), a.UUID, api.CellUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	bases := map[string]string{
		"CELLMAP_BASE_TRANSPORT_URL":       "rabbit://bob:s3cret@base:5671/",
		"CELLMAP_BASE_DATABASE_CONNECTION": "mysql://dbuser:dbpass@base-db/nova",
	}
	header := []string{"Name", "UUID", "Transport URL", "Database Connection", "Disabled"}
	tests := []struct {
		name string
		vars map[string]string
		args []string
		want [][]string
	}{
		{"masked, templates raw without bases", nil, nil, [][]string{
			{"", unnamed.UUID, "rabbit://mq-unnamed/", "sqlite:///unnamed.db", "False"},
			{"a", a.UUID, "rabbit://{username}:****@tmplhost:{port}/", "mysql://{username}:****@db/a", "True"},
			{"b", b.UUID, "rabbit://u1:****@h1:5672,u2:****@h2:5672/", "mysql+pymysql://root:****@db/b", "False"},
			{"cell0", api.Cell0UUID, "none:///", "mysql+pymysql://root:****@db/nova_cell0", "False"},
		}},
		{"verbose", nil, []string{"--verbose"}, [][]string{
			{"", unnamed.UUID, "rabbit://mq-unnamed/", "sqlite:///unnamed.db", "False"},
			{"a", a.UUID, "rabbit://{username}:{password}@tmplhost:{port}/", "mysql://{username}:{password}@db/a", "True"},
			{"b", b.UUID, "rabbit://u1:p1@h1:5672,u2:p2@h2:5672/", "mysql+pymysql://root:secret@db/b", "False"},
			{"cell0", api.Cell0UUID, "none:///", "mysql+pymysql://root:secret@db/nova_cell0", "False"},
		}},
		{"templates expanded with the bases, masked", bases, nil, [][]string{
			{"", unnamed.UUID, "rabbit://mq-unnamed/", "sqlite:///unnamed.db", "False"},
			{"a", a.UUID, "rabbit://bob:****@tmplhost:5671/", "mysql://dbuser:****@db/a", "True"},
			{"b", b.UUID, "rabbit://u1:****@h1:5672,u2:****@h2:5672/", "mysql+pymysql://root:****@db/b", "False"},
			{"cell0", api.Cell0UUID, "none:///", "mysql+pymysql://root:****@db/nova_cell0", "False"},
		}},
		{"templates expanded with the bases, verbose", bases, []string{"--verbose"}, [][]string{
			{"", unnamed.UUID, "rabbit://mq-unnamed/", "sqlite:///unnamed.db", "False"},
			{"a", a.UUID, "rabbit://bob:s3cret@tmplhost:5671/", "mysql://dbuser:dbpass@db/a", "True"},
			{"b", b.UUID, "rabbit://u1:p1@h1:5672,u2:p2@h2:5672/", "mysql+pymysql://root:secret@db/b", "False"},
			{"cell0", api.Cell0UUID, "none:///", "mysql+pymysql://root:secret@db/nova_cell0", "False"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := ctlEnv(t, n, tc.vars, append([]string{"cell_v2", "list_cells"}, tc.args...)...)
			r.want(t, exitOK)
			if got := tableHeader(t, r.stdout); !reflect.DeepEqual(got, header) {
				t.Fatalf("header: got %q, want %q", got, header)
			}
			if got := tableRows(t, r.stdout); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("rows:\ngot  %q\nwant %q", got, tc.want)
			}
			// The JSON form holds the same cells, in the same order, with the same URLs.
			var list api.CellList
			decodeJSON(t, ctlEnv(t, n, tc.vars, append([]string{"--format", "json", "cell_v2", "list_cells"}, tc.args...)...), &list)
			if len(list.Cells) != len(tc.want) {
				t.Fatalf("json: got %d cells, want %d", len(list.Cells), len(tc.want))
			}
			for i, c := range list.Cells {
				w := tc.want[i]
				if c.Name != w[0] || c.UUID != w[1] || c.TransportURL != w[2] || c.DatabaseConnection != w[3] || pyBool(c.Disabled) != w[4] {
					t.Fatalf("json cell %d: got %+v, want %q", i, c, w)
				}
			}
		})
	}
}

func TestListCellsEmpty(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	const want = "+------+------+---------------+---------------------+----------+\n" +
		"| Name | UUID | Transport URL | Database Connection | Disabled |\n" +
		"+------+------+---------------+---------------------+----------+\n" +
		"+------+------+---------------+---------------------+----------+\n"
	ctl(t, n, "cell_v2", "list_cells").wantExact(t, exitOK, want)
	ctl(t, n, "--format", "json", "cell_v2", "list_cells").wantExact(t, exitOK, "{\n  \"cells\": []\n}\n")
}

// fakeHealth reports every cell down except cell0.
type fakeHealth struct{}

func (fakeHealth) CellHealth(uuid string) *api.CellHealth {
	if uuid == api.Cell0UUID {
		return &api.CellHealth{Status: "up"}
	}
	return &api.CellHealth{Status: "down"}
}

func TestListCellsHealth(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, &testcluster.Options{Health: fakeHealth{}})
	ctl(t, n, "cell_v2", "map_cell0").want(t, exitOK)
	c := mustCell(t, n, "c1", "rabbit://mq/", "mysql://db/c1")
	r := ctl(t, n, "cell_v2", "list_cells")
	r.want(t, exitOK)
	if got, want := tableHeader(t, r.stdout), []string{"Name", "UUID", "Transport URL", "Database Connection", "Disabled", "Health"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("header: got %q, want %q", got, want)
	}
	want := [][]string{
		{"c1", c.UUID, "rabbit://mq/", "mysql://db/c1", "False", "down"},
		{"cell0", api.Cell0UUID, "none:///", "", "False", "up"},
	}
	if got := tableRows(t, r.stdout); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows:\ngot  %q\nwant %q", got, want)
	}
}
