package main

import (
	"context"
	"strconv"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// verify_instance ----------------------------------------------------------------------------

// verify_instance exit codes. Nova's 3 (instance deleted in its cell) and 4 (instance
// archived, mapping left) need the cell database and are not reported yet.
const (
	exitVerifyNotMapped = 1 // no instance mapping
	exitVerifyNoCell    = 2 // mapping without a cell (not scheduled yet)
)

// verifyInstanceOptions are the options of cell_v2 verify_instance.
type verifyInstanceOptions struct {
	uuid  string
	quiet bool
}

// verifyInstanceCommand is the dispatch entry of cell_v2 verify_instance.
func verifyInstanceCommand() command {
	return command{name: "verify_instance", summary: "Check that an instance is mapped to a cell.",
		exits: "  0 mapped to a cell\n  1 no instance mapping (upgrade incomplete, or no such instance)\n" +
			"  2 mapped to no cell (normally while it is being scheduled)\n",
		new: func() options { return &verifyInstanceOptions{} }}
}

// addFlags defines the options of cell_v2 verify_instance.
func (o *verifyInstanceOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.uuid, "uuid", "", "the instance `UUID` to verify")
	f.fs.BoolVar(&o.quiet, "quiet", false, "do not print anything")
	f.require("uuid")
}

// run executes cell_v2 verify_instance.
func (o *verifyInstanceOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	r.quiet = o.quiet
	notMapped := func() int {
		r.say("Instance %s is not mapped to a cell (upgrade is incomplete) or instance does not exist", o.uuid)
		return r.done(exitVerifyNotMapped)
	}
	if !isUUID(o.uuid) {
		return notMapped()
	}
	m, err := e.client.Lookup(ctx, o.uuid)
	if client.CodeOf(err) == api.CodeNotFound {
		return notMapped()
	}
	if err != nil {
		return r.fail(err)
	}
	if m.CellUUID == nil {
		r.say("Instance %s is not mapped to a cell", o.uuid)
		return r.done(exitVerifyNoCell)
	}
	// Nova prints the cell's name with %s, so an unnamed cell reads "None".
	name := "None"
	if m.Cell != nil && m.Cell.Name != "" {
		name = m.Cell.Name
	}
	r.say("Instance %s is in cell: %s (%s)", o.uuid, name, *m.CellUUID)
	r.result = e.displayMapping(m, false)
	return r.done(exitOK)
}

// lookup -------------------------------------------------------------------------------------

// lookup exit codes.
const (
	exitLookupNotMapped = 1 // no instance mapping
)

// lookupOptions are the options of lookup.
type lookupOptions struct {
	verbose bool
}

// lookupCommand is the dispatch entry of lookup.
func lookupCommand() command {
	return command{name: "lookup", summary: "Show an instance's mapping and its cell (URLs expanded with the base URLs).",
		exits: "  0 found\n  1 the instance is not mapped\n",
		new:   func() options { return &lookupOptions{} }}
}

// addFlags defines the options of lookup.
func (o *lookupOptions) addFlags(f *flagSet) {
	f.fs.BoolVar(&o.verbose, "verbose", false, "show the URLs with their passwords")
	f.positional("<instance-uuid>", 1, 1)
}

// run executes lookup.
func (o *lookupOptions) run(ctx context.Context, e *env, args []string) int {
	uuid := args[0]
	r := e.report()
	notMapped := func() int {
		r.say("Instance %s is not mapped.", uuid)
		return r.done(exitLookupNotMapped)
	}
	if !isUUID(uuid) {
		return notMapped()
	}
	m, err := e.client.Lookup(ctx, uuid)
	if client.CodeOf(err) == api.CodeNotFound {
		return notMapped()
	}
	if err != nil {
		return e.fail(err)
	}
	m = e.displayMapping(m, o.verbose)
	return e.show(m, mappingTable(m))
}

// displayMapping expands (and unless verbose masks) the URLs of the mapping's cell.
func (e *env) displayMapping(m *api.InstanceMapping, verbose bool) *api.InstanceMapping {
	out := *m
	if m.Cell != nil {
		c := e.displayCell(*m.Cell, verbose)
		out.Cell = &c
	}
	return &out
}

// mappingTable is the Field/Value table of lookup.
func mappingTable(m *api.InstanceMapping) *table {
	t := newTable("Field", "Value")
	t.align = alignLeft
	t.addRow("Instance UUID", m.InstanceUUID)
	if m.CellUUID == nil {
		t.addRow("Cell UUID", "None (not scheduled yet)")
	} else {
		t.addRow("Cell UUID", *m.CellUUID)
	}
	if c := m.Cell; c != nil {
		t.addRow("Cell Name", c.Name)
		t.addRow("Transport URL", c.TransportURL)
		t.addRow("Database Connection", c.DatabaseConnection)
		t.addRow("Cell Disabled", pyBool(c.Disabled))
		if c.Health != nil {
			t.addRow("Cell Health", healthStatus(c.Health))
		}
	}
	t.addRow("Project ID", m.ProjectID)
	user := "None"
	if m.UserID != nil {
		user = *m.UserID
	}
	t.addRow("User ID", user)
	t.addRow("Queued For Delete", pyBool(m.QueuedForDelete))
	t.addRow("Created At", m.CreatedAt.UTC().Format(time.RFC3339))
	t.addRow("Revision", strconv.FormatUint(m.Revision, 10))
	return t
}
