package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
)

// verify_instance ----------------------------------------------------------------------------

// verify_instance exit codes.
const (
	exitVerifyNotMapped = 1 // no instance mapping
	exitVerifyNoCell    = 2 // mapping without a cell (not scheduled yet)
	exitVerifyDeleted   = 3 // the instance is deleted in its cell, its mapping remains
	exitVerifyArchived  = 4 // the instance is gone from its cell (archived), its mapping remains
)

// Instance states reported by GET /v1/instance-mappings/{uuid}/verify.
const (
	instancePresent = "present"
	instanceDeleted = "deleted"
	instanceMissing = "missing"
)

// verifyInstanceOptions are the options of cell_v2 verify_instance.
type verifyInstanceOptions struct {
	uuid  string
	quiet bool
}

// verifyInstanceCommand is the dispatch entry of cell_v2 verify_instance.
func verifyInstanceCommand() command {
	return command{name: "verify_instance", summary: "Check that an instance is mapped to a cell and that its cell has it.",
		exits: "  0 mapped to a cell that has it\n  1 no instance mapping (upgrade incomplete, or no such instance)\n" +
			"  2 mapped to no cell (normally while it is being scheduled)\n" +
			"  3 deleted in its cell, mapping left (archive it)\n" +
			"  4 archived from its cell, mapping left\n" +
			"  255 its cell is down\n",
		new: func() options { return &verifyInstanceOptions{} }}
}

// addFlags defines the options of cell_v2 verify_instance.
func (o *verifyInstanceOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.uuid, "uuid", "", "the instance `UUID` to verify")
	f.fs.BoolVar(&o.quiet, "quiet", false, "do not print anything")
	f.require("uuid")
}

// run executes cell_v2 verify_instance: the server reads the mapping and asks the cell
// (codes 3 and 4). A server without the data plane has no verify endpoint: then only the
// mapping is checked (codes 0 to 2).
func (o *verifyInstanceOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	r.quiet = o.quiet
	if !validate.IsUUID(o.uuid) {
		return o.notMapped(r)
	}
	v, err := e.client.VerifyInstance(ctx, o.uuid)
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
	case api.CodeNotFound:
		return o.notMapped(r)
	case api.CodeNoSuchEndpoint:
		return o.lookup(ctx, e, r)
	default: // cell_down included: Nova cannot reach the cell database either (255)
		return r.fail(err)
	}
	m := v.InstanceMapping
	m.Cell = v.Cell
	if m.CellUUID == nil {
		return o.noCell(r)
	}
	r.result = e.displayMapping(&m, false)
	switch v.Instance {
	case instancePresent:
		return o.present(r, &m)
	case instanceDeleted:
		r.say("The instance with uuid %s has been deleted.", o.uuid)
		r.say("Execute `nova-manage db archive_deleted_rows` command to archive this deleted instance and remove its instance_mapping.")
		return r.done(exitVerifyDeleted)
	case instanceMissing:
		r.say("The instance with uuid %s has been archived.", o.uuid)
		r.say("However its instance_mapping remains.")
		return r.done(exitVerifyArchived)
	}
	return r.fail(fmt.Errorf("the server answered an unknown instance state %q", v.Instance))
}

// lookup is verify_instance from the mapping alone (a server without the data plane).
func (o *verifyInstanceOptions) lookup(ctx context.Context, e *env, r *report) int {
	m, err := e.client.Lookup(ctx, o.uuid)
	if client.CodeOf(err) == api.CodeNotFound {
		return o.notMapped(r)
	}
	if err != nil {
		return r.fail(err)
	}
	if m.CellUUID == nil {
		return o.noCell(r)
	}
	r.result = e.displayMapping(m, false)
	return o.present(r, m)
}

// notMapped is exit 1.
func (o *verifyInstanceOptions) notMapped(r *report) int {
	r.say("Instance %s is not mapped to a cell (upgrade is incomplete) or instance does not exist", o.uuid)
	return r.done(exitVerifyNotMapped)
}

// noCell is exit 2.
func (o *verifyInstanceOptions) noCell(r *report) int {
	r.say("Instance %s is not mapped to a cell", o.uuid)
	return r.done(exitVerifyNoCell)
}

// present is exit 0.
func (o *verifyInstanceOptions) present(r *report, m *api.InstanceMapping) int {
	// Nova prints the cell's name with %s, so an unnamed cell reads "None".
	name := "None"
	if m.Cell != nil && m.Cell.Name != "" {
		name = m.Cell.Name
	}
	r.say("Instance %s is in cell: %s (%s)", o.uuid, name, *m.CellUUID)
	return r.done(exitOK)
}

// map_instances ------------------------------------------------------------------------------

// map_instances exit codes.
const (
	exitMapInstancesMore        = 1   // --max-count: instances may remain (run again)
	exitMapInstancesBadMaxCount = 127 // --max-count is not a positive integer
)

// mapBatch is map_instances' batch size without --max-count (Nova's).
const mapBatch = 50

// mapInstancesOptions are the options of cell_v2 map_instances.
type mapInstancesOptions struct {
	cellUUID string
	maxCount rawOption
	reset    bool
}

// mapInstancesCommand is the dispatch entry of cell_v2 map_instances.
func mapInstancesCommand() command {
	return command{name: "map_instances", summary: "Map the instances of a cell that have no instance mapping, oldest first.\n" +
		"With --max-count, one batch per run, resuming where the last run stopped; without, every batch (of 50).",
		exits: "  0 all instances are mapped\n  1 --max-count: more instances may remain (run it again)\n" +
			"  127 --max-count is not a positive integer\n  255 unknown cell, or the cell is down\n",
		new: func() options { return &mapInstancesOptions{} }}
}

// addFlags defines the options of cell_v2 map_instances.
func (o *mapInstancesOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "map the unmapped instances of the cell with this `UUID`")
	f.fs.Var(&o.maxCount, "max-count", "map at most `N` instances in this run (exit 1 while more may remain)")
	f.fs.BoolVar(&o.reset, "reset", false, "start from the oldest instance instead of where the last run stopped")
	f.require("cell_uuid")
}

// mapInstancesResult is map_instances' JSON result: the totals of the run.
type mapInstancesResult struct {
	Mapped  int  `json:"mapped"`
	Skipped int  `json:"skipped"`
	Batches int  `json:"batches"`
	Done    bool `json:"done"`
}

// run executes cell_v2 map_instances.
func (o *mapInstancesOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	batch := 0
	if o.maxCount.set {
		// Python's int(): surrounding blanks and a sign are accepted, anything else is -1.
		n, err := strconv.Atoi(strings.TrimSpace(o.maxCount.value))
		if err != nil || n < 1 {
			r.say("Must supply a positive value for max-count")
			return r.done(exitMapInstancesBadMaxCount)
		}
		batch = n
	}
	if !validate.IsUUID(o.cellUUID) {
		return r.fail(cellMappingNotFound(o.cellUUID))
	}
	run := mapRun{cell: o.cellUUID, batch: batch, reset: o.reset}
	if batch == 0 {
		run.batch, run.all, run.progress = mapBatch, true, true
	}
	res, err := e.mapInstances(ctx, run)
	if isCellNotFound(err) {
		return r.fail(cellMappingNotFound(o.cellUUID))
	}
	if err != nil {
		return r.fail(err)
	}
	r.result = res
	if !res.Done {
		return r.done(exitMapInstancesMore)
	}
	return r.done(exitOK)
}

// mapRun says what mapInstances does.
type mapRun struct {
	cell  string
	batch int
	// reset starts from the oldest instance (with the first request only).
	reset bool
	// all maps every batch until the server says done, not just one.
	all bool
	// progress prints a progress line per batch on a terminal.
	progress bool
}

// mapInstances maps a cell's instances: one batch, or all of them.
func (e *env) mapInstances(ctx context.Context, run mapRun) (*mapInstancesResult, error) {
	res := &mapInstancesResult{}
	shown := false
	defer func() {
		if shown {
			fmt.Fprintln(e.stdout)
		}
	}()
	for {
		b, err := e.client.MapInstances(ctx, run.cell, api.MapInstances{MaxCount: run.batch, Reset: run.reset && res.Batches == 0})
		if err != nil {
			return nil, err
		}
		res.Batches++
		res.Mapped += b.Mapped
		res.Skipped += b.Skipped
		res.Done = b.Done
		if run.progress {
			shown = e.progress("Mapped %d instances (skipped %d) in cell %s", res.Mapped, res.Skipped, run.cell) || shown
		}
		if !run.all || b.Done {
			return res, nil
		}
	}
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
	if !validate.IsUUID(uuid) {
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
