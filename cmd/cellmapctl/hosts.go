package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
)

// list_hosts ---------------------------------------------------------------------------------

// list_hosts exit codes.
const (
	exitListHostsCellNotFound = 1 // --cell_uuid names no cell
)

// listHostsOptions are the options of cell_v2 list_hosts.
type listHostsOptions struct {
	cellUUID string
}

// listHostsCommand is the dispatch entry of cell_v2 list_hosts.
func listHostsCommand() command {
	return command{name: "list_hosts", summary: "List the host mappings of one or all cells, sorted by host name.",
		exits: "  0 listed\n  1 cell not found\n",
		new:   func() options { return &listHostsOptions{} }}
}

// addFlags defines the options of cell_v2 list_hosts.
func (o *listHostsOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "only the hosts of the cell with this `UUID`")
}

// run executes cell_v2 list_hosts.
func (o *listHostsOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	if o.cellUUID != "" && !validate.IsUUID(o.cellUUID) {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitListHostsCellNotFound)
	}
	hosts, err := e.client.Hosts(ctx, o.cellUUID)
	if client.CodeOf(err) == api.CodeUnknownCell {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitListHostsCellNotFound)
	}
	if err != nil {
		return e.fail(err)
	}
	sort.SliceStable(hosts, func(i, j int) bool { return hosts[i].Host < hosts[j].Host })
	t := newTable("Cell Name", "Cell UUID", "Hostname")
	for _, h := range hosts {
		t.addRow(h.CellName, h.CellUUID, h.Host)
	}
	return e.show(api.HostMappingList{Hosts: hosts}, t)
}

// delete_host --------------------------------------------------------------------------------

// delete_host exit codes.
const (
	exitDeleteHostCellNotFound = 1 // --cell_uuid names no cell
	exitDeleteHostNotMapped    = 2 // the host is in no cell
	exitDeleteHostOtherCell    = 3 // the host is mapped to another cell
	exitDeleteHostHasInstances = 4 // instances on the host (reported by the server once it knows)
)

// delete_host messages (nova-manage's).
const (
	msgDeleteHostNotFound       = "The host %s was not found."
	msgDeleteHostOtherCell      = "The host %s was not found in the cell %s."
	msgDeleteHostInstancesExist = "There are instances on the host %s."
)

// deleteHostOptions are the options of cell_v2 delete_host.
type deleteHostOptions struct {
	cellUUID, host string
}

// deleteHostCommand is the dispatch entry of cell_v2 delete_host.
func deleteHostCommand() command {
	return command{name: "delete_host", summary: "Delete the mapping of a host in a cell.",
		exits: "  0 deleted\n  1 cell not found\n  2 the host is not mapped\n  3 the host is mapped to another cell\n" +
			"  4 there are instances on the host\n",
		new: func() options { return &deleteHostOptions{} }}
}

// addFlags defines the options of cell_v2 delete_host.
func (o *deleteHostOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "the `UUID` of the host's cell")
	f.fs.StringVar(&o.host, "host", "", "the `HOST` name to unmap")
	f.require("cell_uuid", "host")
}

// run lets the server check, in Nova's order, the cell (404 unknown_cell), the mapping (404
// not_found) and the cell of the mapping (409 cell_mismatch).
func (o *deleteHostOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	if !validate.IsUUID(o.cellUUID) {
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitDeleteHostCellNotFound)
	}
	err := e.client.DeleteHost(ctx, o.host, o.cellUUID)
	switch client.CodeOf(err) {
	case "":
		if err != nil {
			return r.fail(err)
		}
		return r.done(exitOK)
	case api.CodeUnknownCell:
		r.say(msgCellNotFound, o.cellUUID)
		return r.done(exitDeleteHostCellNotFound)
	case api.CodeNotFound:
		r.say(msgDeleteHostNotFound, o.host)
		return r.done(exitDeleteHostNotMapped)
	case api.CodeCellMismatch:
		r.say(msgDeleteHostOtherCell, o.host, o.cellUUID)
		return r.done(exitDeleteHostOtherCell)
	case api.CodeInstancesExist:
		// Needs the cell database: the server reports it (409 instances_exist) once the
		// data plane can count a host's instances.
		r.say(msgDeleteHostInstancesExist, o.host)
		return r.done(exitDeleteHostHasInstances)
	}
	return r.fail(err)
}

// discover_hosts ------------------------------------------------------------------------------

// discover_hosts exit codes.
const (
	exitDiscoverNothingNew = 1 // --strict and no new host was mapped
	exitDiscoverDuplicate  = 2 // a concurrent discovery mapped a host first
)

// msgDuplicateHostMapping is what discover_hosts prints when HostMappingExists is raised.
const msgDuplicateHostMapping = "ERROR: Duplicate host mapping was encountered. This command should be run once after " +
	"all compute hosts have been deployed and should not be run in parallel. When run in parallel, the commands will " +
	"collide with each other trying to map the same hosts in the database at the same time. Error: %s"

// discoverHostsOptions are the options of cell_v2 discover_hosts.
type discoverHostsOptions struct {
	cellUUID                   string
	verbose, strict, byService bool
}

// discoverHostsCommand is the dispatch entry of cell_v2 discover_hosts.
func discoverHostsCommand() command {
	return command{name: "discover_hosts", summary: "Map the compute hosts of the cells (or of one cell) that are not mapped yet.",
		exits: "  0 done (also when nothing new was found)\n  1 --strict and no new host was mapped\n" +
			"  2 a concurrent discovery mapped a host first (run it once, not in parallel)\n" +
			"  255 unknown cell, or a cell could not be reached (the others were discovered)\n",
		new: func() options { return &discoverHostsOptions{} }}
}

// addFlags defines the options of cell_v2 discover_hosts.
func (o *discoverHostsOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.cellUUID, "cell_uuid", "", "only search the cell with this `UUID` for new hosts")
	f.fs.BoolVar(&o.verbose, "verbose", false, "print what is checked and mapped")
	f.fs.BoolVar(&o.strict, "strict", false, "exit 0 only if a new host was mapped, else 1")
	f.fs.BoolVar(&o.byService, "by-service", false, "discover nova-compute services instead of compute nodes (ironic)")
}

// run executes cell_v2 discover_hosts: the server reads the cells and writes the new host
// mappings in one transaction; the result says, cell by cell, what was checked and created,
// which the verbose lines replay.
func (o *discoverHostsOptions) run(ctx context.Context, e *env, _ []string) int {
	r := e.report()
	if o.cellUUID != "" && !validate.IsUUID(o.cellUUID) {
		return r.fail(cellMappingNotFound(o.cellUUID))
	}
	res, err := e.client.DiscoverHosts(ctx, api.DiscoverHosts{CellUUID: o.cellUUID, ByService: o.byService})
	switch {
	case err == nil:
	case client.CodeOf(err) == api.CodeHostMappingExists:
		r.say(msgDuplicateHostMapping, apiMessage(err))
		return r.done(exitDiscoverDuplicate)
	case o.cellUUID != "" && isCellNotFound(err):
		return r.fail(cellMappingNotFound(o.cellUUID))
	default:
		return r.fail(err)
	}
	if o.verbose {
		for _, line := range discoverLines(res, o.cellUUID == "", o.byService) {
			r.say("%s", line)
		}
	}
	r.result = res
	if len(res.FailedCells) > 0 {
		// Nova stops at the first cell it cannot reach; the server maps the others' hosts.
		return r.failDone(messagef(msgCellsDown, strings.Join(res.FailedCells, ", ")))
	}
	if o.strict && len(res.Mapped) == 0 {
		return r.done(exitDiscoverNothingNew)
	}
	return r.done(exitOK)
}

// discoverLines are the status lines Nova's discover_hosts prints with --verbose. Compute
// hosts have no uuid here: the lines about a host name its cell's uuid instead.
func discoverLines(res *api.DiscoverResult, allCells, byService bool) []string {
	var out []string
	if allCells {
		out = append(out, fmt.Sprintf("Found %d cell mappings.", len(res.Cells)+len(res.FailedCells)))
	}
	for _, c := range res.Cells {
		if c.Skipped != "" {
			out = append(out, c.Skipped)
			continue
		}
		if c.CellName != "" {
			out = append(out, fmt.Sprintf("Getting computes from cell '%s': %s", c.CellName, c.CellUUID))
		} else {
			out = append(out, fmt.Sprintf("Getting computes from cell: %s", c.CellUUID))
		}
		created := map[string]bool{}
		for _, h := range c.Created {
			created[h] = true
		}
		for _, h := range c.Checked {
			switch {
			case byService && created[h]:
				out = append(out, fmt.Sprintf("Creating host mapping for service %s", h))
			case byService:
			case created[h]:
				out = append(out, fmt.Sprintf("Checking host mapping for compute host '%s': %s", h, c.CellUUID),
					fmt.Sprintf("Creating host mapping for compute host '%s': %s", h, c.CellUUID))
			default:
				out = append(out, fmt.Sprintf("Checking host mapping for compute host '%s': %s", h, c.CellUUID))
			}
		}
		out = append(out, fmt.Sprintf("Found %d unmapped computes in cell: %s", len(c.Created), c.CellUUID))
	}
	return out
}
