package main

import (
	"context"
	"sort"

	"github.com/cellmap/cellmap/api"
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
	if o.cellUUID != "" && !isUUID(o.cellUUID) {
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
	if !isUUID(o.cellUUID) {
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
