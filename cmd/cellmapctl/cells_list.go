package main

import (
	"context"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellurl"
	"github.com/cellmap/cellmap/client"
)

// listCellsOptions are the options of cell_v2 list_cells.
type listCellsOptions struct {
	verbose bool
}

// listCellsCommand is the dispatch entry of cell_v2 list_cells.
func listCellsCommand() command {
	return command{name: "list_cells", summary: "List the cell mappings, sorted by name, URLs expanded with the base URLs.",
		exits: "  0 listed\n",
		new:   func() options { return &listCellsOptions{} }}
}

// addFlags defines the options of cell_v2 list_cells.
func (o *listCellsOptions) addFlags(f *flagSet) {
	f.fs.BoolVar(&o.verbose, "verbose", false, "show the URLs with their passwords")
}

// run prints Nova's table (Name, UUID, Transport URL, Database Connection, Disabled) plus a
// Health column once the data plane reports cell health. JSON output carries the same
// expanded and masked URLs as the table: switching formats must not reveal passwords.
func (o *listCellsOptions) run(ctx context.Context, e *env, _ []string) int {
	cells, err := e.client.Cells(ctx, false)
	if err != nil {
		return e.fail(err)
	}
	shown := make([]api.Cell, len(cells))
	withHealth := false
	for i, c := range cells {
		shown[i] = e.displayCell(c, o.verbose)
		withHealth = withHealth || c.Health != nil
	}
	sortCells(shown)
	t := newTable("Name", "UUID", "Transport URL", "Database Connection", "Disabled")
	if withHealth {
		t.header = append(t.header, "Health")
	}
	for _, c := range shown {
		row := []string{c.Name, c.UUID, c.TransportURL, c.DatabaseConnection, pyBool(c.Disabled)}
		if withHealth {
			row = append(row, healthStatus(c.Health))
		}
		t.addRow(row...)
	}
	return e.show(api.CellList{Cells: shown}, t)
}

// sortCells orders cells like list_cells: by name, unnamed first; equal names keep Nova's
// database order (creation), then uuid.
func sortCells(cells []api.Cell) {
	sort.SliceStable(cells, func(i, j int) bool {
		a, b := cells[i], cells[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.UUID < b.UUID
	})
}

// displayCell is a cell as the caller's configuration sees it: template URLs expanded with
// the base URLs and, unless verbose, passwords masked.
func (e *env) displayCell(c api.Cell, verbose bool) api.Cell {
	c = client.ExpandCell(c, e.baseTransportURL, e.baseDatabaseConnection)
	if !verbose {
		c.TransportURL = cellurl.Mask(c.TransportURL)
		c.DatabaseConnection = cellurl.Mask(c.DatabaseConnection)
	}
	return c
}

// duplicateCell returns the uuid of a cell other than self whose transport URL or database
// URL, as stored or as expanded with the caller's bases, equals the new raw tu or db (Nova's
// rule: either URL alone is a duplicate). Empty values never match.
func (e *env) duplicateCell(cells []api.Cell, self, tu, db string) string {
	for _, c := range cells {
		if strings.EqualFold(c.UUID, self) {
			continue
		}
		x := client.ExpandCell(c, e.baseTransportURL, e.baseDatabaseConnection)
		if tu != "" && (c.TransportURL == tu || x.TransportURL == tu) {
			return c.UUID
		}
		if db != "" && (c.DatabaseConnection == db || x.DatabaseConnection == db) {
			return c.UUID
		}
	}
	return ""
}

// pyBool prints a boolean the way nova-manage's tables do.
func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// healthStatus is a cell's health for tables ("" when the server does not report it).
func healthStatus(h *api.CellHealth) string {
	if h == nil {
		return ""
	}
	return h.Status
}
