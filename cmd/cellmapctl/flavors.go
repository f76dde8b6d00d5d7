package main

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the flavor commands.
const (
	exitFlavorFailed = 1 // not found, already exists, or refused as invalid
)

// flavorFailure says what went wrong with flavor id; ok is false for an unexpected error
// (the caller then exits 255).
func flavorFailure(r *report, id string, err error) (code int, ok bool) {
	switch client.CodeOf(err) {
	case api.CodeNotFound:
		r.say("Flavor %s not found.", id)
	case api.CodeAlreadyExists:
		r.say("Flavor %s already exists.", id)
	case api.CodeInvalid:
		r.say("Invalid flavor: %s", apiMessage(err))
	default:
		return 0, false
	}
	return exitFlavorFailed, true
}

// flavor create ------------------------------------------------------------------------------

// flavorCreateOptions are the options of flavor create.
type flavorCreateOptions struct {
	id, name             string
	vcpus, ramMB, diskGB int64
	extraSpecs           keyValues
}

// flavorCreateCommand is the dispatch entry of flavor create.
func flavorCreateCommand() command {
	return command{name: "create", summary: "Add a flavor.",
		exits: "  0 created\n  1 already exists, or invalid\n",
		new:   func() options { return &flavorCreateOptions{extraSpecs: keyValues{}} }}
}

// addFlags defines the options of flavor create.
func (o *flavorCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.id, "id", "", "the flavor `ID`")
	f.fs.StringVar(&o.name, "name", "", "the flavor `NAME`")
	f.fs.Int64Var(&o.vcpus, "vcpus", 0, "virtual CPUs (`N` >= 1)")
	f.fs.Int64Var(&o.ramMB, "ram-mb", 0, "memory in `MB` (>= 1)")
	f.fs.Int64Var(&o.diskGB, "disk-gb", 0, "root disk in `GB` (>= 0)")
	f.fs.Var(o.extraSpecs, "extra-spec", "an extra spec `KEY=VALUE` (repeatable)")
	f.require("id", "name", "vcpus", "ram-mb", "disk-gb")
}

// run executes flavor create.
func (o *flavorCreateOptions) run(ctx context.Context, e *env, _ []string) int {
	in := api.Flavor{ID: o.id, Name: o.name, VCPUs: o.vcpus, RAMMB: o.ramMB, DiskGB: o.diskGB, ExtraSpecs: o.extraSpecs}
	fl, err := e.client.CreateFlavor(ctx, in)
	if err != nil {
		return flavorError(e, o.id, err)
	}
	return e.show(fl, flavorTable(fl))
}

// flavorError reports a failed flavor call: 1 with a message, or 255.
func flavorError(e *env, id string, err error) int {
	r := e.report()
	if code, ok := flavorFailure(r, id, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// flavor list --------------------------------------------------------------------------------

// flavorListOptions are the options of flavor list.
type flavorListOptions struct{}

// flavorListCommand is the dispatch entry of flavor list.
func flavorListCommand() command {
	return command{name: "list", summary: "List the flavors, sorted by id.",
		exits: "  0 listed\n",
		new:   func() options { return &flavorListOptions{} }}
}

// addFlags defines the options of flavor list.
func (o *flavorListOptions) addFlags(*flagSet) {}

// run executes flavor list.
func (o *flavorListOptions) run(ctx context.Context, e *env, _ []string) int {
	fls, err := e.client.Flavors(ctx)
	if err != nil {
		return e.fail(err)
	}
	sort.SliceStable(fls, func(i, j int) bool { return fls[i].ID < fls[j].ID })
	t := newTable("ID", "Name", "VCPUs", "RAM (MB)", "Disk (GB)", "Extra Specs")
	for _, fl := range fls {
		t.addRow(fl.ID, fl.Name, itoa(fl.VCPUs), itoa(fl.RAMMB), itoa(fl.DiskGB), specsString(fl.ExtraSpecs))
	}
	return e.show(api.FlavorList{Flavors: fls}, t)
}

// flavor show --------------------------------------------------------------------------------

// flavorShowOptions are the options of flavor show.
type flavorShowOptions struct{}

// flavorShowCommand is the dispatch entry of flavor show.
func flavorShowCommand() command {
	return command{name: "show", summary: "Show one flavor.",
		exits: "  0 shown\n  1 not found\n",
		new:   func() options { return &flavorShowOptions{} }}
}

// addFlags defines the options of flavor show.
func (o *flavorShowOptions) addFlags(f *flagSet) { f.positional("<flavor-id>", 1, 1) }

// run executes flavor show.
func (o *flavorShowOptions) run(ctx context.Context, e *env, args []string) int {
	fl, err := e.client.Flavor(ctx, args[0])
	if err != nil {
		return flavorError(e, args[0], err)
	}
	return e.show(fl, flavorTable(fl))
}

// flavor delete ------------------------------------------------------------------------------

// flavorDeleteOptions are the options of flavor delete.
type flavorDeleteOptions struct{}

// flavorDeleteCommand is the dispatch entry of flavor delete.
func flavorDeleteCommand() command {
	return command{name: "delete", summary: "Delete a flavor.",
		exits: "  0 deleted\n  1 not found\n",
		new:   func() options { return &flavorDeleteOptions{} }}
}

// addFlags defines the options of flavor delete.
func (o *flavorDeleteOptions) addFlags(f *flagSet) { f.positional("<flavor-id>", 1, 1) }

// run executes flavor delete.
func (o *flavorDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	r := e.report()
	if err := e.client.DeleteFlavor(ctx, args[0]); err != nil {
		if code, ok := flavorFailure(r, args[0], err); ok {
			return r.done(code)
		}
		return r.fail(err)
	}
	r.say("Flavor %s deleted.", args[0])
	return r.done(exitOK)
}

// flavorTable is the Field/Value table of one flavor.
func flavorTable(fl *api.Flavor) *table {
	t := newTable("Field", "Value")
	t.align = alignLeft
	t.addRow("ID", fl.ID)
	t.addRow("Name", fl.Name)
	t.addRow("VCPUs", itoa(fl.VCPUs))
	t.addRow("RAM (MB)", itoa(fl.RAMMB))
	t.addRow("Disk (GB)", itoa(fl.DiskGB))
	t.addRow("Extra Specs", specsString(fl.ExtraSpecs))
	return t
}

// itoa formats n in decimal.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// specsString is "k1=v1, k2=v2" sorted by key.
func specsString(specs map[string]string) string {
	keys := make([]string, 0, len(specs))
	for k := range specs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + specs[k]
	}
	return strings.Join(keys, ", ")
}
